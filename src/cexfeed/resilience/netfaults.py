"""Network faults both kinds of rig inject the same way (through their proxy or simulator);
the scenarios in :mod:`cexfeed.resilience.public` and :mod:`cexfeed.resilience.private` wrap
them with what each stream must do afterwards."""

from __future__ import annotations

from .rig import FaultFailed, Rig


async def tcp_reset(rig: Rig) -> None:
    """Abort every client connection (TCP RST)."""
    if await rig.proxy.reset() == 0:
        raise FaultFailed("no connection to reset")


async def close_frame(rig: Rig) -> None:
    """The venue closes with 1012 (service restart)."""
    await rig.sim.close_connections(1012, rig.venue)


async def half_open(rig: Rig) -> None:
    """Stop forwarding in both directions, sockets left open: only the heartbeat notices."""
    if rig.proxy.stall() == 0:
        raise FaultFailed("no connection to stall")
