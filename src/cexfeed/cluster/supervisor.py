"""The supervisor of ``cexfeed run CONFIG``: one child process per shard
(``python -m cexfeed run CONFIG --shard K``), each restarted when it dies.

A restart waits ``restart_delay`` s, doubling up to ``restart_delay_max`` while the shard keeps
dying, reset once it ran ``stable_after`` s (:class:`cexfeed.net.backoff.Backoff`, jittered).
SIGTERM/SIGINT stop every child (SIGTERM, SIGKILL after ``grace`` s). Children stop by
themselves when the supervisor dies. A child that exits with
:data:`~cexfeed.cluster.config.CONFIG_ERROR` (the configuration cannot work: a symbol the venue
does not list, a sink that cannot be opened) is not restarted: the supervisor stops every
child and :attr:`Supervisor.failed` names the shards that failed so. One line per start and exit goes to stdout:
``shard K pid P started`` / ``shard K pid P exited rc R; restart in D s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from typing import Callable, Sequence

from ..net.backoff import Backoff
from .config import CONFIG_ERROR

# a worker stopped in its start-up (cexfeed.cli.INTERRUPTED)
INTERRUPTED = 130

log = logging.getLogger("cexfeed.cluster")


class Supervisor:
    """``config_path`` the file every worker reads; ``shards`` the shard numbers to run here;
    ``worker_args(k)`` extra command-line arguments of worker ``k`` (e.g. a per-worker
    metrics port); ``verbosity`` the ``-v`` count passed on."""

    def __init__(self, config_path: str, shards: Sequence[int], *, restart_delay: float = 0.5, restart_delay_max: float = 30.0,
                 stable_after: float = 60.0, grace: float = 10.0, verbosity: int = 0,
                 worker_args: Callable[[int], list[str]] | None = None, echo: Callable[[str], None] | None = None) -> None:
        self.config_path = config_path
        self.shards = list(shards)
        self.restart_delay = restart_delay
        self.restart_delay_max = max(restart_delay, restart_delay_max)
        self.stable_after = stable_after
        self.grace = grace
        self.verbosity = verbosity
        self.worker_args = worker_args or (lambda k: [])
        self.echo = echo or _echo
        self.procs: dict[int, asyncio.subprocess.Process] = {}
        self.restarts: dict[int, int] = {k: 0 for k in self.shards}
        self.failed: set[int] = set()  # shards that stopped on a configuration error
        self.interrupted: set[int] = set()  # shards stopped before they had started (start-up cut short)
        self._stopping = False
        self._stop: asyncio.Event | None = None

    def command(self, shard: int) -> list[str]:
        verbose = ["-" + "v" * self.verbosity] if self.verbosity else []
        return [sys.executable, "-m", "cexfeed", *verbose, "run", self.config_path, "--shard", str(shard), "--supervised",
                *self.worker_args(shard)]

    async def run(self, stop: asyncio.Event) -> dict[int, int]:
        """Run until ``stop`` is set (or a shard stops on a configuration error); returns the
        restart count of each shard."""
        self._stop = stop
        tasks = [asyncio.ensure_future(self._keep(k)) for k in self.shards]
        try:
            await stop.wait()
        finally:
            self._stopping = True
            await self._terminate()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        return dict(self.restarts)

    async def _keep(self, shard: int) -> None:
        backoff = Backoff(initial=self.restart_delay, cap=self.restart_delay_max, jitter=0.25)
        while not self._stopping:
            started = time.monotonic()
            # its own session: a Ctrl-C at the terminal reaches the supervisor only, which stops
            # the workers itself (SIGTERM), never in the middle of their imports
            proc = await asyncio.create_subprocess_exec(*self.command(shard), stdin=asyncio.subprocess.DEVNULL, start_new_session=True)
            self.procs[shard] = proc
            self.echo(f"shard {shard} pid {proc.pid} started")
            rc = await proc.wait()
            if self._stopping:
                self.echo(f"shard {shard} pid {proc.pid} stopped rc {rc}")
                if rc == INTERRUPTED or rc < 0:  # stopped in its start-up (or before it could handle the signal)
                    self.interrupted.add(shard)
                return
            if rc == CONFIG_ERROR:
                self.failed.add(shard)
                self.echo(f"shard {shard} pid {proc.pid} exited rc {rc}: configuration error, not restarted; stopping")
                log.error("shard %d (pid %d) stopped on a configuration error; not restarted", shard, proc.pid)
                if self._stop is not None:
                    self._stop.set()
                return
            if time.monotonic() - started >= self.stable_after:
                backoff.reset()
            delay = backoff.next()
            self.restarts[shard] += 1
            self.echo(f"shard {shard} pid {proc.pid} exited rc {rc}; restart in {delay:.2f} s")
            log.warning("shard %d (pid %d) exited with %s; restart %d in %.2f s", shard, proc.pid, rc, self.restarts[shard], delay)
            await asyncio.sleep(delay)

    async def _terminate(self) -> None:
        live = [p for p in self.procs.values() if p.returncode is None]
        for proc in live:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        if not live:
            return
        done, pending = await asyncio.wait([asyncio.ensure_future(p.wait()) for p in live], timeout=self.grace)
        for proc in live:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()


def _echo(line: str) -> None:
    print(line, flush=True)
