"""Reach by road for planners: hand-checked distances on the river city, coverage of demand
at the exact reach, isochrones, and agreement with scipy's full Dijkstra on a grid city."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from roads_data import EBIKE_M, RIDER, STATION_XY, WALK_M, lonlat, write_river_city

from stations.errors import PlanningError
from stations.planning.demand import demand_points
from stations.planning.reach import StraightLineReach, within
from stations.planning.road_reach import RoadReach, minutes_to_metres
from stations.planning.sites import Candidates, plan_sites
from stations.roads import RoadNetwork
from stations.roads.nearest import RoadStations
from stations.roads.reference import road_metres_to_all
from stations.roads.synthetic import GridCity, write_grid_city


@pytest.fixture(scope="module")
def river_pbf(tmp_path_factory):
    return write_river_city(tmp_path_factory.mktemp("river") / "r.osm.pbf")


@pytest.fixture(scope="module")
def river(river_pbf):
    return RoadNetwork.load(river_pbf)


def stations_at(*names: str) -> tuple[list[float], list[float]]:
    lon, lat = zip(*(lonlat(*STATION_XY[n]) for n in names), strict=True)
    return list(lon), list(lat)


def test_road_metres_to_the_nearest_station_hand_checked(river):
    lon, lat = stations_at("A", "B", "C")
    rider = lonlat(*RIDER)
    ebike = RoadReach(river, "ebike", lon, lat, 1000).nearest_m([rider[0]], [rider[1]])
    walk = RoadReach(river, "walk", lon, lat, 1000).nearest_m([rider[0]], [rider[1]])
    assert ebike == pytest.approx([EBIKE_M["B"]], abs=0.5)  # B: 820 m along the south bank
    assert walk == pytest.approx([WALK_M["A"]], abs=0.5)  # A: 460 m over the footbridge
    # 30 m off the south street at x = 100: 30 + 100 + 300 + 600 + 20 = 1050 m to A by e-bike.
    far = RoadReach(river, "ebike", *stations_at("A"), 1000).nearest_m(*lonlat(100, -30))
    assert far == pytest.approx([1050.0], abs=0.5)
    # On B's own segment (x = 1000..1500) no node is passed: 20 + 150 + 20 m.
    same = RoadReach(river, "ebike", *stations_at("B"), 1000).nearest_m(*lonlat(1450, -20))
    assert same == pytest.approx([190.0], abs=0.5)


def test_demand_exactly_at_the_road_reach_is_covered(river):
    # The walk is 460 m by hand (to 5 mm on the sphere); a reach of exactly that covers the
    # rider, from a station or from a new site there, and 5 cm less does not.
    rider = lonlat(*RIDER)
    (walk,) = RoadReach(river, "walk", *stations_at("A"), 1000).nearest_m(*rider)
    assert walk == pytest.approx(WALK_M["A"], abs=0.01)
    demand = demand_points([rider[0]], [rider[1]], [3.0])
    for reach_m, covered in ((walk, 3.0), (walk - 0.05, 0.0)):
        reach = RoadReach(river, "walk", *stations_at("A"), reach_m)
        assert demand.weight[within(reach.nearest_m(demand.lon, demand.lat), reach_m)].sum() \
            == covered
        site = RoadReach(river, "walk", [], [], reach_m).site_coverage(
            *stations_at("A"), demand.lon, demand.lat)
        assert site.sum() == covered / 3


def test_near_in_a_straight_line_but_across_a_river_without_a_bridge_is_not_covered(river):
    # A is 349 m from the rider as the crow flies; by e-bike the nearest bridge makes it 1220 m.
    lon, lat = stations_at("A")
    rider = lonlat(*RIDER)
    assert within(StraightLineReach(lon, lat, 500).nearest_m(*rider), 500).all()
    road = RoadReach(river, "ebike", lon, lat, 500)
    assert road.nearest_m(*rider) == pytest.approx([EBIKE_M["A"]], abs=0.5)
    assert not within(road.nearest_m(*rider), 500).any()


def test_off_the_network_and_without_stations_is_unreachable(river):
    reach = RoadReach(river, "walk", *stations_at("A"), 1000)
    assert np.isinf(reach.nearest_m(*lonlat(600, 5000))).all()  # 4.7 km from every road
    assert reach.nearest_m([], []).shape == (0,)
    empty = RoadReach(river, "walk", [], [], 1000)
    assert np.isinf(empty.nearest_m(*lonlat(*RIDER))).all()
    # Station C is off the network: it reaches nobody, even standing next to the point.
    alone = RoadReach(river, "walk", *stations_at("C"), 1000)
    assert np.isinf(alone.nearest_m(*lonlat(600, 4990))).all()


def test_minutes_and_their_limits():
    assert minutes_to_metres(15, "walk") == pytest.approx(1125.0)
    assert minutes_to_metres(10, "ebike") == pytest.approx(2500.0)
    with pytest.raises(PlanningError, match=r"minutes: must be 1\.\.120"):
        minutes_to_metres(0, "walk")


def test_plan_by_road_picks_the_site_a_rider_can_reach(river):
    # Two candidates 350 m from the rider: across the river (straight-line best, 1220 m by
    # e-bike) and on the rider's bank 800 m along the street.  Only the second is in reach.
    demand = demand_points(*(np.array([v]) for v in lonlat(*RIDER)), [5.0])
    sites = Candidates(*(np.array(v) for v in zip(lonlat(600, 320), lonlat(1300, -20),
                                                   strict=True)))
    road = RoadReach(river, "ebike", [], [], 850)
    by_road = plan_sites(sites, demand, [], [], 1, 850, reach=road)
    assert list(by_road.chosen) == [1] and by_road.covered_after == 5
    assert road.site_coverage(sites.lon, sites.lat, demand.lon, demand.lat).toarray().tolist() \
        == [[0.0], [1.0]]
    straight = StraightLineReach([], [], 850)
    assert straight.site_coverage(sites.lon, sites.lat, demand.lon, demand.lat).toarray(
        ).tolist() == [[1.0], [1.0]]


def test_isochrone_follows_the_streets_not_a_circle(river):
    reach = RoadReach(river, "walk", *stations_at("A"), 400)
    area = reach.service_area()
    inside = [lonlat(700, 300), lonlat(250, 300), lonlat(500, 100)]  # street, footbridge
    outside = [lonlat(1100, 300), lonlat(700, -20)]  # beyond 400 m; across the river
    assert shapely.contains_xy(area, *np.array(inside).T).all()
    assert not shapely.contains_xy(area, *np.array(outside).T).any()
    assert float(np.hypot(100, 340)) < 400  # a 400 m circle would take in (700, -20)
    first, second = reach.site_areas(*stations_at("A", "C"))
    assert first.equals_exact(area, 1e-6) and second.is_empty


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    city = GridCity(columns=30, rows=24, seed=5)
    path = tmp_path_factory.mktemp("grid") / "grid.osm.pbf"
    write_grid_city(path, city)
    return city, RoadNetwork.load(path)


@pytest.mark.parametrize("profile", ["walk", "ebike"])
def test_agrees_with_scipy_dijkstra_from_every_point(grid, profile):
    city, network = grid
    rng = np.random.default_rng(11)
    west, south, east, north = city.bounds()
    site_lon, site_lat = rng.uniform(west, east, 12), rng.uniform(south, north, 12)
    lon, lat = rng.uniform(west, east, 150), rng.uniform(south, north, 150)
    reach = RoadReach(network, profile, site_lon, site_lat, 700)
    brute = RoadStations(network.graphs[reach.profile], network.snappers[reach.profile],
                         site_lon, site_lat)
    expected = np.array([road_metres_to_all(brute, start) for start in brute.starts(lon, lat)])
    assert reach.nearest_m(lon, lat) == pytest.approx(expected.min(axis=1))
    matrix = reach.site_coverage(site_lon, site_lat, lon, lat).toarray()
    assert (matrix == 1).sum() > 20  # the comparison has cases on both sides
    assert np.array_equal(matrix == 1, within(expected.T, 700))
