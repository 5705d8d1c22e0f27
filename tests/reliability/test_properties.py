"""Properties of whole answers: random stations written to a real GeoPackage, loaded by the
service, queried as riders do and checked against brute-force haversine.

The index alone is property-tested in tests/test_index.py and the transforms in
tests/test_crs.py; here the GeoPackage, the filters, the radius and the GeoJSON answer are in
the loop too.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stations.crs import CoordinateSystem, from_wgs84
from stations.geodata import station_frame, write_stations
from stations.index import haversine_m
from stations.model import AMENITIES, AMENITY_CODES
from stations.service import NearestOptions, StationService

# Distances are sent with one decimal, so answers agree with haversine to 0.05 m (+ rounding).
DISTANCE_TOLERANCE_M = 0.051
# Coordinates are sent with seven decimals: at most 0.5e-7 degrees on each axis, under 8 mm.
ROUND_TRIP_TOLERANCE_M = 0.01

lon_anywhere = st.floats(-180, 180, allow_nan=False)
lat_anywhere = st.floats(-90, 90, allow_nan=False)
near_pole = st.tuples(lon_anywhere, st.floats(89.5, 90) | st.floats(-90, -89.5))
near_antimeridian = st.tuples(st.floats(179.5, 180) | st.floats(-180, -179.5),
                              st.floats(-60, 60))
in_china = st.tuples(st.floats(100, 122), st.floats(21, 41))
position = st.one_of(st.tuples(lon_anywhere, lat_anywhere), near_pole, near_antimeridian,
                     in_china)
amenity_bits = st.integers(0, 2 ** len(AMENITIES) - 1)


@st.composite
def station_sets(draw: st.DrawFn) -> tuple[list[tuple[float, float]], list[int]]:
    """Positions (some repeated exactly) and amenity bits for 1 to 40 stations."""
    points = draw(st.lists(position, min_size=1, max_size=30))
    repeats = draw(st.lists(st.integers(0, len(points) - 1), max_size=10))
    points = points + [points[i] for i in repeats]
    return points, draw(st.lists(amenity_bits, min_size=len(points), max_size=len(points)))


def load_service(points: list[tuple[float, float]], bits: list[int]) -> StationService:
    columns: dict[str, object] = {
        "id": [f"P-{i:03d}" for i in range(len(points))],
        "name": [f"驿站{i}" for i in range(len(points))],
        "city": "南宁市", "status": "open", "opening_hours": "24/7",
    }
    for position_, amenity in enumerate(AMENITIES):
        columns[amenity.column] = [bool(b >> position_ & 1) for b in bits]
    frame = station_frame(columns, [p[0] for p in points], [p[1] for p in points])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stations.gpkg"
        write_stations(frame, path)
        return StationService.load(path)


def answer(service: StationService, lon: float, lat: float,
           options: NearestOptions) -> list[dict]:
    return orjson.loads(service.find_nearest(lon, lat, options))["features"]


def required_mask(bits: list[int], amenities: tuple[str, ...]) -> np.ndarray:
    need = sum(1 << AMENITY_CODES.index(code) for code in amenities)
    return np.array([(b & need) == need for b in bits])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stations=station_sets(), query=position, k=st.integers(1, 12),
       amenities=st.lists(st.sampled_from(AMENITY_CODES), max_size=2, unique=True),
       radius_m=st.none() | st.floats(1, 2_000_000))
def test_answers_agree_with_brute_force_haversine(stations, query, k, amenities, radius_m):
    points, bits = stations
    service = load_service(points, bits)
    options = NearestOptions(k=k, radius_m=radius_m, amenities=tuple(amenities))
    features = answer(service, *query, options)

    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    metres = haversine_m(query[0], query[1], lon, lat)
    qualifies = required_mask(bits, options.amenities)
    if radius_m is not None:
        qualifies &= metres <= radius_m
    expected = np.sort(metres[qualifies])[:k]

    # Radius and k: never farther than the radius, never more than k, none left out.
    assert len(features) == expected.size
    found = np.array([f["properties"]["distance_m"] for f in features])
    np.testing.assert_allclose(found, expected, atol=DISTANCE_TOLERANCE_M, rtol=1e-9)
    assert np.all(np.diff(found) >= 0), "not nearest first"
    for feature in features:
        row = int(feature["id"].removeprefix("P-"))
        # The station's own distance, not just a matching list of numbers.
        assert abs(feature["properties"]["distance_m"] - metres[row]) <= DISTANCE_TOLERANCE_M
        if radius_m is not None:
            assert metres[row] <= radius_m * (1 + 1e-9)
        # Filters never let through a station lacking a required amenity.
        assert qualifies[row]
        listed = {a["code"] for a in feature["properties"]["amenities"]}
        assert set(options.amenities) <= listed


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(station=in_china, crs=st.sampled_from([CoordinateSystem.GCJ02, CoordinateSystem.BD09]))
def test_chinese_coordinates_round_trip_through_the_service(station, crs):
    """A rider standing on a station, as Amap or Baidu shows it, finds it 0 m away, and the
    answer gives back that same position within a centimetre."""
    service = load_service([station, (station[0] + 0.01, station[1])], [0, 0])
    shown_lon, shown_lat = (float(v) for v in from_wgs84(*station, crs))
    (first, _) = answer(service, shown_lon, shown_lat, NearestOptions(k=2, crs=crs))
    assert first["id"] == "P-000"
    assert first["properties"]["distance_m"] <= 0.05
    out_lon, out_lat = first["geometry"]["coordinates"]
    assert float(haversine_m(shown_lon, shown_lat, out_lon, out_lat)) < ROUND_TRIP_TOLERANCE_M
