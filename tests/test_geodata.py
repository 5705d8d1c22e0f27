"""The station GeoPackage as GDAL and QGIS see it, and its atomic replacement."""

from __future__ import annotations

import sqlite3

import pyogrio
import pytest

from stations import geodata
from stations.errors import DataFileError
from stations.geodata import read_build_info, read_stations, write_stations
from stations.model import AMENITIES, AMENITY_COLUMNS, TEXT_FIELDS


def test_point_layer_in_wgs84_with_the_schema(sample_gpkg):
    layers = {name: kind for name, kind in pyogrio.list_layers(sample_gpkg)}
    assert layers["stations"] == "Point"
    assert layers["amenities"] is None and layers["build_info"] is None
    info = pyogrio.read_info(sample_gpkg, layer="stations")
    assert info["crs"] == "EPSG:4326"
    assert info["features"] == 6
    types = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert all(types[f] == "object" for f in TEXT_FIELDS)
    assert all(types[c] == "bool" for c in AMENITY_COLUMNS)


def test_rtree_spatial_index_exists_and_is_filled(sample_gpkg):
    with sqlite3.connect(sample_gpkg) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
        assert "rtree_stations_geom" in tables
        (indexed,) = db.execute("SELECT count(*) FROM rtree_stations_geom").fetchone()
        (srs,) = db.execute(
            "SELECT srs_id FROM gpkg_contents WHERE table_name = 'stations'").fetchone()
    assert (indexed, srs) == (6, 4326)


def test_spatial_filter_uses_the_layer(sample_gpkg):
    yunyang = pyogrio.read_dataframe(sample_gpkg, layer="stations",
                                     bbox=(108.6, 30.8, 108.8, 31.0))
    assert sorted(yunyang["id"]) == ["YY-001", "YY-002"]


def test_amenity_vocabulary_table_has_chinese_labels(sample_gpkg):
    table = pyogrio.read_dataframe(sample_gpkg, layer="amenities")
    assert table["code"].tolist() == [a.code for a in AMENITIES]
    labels = dict(zip(table["code"], table["label_zh"], strict=True))
    assert labels["microwave"] == "微波炉"
    assert labels["legal_aid"] == "维权援助"
    assert table["column_name"].tolist() == list(AMENITY_COLUMNS)


def test_boolean_columns_filter_with_sql_where(sample_gpkg):
    microwave = pyogrio.read_dataframe(sample_gpkg, layer="stations", where="has_microwave = 1")
    assert sorted(microwave["id"]) == ["NN-001", "NN-002", "NN-004", "YY-001"]
    both = pyogrio.read_dataframe(sample_gpkg, layer="stations",
                                  where="has_microwave = 1 AND has_ebike_charging = 1")
    assert both["id"].tolist() == ["NN-002"]


def test_read_back_keeps_hostile_text_and_version(sample_gpkg, sample_frame):
    stations = read_stations(sample_gpkg)
    assert stations["name"].tolist() == sample_frame["name"].tolist()
    assert "<img src=x onerror=alert(1)>" in stations["name"].tolist()
    assert stations.attrs["data_version"] == read_build_info(sample_gpkg)["data_version"]
    assert stations.attrs["data_version"] == geodata.data_version(sample_frame)


def test_failure_mid_write_leaves_the_old_file(sample_gpkg, sample_frame, monkeypatch):
    before = sample_gpkg.read_bytes()
    real_write = pyogrio.write_dataframe
    calls = []

    def fail_on_second_layer(*args, **kwargs):
        calls.append(kwargs.get("layer"))
        if len(calls) == 2:
            raise OSError("disk full")
        return real_write(*args, **kwargs)

    monkeypatch.setattr(geodata.pyogrio, "write_dataframe", fail_on_second_layer)
    with pytest.raises(OSError, match="disk full"):
        write_stations(sample_frame.iloc[:2], sample_gpkg)
    assert calls == ["stations", "amenities"]
    assert sample_gpkg.read_bytes() == before
    assert [p.name for p in sample_gpkg.parent.iterdir()] == [sample_gpkg.name]


def test_same_content_same_bytes_and_version(tmp_path, sample_frame):
    first, second = tmp_path / "a.gpkg", tmp_path / "b.gpkg"
    shuffled = sample_frame.sample(frac=1.0, random_state=3)
    assert write_stations(sample_frame, first) == write_stations(
        geodata.station_frame(shuffled, shuffled.geometry.x, shuffled.geometry.y), second)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.filterwarnings("ignore:GPKG. bad application_id")
def test_missing_or_corrupt_file_is_a_data_file_error(tmp_path):
    with pytest.raises(DataFileError, match="no such GeoPackage"):
        read_stations(tmp_path / "none.gpkg")
    corrupt = tmp_path / "corrupt.gpkg"
    corrupt.write_bytes(b"SQLite format 3\0" + b"\x00" * 100)
    with pytest.raises(DataFileError, match="cannot read layer"):
        read_stations(corrupt)
