"""Problem reports: the same rules in both stores (a SQLite file in WAL mode, PostGIS), bounds,
budgets, dedupe, resolving with a note, the planners' CLI."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from store_fixtures import STORE_KINDS, empty_report_store, needs_database, report_database

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.cli import main
from stations.errors import (
    ReportAlreadyResolved,
    ReportNotFound,
    ReportRateLimited,
    ReportRejected,
    ReportStoreBusy,
    ReportStoreFull,
)
from stations.reports import (
    MAX_NOTE_CHARS,
    REPORT_KIND_CODES,
    Budget,
    Outcome,
    ReportLimits,
    ReportStore,
    SQLiteReportStore,
    client_groups,
    default_reports_path,
    open_report_counts,
)

LIMITS = ReportLimits(per_address=Budget(3, 600), per_network=Budget(6, 3600),
                      everyone=Budget(10, 3600))


class FakeClock:
    """A clock the test moves by hand, so the rate-limit window is exact and instant."""

    def __init__(self, start: float = 1_718_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=STORE_KINDS)
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, tmp_path: Path, clock: FakeClock) -> Iterator[ReportStore]:
    """An empty report store of each kind: the contract tests run against both."""
    with empty_report_store(kind, tmp_path, LIMITS, clock) as store:
        yield store


@pytest.fixture
def sqlite_store(tmp_path: Path, clock: FakeClock) -> SQLiteReportStore:
    return SQLiteReportStore(tmp_path / "reports.sqlite", limits=LIMITS, clock=clock)


def test_reports_live_beside_the_geopackage_never_inside(tmp_path: Path) -> None:
    assert default_reports_path(tmp_path / "geodata" / "stations.gpkg") == (
        tmp_path / "geodata" / "reports.sqlite")
    with pytest.raises(ReportRejected, match="GeoPackage"):
        SQLiteReportStore(tmp_path / "stations.gpkg")


def test_file_is_in_wal_mode_and_survives_reopening(sqlite_store: SQLiteReportStore) -> None:
    store = sqlite_store
    report = store.add("NN-001", "microwave_broken", "  不热了 ", client="10.0.0.1").report
    assert store.journal_mode() == "wal"
    reopened = SQLiteReportStore(store.path)
    [again] = reopened.reports()
    assert again == report
    assert again.note == "不热了"
    assert again.created_at == "2024-06-10T14:13:20+08:00"  # Asia/Shanghai time
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        # The client address itself is never written, only a salted hash of it.
        assert "10.0.0.1" not in json.dumps(raw.execute("SELECT * FROM reports").fetchall())


def test_note_is_stored_as_text_without_control_characters(store: ReportStore) -> None:
    hostile = "<script>alert(1)</script>\x1b[2J\r\nline two\x00"
    report = store.add("NN-002", "other", hostile, client="a").report
    assert report.note == "<script>alert(1)</script>[2J\nline two"


@pytest.mark.parametrize(
    ("station_id", "kind", "note", "message"),
    [
        ("NN-001", "on_fire", "", "kind"),
        ("NN-001", "other", "字" * (MAX_NOTE_CHARS + 1), "note"),
        ("", "other", "", "station_id"),
        ("X" * 65, "other", "", "station_id"),
    ],
)
def test_bad_reports_are_rejected_naming_the_field(
    store: ReportStore, station_id: str, kind: str, note: str, message: str
) -> None:
    with pytest.raises(ReportRejected, match=message):
        store.add(station_id, kind, note, client="a")
    assert store.reports(include_resolved=True) == []


def test_longest_allowed_note_is_kept_whole(store: ReportStore) -> None:
    note = "字" * MAX_NOTE_CHARS
    assert store.add("NN-001", "other", note, client="a").report.note == note


def test_budget_per_address_and_window(store: ReportStore, clock: FakeClock) -> None:
    for station in ("NN-001", "NN-002", "NN-003"):
        store.add(station, "closed_at_night", client="10.1.1.1")
        clock.now += 60
    with pytest.raises(ReportRateLimited, match="this address") as caught:
        store.add("NN-004", "closed_at_night", client="10.1.1.1")
    # The first report leaves the 10-minute window 600 - 180 seconds from now.
    assert caught.value.retry_after_s == 420
    store.add("NN-004", "closed_at_night", client="10.1.2.1")  # another address is not limited
    clock.now += 420
    store.add("YY-001", "closed_at_night", client="10.1.1.1")
    assert len(store.reports()) == 5


def test_ipv6_addresses_count_per_64_and_networks_per_48() -> None:
    assert client_groups("2001:db8:1:2:aaaa::1") == ("2001:db8:1:2::/64", "2001:db8:1::/48")
    assert client_groups("::ffff:203.0.113.9") == ("203.0.113.9", "203.0.113.0/24")
    assert client_groups("testclient") == ("testclient", "testclient")


def test_rotating_addresses_meets_the_network_and_global_budgets(
    store: ReportStore, clock: FakeClock
) -> None:
    """3,600 reports in 33 s came from rotating addresses: a network and everyone have budgets."""
    stations = iter(f"S-{n}" for n in range(100))
    for host in range(6):  # six addresses of one /64 are one address: three stored
        if host < 3:
            store.add(next(stations), "other", client=f"2001:db8:0:1::{host + 1}")
        else:
            with pytest.raises(ReportRateLimited, match="this address"):
                store.add(next(stations), "other", client=f"2001:db8:0:1::{host + 1}")
    for host in range(6):  # a /24 has a budget of 6
        store.add(next(stations), "other", client=f"192.0.2.{host + 1}")
    with pytest.raises(ReportRateLimited, match="this network"):
        store.add(next(stations), "other", client="192.0.2.200")
    store.add(next(stations), "other", client="198.51.100.1")  # everyone: 10 an hour
    with pytest.raises(ReportRateLimited, match="everyone") as caught:
        store.add(next(stations), "other", client="203.0.113.1")
    assert caught.value.retry_after_s == 3600
    clock.now += 3600
    store.add(next(stations), "other", client="203.0.113.1")


def test_the_same_problem_is_kept_once_while_open_and_recent(
    store: ReportStore, clock: FakeClock
) -> None:
    first = store.add("NN-001", "microwave_broken", "不热", client="10.0.0.1")
    assert first.new
    again = store.add("NN-001", "microwave_broken", "还是不热", client="10.9.9.9")
    assert (again.new, again.report) == (False, first.report)
    assert store.add("NN-001", "charger_missing", client="10.0.0.1").new  # another kind
    assert store.add("NN-002", "microwave_broken", client="10.0.0.1").new  # another station
    store.resolve(first.report.id, who="南宁市总工会")
    assert store.add("NN-001", "microwave_broken", client="10.0.0.2").new  # fixed, broke again
    clock.now += 86_400 + 1
    assert store.add("NN-001", "microwave_broken", client="10.0.0.3").new  # a day later
    assert len(store.reports(include_resolved=True)) == 5


def test_duplicates_spend_no_budget(store: ReportStore) -> None:
    for _ in range(20):
        store.add("NN-001", "other", client="10.0.0.1")
    assert len(store.reports()) == 1
    store.add("NN-002", "other", client="10.0.0.1")


def test_resolved_reports_stop_counting_toward_budgets(store: ReportStore) -> None:
    ids = [store.add(s, "other", client="10.0.0.1").report.id for s in ("A", "B", "C")]
    with pytest.raises(ReportRateLimited):
        store.add("D", "other", client="10.0.0.1")
    store.resolve(ids[0], who="office", outcome=Outcome.DISMISSED)
    store.add("D", "other", client="10.0.0.1")


def test_parallel_reports_cannot_slip_past_the_budget(store: ReportStore) -> None:
    outcomes: list[str] = []

    def send(n: int) -> None:
        try:
            store.add(f"S-{n}", "other", client="burst")
            outcomes.append("stored")
        except ReportRateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["limited"] * 5 + ["stored"] * 3


def test_open_recent_reports_are_capped_and_resolved_or_old_ones_free_room(
    kind: str, tmp_path: Path, clock: FakeClock
) -> None:
    limits = ReportLimits(per_address=Budget(100, 600), max_open=2, counted_days=30)
    with empty_report_store(kind, tmp_path, limits, clock) as small:
        room_is_freed(small, clock)


def room_is_freed(small: ReportStore, clock: FakeClock) -> None:
    first = small.add("NN-001", "other", client="a").report
    small.add("NN-002", "other", client="b")
    with pytest.raises(ReportStoreFull, match="full"):
        small.add("NN-003", "other", client="c")
    small.resolve(first.id, who="office")
    small.add("NN-003", "other", client="c")
    with pytest.raises(ReportStoreFull):
        small.add("NN-004", "other", client="d")
    clock.now += 30 * 86_400 + 1  # nobody dealt with them for 30 days: they stop counting
    small.add("NN-004", "other", client="d")
    assert len(small.reports(include_resolved=True)) == 4


def test_a_file_from_before_network_budgets_is_upgraded(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "reports.sqlite"
    with sqlite3.connect(path) as old:
        old.executescript(
            "CREATE TABLE reports (id INTEGER PRIMARY KEY AUTOINCREMENT, station_id TEXT NOT NULL,"
            " kind TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL,"
            " created_epoch REAL NOT NULL, client_key TEXT NOT NULL, resolved_at TEXT);"
            "INSERT INTO reports (station_id, kind, created_at, created_epoch, client_key)"
            " VALUES ('NN-001', 'other', '2024-06-10T14:00:00+08:00', 1717999200, 'k');")
    store = SQLiteReportStore(path, limits=LIMITS, clock=clock)
    assert [r.station_id for r in store.reports()] == ["NN-001"]
    assert store.add("NN-002", "other", client="10.0.0.1").new


def test_a_writer_holding_the_lock_gives_busy_not_a_hang(tmp_path: Path, clock: FakeClock
                                                          ) -> None:
    store = SQLiteReportStore(tmp_path / "r.sqlite", limits=ReportLimits(busy_timeout_s=0.2),
                              clock=clock)
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(ReportStoreBusy, match="locked") as caught:
            store.add("NN-001", "other", client="a")
        assert caught.value.retry_after_s > 0
        assert store.reports() == []  # readers are not blocked in WAL mode
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.add("NN-001", "other", client="a").new


@pytest.mark.postgis
@needs_database
def test_a_database_writer_holding_the_lock_gives_busy_not_a_hang(tmp_path: Path,
                                                                   clock: FakeClock) -> None:
    import psycopg

    limits = ReportLimits(busy_timeout_s=0.2)
    with empty_report_store("postgis", tmp_path, limits, clock) as store, \
            psycopg.connect(report_database()) as holder:
        holder.execute("SELECT * FROM report_state FOR UPDATE")  # another replica's insert
        with pytest.raises(ReportStoreBusy, match="busy") as caught:
            store.add("NN-001", "other", client="a")
        assert caught.value.retry_after_s > 0
        assert store.reports() == []  # readers are not blocked
        holder.rollback()
        assert store.add("NN-001", "other", client="a").new


def test_purge_hands_the_archive_exactly_what_it_deletes(store: ReportStore, clock: FakeClock
                                                          ) -> None:
    old = store.add("NN-001", "other", "旧", client="a").report
    clock.now += 10 * 86_400
    recent = store.add("NN-002", "other", client="b").report

    def broken(_reports: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.purge(5, broken)
    assert len(store.reports()) == 2  # the archive failed: nothing deleted
    archived: list[object] = []
    assert store.purge(5, archived.extend) == [old] == archived
    assert store.reports(include_resolved=True) == [recent]
    with pytest.raises(ReportRejected, match="older than"):
        store.purge(-1)


def test_resolve_and_dismiss_with_a_note_and_open_counts(store: ReportStore, clock: FakeClock
                                                          ) -> None:
    first = store.add("NN-001", "microwave_broken", client="a").report
    second = store.add("NN-001", "charger_missing", client="b").report
    store.add("NN-003", "wrong_location", client="c")
    assert store.open_counts() == {"NN-001": 2, "NN-003": 1}
    clock.now += 3600
    resolved = store.resolve(first.id, who="南宁市总工会 (k1)", note=" 已换新微波炉\r\n<b>ok</b> ")
    assert not resolved.is_open
    assert (resolved.resolved_at, resolved.outcome, resolved.resolved_by,
            resolved.resolution_note) == ("2024-06-10T15:13:20+08:00", "resolved",
                                          "南宁市总工会 (k1)", "已换新微波炉\n<b>ok</b>")
    assert store.get(first.id) == resolved
    clock.now += 60
    dismissed = store.resolve(second.id, who="张三", note="充电器在柜子里",
                              outcome=Outcome.DISMISSED)
    assert (dismissed.outcome, dismissed.as_dict()["open"]) == ("dismissed", False)
    with pytest.raises(ReportAlreadyResolved, match="already resolved by 南宁市总工会") as again:
        store.resolve(first.id, who="李四", note="again", outcome="dismissed")
    assert again.value.report == resolved.as_dict()
    assert store.get(first.id) == resolved  # the first closing, its note and author are kept
    assert store.open_counts() == {"NN-003": 1}
    assert [r.id for r in store.reports()] == [3]
    assert [r.id for r in store.reports(include_resolved=True, station_id="NN-001")] == [1, 2]
    assert [r.id for r in store.reports(include_resolved=True, station_ids=["NN-003", "X"])
            ] == [3]
    assert store.reports(station_ids=[]) == []
    with pytest.raises(ReportNotFound):
        store.resolve(99, who="x")
    with pytest.raises(ReportNotFound):
        store.get(99)


@pytest.mark.parametrize(("who", "note", "outcome", "field"), [
    ("", "", "resolved", "who"),
    ("张三", "字" * 501, "resolved", "note"),
    ("张三", "", "fixed", "outcome"),
])
def test_bad_resolutions_are_refused_naming_the_field(
    store: ReportStore, who: str, note: str, outcome: str, field: str
) -> None:
    report = store.add("NN-001", "other", client="a").report
    with pytest.raises(ReportRejected, match=field):
        store.resolve(report.id, who=who, note=note, outcome=outcome)
    assert store.get(report.id).is_open


def test_open_counts_of_a_missing_file_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    assert open_report_counts(tmp_path / "reports.sqlite") == {}
    assert not (tmp_path / "reports.sqlite").exists()


def test_every_kind_is_accepted(store: ReportStore, clock: FakeClock) -> None:
    for kind in REPORT_KIND_CODES:
        store.add("NN-001", kind, client=kind)
    assert sorted(r.kind for r in store.reports()) == sorted(REPORT_KIND_CODES)


def test_cli_lists_and_resolves(sqlite_store: SQLiteReportStore,
                                capsys: pytest.CaptureFixture[str]) -> None:
    store = sqlite_store
    store.add("NN-001", "microwave_broken", "第二行\n<b>x</b>", client="a")
    store.add("NN-004", "closed_at_night", client="b")
    db = str(store.path)

    assert main(["reports", "list", "--reports", db]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("#1  ") and "NN-001" in lines[0] and "微波炉坏了" in lines[0]
    assert 'note: "第二行\\n<b>x</b>"' in lines[0]
    assert "2 open reports" in err

    assert main(["reports", "resolve", "1", "--db", db]) == 0  # the old spelling still works
    out, err = capsys.readouterr()
    assert "resolved #1 (NN-001)" in out
    assert "--db is deprecated" in err and "--reports" in err
    assert main(["reports", "list", "--reports", db, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["station_id"], r["open"]) for r in rows] == [(2, "NN-004", True)]
    assert main(["reports", "list", "--all", "--station", "NN-001", "--reports", db, "--json"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["note"] == "第二行\n<b>x</b>" and row["open"] is False


def test_cli_errors_are_messages_not_tracebacks(
    tmp_path: Path, sqlite_store: SQLiteReportStore, capsys: pytest.CaptureFixture[str]
) -> None:
    store = sqlite_store
    assert main(["reports", "resolve", "7", "--reports", str(store.path)]) == 2
    assert "no report number 7" in capsys.readouterr().err
    missing = tmp_path / "nowhere.sqlite"
    assert main(["reports", "resolve", "1", "--reports", str(missing)]) == 2
    assert "no report file" in capsys.readouterr().err
    assert main(["reports", "list", "--reports", str(missing)]) == 0
    assert "no reports yet" in capsys.readouterr().err
    assert not missing.exists()


def app_at(settings: ApiSettings, clock: FakeClock) -> TestClient:
    """The API with its report file on ``clock``: no test reads the wall clock."""
    app = create_app(settings)
    app.state.report_store = SQLiteReportStore(
        settings.reports or default_reports_path(settings.data),
        limits=settings.report_limits(), clock=clock)
    return TestClient(app)


@pytest.fixture
def api(sample_gpkg: Path, clock: FakeClock) -> TestClient:
    return app_at(ApiSettings(data=sample_gpkg), clock)


def test_api_stores_a_report_beside_the_geopackage_and_leaves_stations_alone(
    api: TestClient, sample_gpkg: Path
) -> None:
    gpkg_bytes = sample_gpkg.read_bytes()
    station_before = api.get("/stations/NN-001").json()
    response = api.post("/stations/NN-001/reports",
                        json={"kind": "wrong_location", "note": "<script>x</script> 在对面"})
    assert response.status_code == 201
    body = response.json()
    assert (body["station_id"], body["kind"], body["note"], body["open"]) == (
        "NN-001", "wrong_location", "<script>x</script> 在对面", True)
    [stored] = SQLiteReportStore(sample_gpkg.with_name("reports.sqlite")).reports()
    assert stored.id == body["id"] and stored.note == body["note"]
    assert api.get("/stations/NN-001").json() == station_before
    assert sample_gpkg.read_bytes() == gpkg_bytes


@pytest.mark.parametrize(
    ("path", "payload", "status", "loc"),
    [
        ("/stations/NOPE-9/reports", {"kind": "other"}, 404, None),
        ("/stations/NN-001/reports", {"kind": "on_fire"}, 422, ["body", "kind"]),
        ("/stations/NN-001/reports", {}, 422, ["body", "kind"]),
        ("/stations/NN-001/reports", {"kind": "other", "note": "字" * 281}, 422, ["body", "note"]),
        ("/stations/NN-001/reports", {"kind": "other", "station": "x"}, 422, ["body", "station"]),
        ("/stations/NN-001/reports", {"kind": "other", "note": "x" * 5000}, 413, None),
    ],
)
def test_api_refuses_bad_reports_with_json(
    api: TestClient, sample_gpkg: Path, path: str, payload: dict[str, str], status: int,
    loc: list[str] | None,
) -> None:
    response = api.post(path, json=payload)
    assert response.status_code == status
    detail = response.json()["detail"]
    if loc is None:
        assert isinstance(detail, str) and detail
    else:
        assert [error["loc"] for error in detail] == [loc]
    assert open_report_counts(sample_gpkg.with_name("reports.sqlite")) == {}


def test_api_refuses_a_note_that_grows_past_the_limit_when_normalised(api: TestClient) -> None:
    """280 characters that NFC writes as 560 pass the body schema and fail the store's check."""
    response = api.post("/stations/NN-001/reports", json={"kind": "other", "note": "\u0958" * 280})
    assert response.status_code == 422
    assert "note" in response.json()["detail"]


def test_api_refuses_malformed_json(api: TestClient) -> None:
    response = api.post("/stations/NN-001/reports", content=b"{kind: other",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_api_budgets_each_client(api: TestClient) -> None:
    for station in ("NN-001", "NN-002", "NN-003", "NN-004", "YY-001"):
        assert api.post(f"/stations/{station}/reports", json={"kind": "other"}).status_code == 201
    limited = api.post("/stations/YY-002/reports", json={"kind": "other"})
    assert limited.status_code == 429
    assert 0 < limited.json()["retry_after_s"] <= 600
    assert limited.headers["retry-after"] == str(limited.json()["retry_after_s"])
    assert "too many reports" in limited.json()["detail"]


def test_api_answers_a_repeated_report_with_the_open_one(api: TestClient) -> None:
    first = api.post("/stations/NN-001/reports", json={"kind": "closed_at_night"})
    again = api.post("/stations/NN-001/reports", json={"kind": "closed_at_night", "note": "x"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data",
                     None, "application/jsonx", "text/json"])
def test_api_takes_reports_only_as_json(api: TestClient, sample_gpkg: Path,
                                        content_type: str | None) -> None:
    """A page on any site can POST text/plain or a form without asking (no CORS preflight)."""
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.post("/stations/NN-001/reports", content=b'{"kind": "other"}',
                        headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert open_report_counts(sample_gpkg.with_name("reports.sqlite")) == {}


@pytest.mark.parametrize(
    ("origin", "status"),
    [
        (None, 201),                                 # apps and curl send no Origin
        ("http://testserver", 201),                  # the rider page on this server
        ("HTTP://TestServer:80", 201),               # the same origin, spelled otherwise
        ("https://partner.example.org", 201),        # listed in report_origins
        ("https://evil.example", 403),
        ("http://testserver:8080", 403),             # another port is another origin
        ("https://testserver", 403),                 # another scheme too
        ("null", 403),                               # sandboxed frames, file:// pages
        ("http://[::1", 403),                        # malformed
    ],
)
def test_api_refuses_reports_sent_from_other_sites(
    sample_gpkg: Path, clock: FakeClock, origin: str | None, status: int
) -> None:
    settings = ApiSettings(data=sample_gpkg, report_origins=["https://partner.example.org"])
    api = app_at(settings, clock)
    headers = {"Origin": origin} if origin else {}
    response = api.post("/stations/NN-001/reports", json={"kind": "other"}, headers=headers)
    assert response.status_code == status
    if status == 403:
        assert "Origin" in response.json()["detail"]


def test_api_budgets_and_caps_come_from_settings(sample_gpkg: Path, clock: FakeClock) -> None:
    api = app_at(ApiSettings(data=sample_gpkg, reports_per_address=1, reports_max_open=5), clock)
    assert api.post("/stations/NN-001/reports", json={"kind": "other"}).status_code == 201
    assert api.post("/stations/NN-002/reports", json={"kind": "other"}).status_code == 429


def test_purge_archives_then_deletes_old_reports(
    tmp_path: Path, sqlite_store: SQLiteReportStore, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    store = sqlite_store
    old = store.add("NN-001", "other", "=HYPERLINK(\"x\")\n第二行", client="a").report
    store.resolve(store.add("NN-002", "other", client="b").report.id, who="office")
    clock.now += 100 * 86_400
    recent = store.add("NN-003", "other", "=1+1", client="c").report
    monkeypatch.setattr("stations.cli.reports.clock", clock)
    archive = tmp_path / "old.jsonl"
    db = str(store.path)
    assert main(["reports", "purge", "--older-than", "90", "--archive", str(archive),
                 "--reports", db]) == 0
    assert "purged 2 reports" in capsys.readouterr().out
    rows = [json.loads(line) for line in archive.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["open"]) for r in rows] == [(old.id, True), (2, False)]
    assert rows[0]["note"] == old.note
    assert store.reports(include_resolved=True) == [recent]
    assert list(tmp_path.glob(".*partial")) == []

    # An existing archive is never overwritten, and then nothing is deleted.
    clock.now += 100 * 86_400
    assert main(["reports", "purge", "--older-than", "90", "--archive", str(archive),
                 "--reports", db]) == 2
    assert "already exists" in capsys.readouterr().err
    assert store.reports() == [recent]

    csv_archive = tmp_path / "old.csv"
    assert main(["reports", "purge", "--older-than", "90", "--archive", str(csv_archive),
                 "--reports", db]) == 0
    text = csv_archive.read_bytes().decode("utf-8")
    assert text.startswith("id,station_id,kind,note,created_at,resolved_at,open,outcome,"
                           "resolved_by,resolution_note\r\n")
    assert "NN-003,other,'=1+1," in text  # a spreadsheet shows the note, never runs it
    assert store.reports(include_resolved=True) == []


def test_purge_without_archive_and_failing_archive(
    tmp_path: Path, sqlite_store: SQLiteReportStore, clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    store = sqlite_store
    store.add("NN-001", "other", client="a")
    clock.now += 10 * 86_400
    monkeypatch.setattr("stations.cli.reports.clock", clock)
    db = str(store.path)

    def broken(_reports: object) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.purge(5, broken)
    assert len(store.reports()) == 1  # the archive failed: nothing deleted
    for bad in (["--archive", str(tmp_path / "a.txt")],
                ["--archive", str(tmp_path / "no" / "a.jsonl")]):
        assert main(["reports", "purge", "--older-than", "5", "--reports", db, *bad]) == 2
        assert "--archive" in capsys.readouterr().err
    assert main(["reports", "purge", "--older-than", "-1", "--reports", db]) == 2
    assert "older than" in capsys.readouterr().err
    assert main(["reports", "purge", "--older-than", "11", "--reports", db]) == 0
    assert "purged 0 reports" in capsys.readouterr().out
    assert main(["reports", "purge", "--older-than", "5", "--reports", db]) == 0
    assert "purged 1 reports" in capsys.readouterr().out
    assert store.reports(include_resolved=True) == []


@pytest.mark.postgis
@needs_database
def test_cli_lists_resolves_and_purges_reports_in_the_database(
    tmp_path: Path, clock: FakeClock, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("stations.cli.reports.clock", clock)
    url = report_database()
    with empty_report_store("postgis", tmp_path, LIMITS, clock) as store:
        first = store.add("NN-001", "microwave_broken", "不热\n<b>x</b>", client="a").report
        second = store.add("NN-002", "other", client="b").report
        assert main(["reports", "resolve", str(first.id), "--database", url, "--dismiss",
                     "--note", "能用", "--by", "王工"]) == 0
        assert f"dismissed #{first.id} (NN-001)" in capsys.readouterr().out
        assert main(["reports", "resolve", str(first.id), str(second.id), "--database", url]
                    ) == 1  # the first was closed before: said, and the second still resolved
        out, err = capsys.readouterr()
        assert "already dismissed by 王工" in err and f"resolved #{second.id}" in out
        assert main(["reports", "list", "--all", "--database", url]) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == [f"#{first.id}", f"#{second.id}"]
        assert "[dismissed" in lines[0] and 'dismissed: "能用"' in lines[0]
        assert 'note: "不热\\n<b>x</b>"' in lines[0]
        clock.now += 10 * 86_400
        archive = tmp_path / "old.jsonl"
        assert main(["reports", "purge", "--older-than", "5", "--archive", str(archive),
                     "--database", url]) == 0
        rows = [json.loads(line) for line in archive.read_text(encoding="utf-8").splitlines()]
        assert [(r["id"], r["outcome"], r["resolved_by"]) for r in rows] == [
            (first.id, "dismissed", "王工"), (second.id, "resolved", rows[1]["resolved_by"])]
        assert store.reports(include_resolved=True) == []
    assert main(["reports", "list", "--database", "mysql://x"]) == 2
    assert "--database: a postgresql:// URL" in capsys.readouterr().err
