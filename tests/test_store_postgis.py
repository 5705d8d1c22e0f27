"""PostGIS in particular: migrations, `stations migrate` both ways, replicas that follow edits
and survive losing the database, concurrent offices."""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager, suppress
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from live_server import running_server
from store_fixtures import AT, TEST_DATABASE, fresh_database, needs_database, sample_store

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.cli import main
from stations.errors import ReportRateLimited, VersionConflict
from stations.reports import (
    Budget,
    ReportLimits,
    SQLiteReportStore,
    default_reports_path,
    open_report_store,
)
from stations.store import Change, Scope, open_store
from stations.store.gpkg import GeoPackageStore

pytestmark = [pytest.mark.postgis, needs_database]


@pytest.fixture
def pg_store(tmp_path):
    yield from sample_store("postgis", tmp_path)


def test_migrations_apply_once(pg_store):
    from stations.store.postgis import migrate_schema

    assert migrate_schema(pg_store.url) == []


def test_migrate_to_postgis_and_back_keeps_versions_history_and_keys(sample_gpkg, tmp_path,
                                                                     capsys):
    source = GeoPackageStore(sample_gpkg)
    source.apply([Change("NN-001", {**source.get("NN-001").record, "name": "改"}, 1)],
                 who="t", action="update", at=AT)
    source.create_key("南宁市总工会", Scope(city="南宁市"), AT)
    reports = SQLiteReportStore(default_reports_path(sample_gpkg), clock=lambda: 1.75e9,
                                limits=ReportLimits(per_address=Budget(2, 600)))
    first = reports.add("NN-001", "other", "门锁了", client="10.0.0.1").report
    reports.add("NN-002", "charger_missing", client="10.0.0.1")
    reports.resolve(first.id, who="南宁市总工会", note="已开门", outcome="dismissed")
    reports.add("NN-003", "other", client="10.0.0.1")
    url = fresh_database()
    assert main(["migrate", "--from", str(sample_gpkg), "--to", url]) == 0
    assert "copied 6 stations, 3 reports and 0 staff accounts" in capsys.readouterr().out
    (tmp_path / "back").mkdir()
    back = tmp_path / "back" / "stations.gpkg"
    assert main(["migrate", "--from", url, "--to", str(back)]) == 0
    assert main(["migrate", "--from", url, "--to", str(back)]) == 2
    assert "exists" in capsys.readouterr().err
    for copy in (GeoPackageStore(back),):
        assert copy.snapshot() == source.snapshot()
        assert copy.history() == source.history()
        assert copy.office_keys() == source.office_keys()
    database = open_store(url)
    try:
        in_database = open_report_store(database, limits=reports.limits, clock=lambda: 1.75e9)
        assert in_database.dump() == reports.dump()  # numbers, resolutions, salted hashes
        with pytest.raises(ReportRateLimited):  # the address spent its budget before the move
            in_database.add("NN-004", "other", client="10.0.0.1")
        assert in_database.add("NN-004", "other", client="10.0.0.2").report.id == 4
    finally:
        database.close()
    assert SQLiteReportStore(default_reports_path(back)).dump() == reports.dump()


def _edit(store, station_id: str, **fields) -> None:
    current = store.get(station_id)
    store.apply([Change(station_id, {**current.record, **fields}, current.version)],
                who="t", action="update", at=AT)


def _wait_for(predicate, seconds: float = 5.0) -> float:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds} s")
        time.sleep(0.01)
    return time.monotonic() - start


def test_replicas_follow_edits_incrementally(pg_store):
    settings = ApiSettings(database=pg_store.url)
    first, second = create_app(settings), create_app(settings)
    with running_server(first) as url_a, running_server(second) as url_b:
        before = second.state.live.current
        assert httpx.get(f"{url_a}/health").json()["data_version"] == \
            httpx.get(f"{url_b}/health").json()["data_version"] == pg_store.snapshot().data_version
        _edit(pg_store, "NN-002", opening_hours="Mo-Fr 09:00-17:00")
        _wait_for(lambda: httpx.get(f"{url_b}/stations/NN-002").json()["properties"]
                  ["opening_hours"] == "Mo-Fr 09:00-17:00", 1.0)
        after = second.state.live.current
        assert after.index is before.index  # nothing moved: the tree was kept, not rebuilt
        _edit(pg_store, "NN-002", lon=108.45)
        near = {"lon": 108.45, "lat": 22.77, "k": 1}
        _wait_for(lambda: httpx.get(f"{url_a}/nearest", params=near).json()["features"][0]
                  ["geometry"]["coordinates"][0] == 108.45, 1.0)
        health = [httpx.get(f"{u}/health").json() for u in (url_a, url_b)]
        assert health[0]["data_version"] == health[1]["data_version"] == \
            pg_store.snapshot().data_version
        assert health[0]["stale_since"] is None and health[1]["reloads"] >= 2
        # An office's write is served by the replica that took it as soon as it answers.
        _, secret = pg_store.create_key("南宁市总工会", Scope(city="南宁市"), AT)
        answer = httpx.patch(f"{url_b}/stations/NN-004", json={"name": "写后即读"},
                             headers={"Authorization": f"Bearer {secret}", "If-Match": '"1"'})
        assert answer.status_code == 200
        assert httpx.get(f"{url_b}/health").json()["sequence"] >= \
            int(answer.headers["x-history-id"])
        assert httpx.get(f"{url_b}/stations/NN-004").json()["properties"]["name"] == "写后即读"
        # A deletion is applied incrementally too: no full load (that would leave no overlay).
        pg_store.apply([Change("NN-001", None)], who="t", action="delete", at=AT)
        _wait_for(lambda: httpx.get(f"{url_b}/stations/NN-001").status_code == 404, 1.0)
        current = second.state.live.current
        assert current.count == 5 and current.index.overlay_size >= 2
        assert httpx.get(f"{url_b}/nearest", params=near | {"k": 10}).json()[
            "numberReturned"] == 5


@contextmanager
def socket_proxy(unix_path: str):
    """A TCP port on 127.0.0.1 forwarding to PostgreSQL's Unix socket, that can be cut."""
    listener = socket.create_server(("127.0.0.1", 0))
    open_pairs: list[socket.socket] = []
    state = {"up": True}

    def pump(a: socket.socket, b: socket.socket) -> None:
        with closing(a), closing(b):
            while data := _recv(a):
                try:
                    b.sendall(data)
                except OSError:
                    return

    def serve() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            if not state["up"]:
                client.close()
                continue
            upstream = socket.socket(socket.AF_UNIX)
            upstream.connect(unix_path)
            open_pairs.extend((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=pump, args=(a, b), daemon=True).start()

    def cut() -> None:
        state["up"] = False
        for s in open_pairs:
            with suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        open_pairs.clear()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1], cut, lambda: state.update(up=True)
    finally:
        cut()
        listener.close()


def _recv(sock: socket.socket) -> bytes:
    try:
        return sock.recv(65536)
    except OSError:
        return b""


def test_a_replica_that_loses_the_database_keeps_serving_and_catches_up(pg_store):
    parts = urlsplit(pg_store.url)
    unix_dir = parse_qs(parts.query)["host"][0]
    with socket_proxy(f"{unix_dir}/.s.PGSQL.5432") as (port, cut, restore):
        via_proxy = f"postgresql://{parts.username}@127.0.0.1:{port}{parts.path}"
        app = create_app(ApiSettings(database=via_proxy))
        with running_server(app) as url:
            assert httpx.get(f"{url}/health").json()["stale_since"] is None
            cut()
            _wait_for(lambda: httpx.get(f"{url}/health").json()["stale_since"] is not None, 10)
            health = httpx.get(f"{url}/health").json()
            assert health["status"] == "stale" and health["station_count"] == 6
            assert httpx.get(f"{url}/nearest", params={"lon": 108.4, "lat": 22.8}
                             ).status_code == 200
            _edit(pg_store, "NN-003", name="断线期间的修改")  # committed while it was away
            restore()
            _wait_for(lambda: httpx.get(f"{url}/stations/NN-003").json()["properties"]
                      ["name"] == "断线期间的修改", 15)
            assert httpx.get(f"{url}/health").json()["stale_since"] is None


def test_concurrent_offices_lose_no_edit(pg_store):
    """Different stations never wait on each other; the same station: one winner per version."""
    def edit_own(station_id: str) -> int:
        _edit(pg_store, station_id, phone=f"{station_id}-new")
        return pg_store.get(station_id).version

    ids = ["NN-001", "NN-002", "NN-003", "NN-004", "YY-001", "YY-002"]
    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(edit_own, ids)) == [2] * 6

    def race(n: int) -> bool:
        try:
            pg_store.apply([Change("NN-001", {**pg_store.get("NN-001").record | {"phone": str(n)}},
                                   2)], who=f"office {n}", action="update", at=AT)
            return True
        except VersionConflict:
            return False

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(race, range(8))) == 1
    assert pg_store.get("NN-001").version == 3
    assert len(pg_store.history()) == 7


def test_serve_and_keys_take_a_database_url(pg_store, capsys):
    assert main(["keys", "create", "--database", pg_store.url, "--office", "云阳县总工会",
                 "--district", "云阳县"]) == 0
    assert "k" in capsys.readouterr().out
    assert [k.office for k in pg_store.office_keys()] == ["云阳县总工会"]
    assert TEST_DATABASE


def test_an_unmigrated_database_is_refused_until_migrated(capsys):
    from stations.errors import StoreUnavailable
    from stations.store import open_store

    url = fresh_database()
    with pytest.raises(StoreUnavailable, match="stations migrate --to"):
        open_store(url)
    assert main(["migrate", "--to", url]) == 0
    assert "up to date" in capsys.readouterr().out
    open_store(url).close()
