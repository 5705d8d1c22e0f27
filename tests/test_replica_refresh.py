"""An incremental refresh answers exactly as a full load of the same stations would."""

from __future__ import annotations

import datetime as dt

from store_fixtures import sample_store

from stations.service import NearestOptions
from stations.store import StoredStation
from stations.store.records import data_version, digest
from stations.store.replica import service_from_stations, station_chunk

AT = dt.datetime(2025, 3, 3, 12, 0)


def _stored(record: dict[str, object], version: int = 2) -> StoredStation:
    return StoredStation(record, version, digest(record))


def test_patched_snapshot_equals_a_fresh_load(tmp_path):
    stations = next(sample_store("gpkg", tmp_path)).snapshot().stations
    base = service_from_stations(stations, data_version(s.digest for s in stations))
    by_id = {s.id: s for s in stations}
    changed = [
        _stored({**by_id["NN-001"].record, "opening_hours": "Mo-Fr 09:00-10:00",
                 "status": "closed", "city": "新城市"}),
        _stored({**by_id["NN-003"].record, "lon": 108.50, "amenities": ["wifi"]}),
        _stored({**by_id["YY-001"].record, "id": "ZZ-001", "lat": 31.5}, 1),
        _stored({**by_id["YY-001"].record, "id": "AB-001", "lat": 31.6}, 1),
    ]
    after = {**by_id, **{s.id: s for s in changed}}
    version = data_version(s.digest for s in after.values())
    patched = base.with_changes(station_chunk(changed), version)
    fresh = service_from_stations(sorted(after.values(), key=lambda s: s.id), version)

    assert patched.data_version == fresh.data_version and patched.count == fresh.count == 8
    for station_id in after:
        assert patched.station(station_id) == fresh.station(station_id)
    for lon, lat in ((108.5, 22.8), (108.7, 31.4), (108.3, 22.8)):
        for options in (NearestOptions(k=8, at=AT), NearestOptions(k=3, open_now=True, at=AT),
                        NearestOptions(k=2, amenities=("wifi",), at=AT),
                        NearestOptions(k=2, city="新城市", at=AT)):
            assert patched.find_nearest(lon, lat, options) == \
                fresh.find_nearest(lon, lat, options)
    assert patched.page(0, 10, filters={"status": "closed"}).number_matched == 1
    # Added stations are appended to the rows, yet pages follow the ids as after a fresh load.
    for offset, limit, filters in ((0, 10, None), (1, 3, None), (0, 2, {"city": "新城市"}),
                                   (1, 5, {"status": "active"})):
        assert patched.page(offset, limit, filters=filters).features == \
            fresh.page(offset, limit, filters=filters).features
    # The snapshot it came from is untouched: requests in flight finish on their data.
    assert base.count == 6 and b"09:00-10:00" not in base.station("NN-001")


def test_deleted_stations_leave_as_from_a_fresh_load(tmp_path):
    stations = next(sample_store("gpkg", tmp_path)).snapshot().stations
    base = service_from_stations(stations, data_version(s.digest for s in stations))
    by_id = {s.id: s for s in stations}
    moved = _stored({**by_id["NN-003"].record, "lon": 108.31})
    after = {i: s for i, s in by_id.items() if i not in ("NN-001", "NN-002")} | {"NN-003": moved}
    version = data_version(s.digest for s in after.values())
    patched = base.with_changes(station_chunk([moved]), version, deleted=["NN-001", "NN-002"])
    fresh = service_from_stations(sorted(after.values(), key=lambda s: s.id), version)

    assert patched.ids == fresh.ids and patched.index.overlay_size > 0
    assert patched.page(0, 10).features == fresh.page(0, 10).features
    for lon, lat in ((108.5, 22.8), (108.3, 22.8)):
        for options in (NearestOptions(k=6, at=AT), NearestOptions(k=2, open_now=True, at=AT),
                        NearestOptions(k=2, amenities=("wifi",), at=AT)):
            assert patched.find_nearest(lon, lat, options) == \
                fresh.find_nearest(lon, lat, options)
    assert base.count == 6 and patched.count == 4
