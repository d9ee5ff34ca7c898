"""Local ``redis-server`` and ``nats-server -js`` processes on free loopback ports, each in
its own temporary folder, for tests and the benchmark harness. Nothing here is needed to use a
sink against a real deployment.

::

    with LocalRedis() as redis:        # raises ServerUnavailable when the binary is missing
        sink = RedisStreamSink(redis.url)
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class ServerUnavailable(RuntimeError):
    """The server binary is not installed (``apt-get install redis-server nats-server``)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def find_binary(name: str) -> str | None:
    """``name`` on PATH or in the sbin folders Debian installs servers into."""
    found = shutil.which(name)
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"):
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return None


class _LocalServer:
    binary = ""
    scheme = ""

    def __init__(self, port: int | None = None) -> None:
        path = find_binary(self.binary)
        if path is None:
            raise ServerUnavailable(f"{self.binary} not installed (apt-get install {self.binary})")
        self.path = path
        self.port = port or free_port()
        self.folder = ""
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def args(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 10.0) -> "_LocalServer":
        """Start the server and wait until it accepts connections. Raises ``RuntimeError``
        (with its log) when it does not come up."""
        if not self.folder:
            self.folder = tempfile.mkdtemp(prefix=f"cexfeed-{self.binary}-")
        log = open(Path(self.folder) / "server.log", "ab")
        self.proc = subprocess.Popen(self.args(), cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        text = (Path(self.folder) / "server.log").read_text(errors="replace")[-2000:]
        self.stop(remove=False)
        raise RuntimeError(f"{self.binary} did not start on port {self.port}: {text}")

    def stop(self, remove: bool = True) -> None:
        """Stop the process (SIGTERM, then SIGKILL after 5 s); keep the data folder for a
        restart on the same port unless ``remove``."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if remove and self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder = ""

    def kill(self) -> None:
        """SIGKILL the process (the broker "goes away"); :meth:`start` brings it back on the
        same port and folder."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(5)
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class LocalRedis(_LocalServer):
    """``redis-server`` on 127.0.0.1, no persistence, data in a temporary folder."""

    binary = "redis-server"
    scheme = "redis"

    def args(self) -> list[str]:
        return [self.path, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", self.folder, "--protected-mode", "yes", "--daemonize", "no"]


class LocalNats(_LocalServer):
    """``nats-server -js`` on 127.0.0.1 with its JetStream store in a temporary folder."""

    binary = "nats-server"
    scheme = "nats"

    def args(self) -> list[str]:
        return [self.path, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", str(Path(self.folder) / "js")]
