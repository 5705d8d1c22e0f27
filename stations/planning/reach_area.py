"""The share of each district's area within straight-line reach, cell by cell, with a bound.

Each point of :class:`~stations.planning.samples.AreaSamples` stands for its grid cell, a
square of the district's spacing on the Albers equal-area projection.  For every cell:

1. The cell's radius ``ρ`` (centre to farthest corner, in metres on the sphere) and the
   distance ``d`` from its centre to each station decide whole cells: a station with
   ``d + ρ <= reach`` covers all of it; when every station is farther than ``reach + ρ`` none
   of it is covered.  Far from every station a coarse raster answers without a distance.
2. When exactly one station's circle crosses the cell, the covered part is the area of the
   cell and that disc, computed exactly (a quadrilateral and a circle in the cell's local
   plane, where stations sit at their great-circle distance and bearing).
3. When two or more circles cross it (near a corner of the union of service areas), the cell
   is split in four and each quarter decided again, down to :data:`FINEST_CELL_FRACTION` of
   the reach.  A cell still undecided there counts by its centre, and its whole area is added
   to the bound.

So the share of a district's cells within reach is exact but for the cells counted by their
centre, and ``bound`` (a share) is the largest the error can be.  The cells stand for the
district: their number times the cell area differs from the district's area by the cells cut
by its border.  Straight lines only: a road distance is not 1-Lipschitz in the position, so
other kinds of reach are measured on the cell centres (see :mod:`stations.planning.coverage`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from numba import njit, prange
from scipy import ndimage

from ..index import EARTH_RADIUS_M, unit_vectors
from .reach import BOUNDARY_TOLERANCE_M
from .samples import AreaSamples

FloatArray = npt.NDArray[np.float64]
FINEST_CELL_FRACTION: Final = 1 / 64
_MIN_FINEST_M: Final = 0.5
_METRES_PER_DEGREE: Final = math.pi * EARTH_RADIUS_M / 180
_MAX_COARSE_CELLS: Final = 4_000_000
_COARSE_STEP: Final = 2

# The Albers projection of samples.EQUAL_AREA_CHINA (WGS84 ellipsoid; Snyder, Map Projections:
# A Working Manual, p. 101): its scale and meridian convergence give each cell's shape.
_A: Final = 6378137.0
_E2: Final = 0.00669437999014
_LON0: Final = math.radians(105.0)


def _q(sin_lat: float) -> float:
    e = math.sqrt(_E2)
    return (1 - _E2) * (sin_lat / (1 - _E2 * sin_lat ** 2)
                        - math.log((1 - e * sin_lat) / (1 + e * sin_lat)) / (2 * e))


def _m(lat: float) -> float:
    return math.cos(lat) / math.sqrt(1 - _E2 * math.sin(lat) ** 2)


_M1, _M2 = _m(math.radians(25.0)), _m(math.radians(47.0))
_Q1, _Q2 = _q(math.sin(math.radians(25.0))), _q(math.sin(math.radians(47.0)))
_N: Final = (_M1 ** 2 - _M2 ** 2) / (_Q2 - _Q1)
_C: Final = _M1 ** 2 + _N * _Q1


# Stations ordered by bucket: lon, lat, unit vectors, bucket ids, first station of each bucket
# row, buckets per row.  The grid: west, south, bucket width and height (degrees), the coarse
# raster of distances to a station (in coarse cells) and its step in buckets.
_Stations = tuple[FloatArray, FloatArray, FloatArray, npt.NDArray[np.int64],
                  npt.NDArray[np.int64], int]
_Grid = tuple[float, float, float, float, npt.NDArray[np.int32], int]


@dataclass(frozen=True)
class AreaWithin:
    """Per district: the share of its cells within reach, and how far off it can be."""

    share: FloatArray
    bound: FloatArray


@njit(cache=True, inline="always")
def _cell_frame(lon: float, lat: float) -> tuple[float, float, float, float]:
    """Metres on the sphere (east, north) per Albers metre (x, y) at a point: the matrix J.

    Returns (J00, J01, J10, J11): east = J00 x + J01 y, north = J10 x + J11 y.
    """
    s = math.sin(lat)
    e = math.sqrt(_E2)
    w = 1 - _E2 * s * s
    q = (1 - _E2) * (s / w - math.log((1 - e * s) / (1 + e * s)) / (2 * e))
    rho = _A * math.sqrt(_C - _N * q) / _N
    k = rho * _N / (_A * math.cos(lat) / math.sqrt(w))  # scale along the parallel
    theta = _N * (lon - _LON0)
    east_scale = EARTH_RADIUS_M / (_A / math.sqrt(w) * k)           # R / (N k)
    north_scale = EARTH_RADIUS_M * k / (_A * (1 - _E2) / w ** 1.5)  # R k / M
    c, sn = math.cos(theta), math.sin(theta)
    return c * east_scale, sn * east_scale, -sn * north_scale, c * north_scale


@njit(cache=True, inline="always")
def _piece(ax: float, ay: float, dx: float, dy: float, t0: float, t1: float,
           r: float) -> float:
    """Signed area of the disc within the triangle (origin, a + t0 d, a + t1 d), the piece
    lying wholly inside or wholly outside the circle."""
    if t1 <= t0:
        return 0.0
    px, py = ax + t0 * dx, ay + t0 * dy
    qx, qy = ax + t1 * dx, ay + t1 * dy
    mx, my = ax + 0.5 * (t0 + t1) * dx, ay + 0.5 * (t0 + t1) * dy
    cross = px * qy - py * qx
    if mx * mx + my * my < r * r:  # strictly: a tangent edge lies outside
        return 0.5 * cross
    return 0.5 * r * r * math.atan2(cross, px * qx + py * qy)


@njit(cache=True, inline="always")
def _edge_area(ax: float, ay: float, bx: float, by: float, r: float) -> float:
    """Signed area of the disc (origin, ``r``) within the triangle (origin, a, b)."""
    dx, dy = bx - ax, by - ay
    aa = dx * dx + dy * dy
    bb = ax * dx + ay * dy
    cc = ax * ax + ay * ay - r * r
    disc = bb * bb - aa * cc
    if aa <= 0 or disc <= 0:
        return _piece(ax, ay, dx, dy, 0.0, 1.0, r)
    root = math.sqrt(disc)
    t1 = min(1.0, max(0.0, (-bb - root) / aa))
    t2 = min(1.0, max(0.0, (-bb + root) / aa))
    return (_piece(ax, ay, dx, dy, 0.0, t1, r) + _piece(ax, ay, dx, dy, t1, t2, r)
            + _piece(ax, ay, dx, dy, t2, 1.0, r))


@njit(cache=True, inline="always")
def _disc_share(cx: float, cy: float, j00: float, j01: float, j10: float, j11: float,
                half: float, sx: float, sy: float, r: float) -> float:
    """Share of the cell (centre c, half side ``half`` in Albers metres) in the disc (s, r)."""
    us = (-half, half, half, -half)
    vs = (-half, -half, half, half)
    total = 0.0
    for i in range(4):
        k = (i + 1) % 4
        ax = cx + j00 * us[i] + j01 * vs[i] - sx
        ay = cy + j10 * us[i] + j11 * vs[i] - sy
        bx = cx + j00 * us[k] + j01 * vs[k] - sx
        by = cy + j10 * us[k] + j11 * vs[k] - sy
        total += _edge_area(ax, ay, bx, by, r)
    cell = abs(j00 * j11 - j01 * j10) * 4 * half * half
    return min(1.0, max(0.0, abs(total) / cell))


@njit(cache=True, inline="always")
def _radius(j00: float, j01: float, j10: float, j11: float, half: float) -> float:
    one = math.hypot(j00 + j01, j10 + j11)
    two = math.hypot(j00 - j01, j10 - j11)
    return max(one, two) * half * (1 + 1e-9)


@njit(cache=True, inline="always")
def _apart(east: FloatArray, north: FloatArray, mark: npt.NDArray[np.bool_],
           reach: float) -> bool:
    """Whether the marked stations are at least two reaches apart: their discs are disjoint."""
    for i in range(east.size):
        if mark[i]:
            for k in range(i + 1, east.size):
                if mark[k] and math.hypot(east[i] - east[k], north[i] - north[k]) < 2 * reach:
                    return False
    return True


@njit(cache=True)
def _split(east: FloatArray, north: FloatArray, j00: float, j01: float, j10: float,
           j11: float, half: float, reach: float, finest: float) -> tuple[float, float]:
    """Covered and undecided shares of a cell crossed by several circles, split in quarters."""
    depth = 1
    while half / 2 ** depth > finest / 2 and depth < 30:
        depth += 1
    stack_u = np.empty(4 * depth + 4)
    stack_v = np.empty(4 * depth + 4)
    stack_h = np.empty(4 * depth + 4)
    mark = np.zeros(east.size, dtype=np.bool_)
    stack_u[0], stack_v[0], stack_h[0] = 0.0, 0.0, half
    top = 1
    covered = 0.0
    undecided = 0.0
    while top > 0:
        top -= 1
        u, v, h = stack_u[top], stack_v[top], stack_h[top]
        weight = (h / half) ** 2
        cx = j00 * u + j01 * v
        cy = j10 * u + j11 * v
        rho = _radius(j00, j01, j10, j11, h)
        crossing = 0
        which = -1
        full = False
        nearest = np.inf
        for i in range(east.size):
            d = math.hypot(east[i] - cx, north[i] - cy)
            nearest = min(nearest, d)
            if d + rho <= reach:
                full = True
                break
            if d - rho <= reach:
                crossing += 1
                which = i
                mark[i] = True
            else:
                mark[i] = False
        if not full and crossing > 1 and _apart(east, north, mark, reach):
            # Discs that do not overlap: the union's share is the sum of theirs.
            total = 0.0
            for i in range(east.size):
                if mark[i]:
                    total += _disc_share(cx, cy, j00, j01, j10, j11, h, east[i], north[i],
                                         reach)
            covered += weight * min(1.0, total)
            continue
        if full:
            covered += weight
        elif crossing == 1:
            covered += weight * _disc_share(cx, cy, j00, j01, j10, j11, h, east[which],
                                            north[which], reach)
        elif crossing > 1:
            if 2 * h <= finest:
                undecided += weight
                if nearest <= reach:
                    covered += weight
            else:
                q = h / 2
                for du, dv in ((-q, -q), (q, -q), (-q, q), (q, q)):
                    stack_u[top], stack_v[top], stack_h[top] = u + du, v + dv, q
                    top += 1
    return covered, undecided


@njit(cache=True)
def _candidates(lam: float, phi: float, rho: float, reach: float, stations: _Stations,
                row: int, col: int, bucket_m: float, east: FloatArray,
                north: FloatArray) -> tuple[int, bool]:
    """Stations within ``reach + rho`` of a cell centre, written as (east, north) metres from
    it into the buffers; their number (more than the buffers hold: grow them and ask again),
    or ``True`` as soon as one station covers the whole cell."""
    station_lon, station_lat, xyz, bucket_id, row_start, cols = stations
    rows = row_start.size - 1
    limit = reach + rho
    ring = int(limit / bucket_m) + 1
    chord_limit = 2 * math.sin(min(limit / EARTH_RADIUS_M, math.pi) / 2)
    x = math.cos(phi) * math.cos(lam)
    y = math.cos(phi) * math.sin(lam)
    z = math.sin(phi)
    count = 0
    for k in range(2 * ring + 1):  # the cell's own row first: it holds a covering station
        r = row + (k + 1) // 2 * (1 if k % 2 else -1)
        if r < 0 or r >= rows or row_start[r] == row_start[r + 1]:
            continue
        in_row = bucket_id[row_start[r]:row_start[r + 1]]
        first = row_start[r] + np.searchsorted(in_row, r * cols + max(0, col - ring))
        last = row_start[r] + np.searchsorted(in_row, r * cols + min(cols - 1, col + ring),
                                              side="right")
        for s in range(first, last):
            gx = xyz[s, 0] - x
            gy = xyz[s, 1] - y
            gz = xyz[s, 2] - z
            chord = math.sqrt(gx * gx + gy * gy + gz * gz)
            if chord > chord_limit:
                continue
            d = 2 * EARTH_RADIUS_M * math.asin(min(1.0, chord / 2))
            if d + rho <= reach:
                return 0, True
            if count < east.size:
                slat = math.radians(station_lat[s])
                dl = math.radians(station_lon[s]) - lam
                bearing = math.atan2(math.sin(dl) * math.cos(slat),
                                     math.cos(phi) * math.sin(slat)
                                     - math.sin(phi) * math.cos(slat) * math.cos(dl))
                east[count] = d * math.sin(bearing)
                north[count] = d * math.cos(bearing)
            count += 1
    return count, False


@njit(cache=True)
def _chunk_shares(first: int, last: int, lon: npt.NDArray[np.float32],
                  lat: npt.NDArray[np.float32], half_side: FloatArray,
                  district: npt.NDArray[np.int32], reach: float, spread: float,
                  finest: float, stations: _Stations, grid: _Grid, covered: FloatArray,
                  undecided: FloatArray) -> None:
    """:func:`_cell_shares` for the samples ``first:last``, with buffers of their own."""
    lon0, lat0, dlon, dlat, coarse, step = grid
    bucket_m = dlat * _METRES_PER_DEGREE
    east = np.empty(64)
    north = np.empty(64)
    for p in range(first, last):
        col = math.floor((float(lon[p]) - lon0) / dlon)
        row = math.floor((float(lat[p]) - lat0) / dlat)
        if (row < 0 or col < 0 or row // step >= coarse.shape[0]
                or col // step >= coarse.shape[1]):
            continue
        half = half_side[district[p]]
        # Coarse cells to the nearest one holding a station, against the cells within reach.
        if coarse[row // step, col // step] > (reach + spread * half) // (step * bucket_m) + 1:
            continue
        lam = math.radians(float(lon[p]))
        phi = math.radians(float(lat[p]))
        j00, j01, j10, j11 = _cell_frame(lam, phi)
        rho = _radius(j00, j01, j10, j11, half)
        count, full = _candidates(lam, phi, rho, reach, stations, row, col, bucket_m, east,
                                  north)
        if count > east.size:
            east = np.empty(2 * count)
            north = np.empty(2 * count)
            count, full = _candidates(lam, phi, rho, reach, stations, row, col, bucket_m,
                                      east, north)
        if full:
            covered[p] = 1.0
        elif count == 1:
            covered[p] = _disc_share(0.0, 0.0, j00, j01, j10, j11, half, east[0], north[0],
                                     reach)
        elif count > 1:
            covered[p], undecided[p] = _split(east[:count], north[:count], j00, j01, j10, j11,
                                              half, reach, finest)


@njit(cache=True, parallel=True)
def _cell_shares(lon: npt.NDArray[np.float32], lat: npt.NDArray[np.float32],
                 district: npt.NDArray[np.int32], half_side: FloatArray, reach: float,
                 spread: float, finest: float, stations: _Stations,
                 grid: _Grid) -> tuple[FloatArray, FloatArray]:
    """Covered and undecided share of each sample's cell (see the module docstring)."""
    n = lon.size
    covered = np.zeros(n)
    undecided = np.zeros(n)
    chunks = max(1, min(256, n // 4096))
    for c in prange(chunks):
        _chunk_shares(c * n // chunks, (c + 1) * n // chunks, lon, lat, half_side, district,
                      reach, spread, finest, stations, grid, covered, undecided)
    return covered, undecided


@njit(cache=True)
def _by_district(district: npt.NDArray[np.int32], values: FloatArray, n: int) -> FloatArray:
    totals = np.zeros(n)
    for p in range(district.size):
        totals[district[p]] += values[p]
    return totals


def _radius_per_half(south: float, north: float) -> float:
    """The largest cell radius on the sphere per half side on the map in a latitude band."""
    return max(_radius(*_cell_frame(0.0, math.radians(lat)), 1.0)
               for lat in np.linspace(south, north, 200)) * 1.01


def _buckets(lon: FloatArray, lat: FloatArray, band: tuple[float, float, float, float],
             size_m: float) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], float,
                                      float, float, float, int, int]:
    """Stations ordered by a grid of buckets at least ``size_m`` wide throughout ``band``."""
    west, south, east, north = band
    widest = min(89.0, max(abs(south), abs(north)))
    dlat = size_m / _METRES_PER_DEGREE
    dlon = dlat / math.cos(math.radians(widest))
    cols = int((east - west) / dlon) + 1
    rows = int((north - south) / dlat) + 1
    ids = (np.floor((lat - south) / dlat).astype(np.int64) * cols
           + np.floor((lon - west) / dlon).astype(np.int64))
    order = np.argsort(ids, kind="stable")
    return order, ids[order], west, south, dlon, dlat, cols, rows


def straight_line_area(samples: AreaSamples, station_lon: npt.ArrayLike,
                       station_lat: npt.ArrayLike, reach_m: float) -> AreaWithin:
    """Share of each district's cells within ``reach_m`` of a station, and its error bound."""
    n_districts = len(samples.district_km2)
    lon = np.asarray(station_lon, dtype=np.float64)
    lat = np.asarray(station_lat, dtype=np.float64)
    counts = np.bincount(samples.district, minlength=n_districts)
    zero = np.zeros(n_districts)
    if len(lon) == 0 or len(samples.lon) == 0:
        return AreaWithin(zero, zero.copy())
    reach = reach_m + BOUNDARY_TOLERANCE_M
    band = (min(float(samples.lon.min()), float(lon.min())) - 0.01,
            max(-89.0, min(float(samples.lat.min()), float(lat.min())) - 0.01),
            max(float(samples.lon.max()), float(lon.max())) + 0.01,
            min(89.0, max(float(samples.lat.max()), float(lat.max())) + 0.01))
    order, ids, west, south, dlon, dlat, cols, rows = _buckets(lon, lat, band, reach)
    step = max(_COARSE_STEP, math.ceil(math.sqrt(cols * rows / _MAX_COARSE_CELLS)))
    empty = np.ones((rows // step + 1, cols // step + 1), dtype=bool)
    empty[ids // cols // step, ids % cols // step] = False
    coarse = ndimage.distance_transform_cdt(empty, metric="chessboard").astype(np.int32)
    xyz = np.ascontiguousarray(unit_vectors(lon, lat)[order])
    row_start = np.searchsorted(ids, np.arange(rows + 1, dtype=np.int64) * cols)
    finest = max(_MIN_FINEST_M, reach_m * FINEST_CELL_FRACTION)
    covered, undecided = _cell_shares(
        samples.lon, samples.lat, samples.district, samples.spacing_m / 2, reach,
        _radius_per_half(band[1], band[3]), finest,
        (lon[order], lat[order], xyz, ids, row_start, cols),
        (west, south, dlon, dlat, coarse, step))
    per_cell = np.maximum(counts, 1)
    return AreaWithin(_by_district(samples.district, covered, n_districts) / per_cell,
                      _by_district(samples.district, undecided, n_districts) / per_cell)
