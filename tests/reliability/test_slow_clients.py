"""Slow and greedy clients against a real ``stations serve``: raw sockets that send their request
a byte at a time, never finish a body, or open connection after connection from one address.

Loopback has a whole /8, so "other riders" connect from 127.0.0.2 and 127.0.0.3.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import orjson
import pytest
from live_server import stations_serve

pytestmark = pytest.mark.slow

SLOW_HEAD = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200 + b"\r\n\r\n"


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                    source_address=(source, 0))
    return sock


def drip(sock: socket.socket, data: bytes, interval_s: float = 0.2,
         give_up_s: float = 8.0) -> tuple[bytes, float]:
    """Send ``data`` one byte per ``interval_s`` until the server answers and closes; returns
    the answer and the seconds it took."""
    started = time.monotonic()
    answer = b""
    sent = 0
    sock.settimeout(interval_s)
    while time.monotonic() - started < give_up_s:
        if sent < len(data):
            try:
                sock.sendall(data[sent:sent + 1])
                sent += 1
            except OSError:
                pass  # closed by the server: read what it said
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            break
        if not chunk:
            break
        answer += chunk
    return answer, time.monotonic() - started


def status_and_json(answer: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"content-type: application/json" in head.lower(), head
    return int(head.split(b" ", 2)[1]), orjson.loads(body)


def test_slow_heads_and_bodies_get_408_and_riders_get_through(sample_gpkg: Path):
    """With --limit-concurrency 8, eight slowloris sockets used to lock riders out (503) for
    as long as they kept dripping; now each is answered 408 and closed after --header-timeout."""
    with stations_serve(sample_gpkg, "--limit-concurrency", "8", "--header-timeout", "1",
                        "--body-timeout", "1", "--max-connections-per-address", "4"
                        ) as (url, port):
        slow = [connect(port, "127.0.0.1") for _ in range(4)]
        slow += [connect(port, "127.0.0.2") for _ in range(4)]
        first, seconds = drip(slow[0], SLOW_HEAD)
        status, body = status_and_json(first)
        assert status == 408 and "1 s" in str(body["detail"])
        assert 0.8 < seconds < 4
        for sock in slow[1:]:  # the silent ones were closed too, with the same answer
            sock.settimeout(5)
            assert sock.recv(65536).startswith(b"HTTP/1.1 408")
            sock.close()
        slow[0].close()
        rider = httpx.get(f"{url}/nearest", params={"lon": 108.37, "lat": 22.8}, timeout=5)
        assert rider.status_code == 200

        # A body that never finishes: 408 once --body-timeout has passed since the head.
        with connect(port) as sock:
            sock.sendall(b"POST /nearest/batch HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 500\r\n\r\n"
                         b'{"points": [[108.3, 22.8]')
            answer, seconds = drip(sock, b", [108.3, 22.8]" * 30)
        status, body = status_and_json(answer)
        assert status == 408 and "body" in str(body["detail"])
        assert 0.8 < seconds < 4
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200


def test_one_address_cannot_hold_every_connection(sample_gpkg: Path):
    with stations_serve(sample_gpkg, "--max-connections-per-address", "4",
                        "--header-timeout", "20") as (url, port):
        held = [connect(port, "127.0.0.1") for _ in range(4)]
        time.sleep(0.3)
        with connect(port, "127.0.0.1") as fifth:
            answer, _ = drip(fifth, b"")
        status, body = status_and_json(answer)
        assert status == 503 and "4" in str(body["detail"])
        assert b"retry-after: 5" in answer.lower()
        # Another address is served while 127.0.0.1 holds its four.
        with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as other:
            assert other.get(f"{url}/health", timeout=5).status_code == 200
        for sock in held:
            sock.close()
        time.sleep(0.3)
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200
