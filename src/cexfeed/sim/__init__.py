"""Loopback exchange simulator (see :mod:`cexfeed.sim.server`)."""

from __future__ import annotations

import importlib
import logging

# sibling modules that register a simulated venue; a missing one is skipped
_VENUE_MODULES = ("gateio_spot", "mexc_spot", "gateio_futures")


def _load_venues() -> None:
    for module in _VENUE_MODULES:
        try:
            importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                logging.getLogger("cexfeed.sim").warning("sim venue module %s not loaded: %s", module, exc)
        except Exception as exc:  # a broken sibling must not take the other venues down
            logging.getLogger("cexfeed.sim").warning("sim venue module %s not loaded: %s", module, exc)


from .market import DEFAULT_SYMBOLS, SymbolSpec, SyntheticMarket  # noqa: E402
from .server import SimServer, VenueSim, register_venue  # noqa: E402

__all__ = ["DEFAULT_SYMBOLS", "SimServer", "SymbolSpec", "SyntheticMarket", "VenueSim", "register_venue"]
