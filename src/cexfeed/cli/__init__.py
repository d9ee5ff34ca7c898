"""The ``cexfeed`` command: ``demo``, ``stream``, ``sim``, ``account``, ``replay``, ``record``,
``consume``, ``run``, ``bench``, ``soak``.

Each subcommand lives in its own module of this package and registers itself on :data:`main`.
Modules are imported only when their command runs (or shows its own help): ``cexfeed --help``
and ``--version`` never load the network stack or the venue modules. A new command is one
line in :data:`COMMANDS` (module, one-line help) plus its module.
"""

from __future__ import annotations

import os
import signal
import sys
import threading


def _interrupted_while_loading(signum: int, frame: object) -> None:
    # Ctrl-C while the command line tool is still importing: one line and 130, no traceback
    sys.stderr.write("interrupted\n")
    os._exit(130)


# until a command runs (LazyGroup.invoke puts Python's own handler back)
if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
    signal.signal(signal.SIGINT, _interrupted_while_loading)

import importlib  # noqa: E402 - after the handler: these imports take the most time
import logging  # noqa: E402

import click  # noqa: E402

# command -> (module defining it, the one line `cexfeed --help` shows for it)
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("cexfeed.cli.demo", "Run the loopback simulator and stream from it over real WebSockets."),
    "stream": ("cexfeed.cli.live", "Stream live market data from a venue (or --url)."),
    "sim": ("cexfeed.cli.simserve", "Serve the loopback exchange simulator until Ctrl-C."),
    "account": ("cexfeed.cli.account", "Show a live account: balances, open orders, positions, fills."),
    "replay": ("cexfeed.cli.replay", "Replay a capture through the venue's handler."),
    "bench": ("cexfeed.cli.bench", "Run the comparative benchmarks."),
    "record": ("cexfeed.cli.record", "Record a live session to the own capture format."),
    "consume": ("cexfeed.cli.consume", "Read events back from a Redis Streams or NATS JetStream sink."),
    "run": ("cexfeed.cli.run", "Run the sharded deployment a CONFIG.toml describes."),
    "soak": ("cexfeed.cli.soak", "Integration, load, soak and fuzz runs, with a report."),
}

# the conventional exit status of a program stopped by SIGINT (128 + 2)
INTERRUPTED = 130


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (see :data:`COMMANDS`); commands
    registered the usual way (``@main.command()``) work too. Ctrl-C anywhere (start-up
    included) exits with status 130 and one line, no traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            importlib.import_module(COMMANDS[cmd_name][0])
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.commands.get(name)
            if command is not None:
                if command.hidden:
                    continue
                rows.append((name, command.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                rows.append((name, COMMANDS[name][1]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context):
        if signal.getsignal(signal.SIGINT) is _interrupted_while_loading:
            signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.stdout.flush()
            raise click.exceptions.Exit(INTERRUPTED) from None


@click.group(cls=LazyGroup)
@click.version_option(package_name="cexfeed", prog_name="cexfeed")
@click.option("-v", "--verbose", count=True, help="More logging (-v info, -vv debug).")
def main(verbose: int) -> None:
    """Typed, normalized, in-sync market data from MEXC and Gate.io WebSockets."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
