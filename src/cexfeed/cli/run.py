"""``cexfeed run CONFIG.toml``: the sharded deployment (see :mod:`cexfeed.cluster`).

- ``cexfeed run CONFIG`` supervises one worker process per shard on this host;
- ``cexfeed run CONFIG --shards 0,1`` supervises only those (the other shards run elsewhere);
- ``cexfeed run CONFIG --shard K`` runs shard K in this process (under systemd, Kubernetes ...);
- ``cexfeed run CONFIG --plan`` prints which shard holds what, and exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys

import click

from . import INTERRUPTED, main
from .sinkopts import sink_summary


def _shard_list(value: str | None, workers: int) -> list[int]:
    if not value:
        return list(range(workers))
    try:
        shards = sorted({int(v) for v in value.split(",") if v.strip()})
    except ValueError:
        raise click.BadParameter("comma-separated shard numbers", param_hint="--shards") from None
    bad = [k for k in shards if not 0 <= k < workers]
    if bad:
        raise click.BadParameter(f"{bad} outside 0..{workers - 1}", param_hint="--shards")
    return shards


@main.command("run")
@click.argument("config_path", metavar="CONFIG.toml", type=click.Path(exists=True, dir_okay=False))
@click.option("--shard", type=int, default=None, help="Run this one shard in this process (no supervisor).")
@click.option("--shards", default=None, help="Supervise only these shards here (comma-separated; default all).")
@click.option("--plan", "show_plan", is_flag=True, help="Print the shard plan and exit.")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds.")
@click.option("--supervised", is_flag=True, hidden=True, help="Started by the supervisor: stop when it dies.")
@click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
              help="Serve Prometheus metrics: shard K on this port + K (0: a free port per worker, printed; off by default).")
@click.option("--metrics-host", default="127.0.0.1", show_default=True, help="Address of the metrics endpoints.")
def run_command(config_path: str, shard: int | None, shards: str | None, show_plan: bool, duration: float | None, supervised: bool,
                metrics_port: int | None, metrics_host: str) -> None:
    """Run the sharded deployment CONFIG.toml describes: N worker processes sharing the
    (venue, symbols) of its [[feed]] entries, all publishing to its [sink]; a worker that dies
    is restarted and its books resync."""
    from ..cluster import config as cfg

    try:
        config = cfg.load(config_path)
        plan = cfg.plan(config)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if show_plan:
        click.echo(cfg.describe(plan))
        return
    if shard is not None:
        if not 0 <= shard < len(plan):
            raise click.BadParameter(f"{shard} outside 0..{len(plan) - 1}", param_hint="--shard")
        # shard K on the base port + K; 0: a free port of its own (printed), never port K
        metrics = (metrics_host, metrics_port + shard if metrics_port else 0) if metrics_port is not None else None
        _run_worker(config, plan[shard], duration, os.getppid() if supervised else None, metrics)
        return
    local = _shard_list(shards, len(plan))
    try:
        cfg.check_host_limits(config, [plan[k] for k in local])
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    _supervise(config_path, config, local, duration, metrics_port, metrics_host)


def _run_worker(config, shard, duration: float | None, parent: int | None, metrics: tuple[str, int] | None = None) -> None:
    from ..cluster.worker import CONFIG_ERROR, ShardConfigError, run_shard

    try:
        stats = asyncio.run(run_shard(config, shard, duration=duration, watch_parent=parent, metrics=metrics))
    except OSError as exc:
        raise click.ClickException(f"shard {shard.index}: {exc}") from None
    except ShardConfigError as exc:  # restarting cannot fix it: the supervisor gives up on this exit status
        click.echo(f"Error: {exc}", err=True)
        raise click.exceptions.Exit(CONFIG_ERROR) from None
    if stats.get("interrupted"):
        click.echo(f"shard {shard.index}: interrupted during start-up", err=True)
        raise click.exceptions.Exit(INTERRUPTED)
    for feed in stats["feeds"]:
        books = feed.get("books", {})
        synced = sum(1 for b in books.values() if b["synced"])
        print(f"shard {shard.index} {feed['venue']}: events {feed['events']}  frames {feed['frames']}  books synced {synced}/{len(books)}",
              file=sys.stderr)
    print(f"shard {shard.index} {sink_summary(stats['sink'])}", file=sys.stderr)
    if os.environ.get("CEXFEED_RUN_STATS"):
        with open(os.environ["CEXFEED_RUN_STATS"], "w") as fh:
            json.dump(stats, fh)


def _supervise(config_path: str, config, shards: list[int], duration: float | None, metrics_port: int | None = None,
               metrics_host: str = "127.0.0.1") -> None:
    from ..cluster.supervisor import Supervisor

    verbosity = click.get_current_context().find_root().params.get("verbose", 0)
    spec = config.cluster
    # each worker serves its own metrics: the base port + its shard number (0: a free port each)
    worker_args = (lambda k: ["--metrics-port", str(metrics_port), "--metrics-host", metrics_host]) if metrics_port is not None else None
    supervisor = Supervisor(os.path.abspath(config_path), shards, restart_delay=spec.restart_delay,
                            restart_delay_max=spec.restart_delay_max, stable_after=spec.stable_after, verbosity=verbosity,
                            worker_args=worker_args)

    signalled = []

    async def go() -> dict[int, int]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal() -> None:
            signalled.append(True)
            stop.set()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, on_signal)
        if duration:
            loop.call_later(duration, stop.set)
        return await supervisor.run(stop)

    restarts = asyncio.run(go())
    click.echo("restarts: " + ", ".join(f"shard {k} {n}" for k, n in sorted(restarts.items())))
    if signalled and supervisor.interrupted:  # Ctrl-C while a worker was still starting: as `stream` does
        click.echo(f"interrupted during start-up (shard(s) {sorted(supervisor.interrupted)} had not started)", err=True)
        raise click.exceptions.Exit(INTERRUPTED)
    if supervisor.failed:
        raise click.ClickException(f"shard(s) {sorted(supervisor.failed)} stopped on a configuration error (see the worker's message "
                                   "above); nothing was restarted")
