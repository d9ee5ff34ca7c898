"""Choosing ``direct`` or ``strategy`` per venue and stream.

A configuration maps a venue (``gateio``, ``mexc``) or a venue stream (``gateio-spot``,
``gateio-perp``, ``mexc-spot``) to an architecture; the most specific entry wins, then
``default`` (``direct`` unless set). It comes from a TOML or JSON file and/or keyword
arguments, e.g. ``architecture.toml``::

    [architecture]
    default = "direct"
    gateio = "strategy"        # every Gate stream ...
    "gateio-perp" = "direct"   # ... except USDT futures

or ``{"architecture": {"gateio": "strategy"}}`` as JSON (the ``architecture`` table may also be
the whole file). Keyword arguments use ``_`` for ``-`` (``gateio_spot="strategy"``).
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

from ..handlers import EventCallback, PublicWebSocketHandler
from ..symbols import SymbolMap
from .registry import ARCHITECTURES, build_handler


class ArchitectureConfig:
    """Per venue/stream architecture choice. ``choices`` maps ``gateio``/``gateio-spot`` ...
    to ``direct``/``strategy``. Raises ``ValueError`` on an unknown architecture value."""

    def __init__(self, default: str = "direct", choices: Mapping[str, str] | None = None) -> None:
        self.default = _check("default", default)
        self.choices: dict[str, str] = {}
        for key, value in (choices or {}).items():
            self.choices[key.replace("_", "-")] = _check(key, value)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> ArchitectureConfig:
        """From a parsed file body (``{"architecture": {...}}`` or the table itself)."""
        table = dict(mapping.get("architecture", mapping))
        default = table.pop("default", "direct")
        return cls(default, table)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ArchitectureConfig:
        """Read ``.toml`` or ``.json``. Raises ``OSError``, ``ValueError`` (bad content or suffix)."""
        path = Path(path)
        if path.suffix == ".toml":
            return cls.from_mapping(tomllib.loads(path.read_text()))
        if path.suffix == ".json":
            return cls.from_mapping(json.loads(path.read_text()))
        raise ValueError(f"{path}: architecture config must be .toml or .json")

    def with_overrides(self, default: str | None = None, **choices: str) -> ArchitectureConfig:
        """A copy with ``choices`` (``gateio_spot="direct"``) and ``default`` replaced."""
        merged = dict(self.choices)
        merged.update({k.replace("_", "-"): v for k, v in choices.items()})
        return ArchitectureConfig(default or self.default, merged)

    def architecture(self, stream: str) -> str:
        """``direct`` or ``strategy`` for ``stream`` (``gateio-spot``): the stream's own entry,
        else its venue's (the part before ``-``), else the default."""
        choice = self.choices.get(stream)
        if choice is None:
            choice = self.choices.get(stream.partition("-")[0], self.default)
        return choice

    def as_dict(self) -> dict[str, str]:
        return {"default": self.default, **self.choices}

    def __repr__(self) -> str:
        return f"ArchitectureConfig({self.as_dict()!r})"


def _check(key: str, value: Any) -> str:
    if value not in ARCHITECTURES:
        raise ValueError(f"architecture for {key!r} must be one of {ARCHITECTURES}, got {value!r}")
    return value


def load_config(path: str | os.PathLike[str] | None = None, default: str | None = None, **choices: str) -> ArchitectureConfig:
    """The configuration from ``path`` (or the ``CEXFEED_ARCHITECTURE`` file when set; else
    all ``direct``) with keyword ``choices`` applied on top."""
    if path is None:
        path = os.environ.get("CEXFEED_ARCHITECTURE") or None
    config = ArchitectureConfig.from_file(path) if path is not None else ArchitectureConfig()
    return config.with_overrides(default, **choices)


def make_handler(
    stream: str,
    on_event: EventCallback | None = None,
    *,
    config: ArchitectureConfig | None = None,
    architecture: str | None = None,
    symbols: SymbolMap | None = None,
    depth: int = 100,
) -> PublicWebSocketHandler:
    """The handler for ``stream`` in the architecture ``architecture`` names, else the one
    ``config`` (default: :func:`load_config`) picks. Either kind has the same contract
    (``_handle_message``, ``hooks``, ``apply_snapshot``, ``stats``) and events."""
    if architecture is None:
        architecture = (config or load_config()).architecture(stream)
    return build_handler(stream, architecture, on_event, symbols, depth)
