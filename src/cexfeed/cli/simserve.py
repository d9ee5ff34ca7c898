"""``cexfeed sim``: the loopback exchange simulator served until Ctrl-C (every simulated venue),
with the ``cexfeed account`` command that reaches each simulated account."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import click

from . import main


@main.command()
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="TCP port on 127.0.0.1 (0: a free one).")
@click.option("--rate", type=click.FloatRange(min=0), default=20.0, show_default=True, help="Market steps per second per symbol (0: as fast as possible).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--levels", type=click.IntRange(min=1), default=20, show_default=True, help="Book levels per side.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds (default: until Ctrl-C).")
def sim(port: int, rate: float, seed: int, levels: int, duration: float | None) -> None:
    """Serve the loopback exchange simulator (every simulated venue) until Ctrl-C. Prints one
    line per venue: name, WebSocket URL, REST base URL; then per venue with a simulated account
    the ``cexfeed account`` command on it with the simulator's test keys (public constants)."""
    from ..sim import SimServer

    async def run() -> None:
        server = SimServer(seed=seed, rate=rate, levels=levels, port=port)
        try:
            await server.start()
        except OSError as exc:
            raise click.ClickException(f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}") from None
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(sig, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        for name in server.venues:
            click.echo(f"{name} {server.ws_url(name)} {server.rest_url(name)}")
        for line in _sim_accounts(server):
            click.echo(line)
        click.echo(f"faults: POST {server.base_url}/_sim/fault/<drop|close|silent|skip|malformed|unknown_channel|error|"
                   "upgrade|fail_snapshots|fail_instruments|reject|pause|resume|mute|cross|full|stale_snapshots|"
                   "slow_snapshots|block>  (?venue=NAME to target one venue; skip, cross and full need ?symbol=BTC/USDT; "
                   "silent and mute take ?seconds=, close ?code=, fail_snapshots, fail_instruments and stale_snapshots "
                   "?count=, slow_snapshots ?seconds=&count=, block ?channel=, reject ?count=&status=&retry_after=)")
        sys.stdout.flush()
        try:
            await asyncio.wait_for(stop.wait(), duration)
        except asyncio.TimeoutError:
            pass
        finally:
            await server.stop()

    asyncio.run(run())


def _sim_accounts(server: Any) -> list[str]:
    """One line per simulated venue serving an account: the command reaching it, with the
    simulator's own test keys (``cexfeed.sim.gateio_private``/``mexc_private``, no secret of anyone)."""
    from ..sim import gateio_private, mexc_private
    from ..venues import spec

    lines = []
    for name, venue in server.venues.items():
        if getattr(venue, "private", None) is None:
            continue
        keys = mexc_private if name == "mexc-spot" else gateio_private
        env = spec(name).credentials_env
        creds = f"{env}_API_KEY={keys.TEST_KEY} {env}_API_SECRET={keys.TEST_SECRET}"
        if name != "mexc-spot":
            creds += f" {env}_UID={keys.TEST_UID}"
        lines.append(f"account {name}: {creds} cexfeed account {name} --url {server.ws_url(name)} --rest-url {server.rest_url(name)}")
    return lines
