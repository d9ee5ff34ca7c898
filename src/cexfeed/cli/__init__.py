"""The ``cexfeed`` command: ``demo``, ``stream``, ``account``, ``replay`` (and more as venues land).

Each subcommand lives in its own module of this package and registers itself on :data:`main`.
"""

from __future__ import annotations

import logging

import click


@click.group()
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def main(verbose: int) -> None:
    """Typed, normalized, in-sync market data from MEXC and Gate.io WebSockets."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _register() -> None:
    # imported for their side effect of adding commands to `main`
    from . import replay  # noqa: F401
    from . import bench  # noqa: F401  (the harness itself is imported only when run)
    try:
        from . import live  # noqa: F401
        from . import account  # noqa: F401
    except ImportError:  # pragma: no cover - live commands land separately
        pass


_register()
