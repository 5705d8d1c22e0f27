"""Service-area analysis: metric buffers, merging, grid statistics and the largest gap."""

from __future__ import annotations

import math

import numpy as np
import pyproj
import pytest
import shapely

from stations.crs import wgs84_to_gcj02
from stations.errors import MapError
from stations.geodata import station_frame
from stations.maps import Basemap
from stations.maps.basemaps import display_geometry
from stations.maps.coverage import compute_coverage

GEOD = pyproj.Geod(ellps="WGS84")
# A 32-sided polygon inscribed in a circle covers this share of the circle's area.
POLYGON_32_SHARE = 32 / (2 * math.pi) * math.sin(2 * math.pi / 32)


def stations_at(lonlats: list[tuple[float, float]]):
    return station_frame({"id": [f"T-{i}" for i in range(len(lonlats))], "name": "测试驿站",
                          "city": "南宁市", "status": "open"},
                         [p[0] for p in lonlats], [p[1] for p in lonlats])


def ground_area_m2(geometry: shapely.Geometry) -> float:
    return abs(GEOD.geometry_area_perimeter(geometry)[0])


def offset(lon: float, lat: float, east_m: float, north_m: float) -> tuple[float, float]:
    lon2, lat2, _ = GEOD.fwd(lon, lat, 90, east_m)
    lon3, lat3, _ = GEOD.fwd(lon2, lat2, 0, north_m)
    return lon3, lat3


@pytest.mark.parametrize("lat", [22.8, 45.7])
def test_service_area_is_metres_on_the_ground_not_degrees(lat):
    coverage = compute_coverage(stations_at([(108.4, lat)]), radii_m=(500, 1000))
    for radius in (500, 1000):
        area = ground_area_m2(coverage.service_areas[radius])
        assert area == pytest.approx(math.pi * radius**2 * POLYGON_32_SHARE, rel=0.005)


def test_overlapping_service_areas_are_merged():
    a = (108.40, 22.80)
    b = offset(*a, east_m=600, north_m=0)
    far = offset(*a, east_m=5000, north_m=0)
    coverage = compute_coverage(stations_at([a, b, far]), radii_m=(500,))
    merged = coverage.service_areas[500]
    assert len(shapely.get_parts(merged)) == 2
    single = math.pi * 500**2 * POLYGON_32_SHARE
    # Two discs 600 m apart overlap, so together they cover less than twice one disc.
    assert 2 * single < ground_area_m2(merged) < 3 * single - 0.2 * single


def test_grid_counts_every_station_and_shares_are_sensible(sample_frame):
    nanning = sample_frame[sample_frame["city"] == "南宁市"]
    coverage = compute_coverage(nanning, radii_m=(500, 1000), cell_size_m=1000)
    cells = coverage.cells
    assert cells["station_count"].sum() == len(nanning)
    assert cells["share_500"].between(0, 1).all() and cells["share_1000"].between(0, 1).all()
    assert (cells["share_500"] <= cells["share_1000"] + 1e-9).all()
    # A cell holding a station is largely within 1 km of it; most cells far away are not.
    assert cells.loc[cells["station_count"] > 0, "share_1000"].min() > 0.5
    assert (cells["share_1000"] == 0).sum() > len(cells) / 3
    summary = coverage.summary
    assert summary.station_count == 4
    assert 0 < summary.covered_share[500] < summary.covered_share[1000] < 1
    assert summary.cell_size_m == 1000


def test_largest_gap_is_the_point_farthest_from_every_station():
    a = (108.40, 22.80)
    b = offset(*a, east_m=10_000, north_m=0)
    coverage = compute_coverage(stations_at([a, b]), radii_m=(1000,), cell_size_m=500)
    # The study area is the 10 km segment widened by 1 km; its farthest point from both
    # stations is 1 km off the midpoint: sqrt(5000² + 1000²) = 5099 m.
    assert 4950 < coverage.summary.largest_gap_m <= 5100
    gap_lon, gap_lat = coverage.summary.largest_gap_lonlat
    assert abs(gap_lon - (a[0] + b[0]) / 2) < 0.01
    assert 0.005 < abs(gap_lat - a[1]) < 0.012  # about 1 km north or south


def test_whole_table_spanning_two_cities(sample_frame):
    coverage = compute_coverage(sample_frame)
    assert coverage.summary.station_count == 6
    assert coverage.cells["station_count"].sum() == 6
    assert coverage.summary.largest_gap_m > 100_000  # Nanning and Yunyang are 900 km apart


def test_amap_display_shifts_every_vertex_into_gcj02():
    coverage = compute_coverage(stations_at([(108.40, 22.80)]), radii_m=(500,))
    area = coverage.service_areas[500]
    shifted = display_geometry(Basemap.AMAP, area)
    want = np.column_stack(wgs84_to_gcj02(*shapely.get_coordinates(area).T))
    np.testing.assert_allclose(shapely.get_coordinates(shifted), want, atol=1e-12)
    assert display_geometry(Basemap.OSM, area) is area


@pytest.mark.parametrize(("radii", "cell", "message"), [
    ((), None, "radius"), ((-5,), None, "radius"), ((100_000,), None, "radius"),
    ((500,), 10, "cell size"),
])
def test_bad_options_are_clear_errors(sample_frame, radii, cell, message):
    with pytest.raises(MapError, match=message):
        compute_coverage(sample_frame, radii_m=radii, cell_size_m=cell)


def test_no_stations_is_a_clear_error(sample_frame):
    with pytest.raises(MapError, match="no stations"):
        compute_coverage(sample_frame.iloc[0:0])
