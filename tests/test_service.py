"""The query service on a real GeoPackage: answers, filters, coordinate systems, bad files."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import sqlite3
import struct
from pathlib import Path

import numpy as np
import orjson
import pytest

from stations.crs import CoordinateSystem, wgs84_to_bd09, wgs84_to_gcj02
from stations.errors import DataFileError, InvalidInput, StationNotFound
from stations.gpkg_rows import point_from_gpkg_blob, points_from_gpkg_blobs
from stations.index import haversine_m
from stations.model import AMENITY_BY_CODE, TEXT_FIELDS
from stations.service import NearestOptions, StationService

SATURDAY_EVENING = dt.datetime(2024, 6, 15, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
MONDAY_NOON = dt.datetime(2024, 6, 10, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
NANNING = (108.37, 22.80)


@pytest.fixture
def service(sample_gpkg: Path) -> StationService:
    return StationService.load(sample_gpkg)


def nearest(service: StationService, lon: float, lat: float, **options: object) -> list[dict]:
    return orjson.loads(service.find_nearest(lon, lat, NearestOptions(**options)))["features"]


def test_loads_every_station_with_version(service, sample_frame):
    assert service.count == 6
    assert service.ids == sorted(sample_frame["id"])
    assert len(service.data_version) == 16


def test_nearest_first_with_exact_distances(service, sample_frame):
    features = nearest(service, *NANNING, k=6)
    metres = haversine_m(*NANNING, sample_frame.geometry.x, sample_frame.geometry.y)
    assert [f["id"] for f in features] == sample_frame["id"][np.argsort(metres)].tolist()
    assert features[0]["id"] == "NN-001"
    by_id = sample_frame.set_index("id")
    for feature in features:
        station = by_id.loc[feature["id"]]
        expected = float(haversine_m(*NANNING, station.geometry.x, station.geometry.y))
        props = feature["properties"]
        assert props["distance_m"] == pytest.approx(expected, abs=0.06)
        assert props["walk_min"] == math.ceil(props["distance_m"] / 75)
        assert props["ebike_min"] == math.ceil(props["distance_m"] / 250)
        assert 0 <= props["bearing_deg"] < 360
        assert feature["geometry"]["coordinates"] == pytest.approx(
            [station.geometry.x, station.geometry.y])
        assert props["id"] == feature["id"]
        for field in TEXT_FIELDS[1:]:
            assert props[field] == station[field]
    distances = [f["properties"]["distance_m"] for f in features]
    assert distances == sorted(distances)


def test_amenities_carry_both_labels(service):
    (feature,) = nearest(service, 108.39, 22.77, k=1)
    assert feature["id"] == "NN-002"
    codes = [a["code"] for a in feature["properties"]["amenities"]]
    assert codes == ["drinking_water", "microwave", "air_conditioning", "phone_charging",
                     "ebike_charging"]
    microwave = feature["properties"]["amenities"][1]
    assert microwave == {"code": "microwave", "label_zh": "微波炉", "label_en": "Microwave",
                         "icon": AMENITY_BY_CODE["microwave"].icon}


def test_filters(service):
    both = nearest(service, *NANNING, k=5, amenities=("microwave", "电动车充电"))
    assert [f["id"] for f in both] == ["NN-002"]
    in_city = nearest(service, 108.70, 30.93, k=5, city="南宁市")
    assert {f["id"] for f in in_city} == {"NN-001", "NN-002", "NN-003", "NN-004"}
    near = nearest(service, *NANNING, k=5, radius_m=3_500)  # NN-001 is 3.3 km away
    assert [f["id"] for f in near] == ["NN-001"]
    assert nearest(service, *NANNING, k=5, city="北京市") == []


def test_open_now_at_a_given_time(service):
    monday = nearest(service, *NANNING, k=6, open_now=True, at=MONDAY_NOON)
    assert "NN-004" not in {f["id"] for f in monday}  # temporarily closed
    assert "NN-003" in {f["id"] for f in monday}  # Mo-Fr 08:00-18:00
    assert all(f["properties"]["open_now"] is True for f in monday)
    saturday = nearest(service, *NANNING, k=6, open_now=True, at=SATURDAY_EVENING)
    assert {f["id"] for f in saturday} == {"NN-001", "NN-002", "YY-001", "YY-002"}
    everything = nearest(service, *NANNING, k=6, at=SATURDAY_EVENING)
    states = {f["id"]: f["properties"]["open_now"] for f in everything}
    assert states["NN-003"] is False and states["NN-004"] is False and states["NN-001"] is True


@pytest.mark.parametrize(("crs", "forward"), [("gcj02", wgs84_to_gcj02),
                                               ("bd09", wgs84_to_bd09)])
def test_query_and_answer_in_chinese_coordinate_systems(service, sample_frame, crs, forward):
    station = sample_frame.set_index("id").loc["NN-001"].geometry
    app_lon, app_lat = (float(v) for v in forward(station.x, station.y))
    assert haversine_m(app_lon, app_lat, station.x, station.y) > 100  # a real offset
    (feature,) = nearest(service, app_lon, app_lat, k=1, crs=CoordinateSystem(crs))
    assert feature["id"] == "NN-001"
    assert feature["properties"]["distance_m"] < 0.05
    assert feature["geometry"]["coordinates"] == pytest.approx([app_lon, app_lat], abs=1e-7)


def test_batch_matches_single_queries(service):
    points = np.array([[108.37, 22.80], [108.70, 30.93], [108.39, 22.77]])
    options = NearestOptions(k=3, amenities=("microwave",))
    answer = orjson.loads(service.find_nearest_batch(points[:, 0], points[:, 1], options))
    assert answer["numberOfPoints"] == 3
    for (lon, lat), result in zip(points, answer["results"], strict=True):
        single = orjson.loads(service.find_nearest(lon, lat, options))
        assert result["features"] == single["features"]


def test_bad_options_name_the_field(service):
    for kwargs, field in [({"k": 0}, "k"), ({"k": 10**9}, "k"), ({"radius_m": -1}, "radius_m"),
                          ({"amenities": ("pizza",)}, "amenity")]:
        with pytest.raises(InvalidInput) as caught:
            NearestOptions(**kwargs)
        assert caught.value.field == field
    with pytest.raises(InvalidInput) as caught:
        service.find_nearest(108.0, 91.0)
    assert caught.value.field == "lat"
    with pytest.raises(InvalidInput) as caught:
        service.find_nearest_batch([108.0, 190.0], [22.0, 22.0])
    assert caught.value.field == "points.1.lon"


def test_station_and_pages(service):
    feature = orjson.loads(service.station("YY-002"))
    assert feature["properties"]["name"] == "<img src=x onerror=alert(1)>"
    with pytest.raises(StationNotFound):
        service.station("NOPE")
    first = service.page(0, 4)
    second = service.page(4, 4)
    assert first.number_matched == second.number_matched == 6
    ids = [orjson.loads(f)["id"] for f in first.features + second.features]
    assert ids == service.ids
    chongqing = service.page(0, 10, bbox=(108.6, 30.0, 109.0, 31.0))
    assert chongqing.number_matched == 2
    assert service.page(0, 10, filters={"district": "青秀区"}).number_matched == 2
    assert service.page(0, 10, amenities=("microwave",), filters={"city": "南宁市"}
                        ).number_matched == 3
    with pytest.raises(InvalidInput):
        service.page(0, 10, filters={"phone": "1"})


def test_refuses_corrupt_and_incomplete_files(tmp_path, sample_gpkg):
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(DataFileError):
        StationService.load(garbage)
    half = tmp_path / "half.gpkg"
    half.write_bytes(sample_gpkg.read_bytes()[: sample_gpkg.stat().st_size // 2])
    with pytest.raises(DataFileError):
        StationService.load(half)
    short = tmp_path / "short.gpkg"
    shutil.copy(sample_gpkg, short)
    with sqlite3.connect(short) as connection:
        connection.execute("DELETE FROM stations WHERE id = 'NN-001'")
    with pytest.raises(DataFileError, match="incomplete"):
        StationService.load(short)
    with pytest.raises(DataFileError, match="no such"):
        StationService.load(tmp_path / "missing.gpkg")


def test_geometry_blobs_with_envelope_and_big_endian():
    wkb = struct.pack(">BIdd", 0, 1, 108.5, 22.5)
    envelope = struct.pack("<dddd", 108.5, 108.5, 22.5, 22.5)
    blob = b"GP\x00" + bytes([0b011]) + struct.pack("<i", 4326) + envelope + wkb
    assert point_from_gpkg_blob(blob) == (108.5, 22.5)
    plain = b"GP\x00\x01" + struct.pack("<i", 4326) + struct.pack("<BIdd", 1, 1, 1.5, 2.5)
    lon, lat = points_from_gpkg_blobs([plain, blob])
    assert lon.tolist() == [1.5, 108.5] and lat.tolist() == [2.5, 22.5]
    with pytest.raises(ValueError, match="not a point"):
        point_from_gpkg_blob(b"GP\x00\x01" + struct.pack("<i", 4326)
                             + struct.pack("<BI", 1, 2) + b"\x00" * 16)
