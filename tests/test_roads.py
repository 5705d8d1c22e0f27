"""Road distances: reading real and synthetic extracts, profiles, snapping, exact k-nearest."""

from __future__ import annotations

import itertools

import numpy as np
import pyrosm
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from roads_data import EBIKE_M, RIDER, STATION_XY, WALK_M, lonlat, write_river_city

from stations.errors import DataFileError
from stations.roads import RoadNetwork
from stations.roads.profiles import EBIKE, WALK
from stations.roads.reference import road_metres_to_all
from stations.roads.synthetic import GridCity, write_grid_city


@pytest.fixture(scope="module")
def river(tmp_path_factory):
    network = RoadNetwork.load(write_river_city(tmp_path_factory.mktemp("river") / "r.osm.pbf"))
    lon, lat = zip(*(lonlat(*STATION_XY[name]) for name in "ABC"), strict=True)
    return network.prepare(lon, lat)


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    """A 40 x 30 grid city with a river, missing streets, footways and one-way streets."""
    city = GridCity(columns=40, rows=30, seed=3)
    path = tmp_path_factory.mktemp("grid") / "grid.osm.pbf"
    write_grid_city(path, city)
    rng = np.random.default_rng(7)
    west, south, east, north = city.bounds()
    lon, lat = rng.uniform(west, east, 60), rng.uniform(south, north, 60)
    # Small labels, so that the fallback search is exercised as well as the labels.
    return city, RoadNetwork.load(path).prepare(lon, lat, prepared_k=4)


def test_river_city_straight_line_and_road_disagree(river):
    """Hand-checked: the straight-line nearest (A, across the river) is not the nearest ride."""
    answer = river.nearest(*lonlat(*RIDER), k=3)
    assert answer.rows == [1, 0]  # B then A; C is 4.7 km from any road and left out
    assert answer.metres == pytest.approx([EBIKE_M["B"], EBIKE_M["A"]], abs=1.0)


def test_walkers_take_the_footbridge(river):
    answer = river.nearest(*lonlat(*RIDER), k=2, profile="walk")
    assert answer.rows == [0, 1]
    assert answer.metres == pytest.approx([WALK_M["A"], WALK_M["B"]], abs=1.0)


def test_filters_and_radius_are_honoured(river):
    only_a = np.array([True, False, False])
    assert river.nearest(*lonlat(*RIDER), k=5, wanted=only_a).rows == [0]
    assert river.nearest(*lonlat(*RIDER), k=5, radius_m=1000).rows == [1]
    assert river.nearest(*lonlat(*RIDER), k=5, radius_m=500).rows == []


def test_rider_is_snapped_onto_the_segment_not_its_nearest_node(river):
    """Between crossings 500 m apart the rider joins the street where it is closest."""
    answer = river.nearest(*lonlat(740, -30), k=1)
    assert answer.rows == [1]
    assert answer.metres[0] == pytest.approx(30 + 560 + 20, abs=1.0)


def test_route_runs_from_rider_to_station_along_the_road(river):
    answer = river.nearest(*lonlat(*RIDER), k=2, route=True)
    assert answer.rows == [1, 0]
    to_a = answer.routes[1]
    assert to_a[0] == pytest.approx(lonlat(*RIDER))
    assert to_a[-1] == pytest.approx(lonlat(*STATION_XY["A"]))
    # Over the bridge at x = 1000, never the footbridge at x = 500.
    assert pytest.approx(lonlat(1000, 0)) in to_a and pytest.approx(lonlat(1000, 300)) in to_a
    length = sum(np.hypot(*np.subtract(p, q) * [np.cos(np.radians(34.25)), 1]) * 111195
                 for p, q in itertools.pairwise(to_a))
    assert length == pytest.approx(answer.metres[1], rel=1e-3)


def test_stations_far_from_roads_are_reported(river):
    report = river.off_road_report()
    assert [row for row, _ in report["ebike"]] == [2]
    assert report["ebike"][0][1] == pytest.approx(4700, abs=1)


def test_a_rider_far_from_roads_has_no_road_answer(river):
    assert river.nearest(*lonlat(0, 3000), k=1) is None


@pytest.mark.parametrize(("tags", "ebike", "walk"), [
    ({"highway": "residential"}, (True, True), (True, True)),
    ({"highway": "residential", "oneway": "yes"}, (True, False), (True, True)),
    ({"highway": "residential", "oneway": "-1"}, (False, True), (True, True)),
    ({"highway": "residential", "oneway": "yes", "oneway:bicycle": "no"}, (True, True),
     (True, True)),
    ({"highway": "primary", "junction": "roundabout"}, (True, False), (True, True)),
    ({"highway": "motorway"}, (False, False), (False, False)),
    ({"highway": "trunk"}, (True, True), (True, True)),
    ({"highway": "trunk", "bicycle": "no"}, (False, False), (True, True)),
    ({"highway": "trunk", "motorroad": "yes"}, (False, False), (True, True)),
    ({"highway": "footway"}, (False, False), (True, True)),
    ({"highway": "footway", "bicycle": "yes"}, (True, True), (True, True)),
    ({"highway": "path"}, (False, False), (True, True)),
    ({"highway": "steps", "bicycle": "yes"}, (False, False), (True, True)),
    ({"highway": "cycleway", "foot": "no"}, (True, True), (False, False)),
    ({"highway": "service", "access": "private"}, (False, False), (False, False)),
    ({"highway": "pedestrian", "area": "yes"}, (False, False), (False, False)),
    ({"highway": "construction"}, (False, False), (False, False)),
    ({"highway": "residential", "bicycle": "dismount"}, (False, False), (True, True)),
])
def test_profile_rules(tags, ebike, walk):
    assert EBIKE.directions(tags) == ebike
    assert WALK.directions(tags) == walk


def test_real_extract_shipped_with_pyrosm():
    """The small real extract pyrosm ships (read offline): both profiles, exact answers."""
    network = RoadNetwork.load(pyrosm.get_data("test_pbf"))
    ebike, walk = network.graphs["ebike"], network.graphs["walk"]
    assert 300 < ebike.node_count < walk.node_count  # walkers also have footways and paths
    rng = np.random.default_rng(1)
    stations = rng.choice(walk.node_count, 12, replace=False)
    roads = network.prepare(walk.lon[stations], walk.lat[stations])
    for profile in ("ebike", "walk"):
        prepared = roads.profiles[profile]
        for node in rng.choice(walk.node_count, 20, replace=False):
            start = prepared.starts(walk.lon[node], walk.lat[node])[0]
            if start is None:
                continue
            expected = road_metres_to_all(prepared, start)
            answer = prepared.nearest(start, 3)
            assert answer.metres == pytest.approx(np.sort(expected)[:len(answer.rows)])
            assert expected[answer.rows] == pytest.approx(answer.metres)


def test_unreadable_extract_is_a_data_file_error(tmp_path):
    bad = tmp_path / "bad.osm.pbf"
    bad.write_bytes(b"not a protocol buffer")
    with pytest.raises(DataFileError, match=r"bad\.osm\.pbf"):
        RoadNetwork.load(bad)
    with pytest.raises(DataFileError, match="no such file"):
        RoadNetwork.load(tmp_path / "missing.osm.pbf")


@settings(max_examples=60, deadline=None)
@given(x=st.floats(0, 1), y=st.floats(0, 1), k=st.integers(1, 10),
       profile=st.sampled_from(["ebike", "walk"]), keep=st.sampled_from([1.0, 0.5, 0.1]),
       radius=st.sampled_from([None, 400.0, 1500.0]), seed=st.integers(0, 2**16))
def test_exact_against_brute_force_dijkstra(grid, x, y, k, profile, keep, radius, seed):
    """Labels or fallback, the answer is scipy's full Dijkstra over the same graph."""
    city, roads = grid
    west, south, east, north = city.bounds()
    lon, lat = west + x * (east - west), south + y * (north - south)
    wanted = np.random.default_rng(seed).random(roads.profiles[profile].count) < keep
    prepared = roads.profiles[profile]
    start = prepared.starts(lon, lat)[0]
    expected = road_metres_to_all(prepared, start)
    expected[~wanted] = np.inf
    if radius is not None:
        expected[expected > radius] = np.inf
    ranked = np.sort(expected)[:k]
    ranked = ranked[np.isfinite(ranked)]
    for route in (False, True):
        answer = prepared.nearest(start, k, wanted, radius, route)
        assert answer.metres == pytest.approx(ranked.tolist())
        assert expected[answer.rows] == pytest.approx(answer.metres)
