"""Problem reports against a real uvicorn server: other sites, rotating addresses, a locked file.

Loopback has a whole /8, so a client can send from 127.0.0.2, 127.0.0.3, ... as an attacker
rotating addresses would; the server sees each as its own address in one /24.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import running_server

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.reports import SQLiteReportStore, default_reports_path

SHANGHAI_NOON = 1_718_006_400.0  # 2024-06-10 16:00 in Shanghai; the store's fixed clock


def serve(settings: ApiSettings) -> Iterator[str]:
    app = create_app(settings)
    app.state.report_store = SQLiteReportStore(default_reports_path(settings.data),
                                         limits=settings.report_limits(),
                                         clock=lambda: SHANGHAI_NOON)
    with running_server(app) as url:
        yield url


@pytest.fixture
def guarded(sample_gpkg: Path) -> Iterator[str]:
    yield from serve(ApiSettings(data=sample_gpkg, reports_per_network=4))


def post_from(address: str, url: str, **kwargs: object) -> httpx.Response:
    with httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30) as client:
        return client.post(url, **kwargs)  # type: ignore[arg-type]


def test_other_sites_and_rotating_addresses_cannot_fill_the_store(
    guarded: str, sample_gpkg: Path
) -> None:
    target = f"{guarded}/stations/NN-001/reports"
    # What any web page can make its visitors' browsers send without a CORS preflight ...
    for origin in ("https://evil.example", guarded):
        plain = post_from("127.0.0.1", target, content=b'{"kind": "other"}',
                          headers={"Content-Type": "text/plain", "Origin": origin})
        assert plain.status_code == 403 if origin != guarded else 415
    assert post_from("127.0.0.1", target, data={"kind": "other"}).status_code == 415
    # ... and JSON after a preflight, which CORS allows for reading the API, not for reports:
    cross = post_from("127.0.0.1", target, json={"kind": "other"},
                      headers={"Origin": "https://evil.example"})
    assert cross.status_code == 403
    own_page = post_from("127.0.0.1", target, json={"kind": "other"},
                         headers={"Origin": guarded})
    assert own_page.status_code == 201

    kinds = ("closed_at_night", "microwave_broken", "charger_missing", "wrong_location")
    statuses = []
    for host, kind in enumerate(kinds * 2, start=2):  # eight addresses, one report each
        response = post_from(f"127.0.0.{host}", target, json={"kind": kind})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert "this network" in response.json()["detail"]
            assert int(response.headers["Retry-After"]) > 0
    # Four kinds are new; repeating a kind returns the open report (200) and spends nothing,
    # and the /24 spent its budget of 4 with the first report and three more.
    assert statuses == [201, 201, 201, 429, 200, 200, 200, 429]
    stored = SQLiteReportStore(default_reports_path(sample_gpkg)).reports()
    assert len(stored) == 4


HOLD_LOCK = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
connection.execute("ROLLBACK")
"""


@pytest.fixture
def busy_server(sample_gpkg: Path) -> Iterator[str]:
    yield from serve(ApiSettings(data=sample_gpkg, reports_busy_timeout_s=2.0))


def test_a_locked_report_file_answers_503_and_never_stalls_nearest(
    busy_server: str, sample_gpkg: Path
) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK,
                               str(default_reports_path(sample_gpkg))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        answers: list[httpx.Response] = []

        def report(n: int) -> None:
            answers.append(post_from("127.0.0.1", f"{busy_server}/stations/NN-00{n}/reports",
                                     json={"kind": "other"}))

        posts = [threading.Thread(target=report, args=(n,)) for n in (1, 2, 3, 4, 1, 2)]
        latencies = []
        with httpx.Client(timeout=30) as rider:
            for post in posts:
                post.start()
            while any(post.is_alive() for post in posts):
                started = time.perf_counter()
                response = rider.get(f"{busy_server}/nearest", params={"lon": 108.4, "lat": 22.8})
                latencies.append(time.perf_counter() - started)
                assert response.status_code == 200
        for post in posts:
            post.join()
        assert [a.status_code for a in answers] == [503] * 6
        assert all(int(a.headers["Retry-After"]) > 0 for a in answers)
        assert all("locked" in a.json()["detail"] for a in answers)
        # Six reports waited 2 s each for the lock; riders asking meanwhile were answered at
        # once (the event loop used to wait for SQLite: 9.9 s).
        assert len(latencies) >= 10
        assert max(latencies) < 1.0, latencies
    finally:
        holder.communicate("", timeout=10)
    done = post_from("127.0.0.1", f"{busy_server}/stations/NN-001/reports", json={"kind": "other"})
    assert done.status_code == 201


def test_the_rider_page_behind_an_https_proxy_is_the_same_origin(guarded: str) -> None:
    """nginx forwards Host and X-Forwarded-Proto; uvicorn trusts them from 127.0.0.1."""
    proxied = {"Host": "yizhan.example.org", "X-Forwarded-Proto": "https"}
    page = post_from("127.0.0.1", f"{guarded}/stations/NN-002/reports", json={"kind": "other"},
                     headers={**proxied, "Origin": "https://yizhan.example.org"})
    assert page.status_code == 201
    plain_http = post_from("127.0.0.1", f"{guarded}/stations/NN-002/reports",
                           json={"kind": "other"},
                           headers={**proxied, "Origin": "http://yizhan.example.org"})
    assert plain_http.status_code == 403
