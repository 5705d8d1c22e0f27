"""The store contract: both implementations (GeoPackage, PostGIS) pass the same tests."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import make_sample_frame
from store_fixtures import AT, STORE_KINDS, sample_store

from stations import geodata
from stations.errors import (
    HistoryNotFound,
    InvalidInput,
    NotAuthenticated,
    OutOfScope,
    StationExists,
    StationNotFound,
    VersionConflict,
)
from stations.store import Change, Scope, StationStore
from stations.store.history import revert
from stations.store.keys import authenticate

NANNING = Scope(city="南宁市")


@pytest.fixture(params=STORE_KINDS)
def store(request, tmp_path):
    yield from sample_store(request.param, tmp_path)


def renamed(store: StationStore, station_id: str, name: str) -> dict[str, object]:
    return {**store.get(station_id).record, "name": name}


def test_snapshot_has_every_station_at_version_one(store):
    snapshot = store.snapshot()
    assert [s.id for s in snapshot.stations] == sorted(s.id for s in snapshot.stations)
    assert len(snapshot.stations) == 6
    assert {s.version for s in snapshot.stations} == {1}
    assert snapshot.data_version == geodata.data_version(make_sample_frame())
    assert store.history() == []


def test_an_edit_bumps_the_version_and_is_recorded(store):
    before = store.snapshot()
    entry = store.apply([Change("NN-001", renamed(store, "NN-001", "新名字"), 1)],
                        who="南宁市总工会", action="update", at=AT, note="改名")
    station = store.get("NN-001")
    assert station.version == 2 and station.record["name"] == "新名字"
    assert entry.id > 0 and entry.who == "南宁市总工会" and entry.at.startswith("2025-03-01T09:30")
    (line,) = entry.changes
    assert line.before["name"] == "民族大道枫林路口工会驿站" and line.after["name"] == "新名字"
    assert store.history() == [entry] == store.history("NN-001")
    assert store.history("NN-002") == []
    after = store.snapshot()
    assert after.data_version != before.data_version and after.sequence == entry.id


def test_same_data_same_version_whatever_the_path(store, tmp_path):
    """data_version depends on content only: an edit and a build of the same data agree."""
    store.apply([Change("NN-001", renamed(store, "NN-001", "新名字"), 1)], who="t",
                action="update", at=AT)
    frame = make_sample_frame()
    frame.loc[frame["id"] == "NN-001", "name"] = "新名字"
    assert store.snapshot().data_version == geodata.data_version(frame)


@pytest.mark.parametrize("expected", [2, 7])
def test_a_stale_version_is_refused_with_the_current_station(store, expected):
    with pytest.raises(VersionConflict) as caught:
        store.apply([Change("NN-001", renamed(store, "NN-001", "x"), expected)], who="t",
                    action="update", at=AT)
    assert caught.value.current["version"] == 1
    assert caught.value.current["name"] == "民族大道枫林路口工会驿站"
    assert store.history() == [] and store.get("NN-001").record["name"] != "x"


def test_a_taken_id_is_refused(store):
    with pytest.raises(StationExists):
        store.apply([Change("NN-001", store.get("NN-002").record | {"id": "NN-001"}, 0)],
                    who="t", action="create", at=AT)


def test_outside_the_scope_nothing_changes(store):
    version = store.snapshot().data_version
    moved = renamed(store, "YY-001", "x")
    with pytest.raises(OutOfScope):
        store.apply([Change("NN-002", renamed(store, "NN-002", "ok"), 1),
                     Change("YY-001", moved, 1)], who="t", action="update", at=AT,
                    scope=NANNING)
    # Moving a station of one's own out of one's area is refused too.
    with pytest.raises(OutOfScope):
        store.apply([Change("NN-002", {**store.get("NN-002").record, "city": "重庆市"}, 1)],
                    who="t", action="update", at=AT, scope=NANNING)
    assert store.snapshot().data_version == version and store.history() == []


def test_a_change_set_is_all_or_nothing(store):
    with pytest.raises(InvalidInput) as caught:
        store.apply([Change("NN-002", renamed(store, "NN-002", "ok"), 1),
                     Change("NN-003", {**store.get("NN-003").record, "lat": 95.0}, 1)],
                    who="t", action="update", at=AT)
    assert caught.value.field == "lat"
    assert store.get("NN-002").version == 1 and store.history() == []


def test_create_delete_and_changes_since(store):
    start = store.snapshot()
    new = {**store.get("NN-001").record, "id": "NN-009", "name": "新站", "lon": 108.5}
    created = store.apply([Change("NN-009", new, 0)], who="t", action="create", at=AT)
    gone = store.apply([Change("YY-002", None, 1)], who="t", action="delete", at=AT)
    changes = store.changes_since(start.sequence)
    assert [s.id for s in changes.upserted] == ["NN-009"] and changes.deleted == ["YY-002"]
    assert changes.sequence == gone.id > created.id
    snapshot = store.snapshot()
    assert changes.data_version == snapshot.data_version
    assert len(snapshot.stations) == 6 and "YY-002" not in {s.id for s in snapshot.stations}
    assert store.changes_since(snapshot.sequence).upserted == []
    with pytest.raises(StationNotFound):
        store.get("YY-002")


def test_revert_restores_the_before_state_and_is_recorded(store):
    original = store.snapshot()
    entry = store.apply([Change("NN-001", renamed(store, "NN-001", "改"), 1),
                         Change("YY-002", None, 1)], who="t", action="update", at=AT)
    undo = revert(store, entry.id, who="审核", at=AT)
    assert undo.revert_of == entry.id and undo.action == "revert"
    restored = store.snapshot()
    assert restored.data_version == original.data_version
    assert store.get("NN-001").version == 3 and store.get("YY-002").version == 1
    # The revert is history too, and reverting the old entry again is now stale.
    assert [e.id for e in store.history()] == [undo.id, entry.id]
    with pytest.raises(VersionConflict):
        revert(store, entry.id, who="t", at=AT)
    with pytest.raises(HistoryNotFound):
        store.history_entry(999)


def test_revert_of_a_later_edited_station_is_refused(store):
    entry = store.apply([Change("NN-001", renamed(store, "NN-001", "一"), 1)], who="t",
                        action="update", at=AT)
    store.apply([Change("NN-001", renamed(store, "NN-001", "二"), 2)], who="t",
                action="update", at=AT)
    with pytest.raises(VersionConflict):
        revert(store, entry.id, who="t", at=AT)
    assert store.get("NN-001").record["name"] == "二"


def test_an_unchanged_station_keeps_its_version(store):
    entry = store.apply([Change("NN-001", store.get("NN-001").record, 1)], who="t",
                        action="update", at=AT)
    assert entry.changes == [] and store.get("NN-001").version == 1 and store.history() == []


def test_office_keys_are_hashed_scoped_and_revocable(store):
    key, secret = store.create_key("南宁市总工会", NANNING, AT)
    assert secret.startswith(key.key_id + ".") and secret not in repr(store.office_keys())
    assert authenticate(store, secret) == dataclasses.replace(key)
    assert authenticate(store, secret).scope == NANNING
    for wrong in (None, "", key.key_id + ".guess", "nobody.x", secret + "x"):
        with pytest.raises(NotAuthenticated):
            authenticate(store, wrong)
    store.revoke_key(key.key_id, AT)
    with pytest.raises(NotAuthenticated, match="revoked"):
        authenticate(store, secret)
    assert store.office_keys()[0].revoked_at


@pytest.mark.parametrize(("scope", "expected"), [
    (NANNING, ["NN-001", "NN-002", "NN-003", "NN-004"]),
    (Scope(province="重庆市", district="云阳县"), ["YY-001", "YY-002"]),
    (Scope(city="南宁市", district="青秀区"), ["NN-001", "NN-004"]),
    (Scope(division="45"), []),
])
def test_the_stations_an_office_covers(store, scope, expected):
    found = store.stations_in(scope)
    assert [s.id for s in found] == expected
    assert all(scope.covers(s.record) for s in found)
