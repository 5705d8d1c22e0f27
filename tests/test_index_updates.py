"""An index updated in place of a rebuild answers exactly as a freshly built one."""

from __future__ import annotations

import numpy as np

from stations.index import StationIndex


def _edit(rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Random moves, deletions and additions: new positions, changed rows, old -> new rows."""
    new_row = None
    if rng.random() < 0.5:  # some stations go; the others keep their order
        keep = np.ones(lon.size, dtype=bool)
        keep[rng.choice(lon.size, 3, replace=False)] = False
        new_row = np.where(keep, np.cumsum(keep) - 1, -1)
        lon, lat = lon[keep], lat[keep]
    lon, lat = lon.copy(), lat.copy()
    moved = rng.choice(lon.size, 4, replace=False)
    lon[moved] += rng.normal(0, 0.05, moved.size)
    lat[moved] += rng.normal(0, 0.05, moved.size)
    added = rng.integers(0, 3)
    lon = np.concatenate([lon, rng.uniform(108.0, 109.0, added)])
    lat = np.concatenate([lat, rng.uniform(22.5, 23.5, added)])
    changed = np.concatenate([moved, np.arange(lon.size - added, lon.size)])
    return lon, lat, changed, new_row


def test_random_edits_answer_as_a_fresh_tree():
    rng = np.random.default_rng(14)
    lon, lat = rng.uniform(108.0, 109.0, 3000), rng.uniform(22.5, 23.5, 3000)
    index = StationIndex(lon, lat)
    points_lon, points_lat = rng.uniform(107.9, 109.1, 300), rng.uniform(22.4, 23.6, 300)
    for _step in range(25):
        lon, lat, changed, new_row = _edit(rng, lon, lat)
        index = index.updated(lon, lat, changed, new_row)
    assert index.overlay_size > 50  # the test exercises the overlay and the skipped points
    fresh = StationIndex(lon, lat)
    wide = rng.random(lon.size) < 0.7   # filtered inside the tree walk
    rare = rng.random(lon.size) < 0.01  # filtered by a linear scan
    for mask in (None, wide, rare):
        for radius in (None, 3000.0):
            got = index.nearest_batch(points_lon, points_lat, 8, radius, mask)
            want = fresh.nearest_batch(points_lon, points_lat, 8, radius, mask)
            assert np.array_equal(got.index, want.index)
            assert np.allclose(got.distance_m, want.distance_m, rtol=0, atol=1e-6)
            for x, y in zip(points_lon[:40], points_lat[:40], strict=True):
                rows, metres = index.nearest(x, y, 8, radius, mask)
                expected_rows, expected_metres = fresh.nearest(x, y, 8, radius, mask)
                assert rows == expected_rows
                assert np.allclose(metres, expected_metres, rtol=0, atol=1e-6)


def test_an_update_leaves_the_index_it_came_from_as_it_was():
    lon, lat = np.array([108.0, 108.1, 108.2]), np.array([22.0, 22.0, 22.0])
    before = StationIndex(lon, lat)
    after = before.updated(np.array([108.0, 108.1]), np.array([22.0, 22.5]), [1],
                           np.array([0, -1, 1]))
    assert before.nearest(108.2, 22.0, 1) == ([2], [0.0])
    rows, _ = after.nearest(108.2, 22.0, 2)
    assert rows == [0, 1] and len(after) == 2 and after.overlay_size == 3
    assert after.nearest(108.1, 22.5, 1) == ([1], [0.0])
