"""The ``--sink`` options of ``cexfeed stream`` (one :class:`cexfeed.sinks.SinkConfig` per
``--sink``; the other options apply to each) and the one-line sink summary printed at the end."""

from __future__ import annotations

from typing import Any, Callable

import click

from ..sinks import ENCODINGS, LAYOUTS, Sink, SinkConfig, make_sink


def sink_options(command: Callable) -> Callable:
    """Add ``--sink`` (repeatable) and the sink knobs to a click command."""
    options = [
        click.option("--sink", "sinks", multiple=True, metavar="URL",
                     help="Also publish every event: jsonl:PATH (jsonl:- = stdout), redis://HOST:PORT/DB, nats://HOST:PORT. Repeatable."),
        click.option("--sink-encoding", type=click.Choice(ENCODINGS), default="json", show_default=True, help="Event encoding on Redis/NATS."),
        click.option("--sink-layout", type=click.Choice(LAYOUTS), default="symbol", show_default=True,
                     help="Redis streams: one per venue+symbol, or one per venue+event type."),
        click.option("--sink-prefix", default="cexfeed", show_default=True, help="Prefix of Redis keys and NATS subjects."),
        click.option("--sink-maxlen", type=click.IntRange(min=0), default=100_000, show_default=True, help="Approximate entries kept per Redis stream (0: untrimmed)."),
        click.option("--sink-stream", default="CEXFEED", show_default=True, help="JetStream stream name (created if missing)."),
        click.option("--sink-buffer", type=click.IntRange(min=1), default=100_000, show_default=True, help="Events held while a sink is behind or away; then the oldest are dropped (counted)."),
        click.option("--sink-rotate-bytes", type=click.IntRange(min=0), default=0, help="JSONL file: start a new file at this size (0: never)."),
        click.option("--sink-rotate-seconds", type=click.FloatRange(min=0), default=0.0, help="JSONL file: start a new file after this many seconds (0: never)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def sink_configs(options: dict[str, Any]) -> list[SinkConfig]:
    """The configs the ``--sink*`` options give (the ``sink*`` keys are removed from
    ``options``). Raises ``click.BadParameter`` for a bad URL."""
    urls = options.pop("sinks")
    knobs = {key[len("sink_"):]: options.pop(key) for key in list(options) if key.startswith("sink_")}
    configs = []
    for url in urls:
        try:
            configs.append(SinkConfig(url=url, **knobs))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--sink") from None
    return configs


def build_sinks(configs: list[SinkConfig]) -> list[Sink]:
    return [make_sink(config) for config in configs]


def writes_stdout(configs: list[SinkConfig]) -> bool:
    return any(config.url in ("jsonl:", "jsonl:-") for config in configs)


def sink_summary(stats: dict[str, Any]) -> str:
    """One line of a sink's counters."""
    line = f"sink {stats['target']}: published {stats['published']}  dropped {stats['dropped']}"
    for key in ("rejected", "send_errors", "connect_failures", "unsent_at_close"):
        if stats.get(key):
            line += f"  {key.replace('_', ' ')} {stats[key]}"
    if stats.get("last_error"):
        line += f"  last error: {stats['last_error']}"
    return line
