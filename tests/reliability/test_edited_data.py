"""A GeoPackage edited after its build, behind the build's back (positions patched with
sqlite3, build_info left alone), under a real server: a file that breaks what a build
guarantees is refused at start-up and on reload, and one that is merely different is served
under a new data version, so clients' ETags change with it."""

from __future__ import annotations

import os
import shutil
import sqlite3
import struct
import time
from pathlib import Path

import httpx
import pytest
from conftest import make_sample_frame
from live_server import running_server

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.errors import DataFileError
from stations.geodata import write_stations
from stations.service import StationService


def point_blob(lon: float, lat: float) -> bytes:
    """A GeoPackage point geometry: header (little-endian, no envelope, EPSG:4326) and WKB."""
    return b"GP\x00\x01" + struct.pack("<i", 4326) + struct.pack("<BIdd", 1, 1, lon, lat)


def edited(good: Path, target: Path, sql: str, *params: object) -> Path:
    """A copy of ``good`` changed by one SQL statement, as someone with sqlite3 would."""
    staged = target.with_name("staged.gpkg")
    shutil.copy(good, staged)
    with sqlite3.connect(staged) as db:
        for (trigger,) in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'"
                                     ).fetchall():
            db.execute(f'DROP TRIGGER "{trigger}"')  # GDAL's R-tree triggers need its functions
        db.execute(sql, params)
    db.close()
    return staged


PATCHES = [
    ("latitude 95", "UPDATE stations SET geom = ? WHERE id = 'NN-001'", point_blob(108.4, 95)),
    ("latitude 1e300", "UPDATE stations SET geom = ? WHERE id = 'NN-002'",
     point_blob(108.4, 1e300)),
    ("a polygon", "UPDATE stations SET geom = ? WHERE id = 'NN-003'",
     b"GP\x00\x01" + struct.pack("<i", 4326) + struct.pack("<BII", 1, 3, 0)),
    ("an empty id", "UPDATE stations SET id = '' WHERE id = 'NN-004'"),
    ("a repeated id", "UPDATE stations SET id = 'NN-001' WHERE id = 'YY-001'"),
]


@pytest.mark.parametrize(("problem", "sql", *()), [p[:2] for p in PATCHES],
                         ids=[p[0] for p in PATCHES])
def test_a_broken_edit_is_refused_at_start_up(tmp_path: Path, problem: str, sql: str):
    good = tmp_path / "good.gpkg"
    write_stations(make_sample_frame(), good)
    params = next(p[2:] for p in PATCHES if p[0] == problem)
    staged = edited(good, tmp_path / "stations.gpkg", sql, *params)
    with pytest.raises(DataFileError) as refused:
        StationService.load(staged)
    assert str(staged) in str(refused.value)


def test_edits_on_reload_are_refused_or_served_under_a_new_version(tmp_path: Path):
    path = tmp_path / "stations.gpkg"
    version = write_stations(make_sample_frame(), path)
    good = tmp_path / "good.gpkg"
    shutil.copy(path, good)
    settings = ApiSettings(data=path, reload_interval_s=0.1)
    with running_server(create_app(settings)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/feeds/pmtiles").status_code == 200
        for _problem, sql, *params in PATCHES:
            os.replace(edited(good, path, sql, *params), path)
            time.sleep(0.6)  # several checks of the file
            assert client.get("/health").json()["data_version"] == version
            pmtiles = client.get("/feeds/pmtiles")
            assert pmtiles.status_code == 200, pmtiles.text  # the feeds of the good file
        # A valid edit (a station moved 1 km) is served, under a version of its own.
        os.replace(edited(good, path, "UPDATE stations SET geom = ? WHERE id = 'NN-001'",
                          point_blob(108.406, 22.817)), path)
        deadline = time.monotonic() + 15
        while client.get("/health").json()["data_version"] == version:
            assert time.monotonic() < deadline, "the edited file was not served"
            time.sleep(0.1)
        moved = client.get("/stations/NN-001").json()["geometry"]["coordinates"]
        assert moved == pytest.approx([108.406, 22.817])
        etag = client.get("/nearest", params={"lon": 108.4, "lat": 22.8}).headers["etag"]
        assert version not in etag
        assert client.get("/feeds/pmtiles").status_code == 200
