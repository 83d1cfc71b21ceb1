"""A real ``redis-server`` on a loopback port, started and stopped by the tests.

The README's test command installs Debian's ``redis-server`` when it is missing. Without it,
the tests that need Redis fail when ``CI`` is set and are skipped elsewhere.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")
MISSING = "redis-server is not installed (the README's test command installs it)"


def require() -> RedisServer:
    """A RedisServer (not started); without the binary: fail under CI, else skip."""
    return _required(RedisServer)


def require_cluster() -> RedisCluster:
    """A RedisCluster (not started); without the binaries: fail under CI, else skip."""
    return _required(RedisCluster)


def _required(make: Callable[[], T]) -> T:
    try:
        return make()
    except FileNotFoundError:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """One ``redis-server`` process on 127.0.0.1 without persistence."""

    def __init__(self, *options: str) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError(MISSING)
        self.binary = binary
        self.port = _free_port()
        self.directory = tempfile.mkdtemp(prefix="ss-redis-")
        self.process: subprocess.Popen[bytes] | None = None
        self.started = False
        self.options = options
        """Further ``redis-server`` options (``--cluster-enabled yes``, say)."""

    @property
    def url(self) -> str:
        """The server's URL (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start the server and wait until it accepts connections.

        The port was free when chosen, but another process (a parallel test worker starting its
        own server) may take it first: then this server exits, and a new port is tried. A
        restart after :meth:`kill` keeps the port its clients know.
        """
        for _ in range(1 if self.started else 5):
            if self._start():
                self.started = True
                return
            self.port = _free_port()
        raise RuntimeError("redis-server did not start")

    def _start(self) -> bool:
        process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                self.directory,
                *self.options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.process = process
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and process.poll() is None:
            # The answer must come from this process, not from a server of another worker
            # that holds the port.
            if self._pid_on_port() == process.pid:
                return True
            time.sleep(0.05)
        self.kill()
        return False

    def _pid_on_port(self) -> int | None:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"INFO server\r\n")
                info = conn.recv(65536).decode(errors="replace")
        except OSError:
            return None
        for line in info.splitlines():
            if line.startswith("process_id:"):
                return int(line.partition(":")[2])
        return None

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): everything it held is lost."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            self.process = None

    def command(self, *words: str) -> bytes:
        """Send one inline command and return the raw first reply."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as conn:
            conn.sendall((" ".join(words) + "\r\n").encode())
            return conn.recv(65536)

    def stop(self) -> None:
        """Stop the server (it is ours: started by :meth:`start`)."""
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)


class RedisCluster:
    """A Redis Cluster of three primaries (no replicas) on 127.0.0.1, its slots spread."""

    def __init__(self) -> None:
        cli = shutil.which("redis-cli")  # Debian's redis-server package brings it
        if cli is None:
            raise FileNotFoundError(MISSING)
        self.cli = cli
        self.nodes = [RedisServer("--cluster-enabled", "yes") for _ in range(3)]

    @property
    def url(self) -> str:
        """The URL of one node (a cluster client finds the others from it)."""
        return self.nodes[0].url

    def start(self) -> None:
        """Start the nodes, join them and wait until every slot is served."""
        for node in self.nodes:
            node.start()
        subprocess.run(
            [
                self.cli,
                "--cluster",
                "create",
                *(f"127.0.0.1:{node.port}" for node in self.nodes),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(b"cluster_state:ok" in node.command("CLUSTER", "INFO") for node in self.nodes):
                return
            time.sleep(0.1)
        raise RuntimeError("the Redis Cluster did not come up")

    def stop(self) -> None:
        """Stop every node."""
        for node in self.nodes:
            node.stop()
