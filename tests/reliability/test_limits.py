"""Limits and paths: bounded k, batch and body; server timeouts; no file outside the data folder.

Requests go over real sockets to a real uvicorn server, and the traversal attempts are sent byte
for byte with http.client (httpx would tidy ``../`` away before sending).
"""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from conftest import make_sample_frame
from live_server import running_server, stations_serve

from stations.api.app import create_app
from stations.api.protocol import MAX_HEAD_BYTES
from stations.api.settings import ApiSettings
from stations.geodata import write_stations
from stations.service import MAX_K

SECRET = "top-secret-marker-5f1c"
TRAVERSALS = [
    "../../etc/passwd",
    "..%2F..%2F..%2Fetc%2Fpasswd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%252F..%252Fetc%252Fpasswd",
    "....//....//etc/passwd",
    "%2Fetc%2Fpasswd",
    "..%5C..%5Csecret.txt",
    "../secret.txt",
    "..%2Fsecret.txt",
    "..%2Fstations.gpkg",
    "stations.gpkg",
    "%2E%2E%2F%2E%2E%2F%2E%2E%2Fproc%2Fself%2Fenviron",
    "secret.txt%00.json",
    "%C0%AE%C0%AE%2Fsecret.txt",
]
PATH_TEMPLATES = [
    "/stations/{}",
    "/stations/{}?crs={}",
    "/collections/stations/items/{}",
    "/feeds/{}",
    "/static/{}",
    "/{}",
    "/nearest?lon=108.3&lat=22.8&city={}",
    "/collections/stations/items?city={}&f=json",
]
LEAKS = (SECRET, "root:x:0:0", "SQLite format 3", "PATH=", "STATIONS_")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The sample stations in ``data/`` with a secret file beside the folder."""
    root = tmp_path_factory.mktemp("served")
    (root / "secret.txt").write_text(SECRET)
    data = root / "data"
    data.mkdir()
    (data / "secret.txt").write_text(SECRET)
    write_stations(make_sample_frame(), data / "stations.gpkg")
    app = create_app(ApiSettings(data=data / "stations.gpkg", reload_interval_s=0,
                                 max_batch_points=50, max_body_bytes=4096))
    with running_server(app) as url:
        yield url


def raw_request(url: str, method: str, target: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("template", PATH_TEMPLATES)
def test_no_path_reads_files_outside_the_data(server, template):
    for attempt in TRAVERSALS:
        target = template.format(attempt, attempt)
        status, body = raw_request(server, "GET", target)
        assert status < 500, (target, status, body[:200])
        assert status in (200, 400, 404, 405, 422), (target, status)
        for leak in LEAKS:
            assert leak.encode() not in body, (target, leak)
        if status == 200:  # only the landing page, a query answer or an empty filter match
            assert template in ("/{}", "/nearest?lon=108.3&lat=22.8&city={}",
                                "/collections/stations/items?city={}&f=json"), target
            assert b'"features":[]' in body or b"links" in body, target


def test_reports_path_refuses_traversal(server):
    for attempt in TRAVERSALS:
        status, body = raw_request(server, "POST", f"/stations/{attempt}/reports",
                                   orjson.dumps({"kind": "closed", "note": "x"}),
                                   {"Content-Type": "application/json"})
        assert status in (404, 405, 422), (attempt, status, body[:200])
        assert SECRET.encode() not in body


def test_k_batch_and_body_are_bounded(server):
    with httpx.Client(base_url=server, timeout=30) as client:
        ok = client.get("/nearest", params={"lon": 108.3, "lat": 22.8, "k": MAX_K})
        assert ok.status_code == 200 and ok.json()["numberReturned"] == 6
        too_many = client.get("/nearest", params={"lon": 108.3, "lat": 22.8, "k": MAX_K + 1})
        assert too_many.status_code == 422
        assert too_many.json()["detail"][0]["loc"] == ["query", "k"]
        assert str(MAX_K) in too_many.json()["detail"][0]["msg"]

        points = [[108.3, 22.8]] * 50
        assert client.post("/nearest/batch", json={"points": points}).status_code == 200
        over = client.post("/nearest/batch", json={"points": [*points, [108.3, 22.8]]})
        assert over.status_code == 422 and "at most 50" in over.json()["detail"][0]["msg"]
        big = client.post("/nearest/batch", content=b'{"points": [' + b" " * 5000 + b"]}",
                          headers={"content-type": "application/json"})
        assert big.status_code == 413

        def chunked() -> Iterator[bytes]:  # no Content-Length: the limit holds while reading
            yield b'{"points": ['
            for _ in range(100):
                yield b"[108.3, 22.8]," * 10
            yield b"[108.3, 22.8]]}"

        streamed = client.post("/nearest/batch", content=chunked(),
                               headers={"content-type": "application/json"})
        assert streamed.status_code == 413
        assert client.get("/health").status_code == 200


def test_openapi_documents_the_limits(server):
    document = httpx.get(f"{server}/openapi.json").json()
    nearest = {p["name"]: p for p in document["paths"]["/nearest"]["get"]["parameters"]}
    assert nearest["k"]["schema"]["maximum"] == MAX_K
    assert nearest["radius_m"]["schema"]["maximum"] > 0
    batch = document["paths"]["/nearest/batch"]["post"]
    schema = batch["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"]["k"]["maximum"] == MAX_K
    assert schema["properties"]["points"]["maxItems"] >= 1
    assert "413" in batch["responses"]


def test_huge_headers_and_garbage_do_not_stop_the_server(server):
    status, _ = raw_request(server, "GET", "/health", headers={"X-Pad": "a" * 200_000})
    assert status in (200, 400, 413, 431)
    parts = urlsplit(server)
    with socket.create_connection((parts.hostname, parts.port)) as garbage:
        garbage.sendall(b"\x00\xff GARBAGE /\r\n\r\n" * 10)
        garbage.settimeout(10)
        assert garbage.recv(65536)[:12] in (b"", b"HTTP/1.1 400")
    assert raw_request(server, "GET", "/health")[0] == 200


@pytest.mark.slow
def test_serve_closes_idle_connections_and_limits_concurrency(sample_gpkg: Path):
    with stations_serve(sample_gpkg, "--timeout-keep-alive", "1",
                        "--limit-concurrency", "2") as (url, port):
        # An idle keep-alive connection is closed by the server after the timeout.
        idle = socket.create_connection(("127.0.0.1", port))
        idle.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        idle.settimeout(5)
        answer = b""
        while not answer.endswith(b"}"):
            answer += idle.recv(65536)
        assert answer.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        assert idle.recv(1) == b""  # closed by the server
        assert time.monotonic() - started < 4
        idle.close()
        # Beyond the concurrency limit, new connections get 503 instead of piling up.
        holders = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
        time.sleep(0.3)
        refused = httpx.get(f"{url}/health", timeout=5)
        assert refused.status_code == 503
        for holder in holders:
            holder.close()
        time.sleep(0.3)
        assert httpx.get(f"{url}/health", timeout=5).status_code == 200


@pytest.mark.slow
def test_serve_refuses_oversized_request_heads_with_431(sample_gpkg: Path):
    with stations_serve(sample_gpkg) as (url, _):
        assert raw_request(url, "GET", "/health", headers={"X-Pad": "a" * 20_000})[0] == 200
        status, body = raw_request(url, "GET", "/health", headers={"X-Pad": "a" * 100_000})
        assert status == 431 and str(MAX_HEAD_BYTES).encode() in body
        many = {f"X-Pad-{i}": "b" * 500 for i in range(100)}  # 50 KB in small headers
        assert raw_request(url, "GET", "/health", headers=many)[0] == 431
        long_query = "/nearest?lon=108.3&lat=22.8&city=" + "%E5%8D%97" * 5_000
        assert raw_request(url, "GET", long_query)[0] == 431
        assert raw_request(url, "GET", "/health")[0] == 200
