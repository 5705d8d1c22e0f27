"""Problem reports: a real SQLite file in WAL mode, bounds, rate limit and the planners' CLI."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.cli import main
from stations.errors import ReportNotFound, ReportRateLimited, ReportRejected
from stations.reports import (
    MAX_NOTE_CHARS,
    RATE_LIMIT_COUNT,
    REPORT_KIND_CODES,
    ReportStore,
    default_reports_path,
    open_report_counts,
)


class FakeClock:
    """A clock the test moves by hand, so the rate-limit window is exact and instant."""

    def __init__(self, start: float = 1_718_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path, clock: FakeClock) -> ReportStore:
    return ReportStore(tmp_path / "reports.sqlite", rate_limit=3, rate_window_s=600, clock=clock)


def test_reports_live_beside_the_geopackage_never_inside(tmp_path: Path) -> None:
    assert default_reports_path(tmp_path / "geodata" / "stations.gpkg") == (
        tmp_path / "geodata" / "reports.sqlite")
    with pytest.raises(ReportRejected, match="GeoPackage"):
        ReportStore(tmp_path / "stations.gpkg")


def test_file_is_in_wal_mode_and_survives_reopening(store: ReportStore) -> None:
    report = store.add("NN-001", "microwave_broken", "  不热了 ", client="10.0.0.1")
    assert store.journal_mode() == "wal"
    reopened = ReportStore(store.path)
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
    report = store.add("NN-002", "other", hostile, client="a")
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
    assert store.add("NN-001", "other", note, client="a").note == note


def test_rate_limit_per_client_and_window(store: ReportStore, clock: FakeClock) -> None:
    for _ in range(3):
        store.add("NN-001", "closed_at_night", client="rider-1")
        clock.now += 60
    with pytest.raises(ReportRateLimited) as caught:
        store.add("NN-001", "closed_at_night", client="rider-1")
    # The first report leaves the 10-minute window 600 - 180 seconds from now.
    assert caught.value.retry_after_s == 420
    store.add("NN-001", "closed_at_night", client="rider-2")  # another client is not limited
    clock.now += 420
    store.add("NN-001", "closed_at_night", client="rider-1")
    assert len(store.reports()) == 5


def test_parallel_reports_cannot_slip_past_the_limit(store: ReportStore) -> None:
    outcomes: list[str] = []

    def send() -> None:
        try:
            store.add("NN-001", "other", client="burst")
            outcomes.append("stored")
        except ReportRateLimited:
            outcomes.append("limited")

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["limited"] * 5 + ["stored"] * 3


def test_store_size_is_bounded(tmp_path: Path) -> None:
    small = ReportStore(tmp_path / "r.sqlite", max_reports=2, rate_limit=100)
    small.add("NN-001", "other", client="a")
    small.add("NN-002", "other", client="b")
    with pytest.raises(ReportRejected, match="full"):
        small.add("NN-003", "other", client="c")


def test_resolve_and_open_counts(store: ReportStore, clock: FakeClock) -> None:
    first = store.add("NN-001", "microwave_broken", client="a")
    store.add("NN-001", "charger_missing", client="b")
    store.add("NN-003", "wrong_location", client="c")
    assert open_report_counts(store.path) == {"NN-001": 2, "NN-003": 1}
    clock.now += 3600
    resolved = store.resolve(first.id)
    assert not resolved.is_open
    assert resolved.resolved_at == "2024-06-10T15:13:20+08:00"
    clock.now += 60
    assert store.resolve(first.id).resolved_at == resolved.resolved_at  # idempotent
    assert open_report_counts(store.path) == {"NN-001": 1, "NN-003": 1}
    assert [r.id for r in store.reports()] == [2, 3]
    assert [r.id for r in store.reports(include_resolved=True, station_id="NN-001")] == [1, 2]
    with pytest.raises(ReportNotFound):
        store.resolve(99)


def test_open_counts_of_a_missing_file_is_empty_and_creates_nothing(tmp_path: Path) -> None:
    assert open_report_counts(tmp_path / "reports.sqlite") == {}
    assert not (tmp_path / "reports.sqlite").exists()


def test_every_kind_is_accepted(store: ReportStore, clock: FakeClock) -> None:
    for kind in REPORT_KIND_CODES:
        store.add("NN-001", kind, client=kind)
    assert sorted(r.kind for r in store.reports()) == sorted(REPORT_KIND_CODES)


def test_cli_lists_and_resolves(store: ReportStore, capsys: pytest.CaptureFixture[str]) -> None:
    store.add("NN-001", "microwave_broken", "第二行\n<b>x</b>", client="a")
    store.add("NN-004", "closed_at_night", client="b")
    db = str(store.path)

    assert main(["reports", "list", "--db", db]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("#1  ") and "NN-001" in lines[0] and "微波炉坏了" in lines[0]
    assert 'note: "第二行\\n<b>x</b>"' in lines[0]
    assert "2 open reports" in err

    assert main(["reports", "resolve", "1", "--db", db]) == 0
    assert "resolved #1 (NN-001)" in capsys.readouterr().out
    assert main(["reports", "list", "--db", db, "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["station_id"], r["open"]) for r in rows] == [(2, "NN-004", True)]
    assert main(["reports", "list", "--all", "--station", "NN-001", "--db", db, "--json"]) == 0
    [row] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert row["note"] == "第二行\n<b>x</b>" and row["open"] is False


def test_cli_errors_are_messages_not_tracebacks(
    tmp_path: Path, store: ReportStore, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reports", "resolve", "7", "--db", str(store.path)]) == 2
    assert "no report number 7" in capsys.readouterr().err
    missing = tmp_path / "nowhere.sqlite"
    assert main(["reports", "resolve", "1", "--db", str(missing)]) == 2
    assert "no report file" in capsys.readouterr().err
    assert main(["reports", "list", "--db", str(missing)]) == 0
    assert "no reports yet" in capsys.readouterr().err
    assert not missing.exists()


@pytest.fixture
def api(sample_gpkg: Path) -> TestClient:
    return TestClient(create_app(ApiSettings(data=sample_gpkg)))


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
    [stored] = ReportStore(sample_gpkg.with_name("reports.sqlite")).reports()
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


def test_api_refuses_malformed_json(api: TestClient) -> None:
    response = api.post("/stations/NN-001/reports", content=b"{kind: other",
                        headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][0] == "body"


def test_api_rate_limits_each_client(api: TestClient) -> None:
    for _ in range(RATE_LIMIT_COUNT):
        assert api.post("/stations/NN-002/reports", json={"kind": "other"}).status_code == 201
    limited = api.post("/stations/NN-002/reports", json={"kind": "other"})
    assert limited.status_code == 429
    assert 0 < limited.json()["retry_after_s"] <= 600
    assert limited.headers["retry-after"] == str(limited.json()["retry_after_s"])
    assert "too many reports" in limited.json()["detail"]
