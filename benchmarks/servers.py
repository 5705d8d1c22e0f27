"""Servers for the benchmarks: a free loopback port, a process that is ready, its memory."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import httpx


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def running_server(command: Sequence[str], ready_url: str, *,
                   env: Mapping[str, str] | None = None, cwd: Path | None = None,
                   log_path: Path | None = None,
                   timeout: float = 120) -> Iterator[tuple[subprocess.Popen[bytes], float]]:
    """Start ``command`` and wait until ``ready_url`` answers 200; yields (process, seconds).

    The server's output goes to ``log_path`` (or a temporary file) and is quoted when the server
    fails to start.  The whole process group is stopped at the end, workers included.
    """
    with log_path.open("w+b") if log_path else tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(list(command), env={**os.environ, **(env or {})}, cwd=cwd,
                                   stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        try:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(ready_url, timeout=1).status_code == 200:
                        break
                if process.poll() is not None or time.perf_counter() - start > timeout:
                    log.seek(0)
                    raise RuntimeError("server did not start:\n"
                                       + log.read().decode(errors="replace")[-2000:])
                time.sleep(0.05)
            yield process, time.perf_counter() - start
        finally:
            _stop_group(process)


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the server's process group, SIGKILL it if it lingers; a gone group is fine."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def memory_kib(pid: int, key: str = "VmRSS") -> int:
    """A memory figure of a running process, from /proc/PID/status (kB)."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else 0
