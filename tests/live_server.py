"""Real servers on 127.0.0.1 for the length of a test: an ASGI app under uvicorn in a thread,
or ``stations serve`` in its own process, exactly as a user runs it."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from stations.api.protocol import GuardedConfig


@contextmanager
def running_server(app: object) -> Iterator[str]:
    """Serve ``app`` on a free loopback port from a thread; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # The protocol and limits of `stations serve`, with their defaults.
    server = uvicorn.Server(GuardedConfig(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def stations_serve(gpkg: Path, *options: str, env: dict[str, str] | None = None
                   ) -> Iterator[tuple[str, int]]:
    """``stations serve`` as a user runs it, in its own process; yields (base URL, port).

    Its log goes to a file (a pipe nobody reads would fill and stop the server)."""
    port = free_port()
    command = [str(Path(sys.executable).with_name("stations")), "serve", "--data", str(gpkg),
               "--port", str(port), "--log-level", "warning", *options]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log, env=env)
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"stations serve did not start: {log.read().decode()}")
            yield url, port
        finally:
            server.terminate()
            server.wait(timeout=30)
