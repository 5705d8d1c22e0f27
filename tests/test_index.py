"""The nearest-neighbour index agrees with brute-force haversine everywhere on the sphere."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stations.index import (
    EARTH_RADIUS_M,
    StationIndex,
    StationSubset,
    haversine_m,
    initial_bearing_deg,
)


def brute_force(lon, lat, q_lon, q_lat, k, radius_m=None, mask=None):
    """Distances of the k nearest by haversine (inf-padded), the reference answer."""
    metres = haversine_m(q_lon, q_lat, lon, lat)
    if mask is not None:
        metres = np.where(mask, metres, np.inf)
    if radius_m is not None:
        metres = np.where(metres <= radius_m, metres, np.inf)
    best = np.sort(metres)[:k]
    return np.pad(best, (0, max(0, k - best.size)), constant_values=np.inf)


def assert_same_distances(found, expected):
    assert np.array_equal(np.isinf(found), np.isinf(expected))
    finite = ~np.isinf(expected)
    np.testing.assert_allclose(found[finite], expected[finite], rtol=1e-9, atol=1e-6)


@pytest.fixture(scope="module")
def national():
    rng = np.random.default_rng(7)
    lon = rng.uniform(73, 135, 20_000)
    lat = rng.uniform(18, 53, 20_000)
    return lon, lat, StationIndex(lon, lat)


def test_haversine_known_distances():
    # A quarter of the equator, and one degree of latitude.
    assert haversine_m(0, 0, 90, 0) == pytest.approx(np.pi / 2 * EARTH_RADIUS_M)
    assert haversine_m(108.0, 22.0, 108.0, 23.0) == pytest.approx(111_195.08, abs=0.01)


def test_bearing_compass_points():
    assert initial_bearing_deg(0, 0, 0, 1) == pytest.approx(0.0)
    assert initial_bearing_deg(0, 0, 1, 0) == pytest.approx(90.0)
    assert initial_bearing_deg(0, 1, 0, 0) == pytest.approx(180.0)
    assert initial_bearing_deg(1, 0, 0, 0) == pytest.approx(270.0)


def test_batch_matches_brute_force(national):
    lon, lat, index = national
    rng = np.random.default_rng(3)
    q_lon, q_lat = rng.uniform(70, 140, 300), rng.uniform(15, 55, 300)
    found = index.nearest_batch(q_lon, q_lat, 5)
    for row in range(300):
        assert_same_distances(found.distance_m[row],
                              brute_force(lon, lat, q_lon[row], q_lat[row], 5))
        metres = haversine_m(q_lon[row], q_lat[row], lon[found.index[row]], lat[found.index[row]])
        np.testing.assert_allclose(metres, found.distance_m[row], rtol=1e-9)


@pytest.mark.parametrize("share", [0.5, 0.05, 0.001])
def test_filtered_queries_match_brute_force(national, share):
    """Broad masks go through the tree, selective ones through the linear scan."""
    lon, lat, index = national
    rng = np.random.default_rng(11)
    mask = rng.random(lon.size) < share
    q_lon, q_lat = rng.uniform(73, 135, 100), rng.uniform(18, 53, 100)
    found = index.nearest_batch(q_lon, q_lat, 7, radius_m=400_000, mask=mask)
    assert np.all(mask[found.index[found.index >= 0]])
    for row in range(100):
        assert_same_distances(found.distance_m[row],
                              brute_force(lon, lat, q_lon[row], q_lat[row], 7, 400_000, mask))


def test_radius_returns_fewer_than_k(national):
    lon, lat, index = national
    indices, metres = index.nearest(108.3, 22.8, 50, radius_m=20_000)
    assert len(indices) < 50
    assert all(m <= 20_000 for m in metres)
    expected = brute_force(lon, lat, 108.3, 22.8, 50, 20_000)
    assert len(indices) == int(np.isfinite(expected).sum())


def test_single_and_batch_agree(national):
    _, _, index = national
    indices, metres = index.nearest(110.0, 30.0, 5)
    found = index.nearest_batch([110.0], [30.0], 5)
    assert indices == found.index[0].tolist()
    np.testing.assert_allclose(metres, found.distance_m[0])


def test_poles_and_antimeridian():
    lon = np.array([179.9, -179.9, 0.0, 90.0, -90.0, 10.0])
    lat = np.array([0.0, 0.0, 89.99, 89.99, -89.99, 0.0])
    index = StationIndex(lon, lat)
    # Across the antimeridian the stations are 0.05 and 0.15 degrees away, not 359.85.
    indices, metres = index.nearest(-179.95, 0.0, 2)
    assert sorted(indices) == [0, 1]
    assert metres == pytest.approx([5_559.75, 16_679.26], abs=0.01)
    # Near the north pole, longitude hardly matters.
    indices, metres = index.nearest(-120.0, 89.995, 2)
    assert sorted(indices) == [2, 3]
    assert indices[0] in (2, 3) and metres[0] < 2_000
    indices, _ = index.nearest(45.0, -89.999, 1)
    assert indices == [4]


def test_duplicates_are_all_returned():
    lon = np.array([108.0, 108.0, 108.0, 109.0])
    lat = np.array([22.0, 22.0, 22.0, 22.0])
    index = StationIndex(lon, lat)
    indices, metres = index.nearest(108.0, 22.0, 3)
    assert sorted(indices) == [0, 1, 2]
    assert metres == [0.0, 0.0, 0.0]


def test_k_larger_than_stations_and_empty_mask():
    index = StationIndex([108.0, 109.0], [22.0, 23.0])
    indices, _ = index.nearest(108.0, 22.0, 10)
    assert indices == [0, 1]
    assert index.nearest(108.0, 22.0, 3, mask=np.array([False, False])) == ([], [])
    assert index.nearest(108.0, 22.0, 3, mask=np.array([False, True]))[0] == [1]


def test_k_below_one_is_refused():
    with pytest.raises(ValueError, match="k must be"):
        StationIndex([1.0], [1.0]).nearest_batch([1.0], [1.0], 0)


@settings(max_examples=60, deadline=None)
@given(
    points=st.lists(
        st.tuples(st.floats(-180, 180), st.floats(-90, 90)), min_size=1, max_size=60
    ),
    query=st.tuples(st.floats(-180, 180), st.floats(-90, 90)),
    k=st.integers(1, 8),
    use_mask=st.booleans(),
)
def test_hypothesis_matches_brute_force(points, query, k, use_mask):
    lon = np.array([p[0] for p in points])
    lat = np.array([p[1] for p in points])
    mask = (np.arange(lon.size) % 2 == 0) if use_mask else None
    index = StationIndex(lon, lat)
    _, metres = index.nearest(query[0], query[1], k, mask=mask)
    expected = brute_force(lon, lat, query[0], query[1], k, mask=mask)
    assert_same_distances(np.pad(np.array(metres), (0, k - len(metres)),
                                 constant_values=np.inf), expected)


def test_subset_answers_like_a_masked_query(national):
    lon, _, index = national
    rng = np.random.default_rng(21)
    for share in (0.3, 0.01, 0.0):
        mask = rng.random(lon.size) < share
        subset = StationSubset(index, mask)
        q_lon, q_lat = rng.uniform(73, 135, 50), rng.uniform(18, 53, 50)
        expected = index.nearest_batch(q_lon, q_lat, 4, mask=mask)
        found = subset.nearest_batch(q_lon, q_lat, 4)
        np.testing.assert_array_equal(found.index, expected.index)
        np.testing.assert_allclose(found.distance_m, expected.distance_m)
        assert subset.nearest(q_lon[0], q_lat[0], 4)[0] == [
            i for i in expected.index[0].tolist() if i >= 0]
