"""Loopback exchange simulator (see :mod:`cexfeed.sim.server`)."""

from __future__ import annotations

import importlib
import logging

def _load_venues() -> None:
    """Import the simulator module of every venue in the registry (each registers itself); a
    broken one is logged and skipped."""
    from ..venues import VENUES

    for module in dict.fromkeys(spec.sim for spec in VENUES.values()):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                logging.getLogger("cexfeed.sim").warning("sim venue module %s not loaded: %s", module, exc)
        except Exception as exc:  # a broken sibling must not take the other venues down
            logging.getLogger("cexfeed.sim").warning("sim venue module %s not loaded: %s", module, exc)


from .market import DEFAULT_SYMBOLS, SymbolSpec, SyntheticMarket  # noqa: E402
from .server import SimServer  # noqa: E402
from .venue import VenueSim, register_venue  # noqa: E402

__all__ = ["DEFAULT_SYMBOLS", "SimServer", "SymbolSpec", "SyntheticMarket", "VenueSim", "register_venue"]
