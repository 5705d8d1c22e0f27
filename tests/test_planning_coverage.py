"""Coverage per district, checked by hand on two 10 km squares."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from planning_data import KM_LAT, at_km, two_districts

from stations.crs import wgs84_to_gcj02
from stations.errors import PlanningError
from stations.index import EARTH_RADIUS_M
from stations.planning.coverage import Stations, coverage_totals, district_coverage
from stations.planning.demand import demand_points, read_demand
from stations.planning.reach import StraightLineReach, check_reach
from stations.planning.samples import areas_km2

REACH_M = 1000.0


@pytest.fixture
def setting():
    """One station in the middle of 甲区; 乙区 has none."""
    districts = two_districts()
    lon, lat = at_km(5, 5)
    stations = Stations.locate([lon], [lat], districts)
    return districts, stations, StraightLineReach([lon], [lat], REACH_M)


def test_area_share_station_counts_and_a_district_without_station(setting):
    districts, stations, reach = setting
    table = district_coverage(stations, districts, reach)
    area = areas_km2(districts.geometry)
    assert table["area_km2"].to_numpy() == pytest.approx(area, abs=0.01)
    assert area == pytest.approx([100, 100], rel=0.002)
    assert table["stations"].tolist() == [1, 0]
    assert table["stations_per_10k_km2"].tolist() == pytest.approx([100, 0], rel=0.01)
    # A 1 km circle in a 100 km² square: pi %; 乙区 shows, with nothing within reach.
    assert table["area_share"].iloc[0] == pytest.approx(math.pi / area[0], abs=0.0015)
    assert table["area_share"].iloc[1] == 0
    # 乙区's far corners are sqrt(15² + 5²) = 15.8 km from the station.
    assert table["largest_gap_m"].iloc[1] == pytest.approx(15_811, abs=150)
    assert table["gap_lon"].iloc[1] > at_km(19, 0)[0]
    totals = coverage_totals(table)
    assert totals["districts_without_station"] == 1
    assert totals["area_share"] == pytest.approx(math.pi / area.sum(), abs=0.001)


def test_demand_exactly_at_the_reach_boundary_counts(setting):
    districts, stations, reach = setting
    lon, lat = at_km(5, 5)
    step = math.degrees(1.0 / EARTH_RADIUS_M)  # one metre north along the meridian
    demand = demand_points([lon, lon, at_km(15, 5)[0]],
                           [lat + REACH_M * step, lat + (REACH_M + 1) * step, at_km(15, 5)[1]],
                           [3, 5, 7])
    table = district_coverage(stations, districts, reach, demand)
    assert table["demand"].tolist() == [8, 7]
    assert table["demand_within"].tolist() == [3, 0]
    assert table["demand_share"].tolist() == [0.375, 0]
    assert coverage_totals(table)["demand_share"] == pytest.approx(3 / 15, abs=1e-4)


def test_demand_given_in_gcj02_is_converted(setting, tmp_path):
    districts, stations, reach = setting
    wgs = [at_km(5, 5.8), at_km(5, 6.2), at_km(15, 5)]  # 800 m, 1.2 km and 10 km away
    gcj_lon, gcj_lat = wgs84_to_gcj02([p[0] for p in wgs], [p[1] for p in wgs])
    csv = tmp_path / "orders.csv"
    pd.DataFrame({"经度": gcj_lon, "纬度": gcj_lat, "订单": [10, 20, 30]}).to_csv(csv,
                                                                               index=False)
    demand = read_demand(csv, crs="gcj02")
    assert demand.label == "订单"
    assert demand.lon == pytest.approx([p[0] for p in wgs], abs=1e-8)
    table = district_coverage(stations, districts, reach, demand)
    assert table["demand_within"].tolist() == [10, 0]
    # Read as if WGS84, the 800 m point moves ~520 m east and ~155 m north: out of reach.
    wrong = district_coverage(stations, districts, reach, read_demand(csv, crs="wgs84"))
    assert wrong["demand_within"].tolist() == [0, 0]


def test_demand_file_errors_name_row_and_field(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("lon,lat,weight\n116.4,39.9,1\n116.4,abc,2\n", encoding="utf-8")
    with pytest.raises(PlanningError, match=r"row 2 \(第2行\): latitude 'abc'"):
        read_demand(csv)
    csv.write_text("lon,lat,weight\n116.4,39.9,-1\n", encoding="utf-8")
    with pytest.raises(PlanningError, match=r"row 1.*weight"):
        read_demand(csv)
    csv.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(PlanningError, match="longitude and latitude"):
        read_demand(csv)


def test_demand_cells_as_polygons_count_at_their_centroid(setting, tmp_path):
    districts, stations, reach = setting
    lon, lat = at_km(5, 5)
    cell = shapely.box(lon - 0.001, lat - 0.001, lon + 0.001, lat + 0.001)
    path = tmp_path / "cells.gpkg"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"population": [250]}, geometry=[cell],
                                             crs="EPSG:4326"), path)
    table = district_coverage(stations, districts, reach, read_demand(path))
    assert table["demand_within"].tolist() == [250, 0]


def test_no_stations_at_all(setting):
    districts, _stations, _reach = setting
    empty = Stations.locate([], [], districts)
    table = district_coverage(empty, districts, StraightLineReach([], [], REACH_M))
    assert table["area_share"].tolist() == [0, 0]
    assert np.isinf(table["largest_gap_m"]).all() or table["largest_gap_m"].isna().all()


def test_reach_is_checked():
    with pytest.raises(PlanningError, match="reach"):
        check_reach(0)
    assert KM_LAT > 0
