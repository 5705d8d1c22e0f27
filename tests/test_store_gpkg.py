"""What only the GeoPackage store has to show: the file stays a valid GeoPackage for GDAL,
QGIS and the server, and reading it never modifies it."""

from __future__ import annotations

import sqlite3

from store_fixtures import AT

from stations.geodata import read_build_info, read_stations
from stations.service import StationService
from stations.store import Change
from stations.store.gpkg import GeoPackageStore


def test_reading_never_writes_the_file(sample_gpkg):
    before = sample_gpkg.read_bytes()
    store = GeoPackageStore(sample_gpkg)
    store.snapshot(), store.history(), store.office_keys(), store.changes_since(0)
    assert sample_gpkg.read_bytes() == before


def test_an_edit_leaves_a_file_gdal_and_the_server_read(sample_gpkg):
    store = GeoPackageStore(sample_gpkg)
    moved = {**store.get("NN-003").record, "lon": 108.33, "name": "移动后"}
    new = {**moved, "id": "NN-010", "name": "新站", "lat": 22.9}
    store.apply([Change("NN-003", moved, 1), Change("NN-010", new, 0)], who="t",
                action="update", at=AT)
    frame = read_stations(sample_gpkg)
    assert len(frame) == 7 and frame.attrs["data_version"] == store.snapshot().data_version
    row = frame[frame["id"] == "NN-003"].iloc[0]
    assert (row.geometry.x, row["name"]) == (108.33, "移动后")
    service = StationService.load(sample_gpkg)
    assert service.data_version == store.snapshot().data_version
    assert service.position_of.keys() >= {"NN-003", "NN-010"}
    assert read_build_info(sample_gpkg)["station_count"] == "7"
    with sqlite3.connect(sample_gpkg) as db:
        # GDAL's triggers kept the R-tree (QGIS's spatial index) in step with the edit.
        (minx,), = db.execute("SELECT r.minx FROM rtree_stations_geom r JOIN stations s "
                              "ON s.fid = r.id WHERE s.id = 'NN-003'").fetchall()
        assert abs(minx - 108.33) < 1e-4
        assert db.execute("SELECT data_type FROM gpkg_contents WHERE table_name = "
                          "'station_history'").fetchone() == ("attributes",)
