"""The share of a district's area within straight-line reach, against areas known by hand.

The share is of the district's grid cells (:mod:`stations.planning.samples`), so the expected
values divide an area on the sphere by the cells' area on the sphere: their number times the
cell's area on the equal-area map, times the sphere's area per map square metre there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from planning_data import LAT0, at_km, square, two_districts

from stations.index import EARTH_RADIUS_M
from stations.planning.coverage import Stations, area_within, district_coverage
from stations.planning.reach import StraightLineReach
from stations.planning.reach_area import straight_line_area
from stations.planning.samples import area_samples

REACH_M = 1000.0
_A, _E2 = 6378137.0, 0.00669437999014


def cells_on_sphere_km2(samples, district: int) -> float:
    """The district's cells' area on the sphere (km²), from the WGS84 radii of curvature."""
    lat = math.radians(float(np.mean(samples.lat[samples.district == district])))
    w = 1 - _E2 * math.sin(lat) ** 2
    sphere_per_map = EARTH_RADIUS_M ** 2 / ((_A / math.sqrt(w)) * (_A * (1 - _E2) / w ** 1.5))
    count = int((samples.district == district).sum())
    return count * samples.spacing_m[district] ** 2 * sphere_per_map / 1e6


def cap_km2(radius_m: float) -> float:
    """Area of a spherical cap: 2 pi R² (1 - cos(r / R))."""
    return 2 * math.pi * EARTH_RADIUS_M ** 2 * (1 - math.cos(radius_m / EARTH_RADIUS_M)) / 1e6


def lens_km2(radius_m: float, apart_m: float) -> float:
    """Area shared by two discs of one radius (plane; a kilometre is flat to 1e-8)."""
    r, d = radius_m, apart_m
    return (2 * r * r * math.acos(d / (2 * r)) - d / 2 * math.sqrt(4 * r * r - d * d)) / 1e6


@pytest.fixture(scope="module")
def districts():
    return two_districts()


@pytest.fixture(scope="module")
def samples(districts):
    return area_samples(districts, per_district=20_000)


def test_one_station_disc_is_the_cap_area_on_the_sphere(samples):
    lon, lat = at_km(5, 5)
    result = straight_line_area(samples, [lon], [lat], REACH_M)
    expected = cap_km2(REACH_M + 0.01) / cells_on_sphere_km2(samples, 0)
    assert result.share[0] == pytest.approx(expected, rel=2e-4)
    assert result.share[0] == pytest.approx(math.pi / 100, rel=0.01)
    assert result.bound.tolist() == [0, 0]  # one circle: every cell is exact
    assert result.share[1] == 0


def test_a_station_on_the_border_covers_half_a_disc_on_each_side(samples):
    lon, lat = at_km(10, 5)
    result = straight_line_area(samples, [lon], [lat], REACH_M)
    for district in (0, 1):
        expected = cap_km2(REACH_M) / 2 / cells_on_sphere_km2(samples, district)
        assert result.share[district] == pytest.approx(expected, rel=5e-3)


def test_overlapping_discs_stay_within_the_bound(samples):
    apart = 1200.0
    west, north = at_km(4.4, 5), at_km(5.6, 5)
    result = straight_line_area(samples, [west[0], north[0]], [west[1], north[1]], REACH_M)
    union = 2 * cap_km2(REACH_M) - lens_km2(REACH_M, apart)
    exact = union / cells_on_sphere_km2(samples, 0)
    assert 0 < result.bound[0] < 1e-4  # the two corners of the lens, split down to 16 m
    assert abs(result.share[0] - exact) <= result.bound[0] + 2e-4 * exact
    assert result.share[1] == 0


def test_a_district_without_station_and_one_entirely_covered():
    small = two_districts()
    small.loc[0, "geometry"] = square(4, 4, 2)  # 2 km square around the station
    samples = area_samples(small, per_district=500)
    lon, lat = at_km(5, 5)
    result = straight_line_area(samples, [lon], [lat], 1500.0)  # corners are 1.41 km away
    assert result.share[0] == 1
    assert result.bound[0] == 0
    assert result.share[1] == 0 and result.bound[1] == 0
    none = straight_line_area(samples, [], [], 1500.0)
    assert none.share.tolist() == [0, 0]


class _CentresOnly:
    """A reach that is not straight-line (like a road network): measured at cell centres."""

    by = "road"

    def __init__(self, lon: list[float], lat: list[float], reach_m: float) -> None:
        self._inner = StraightLineReach(lon, lat, reach_m)
        self.reach_m = reach_m

    def nearest_m(self, lon, lat):
        return self._inner.nearest_m(lon, lat)


def test_other_kinds_of_reach_count_cell_centres_without_a_bound(districts, samples):
    lon, lat = at_km(5, 5)
    stations = Stations.locate([lon], [lat], districts)
    other = area_within(stations, _CentresOnly([lon], [lat], REACH_M), samples)
    exact = area_within(stations, StraightLineReach([lon], [lat], REACH_M), samples)
    assert np.isnan(other.bound).all()
    assert other.share[0] == pytest.approx(exact.share[0], rel=0.02)  # 70 m grid, 1 km disc
    table = district_coverage(stations, districts, _CentresOnly([lon], [lat], REACH_M),
                              samples=samples)
    assert table["area_share_bound"].isna().all()
    assert lat > LAT0 and shapely.contains_xy(districts.geometry[0], lon, lat)
