"""``cexfeed stream``, and the running of live data over real WebSockets that ``cexfeed demo``
(:mod:`cexfeed.cli.demo`), ``record`` and ``account`` share.

``demo`` starts the loopback simulator in-process and streams from it; ``stream`` connects to
the venue (or ``--url``). ``--format table`` shows a refreshing view (rich Live on a terminal,
one final table otherwise; an 80-column layout below 120 columns); ``--format jsonl`` writes
one event per line (:func:`cexfeed.models.encode_event`); ``--format none`` only publishes to
the ``--sink`` outputs (``stream``). Both stop on Ctrl-C / SIGTERM or after ``--duration``
(exit 0); Ctrl-C before the streams started, or before anything synced, exits 130 (no
traceback). A command whose books never synced (or that received nothing) exits 1 and says why. ``--metrics-port`` serves Prometheus metrics
(:mod:`cexfeed.metrics`) while it runs. ``stream_options``, ``metrics_options`` and
:func:`run_stream` serve ``cexfeed record`` too.

The network stack, the venue modules and rich are imported only when a command runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import signal
import sys
from typing import Any, Sequence

import click

from ..channels import UnknownChannel
from . import INTERRUPTED, main
from .common import architecture_option, split
from .sinkopts import sink_options


class _JsonlWriter:
    def __init__(self) -> None:
        from ..models import encode_event

        self.encode = encode_event
        self.out = sys.stdout.buffer
        self.broken = False

    def on_event(self, event: Any) -> None:
        if self.broken:
            return
        try:
            self.out.write(self.encode(event) + b"\n")
        except BrokenPipeError:
            self.broken = True

    def flush(self) -> None:
        if not self.broken:
            try:
                self.out.flush()
            except BrokenPipeError:
                self.broken = True


class _Interrupted(Exception):
    """Ctrl-C/SIGTERM before every feed had started."""


def _console():
    from rich.console import Console

    console = Console(stderr=False)
    if not console.is_terminal:
        # piped/CI output: one final table, as wide as $COLUMNS says, else wide enough not to wrap
        width = int(os.environ["COLUMNS"]) if os.environ.get("COLUMNS", "").isdigit() else 170
        console = Console(stderr=False, width=width)
    return console


def _wide() -> bool:
    """Whether the table view gets its wide layout (else the 80x24 one)."""
    from .view import WIDE

    return _console().width >= WIDE


def _ignore(event: Any) -> None:
    pass


async def _run(feeds: list[Any], symbols: list[list[str]], fmt: str, duration: float | None, titles: list[str],
               metrics: tuple[str, int | None] | None = None, watched: Sequence[Any] = (), view: Any = None) -> list[dict[str, Any]]:
    """Run ``feeds`` side by side until Ctrl-C/SIGTERM or ``duration``; return their stats.
    ``fmt`` ``table``, ``jsonl`` or ``none`` (events go only to the feeds' sinks, or nowhere
    while recording); ``metrics`` ``(host, port)`` serves Prometheus metrics of the feeds and of
    ``watched`` (sinks, a recorder) meanwhile. ``view(feed, symbols, title, compact)`` makes
    each one's table view (default: the market view); a feed is anything with ``start``,
    ``set_callback``, ``stats`` and ``close`` (a ``Feed`` or an ``Account``, whose stats carry
    their one-line ``summary``). Raises :class:`_Interrupted` when stopped before every feed
    started."""
    # the Ctrl-C/SIGTERM event of _run_feeds, set from the first moment of the run (a signal
    # during the feeds' construction counts too)
    stop = _STOP.get(None) or asyncio.Event()
    loop = asyncio.get_running_loop()
    _on_signals(loop, stop.set)
    server = None
    if metrics is not None and metrics[1] is not None:
        from ..metrics import serve

        try:
            from ..feed import Feed

            server = await serve(metrics[1], [f for f in feeds if isinstance(f, Feed)], host=metrics[0], sinks=watched)
        except OSError as exc:
            raise click.ClickException(f"cannot serve metrics on {metrics[0]}:{metrics[1]}: {exc.strerror or exc}") from None
        print(f"metrics: {server.url}", file=sys.stderr)
    views: list[Any] = []
    console = None
    if fmt == "table":
        from .view import WIDE, View

        console = _console()
        make_view = view or View
        views = [make_view(feed, names, title, compact=console.width < WIDE) for feed, names, title in zip(feeds, symbols, titles)]
    writer = _JsonlWriter() if fmt == "jsonl" else None
    for index, feed in enumerate(feeds):
        feed.set_callback(views[index].on_event if views else writer.on_event if writer is not None else _ignore)
    deadline = loop.time() + duration if duration else None

    def render() -> Any:
        from rich.console import Group

        return Group(*[part for view in views for part in view.parts()])

    async def wait_tick(seconds: float) -> bool:
        timeout = seconds
        if deadline is not None:
            timeout = min(timeout, max(0.0, deadline - loop.time()))
        try:
            await asyncio.wait_for(stop.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        # every feed ended on its own (an account the venue refused): nothing more will come
        ended = bool(feeds) and all(getattr(feed, "ended", False) for feed in feeds)
        return stop.is_set() or ended or (deadline is not None and loop.time() >= deadline)

    started = False
    try:
        # start (symbols, connect, acks) may take long on a bad endpoint: Ctrl-C and the
        # deadline still apply while it runs
        starting = asyncio.ensure_future(asyncio.gather(*(feed.start() for feed in feeds)))
        try:
            while not starting.done() and not await wait_tick(0.1):
                pass
        except asyncio.CancelledError:  # the runner's own Ctrl-C handling, before ours was in place
            stop.set()
        if starting.done():
            starting.result()
        else:
            starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting  # retrieved: no "exception was never retrieved" at exit
            if stop.is_set():
                raise _Interrupted()
        started = True
        if views and console is not None and console.is_terminal:
            from rich.live import Live

            with Live(render(), console=console, refresh_per_second=4, transient=False) as live:
                while not await wait_tick(0.25):
                    live.update(render())
                live.update(render())
        else:
            while not await wait_tick(0.2):
                if writer is not None:
                    writer.flush()
                    if writer.broken:
                        break
            if views and console is not None:
                console.print(render())
    finally:
        from .sinkopts import sink_summary
        from .view import summary

        stats = [feed.stats() for feed in feeds]
        await asyncio.gather(*(feed.close() for feed in feeds), return_exceptions=True)
        if server is not None:
            await server.close()
        if writer is not None:
            writer.flush()
        for stat in stats:
            stat["interrupted"] = stop.is_set()
        if not views and started:  # (a start that failed or was interrupted says so itself)
            for feed, stat in zip(feeds, stats):
                print(f"{_label(feed)}: {stat['summary'] if 'summary' in stat else summary(stat)}", file=sys.stderr)
                for sink_stat in stat.get("sinks", ()):
                    print(sink_summary(sink_stat), file=sys.stderr)
    return stats


# the stop event of the current _run_feeds (see _run)
_STOP: contextvars.ContextVar[asyncio.Event] = contextvars.ContextVar("cexfeed_cli_stop")


def _on_signals(loop: asyncio.AbstractEventLoop, callback: Any) -> None:
    """Ctrl-C and SIGTERM call ``callback`` (instead of raising ``KeyboardInterrupt``)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, callback)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform without it
            pass


def _label(feed: Any) -> str:
    """``gateio-spot`` (``gateio-spot [strategy]`` on the strategy architecture)."""
    from ..compat import architecture_of

    # an Account says which it runs; a Feed is known by its protocol
    architecture = getattr(feed, "architecture", None) or architecture_of(feed)
    return feed.venue if architecture == "direct" else f"{feed.venue} [{architecture}]"


def _live_venues() -> list[str]:
    """Registry names (``stream`` accepts them)."""
    from ..venues import VENUES

    return list(VENUES)


class _ChannelsOption(click.Option):
    """``--channels``: its help lists every venue's channels, read from the channel tables only
    when help is shown."""

    def get_help_record(self, ctx: click.Context):
        from ..venues import VENUES, table

        per_venue = "; ".join(f"{name}: {', '.join(table(name).names)}" for name in VENUES)
        self.help = f"Comma-separated channel names. {per_venue}."
        return super().get_help_record(ctx)


def _not_synced(feeds: list[Any], stats: list[dict[str, Any]], channels: list[list[str]]) -> list[str]:
    """Why each feed that never synced anything failed: no frame at all, or a book channel whose
    books never synced (with the REST endpoint's last error when it failed)."""
    problems = []
    for feed, stat, wanted in zip(feeds, stats, channels):
        if not stat["frames"]:
            problems.append(f"no data received from {feed.venue} ({feed.protocol.ws_url})")
            continue
        rows = [feed.protocol.table.get(feed.protocol.renames.get(name, name)) for name in wanted]
        if any(row is not None and row.book for row in rows) and not any(book["snapshots"] for book in stat["books"].values()):
            why = f"; REST endpoint {feed.rest.base_url} failing: {feed.rest.last_error}" if feed.rest.last_error else ""
            problems.append(f"no book of {feed.venue} ever synced{why}")
    return problems


def _run_feeds(make: Any, channels: list[list[str]]) -> list[dict[str, Any]]:
    """Run the coroutine ``make()`` (it builds the feeds and calls :func:`_run`) and turn what
    can go wrong into the CLI's errors and exit codes."""

    async def guarded() -> tuple[list[Any], list[dict[str, Any]]]:
        # Ctrl-C from the first moment of the run sets the stop event (no KeyboardInterrupt
        # cutting through the start-up); a cancel by the runner's own handler is an interrupt too
        stop = asyncio.Event()
        _STOP.set(stop)
        loop = asyncio.get_running_loop()
        _on_signals(loop, stop.set)
        try:
            return await make()
        except asyncio.CancelledError:
            raise _Interrupted() from None
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)

    try:
        feeds, stats = asyncio.run(guarded())
    except (_Interrupted, KeyboardInterrupt):
        click.echo("interrupted during start-up", err=True)
        raise click.exceptions.Exit(INTERRUPTED) from None
    except UnknownChannel as exc:  # like an empty --channels: a usage error (exit 2)
        raise click.UsageError(str(exc)) from None
    except ValueError as exc:  # SymbolError, bad URL
        raise click.ClickException(str(exc)) from None
    problems = _not_synced(feeds, stats, channels)
    if problems:
        if any(stat.get("interrupted") for stat in stats):  # stopped before anything synced: an interrupt, not a failure
            click.echo(f"interrupted before the streams synced ({'; '.join(problems)})", err=True)
            raise click.exceptions.Exit(INTERRUPTED)
        raise click.ClickException("; ".join(problems))
    return stats


def metrics_options(command: Any) -> Any:
    """``--metrics-port`` / ``--metrics-host`` of a command (``demo``, ``stream``, ``record``);
    the command gets ``metrics_port`` and ``metrics_host`` arguments."""
    command = click.option("--metrics-host", default="127.0.0.1", show_default=True,
                           help="Interface of the metrics endpoint (0.0.0.0: every interface).")(command)
    return click.option("--metrics-port", type=click.IntRange(0, 65535), default=None,
                        help="Serve Prometheus metrics on this port at /metrics (default: off; 0: a free port).")(command)


def stream_options(command: Any) -> Any:
    """The connection options of ``stream`` and ``record``: VENUE, ``--symbols``,
    ``--channels``, ``--url``, ``--rest-url``, ``--duration``, ``--no-data-timeout``,
    ``--subscription-timeout``, ``--architecture``."""
    options = [
        click.argument("venue", type=click.Choice(_live_venues())),
        click.option("--symbols", default="BTC/USDT", show_default=True, help="Comma-separated unified symbols (perpetuals BASE/QUOTE:SETTLE)."),
        click.option("--channels", cls=_ChannelsOption, default="book,trades,bbo,ticker", show_default=True),
        click.option("--url", default=None, help="WebSocket URL (default: the venue's production endpoint)."),
        click.option("--rest-url", default=None, help="REST base URL (default: the venue's)."),
        click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after this many seconds (default: until Ctrl-C)."),
        click.option("--no-data-timeout", type=click.FloatRange(min=1), default=30.0, show_default=True, help="Reconnect after this many seconds without any frame."),
        click.option("--subscription-timeout", type=click.FloatRange(min=0), default=60.0, show_default=True,
                     help="Report a subscription silent for this many seconds (0: never)."),
        architecture_option,
    ]
    for option in reversed(options):
        command = option(command)
    return command


def run_stream(venue: str, symbols: str, channels: str, url: str | None, rest_url: str | None, duration: float | None,
               no_data_timeout: float, subscription_timeout: float, architecture: Any, fmt: str,
               metrics: tuple[str, int | None] | None = None, tap: Any = None, sinks: Sequence[Any] = ()) -> dict[str, Any]:
    """The body of ``stream`` (and ``record``, with a ``tap``): one feed until Ctrl-C or
    ``duration``, its events also published to ``sinks``; returns its stats. Raises
    ``click.ClickException`` for unknown symbols or channels and when nothing synced."""
    wanted = split(symbols)
    if not wanted:
        raise click.UsageError("--symbols is empty")
    names = split(channels)
    if not names:
        raise click.UsageError("--channels is empty")

    async def run() -> tuple[list[Any], list[dict[str, Any]]]:
        from ..compat import open_feed
        from ..feed import check_symbols
        from ..symbols import SymbolError

        try:
            feed = open_feed(venue, wanted, names, config=architecture, url=url, rest_url=rest_url, no_data_timeout=no_data_timeout,
                             subscription_timeout=subscription_timeout or None, tap=tap, sinks=sinks)
        except SymbolError:
            # names in another form: say in the same breath which of the others the venue lacks
            await check_symbols(venue, wanted, rest_url)
            raise
        from ..sinks import SinkUnavailable

        try:  # a sink that cannot work at all stops us now; later outages buffer and reconnect
            for sink in sinks:
                await sink.open()
        except SinkUnavailable as exc:
            raise click.ClickException(str(exc)) from None
        watched = ((tap,) if tap is not None and hasattr(tap, "stats") else ()) + tuple(sinks)
        title = [f"cexfeed stream {_label(feed)} {feed.protocol.ws_url}"]
        return [feed], await _run([feed], [wanted], fmt, duration, title, metrics, watched)

    return _run_feeds(run, [names])[0]


@main.command()
@stream_options
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl", "none"]), default="table", show_default=True,
              help="What goes to stdout (none: only the --sink outputs and a summary on stderr).")
@sink_options
@metrics_options
@click.pass_context
def stream(ctx: click.Context, venue: str, symbols: str, channels: str, url: str | None, rest_url: str | None, duration: float | None,
           no_data_timeout: float, subscription_timeout: float, architecture: Any, fmt: str, metrics_port: int | None,
           metrics_host: str, **options: Any) -> None:
    """Stream live market data from VENUE (production by default; --url to point elsewhere,
    e.g. at the simulator), optionally publishing every event to --sink outputs. Exits 1 when
    its books never synced or nothing arrived."""
    from .sinkopts import build_sinks, sink_configs, writes_stdout

    configs = sink_configs(options)
    if writes_stdout(configs) and fmt != "none":
        if ctx.get_parameter_source("fmt") is not click.core.ParameterSource.DEFAULT:
            raise click.UsageError("--sink jsonl:- writes to stdout: use --format none with it")
        fmt = "none"
    run_stream(venue, symbols, channels, url, rest_url, duration, no_data_timeout, subscription_timeout, architecture, fmt,
               (metrics_host, metrics_port), sinks=build_sinks(configs))
