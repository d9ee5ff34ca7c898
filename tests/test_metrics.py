"""The Prometheus endpoint scraped over HTTP after a scripted simulator session: the counts are
the session's (a gap, a reconnect, a malformed frame, the REST calls, the recorder)."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from cexfeed.feed import Feed
from cexfeed.metrics import serve
from cexfeed.net import Backoff
from cexfeed.record import Recorder
from cexfeed.sim import SimServer
from cexfeed.sim.testing import wait_until

VENUE = "gateio-spot"
DOCS = Path(__file__).resolve().parents[1] / "docs"


async def scrape(url: str) -> tuple[str, dict[tuple[str, tuple], float]]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        text = await resp.text()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return text, samples


async def test_metrics_after_a_scripted_session(tmp_path):
    events = []
    async with SimServer(seed=11, rate=40, venues=[VENUE]) as sim:
        recorder = Recorder(tmp_path / "m")
        feed = Feed(VENUE, ["BTC/USDT", "ETH/USDT"], ["book", "trades"], url=sim.ws_url(VENUE), rest_url=sim.rest_url(VENUE),
                    on_event=events.append, tap=recorder, reconnect_backoff=lambda: Backoff(initial=0.05, cap=0.2))
        server = await serve(0, [feed], sinks=[recorder], sample_every=4)
        try:
            synced = lambda: feed.synced("BTC/USDT") and feed.synced("ETH/USDT")  # noqa: E731
            await feed.start()
            assert await wait_until(synced, 10)
            sim.skip_update("BTC/USDT")
            await asyncio.sleep(0.3)
            assert await wait_until(synced, 10)
            sim.drop_connections()
            await asyncio.sleep(0.3)
            assert await wait_until(synced, 10)
            await sim.send_malformed()
            sim.pause()
            await asyncio.sleep(0.5)
            recorder.flush()
            await asyncio.sleep(0.2)

            stats_before, events_before = feed.stats(), len(events)
            text, m = await scrape(server.url)
            stats_after, events_after = feed.stats(), len(events)
        finally:
            await server.close()
            await feed.close()
            await recorder.aclose()

    v = (("venue", VENUE),)
    conn = (("connection", "gateio-spot#0"), ("venue", VENUE))

    def sym(symbol):
        return (("symbol", symbol), ("venue", VENUE))

    assert stats_before["frames"] <= m[("cexfeed_frames_total", v)] <= stats_after["frames"]
    assert events_before <= m[("cexfeed_events_total", v)] <= events_after
    assert m[("cexfeed_connects_total", conn)] == 2 and m[("cexfeed_reconnects_total", conn)] == 1
    assert m[("cexfeed_connection_up", conn)] == 1 and m[("cexfeed_subscriptions", conn)] == 4
    assert m[("cexfeed_connect_failures_total", conn)] == 0 and m[("cexfeed_ack_timeouts_total", conn)] == 0
    # the gap resynced BTC once; the reconnect reset both books without counting a resync
    assert m[("cexfeed_resyncs_total", sym("BTC/USDT"))] == 1 and m[("cexfeed_resyncs_total", sym("ETH/USDT"))] == 0
    assert m[("cexfeed_errors_total", (("kind", "book_gap"), ("venue", VENUE)))] == 1
    assert m[("cexfeed_errors_total", (("kind", "malformed"), ("venue", VENUE)))] == 1
    # snapshots: 2 at start, 1 after the gap, 2 after the reconnect
    assert m[("cexfeed_snapshot_fetches_total", conn)] == 5
    assert m[("cexfeed_book_snapshots_total", sym("BTC/USDT"))] == 3 and m[("cexfeed_book_snapshots_total", sym("ETH/USDT"))] == 2
    assert m[("cexfeed_rest_requests_total", v)] == stats_after["rest"]["requests"] == 6
    assert m[("cexfeed_rest_failures_total", v)] == 0
    for symbol in ("BTC/USDT", "ETH/USDT"):
        assert m[("cexfeed_book_synced", sym(symbol))] == 1
        assert m[("cexfeed_book_deltas_total", sym(symbol))] == feed.sequencer(symbol).deltas_applied
        assert 0 <= m[("cexfeed_book_age_seconds", sym(symbol))] < 10
    assert m[("cexfeed_queue_events", v)] == 0 and m[("cexfeed_queue_dropped_total", v)] == 0
    # one event in 4 timed
    count = m[("cexfeed_event_latency_seconds_count", v)]
    assert events_before // 4 - 1 <= count <= events_after // 4 + 1 and count > 10
    assert 0 < m[("cexfeed_event_latency_seconds_sum", v)] / count < 0.5
    sink = (("sink", "record:m"),)
    assert m[("cexfeed_sink_published_total", sink)] > stats_before["frames"] and m[("cexfeed_sink_dropped_total", sink)] == 0
    assert m[("cexfeed_sink_bytes_total", sink)] > 0 and m[("cexfeed_sink_errors_total", sink)] == 0
    assert "# TYPE cexfeed_account_up gauge" in text
    assert any(name == "process_cpu_seconds_total" for name, _ in m)

    # every metric the docs list and the example dashboard queries is served
    served = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    served |= {name + "_total" for name in served} | {name + "_bucket" for name in served}
    documented = set(re.findall(r"^\| `(cexfeed_\w+)`", (DOCS / "metrics.md").read_text(), re.M))
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    queried = {name for panel in dashboard["panels"] for t in panel["targets"] for name in re.findall(r"\b(?:cexfeed|process)_\w+", t["expr"])}
    assert len(documented) >= 25 and documented <= served, documented - served
    assert len(queried) >= 15 and queried <= served, queried - served


async def test_serve_reports_a_busy_port():
    first = await serve(0)
    try:
        with pytest.raises(OSError):
            await serve(first.port)
    finally:
        await first.close()
