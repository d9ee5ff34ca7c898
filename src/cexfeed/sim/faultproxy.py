"""A small fault-injecting TCP proxy for tests and soak runs: it sits between a client and the
simulator (or any TCP server) and makes the network misbehave.

Why home-made: the usual tools are not available on the machines this runs on (no toxiproxy
binary or PyPI/apt package, and no ``sch_netem`` kernel module, so ``tc netem`` fails even
inside a private network namespace). This proxy covers what the fault matrix needs, at the TCP
level, with real sockets on both sides:

- ``latency`` s added to every chunk in each direction (order kept);
- ``bandwidth`` bytes/s per direction and connection;
- :meth:`FaultProxy.reset`: every client socket reset (RST, ``SO_LINGER`` 0), optionally in
  the middle of the next server -> client WebSocket frame (the frame boundaries are tracked,
  RFC 6455 §5.2, so the cut lands inside one);
- :meth:`FaultProxy.stall`: the open connections stop forwarding both ways while their sockets
  stay open (a half-open connection: no close, no data); new connections work;
- ``blackhole``: new connections are accepted and never answered (a handshake that hangs);
- ``cut_handshakes``: the next so many connections are reset in the middle of the server's
  answer to the WebSocket upgrade;
- :meth:`FaultProxy.refuse` / :meth:`FaultProxy.accept`: the listening socket is closed
  (connection refused) and opened again on the same port.

Use::

    proxy = await FaultProxy("127.0.0.1", sim.port).start()
    url = proxy.url(sim.ws_url("gateio-spot"))      # the same URL through the proxy
    await proxy.reset(mid_frame=True)
    await proxy.stop()
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from urllib.parse import urlsplit, urlunsplit

CHUNK = 65536


class _FrameCursor:
    """Where server -> client WebSocket frames start and end in a byte stream that begins with
    the HTTP upgrade response, so that a cut can land inside a frame."""

    __slots__ = ("head", "upgraded", "header", "left")

    def __init__(self) -> None:
        self.head = b""
        self.upgraded = False
        self.header = b""  # the part of a frame header seen so far
        self.left = 0  # payload bytes of the current frame still to come

    def walk(self, chunk: bytes, cut: bool = False) -> int | None:
        """Advance over ``chunk``. With ``cut``, stop and return an offset such that
        ``chunk[:offset]`` ends inside a frame (its header sent, part of its payload not);
        ``None`` when no frame in this chunk allows it (the cursor then moved past the chunk)."""
        i, n = 0, len(chunk)
        if not self.upgraded:
            self.head += chunk
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                self.head = self.head[-3:]
                return None
            self.upgraded = True
            i = n - (len(self.head) - end - 4)
            self.head = b""
        while i < n:
            if self.left:
                take = min(self.left, n - i)
                if cut:
                    # about half of what may be sent, at least one payload byte held back
                    return i + (min(take, self.left - 1) + 1) // 2
                self.left -= take
                i += take
                continue
            self.header += chunk[i:i + 1]
            i += 1
            need = _header_size(self.header)
            if need is not None and len(self.header) >= need:
                self.left = _payload_size(self.header)
                self.header = b""
        return None


def _header_size(header: bytes) -> int | None:
    if len(header) < 2:
        return None
    size = header[1] & 0x7F
    extra = 2 if size == 126 else 8 if size == 127 else 0
    return 2 + extra + (4 if header[1] & 0x80 else 0)


def _payload_size(header: bytes) -> int:
    size = header[1] & 0x7F
    if size == 126:
        return struct.unpack(">H", header[2:4])[0]
    if size == 127:
        return struct.unpack(">Q", header[2:10])[0]
    return size


def _rst(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset: SO_LINGER on with a zero timeout, then close."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class _Link:
    """One proxied connection: the client side, the upstream side and their two pumps."""

    def __init__(self, proxy: "FaultProxy", reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.proxy = proxy
        self.client_r, self.client_w = reader, writer
        self.up_w: asyncio.StreamWriter | None = None
        self.stalled = False
        self.cursor = _FrameCursor()
        self.cut: asyncio.Future | None = None  # armed by reset(mid_frame=True)
        self.cut_handshake = proxy.cut_handshakes > 0
        if self.cut_handshake:
            proxy.cut_handshakes -= 1
        self.tasks: list[asyncio.Task] = []
        self.closed = False

    async def run(self) -> None:
        proxy = self.proxy
        if proxy.blackhole:
            self.stalled = True
            await self._discard(self.client_r)
            self.close()
            return
        try:
            up_r, self.up_w = await asyncio.open_connection(proxy.upstream_host, proxy.upstream_port)
        except OSError:
            _rst(self.client_w)
            self.closed = True
            return
        loop = asyncio.get_running_loop()
        self.tasks = [loop.create_task(self._pump(self.client_r, self.up_w, False)),
                      loop.create_task(self._pump(up_r, self.client_w, True))]
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.close()

    async def _discard(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while await reader.read(CHUNK):
                pass

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, down: bool) -> None:
        """Read one direction; chunks are written by :meth:`_deliver` ``latency`` s later."""
        proxy = self.proxy
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue = asyncio.Queue()
        sender = loop.create_task(self._deliver(queue, writer))
        self.tasks.append(sender)
        try:
            while True:
                chunk = await reader.read(CHUNK)
                if not chunk:
                    break
                if self.stalled:
                    continue  # a half-open link: what arrives is lost, nothing is closed
                if not down:
                    proxy.bytes_up += len(chunk)
                else:
                    proxy.bytes_down += len(chunk)
                    at = len(chunk) // 2 if self.cut_handshake else self.cursor.walk(chunk, cut=self.cut is not None)
                    if at is not None:
                        queue.put_nowait((loop.time() + proxy.latency, chunk[:at]))
                        queue.put_nowait((0.0, None))
                        await sender
                        await asyncio.sleep(0.02)  # let loopback deliver it before the reset
                        self._reset()
                        return
                queue.put_nowait((loop.time() + proxy.latency, chunk))
        except (OSError, asyncio.IncompleteReadError):
            pass
        if down and self.stalled:
            return  # the venue went away behind a half-open link: the client is not told
        queue.put_nowait((0.0, None))
        with contextlib.suppress(asyncio.CancelledError):
            await sender
        self.close()

    async def _deliver(self, queue: asyncio.Queue, writer: asyncio.StreamWriter) -> None:
        """Write the chunks of one direction in order, each at its due time, within the
        bandwidth; ends at a ``None`` chunk."""
        proxy = self.proxy
        loop = asyncio.get_running_loop()
        try:
            while True:
                due, chunk = await queue.get()
                if chunk is None:
                    return
                wait = due - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                if self.stalled:
                    continue
                rate = proxy.bandwidth
                if not rate:
                    writer.write(chunk)
                    await writer.drain()
                    continue
                step = max(1, int(rate / 50))
                for start in range(0, len(chunk), step):
                    piece = chunk[start:start + step]
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(len(piece) / rate)
        except OSError:
            self.close()

    def _reset(self) -> None:
        if not self.closed:
            _rst(self.client_w)
            self.proxy.resets += 1
        if self.cut is not None and not self.cut.done():
            self.cut.set_result(True)
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        for w in (self.client_w, self.up_w):
            if w is not None:
                w.close()
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        self.proxy.links.discard(self)


class FaultProxy:
    """A TCP proxy on ``host:port`` (0: a free port) to ``upstream_host:upstream_port``, with
    the faults of the module docstring. ``latency`` (s, per direction), ``bandwidth`` (bytes/s
    per direction and connection, ``None``: unlimited), ``blackhole`` (new connections hang) and
    ``cut_handshakes`` (how many new connections are cut in their upgrade answer) can be
    changed at any time. Counters: ``accepted`` connections, ``resets`` sent,
    ``bytes_down``/``bytes_up`` forwarded to the client / to the server."""

    def __init__(self, upstream_host: str, upstream_port: int, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self.host = host
        self.port = port
        self.latency = 0.0
        self.bandwidth: float | None = None
        self.blackhole = False
        self.cut_handshakes = 0
        self.links: set[_Link] = set()
        self.accepted = 0
        self.resets = 0
        self.bytes_down = 0
        self.bytes_up = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> "FaultProxy":
        """Listen (again, on the same port after :meth:`refuse`). Returns self."""
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, self.host, self.port, reuse_address=True)
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    accept = start

    def refuse(self) -> None:
        """Close the listening socket: connects are refused until :meth:`accept`. Open
        connections are not touched."""
        if self._server is not None:
            self._server.close()
            self._server = None

    @property
    def refusing(self) -> bool:
        return self._server is None

    def url(self, url: str) -> str:
        """``url`` (``ws://127.0.0.1:PORT/path``) with this proxy's host and port."""
        parts = urlsplit(url)
        return urlunsplit((parts.scheme, f"{self.host}:{self.port}", parts.path, parts.query, parts.fragment))

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        link = _Link(self, reader, writer)
        self.links.add(link)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await link.run()
        finally:
            link.close()
            if task is not None:
                self._tasks.discard(task)

    async def reset(self, mid_frame: bool = False, timeout: float = 5.0) -> int:
        """Reset every open client socket (TCP RST). With ``mid_frame`` each link first forwards
        part of its next server -> client frame and is reset inside it (waits up to ``timeout``
        s for that frame; a link with none by then is reset anyway). Returns how many."""
        links = [link for link in self.links if not link.closed]
        if not mid_frame:
            for link in links:
                link._reset()
            return len(links)
        loop = asyncio.get_running_loop()
        for link in links:
            link.cut = loop.create_future()
        await asyncio.wait([link.cut for link in links if link.cut is not None], timeout=timeout)
        for link in links:
            link._reset()
        return len(links)

    def stall(self) -> int:
        """Stop forwarding on every open connection, both ways, keeping its sockets open (a
        half-open connection). Returns how many."""
        links = [link for link in self.links if not link.closed and not link.stalled]
        for link in links:
            link.stalled = True
        return len(links)

    async def stop(self) -> None:
        self.refuse()
        for link in list(self.links):
            link.close()
        # the accept tasks end once their links are closed (cancelling them would upset asyncio's
        # stream callback, which asks a finished task for its exception)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=2.0)

    async def __aenter__(self) -> "FaultProxy":
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
