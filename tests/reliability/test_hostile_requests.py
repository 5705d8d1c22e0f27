"""Requests no client should send, over real sockets to a real uvicorn server: Range headers
with thousands of digits or non-ASCII digits, bodies, query strings and headers that are not
UTF-8.  Every answer is a 2xx or a 4xx with a JSON body, never a 500.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import orjson
import pytest
from conftest import make_sample_frame
from live_server import running_server

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.geodata import write_stations

NOT_UTF8 = [b"\xff\xfe\x80", b'{"kind": "closed", "note": "\xc3("}', b'{"\xff": 1}',
            b'{"points": [[108.3, 22.8]], "crs": "\xb1\xb1\xbe\xa9"}',  # GB18030 text
            b'{"kind": "closed", "note": "\xed\xa0\x80"}']  # an encoded lone surrogate


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    path = tmp_path_factory.mktemp("hostile-requests") / "stations.gpkg"
    write_stations(make_sample_frame(), path)
    with running_server(create_app(ApiSettings(data=path, reload_interval_s=0))) as url:
        yield int(url.rsplit(":", 1)[1])


def exchange(port: int, request: bytes) -> tuple[int, bytes, bytes]:
    """Send raw bytes, read the whole answer (the request asks to close); status, head, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(1 << 20):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head.lower(), body


def get(port: int, target: bytes, *headers: bytes) -> tuple[int, bytes, bytes]:
    return exchange(port, b"GET %s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
                    % (target, b"".join(h + b"\r\n" for h in headers)))


def assert_json_4xx(status: int, head: bytes, body: bytes) -> dict[str, object]:
    assert 400 <= status < 500, (status, body[:300])
    assert b"content-type: application/json" in head
    answer = orjson.loads(body)
    assert answer["detail"]
    return answer  # type: ignore[no-any-return]


def test_range_headers_are_parsed_strictly(port: int):
    status, _, whole = get(port, b"/feeds/pmtiles")
    assert status == 200
    size = len(whole)
    # Thousands of digits used to answer 500 (int() past Python's digit limit).
    for header in (b"bytes=" + b"9" * 5000 + b"-", b"bytes=" + b"1" * 20 + b"-" + b"2" * 20):
        status, head, body = get(port, b"/feeds/pmtiles", b"Range: " + header)
        assert_json_4xx(status, head, body)
        assert status == 416 and f"bytes */{size}".encode() in head
    # A suffix or an end past any archive means "to the end".
    status, _, body = get(port, b"/feeds/pmtiles", b"Range: bytes=-" + b"9" * 5000)
    assert status == 206 and body == whole
    status, _, body = get(port, b"/feeds/pmtiles", b"Range: bytes=10-" + b"9" * 5000)
    assert status == 206 and body == whole[10:]
    # Non-ASCII digits (Arabic-Indic, superscript, full-width) are no range: the whole file.
    for digits in ("١٢-٣٤", "²-³", "１-２"):
        status, _, body = get(port, b"/feeds/pmtiles", b"Range: bytes=" + digits.encode())
        assert status == 200 and body == whole, digits


@pytest.mark.parametrize("target", [b"/stations/NN-001/reports", b"/nearest/batch"])
@pytest.mark.parametrize("body", NOT_UTF8)
def test_bodies_that_are_not_utf8_get_a_json_422(port: int, target: bytes, body: bytes):
    for content_type in (b"application/json", b"text/plain"):
        status, head, answer = exchange(port, b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s"
                                        b"\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                                        % (target, content_type, len(body), body))
        assert_json_4xx(status, head, answer)


@pytest.mark.parametrize("target", [
    b"/nearest?lon=%FF&lat=1", b"/nearest?lon=1&lat=2&k=%FF%FE", b"/nearest?lon=1&lat=2&at=%C3",
    b"/nearest?lon=1&lat=2&%FF=1", b"/stations/%FF?crs=%FF", b"/feeds/%FF%FE",
    b"/collections/stations/items?bbox=%FF", b"/collections/stations/items/%FF?f=%FF",
    b"/nearest?lon=1&lat=2&amenity=%ED%A0%80",
    b"/nearest?\xff\xfe=1", b"/\xc3(",  # raw bytes in the request line: a JSON 400
])
def test_query_strings_and_paths_that_are_not_utf8(port: int, target: bytes):
    assert_json_4xx(*get(port, target))


@pytest.mark.parametrize("header", [b"If-None-Match", b"Accept-Encoding", b"Origin", b"Range",
                                    b"If-Modified-Since", b"Accept", b"Content-Type", b"If-Range"])
@pytest.mark.parametrize("target", [b"/nearest?lon=108.3&lat=22.8", b"/feeds/pmtiles", b"/",
                                    b"/collections/stations/items", b"/stations/NN-001"])
def test_headers_that_are_not_utf8(port: int, header: bytes, target: bytes):
    status, _, body = get(port, target, header + b": \xff\xfe\xc3(\x80")
    assert status == 200, body[:300]
