"""What the ``cexfeed`` commands share: counters printed one way, comma lists, the architecture
selection and the start-up interruption rule."""

from __future__ import annotations

from typing import Any, Mapping

import click


def format_counts(counts: Mapping[str, int]) -> str:
    """Counters as every command prints them: ``malformed=2, unknown_channel=1`` (by name), or
    ``none``."""
    return ", ".join(f"{name}={counts[name]}" for name in sorted(counts)) or "none"


def split(value: str) -> list[str]:
    """``"a, b,,c"`` -> ``["a", "b", "c"]``."""
    return [v.strip() for v in value.split(",") if v.strip()]


def architecture_option(command: Any) -> Any:
    """``--architecture direct|strategy|FILE``: which implementation runs each venue (a
    ``.toml``/``.json`` file as :func:`cexfeed.compat.load_config` reads it); default the
    ``CEXFEED_ARCHITECTURE`` file when set, else ``direct``. The command gets ``architecture``
    (an :class:`~cexfeed.compat.ArchitectureConfig`)."""
    return click.option(
        "--architecture",
        default=None,
        metavar="direct|strategy|FILE",
        callback=_architecture,
        help="direct (default), strategy, or an architecture file (.toml/.json); default: $CEXFEED_ARCHITECTURE.",
    )(command)


def _architecture(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from ..compat.registry import ARCHITECTURES
    from ..compat.selection import ArchitectureConfig, load_config

    source = "--architecture" if value is not None else "CEXFEED_ARCHITECTURE"
    try:
        if value in ARCHITECTURES:
            return ArchitectureConfig(value)
        return load_config(value)
    except (OSError, ValueError) as exc:
        # the same text load_config raises, said once, before any network call
        raise click.BadParameter(str(exc), param_hint=source) from None
