"""Where to build the next stations: maximal covering with a proof of how good the answer is.

Given the stations that exist (fixed), candidate sites and weighted demand, choose ``n`` sites
that bring the most demand within reach.  Demand already within reach of a station counts as
covered before any site is chosen, so only the rest matters.

The choice is greedy (each step takes the site with the largest marginal gain), then improved
by swaps (drop one chosen site, add the best other one, while that gains).  Coverage is a
monotone submodular function, so two bounds on the best possible answer come cheaply:

* the *greedy bound*: for any set S, ``best <= covered(S) + sum of the n largest marginal gains
  over S``, taken at every greedy step;
* the *Lagrangian bound* of the LP relaxation (multipliers on "demand i is covered only if a
  site covering it is chosen"), improved by subgradient steps; at its optimum it equals the LP
  bound.

Where the model is small enough, HiGHS solves it: the LP relaxation for the bound and, with
``exact=True``, the integer program itself, so small instances get the proven optimum.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from ..crs import CoordinateSystem, from_wgs84
from ..errors import PlanningError
from .demand import Demand, read_demand, read_table
from .reach import Reach, StraightLineReach, check_reach, great_circle_pairs, within

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
EARTH_RADIUS_M: Final = 6_371_008.8
MAX_SITES: Final = 1_000
MAX_CANDIDATES: Final = 200_000
# Without ``exact``, HiGHS solves the LP relaxation only when the model has at most this many
# coverage pairs (non-zeros); larger ones are bounded by the Lagrangian relaxation, which is
# far quicker than HiGHS there.
HIGHS_LP_MAX_PAIRS: Final = 100_000
_GAIN_EPS: Final = 1e-9
_NAME_FIELDS: Final = ("name", "名称", "地点", "地址", "site", "候选点")


@dataclass(frozen=True)
class Candidates:
    """Candidate sites in WGS84, with an optional name each (an operator's list)."""

    lon: FloatArray
    lat: FloatArray
    name: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.lon)

    def label(self, j: int) -> str:
        """The operator's name of candidate ``j``, or empty for grid candidates."""
        return self.name[j] if self.name else ""


@dataclass(frozen=True)
class SitePlan:
    """The chosen sites in the order that the coverage curve adds them, and the proof."""

    chosen: IntArray
    gains: FloatArray
    demand_total: float
    covered_before: float
    covered_after: float
    upper_bound: float
    bound_method: str
    optimal: bool
    seconds: float
    swaps: int
    notes: list[str] = field(default_factory=list)

    @property
    def curve(self) -> FloatArray:
        """Demand covered with the first 1..n sites added (the coverage curve)."""
        return self.covered_before + np.cumsum(self.gains)

    @property
    def gap(self) -> float:
        """How far below the upper bound the covered demand may be, as a share of the bound."""
        if self.upper_bound <= _GAIN_EPS:
            return 0.0
        return max(0.0, 1.0 - self.covered_after / self.upper_bound)


def coverage_matrix(candidates: Candidates, demand_lon: FloatArray, demand_lat: FloatArray,
                    reach_m: float) -> sp.csr_matrix:
    """Boolean candidates × demand matrix by straight line (see :func:`great_circle_pairs`)."""
    return great_circle_pairs(candidates.lon, candidates.lat, demand_lon, demand_lat, reach_m)


class _Coverage:
    """Counts of chosen sites covering each demand point, and gains computed from them."""

    def __init__(self, matrix: sp.csr_matrix, weight: FloatArray) -> None:
        self.matrix = matrix
        self.weight = weight
        self.count = np.zeros(matrix.shape[1], dtype=np.int64)

    def gains(self) -> FloatArray:
        """Marginal gain of every candidate given the sites chosen so far."""
        return self.matrix @ np.where(self.count == 0, self.weight, 0.0)

    def covered(self) -> float:
        return float(self.weight[self.count > 0].sum())

    def add(self, j: int) -> None:
        self.count[self.matrix.indices[self.matrix.indptr[j]:self.matrix.indptr[j + 1]]] += 1

    def remove(self, j: int) -> None:
        self.count[self.matrix.indices[self.matrix.indptr[j]:self.matrix.indptr[j + 1]]] -= 1


def _greedy(cover: _Coverage, n: int) -> tuple[list[int], float]:
    """Greedy choice of ``n`` sites; also the best greedy bound seen on the way."""
    chosen: list[int] = []
    bound = math.inf
    for _ in range(n):
        gains = cover.gains()
        gains[chosen] = -1.0
        top = np.partition(gains, len(gains) - n)[len(gains) - n:] if n < len(gains) else gains
        bound = min(bound, cover.covered() + float(np.clip(top, 0, None).sum()))
        best = int(np.argmax(gains))
        if gains[best] <= _GAIN_EPS:
            break
        chosen.append(best)
        cover.add(best)
    gains = cover.gains()
    gains[chosen] = -1.0
    top = np.sort(gains)[::-1][:n]
    bound = min(bound, cover.covered() + float(np.clip(top, 0, None).sum()))
    return chosen, bound


def _improve_by_swaps(cover: _Coverage, chosen: list[int], deadline: float) -> int:
    """Swap a chosen site for a better one while that gains; returns the number of swaps."""
    swaps = 0
    improved = True
    while improved and time.perf_counter() < deadline:
        improved = False
        for position, site in enumerate(list(chosen)):
            cover.remove(site)
            gains = cover.gains()
            gains[chosen] = -1.0
            gains[site] = -1.0
            loss = gains_of(cover, site)
            best = int(np.argmax(gains))
            if gains[best] > loss + max(_GAIN_EPS, 1e-12 * abs(loss)):
                chosen[position] = best
                cover.add(best)
                swaps += 1
                improved = True
            else:
                cover.add(site)
            if time.perf_counter() >= deadline:
                break
    return swaps


def gains_of(cover: _Coverage, j: int) -> float:
    """Marginal gain of candidate ``j`` alone given the current counts."""
    rows = cover.matrix.indices[cover.matrix.indptr[j]:cover.matrix.indptr[j + 1]]
    return float(cover.weight[rows][cover.count[rows] == 0].sum())


def _lagrangian_bound(matrix: sp.csr_matrix, weight: FloatArray, n: int, start: float,
                      incumbent: float, deadline: float, iterations: int) -> float:
    """Upper bound from the Lagrangian relaxation of the LP, by subgradient steps.

    For multipliers ``0 <= lam <= w`` the bound is ``sum(max(0, w - lam)) + sum of the n
    largest (A @ lam)``; every such value bounds the best coverage from above.  Steps follow
    Held and Karp: Polyak's length towards the incumbent, halved after 20 steps without a
    better bound.
    """
    covering = np.asarray(matrix.sum(axis=0)).ravel()
    lam = weight / np.maximum(covering, 1.0)
    matrix_t = matrix.T.tocsr()
    best, alpha, stale = start, 2.0, 0
    for _ in range(iterations):
        reward = matrix @ lam
        top = np.argpartition(reward, len(reward) - n)[len(reward) - n:] \
            if n < len(reward) else np.arange(len(reward))
        value = float(np.clip(weight - lam, 0, None).sum() + reward[top].sum())
        if value < best - 1e-9 * max(1.0, best):
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 20:
                alpha, stale = alpha / 2, 0
        chosen = np.zeros(matrix.shape[0])
        chosen[top] = 1.0
        subgradient = matrix_t @ chosen - (weight > lam)
        norm = float(subgradient @ subgradient)
        if norm == 0.0 or alpha < 1e-4 or best - incumbent <= 1e-9 * max(1.0, best) \
                or time.perf_counter() > deadline:
            break
        lam = np.clip(lam - alpha * (value - incumbent) / norm * subgradient, 0.0, weight)
    return best


def _highs(matrix: sp.csr_matrix, weight: FloatArray, n: int, integer: bool,
           time_limit_s: float) -> tuple[float, FloatArray | None, bool]:
    """Solve the covering model (LP relaxation, or integer) with HiGHS.

    Variables: x_j (site j chosen), then y_i (demand i covered).  Returns the bound (the
    objective's dual bound for the MIP), the x values and whether HiGHS proved optimality.
    """
    sites, points = matrix.shape
    objective = np.concatenate((np.zeros(sites), -weight))
    # y_i - sum_j A_ji x_j <= 0  and  sum_j x_j <= n
    link = sp.hstack((-matrix.T, sp.identity(points))).tocsr()
    budget = sp.hstack((sp.csr_matrix(np.ones((1, sites))), sp.csr_matrix((1, points))))
    constraints = [LinearConstraint(link, -np.inf, 0.0), LinearConstraint(budget, 0, n)]
    integrality = np.concatenate((np.full(sites, 1 if integer else 0), np.zeros(points)))
    result = milp(objective, constraints=constraints, integrality=integrality,
                  bounds=Bounds(0, 1), options={"time_limit": time_limit_s,
                                                "disp": False})
    if result.x is None:
        return math.inf, None, False
    bound = -float(getattr(result, "mip_dual_bound", None) or result.fun) if integer \
        else -float(result.fun)
    return bound, result.x[:sites], result.status == 0


def _contributing(matrix: sp.csr_matrix, weight: FloatArray,
                  open_demand: npt.NDArray[np.bool_]) -> tuple[sp.csr_matrix, FloatArray]:
    """The model restricted to demand not yet covered that some candidate can reach, with
    points that the same candidates reach merged into one (their weights added)."""
    reachable = open_demand & (np.asarray(matrix.sum(axis=0)).ravel() > 0) & (weight > 0)
    columns = matrix[:, reachable].T.tocsr()
    columns.sort_indices()
    keys: dict[bytes, int] = {}
    group = np.empty(columns.shape[0], dtype=np.int64)
    for i in range(columns.shape[0]):
        key = columns.indices[columns.indptr[i]:columns.indptr[i + 1]].tobytes()
        group[i] = keys.setdefault(key, len(keys))
    merged_weight = np.bincount(group, weights=weight[reachable], minlength=len(keys))
    first = np.unique(group, return_index=True)[1]
    return columns[first].T.tocsr(), merged_weight


def plan_sites(candidates: Candidates, demand: Demand, station_lon: npt.ArrayLike,
               station_lat: npt.ArrayLike, n: int, reach_m: float, *, exact: bool = False,
               time_limit_s: float = 30.0, bound_iterations: int = 800,
               reach: Reach | None = None) -> SitePlan:
    """Choose ``n`` candidate sites that bring the most uncovered demand within reach.

    ``exact`` asks HiGHS for the proven optimum (sensible up to a few thousand demand points
    and a few hundred candidates); otherwise greedy with swaps, bounded from above.  ``reach``
    (of the same stations, e.g. by road) replaces the straight line of ``reach_m``.
    """
    started = time.perf_counter()
    check_reach(reach_m)
    if not 1 <= n <= MAX_SITES:
        raise PlanningError(f"sites: choose 1..{MAX_SITES} new sites, got {n}")
    if len(candidates) == 0:
        raise PlanningError("candidates: no candidate sites given")
    if len(candidates) > MAX_CANDIDATES:
        raise PlanningError(f"candidates: at most {MAX_CANDIDATES:,} candidate sites, "
                            f"got {len(candidates):,}; use a coarser grid")
    notes: list[str] = []
    station_lon = np.asarray(station_lon, dtype=np.float64)
    station_lat = np.asarray(station_lat, dtype=np.float64)
    existing = reach if reach is not None else StraightLineReach(station_lon, station_lat,
                                                                 reach_m)
    open_demand = ~within(existing.nearest_m(demand.lon, demand.lat), existing.reach_m)
    covered_before = float(demand.weight[~open_demand].sum())
    n = min(n, len(candidates))
    full = existing.site_coverage(candidates.lon, candidates.lat, demand.lon, demand.lat)
    matrix, weight = _contributing(full, demand.weight, open_demand)

    cover = _Coverage(matrix, weight)
    chosen, bound = _greedy(cover, n)
    deadline = started + time_limit_s
    swaps = _improve_by_swaps(cover, chosen, deadline)
    found = cover.covered()
    method = "greedy bound"
    optimal = found >= bound - 1e-9 * max(1.0, bound)
    if not optimal and (exact or matrix.nnz <= HIGHS_LP_MAX_PAIRS) and matrix.shape[1]:
        remaining = max(1.0, deadline - time.perf_counter())
        value, x, proven = _highs(matrix, weight, n, exact, remaining)
        if exact and x is not None and proven:
            picked = [int(j) for j in np.flatnonzero(x > 0.5)]
            exact_cover = _Coverage(matrix, weight)
            for j in picked:
                exact_cover.add(j)
            if exact_cover.covered() > found + _GAIN_EPS:
                chosen, cover, found = picked, exact_cover, exact_cover.covered()
        if proven and value < bound:
            bound, method = value, "HiGHS MIP" if exact else "HiGHS LP bound"
            optimal = exact
        elif not proven:
            notes.append("HiGHS did not finish within the time limit; its answer is not used")
    if not optimal:
        lagrange = _lagrangian_bound(matrix, weight, n, bound, found, deadline,
                                     bound_iterations)
        if lagrange < bound:
            bound, method = lagrange, "LP (Lagrangian) bound"
    if exact and not optimal:
        notes.append("the proven optimum was not reached within the time limit")
    bound = max(bound, found)
    optimal = optimal or found >= bound - 1e-9 * max(1.0, bound)
    order, gains = _curve_order(matrix, weight, chosen)
    return SitePlan(np.asarray(order, dtype=np.int64), gains, float(demand.weight.sum()),
                    covered_before, covered_before + found, covered_before + bound, method,
                    optimal, time.perf_counter() - started, swaps, notes)


def _curve_order(matrix: sp.csr_matrix, weight: FloatArray,
                 chosen: list[int]) -> tuple[list[int], FloatArray]:
    """The chosen sites ordered greedily among themselves, with each one's marginal gain."""
    cover = _Coverage(matrix, weight)
    remaining = list(chosen)
    order: list[int] = []
    gains: list[float] = []
    while remaining:
        values = [gains_of(cover, j) for j in remaining]
        pick = int(np.argmax(values))
        site = remaining.pop(pick)
        order.append(site)
        gains.append(values[pick])
        cover.add(site)
    return order, np.asarray(gains, dtype=np.float64)


def grid_candidates(lon: FloatArray, lat: FloatArray, spacing_m: float) -> Candidates:
    """A regular grid of candidate sites over the box around the given points."""
    if spacing_m < 10:
        raise PlanningError(f"grid: spacing must be at least 10 m, got {spacing_m}")
    if len(lon) == 0:
        raise PlanningError("grid: no demand to lay a grid of candidates over")
    west, east = float(np.min(lon)), float(np.max(lon))
    south, north = float(np.min(lat)), float(np.max(lat))
    mid = math.radians((south + north) / 2)
    d_lat = math.degrees(spacing_m / EARTH_RADIUS_M)
    d_lon = d_lat / max(math.cos(mid), 1e-6)
    columns = int((east - west) / d_lon) + 1
    rows = int((north - south) / d_lat) + 1
    if columns * rows > MAX_CANDIDATES:
        raise PlanningError(f"grid: {columns * rows:,} candidates at {spacing_m:g} m; at most "
                            f"{MAX_CANDIDATES:,}, so choose a larger --grid spacing")
    gx, gy = np.meshgrid(west + d_lon * np.arange(columns), south + d_lat * np.arange(rows))
    return Candidates(gx.ravel(), gy.ravel())


def read_candidates(path: str | os.PathLike[str], crs: str = "wgs84",
                    name_field: str | None = None) -> Candidates:
    """Candidate sites from an operator's list (CSV or GeoPackage/GeoJSON points) in any of
    the three coordinate systems, with a name column when there is one."""
    points = read_demand(path, crs, weight_field=None)
    table = read_table(Path(path))
    columns = [str(c) for c in table.columns if c != "geometry"]
    wanted = name_field or next((c for c in columns if c.strip().lower() in _NAME_FIELDS), None)
    if wanted is None:
        return Candidates(points.lon, points.lat)
    if wanted not in columns:
        raise PlanningError(f"{Path(path).name}: no name column {wanted!r}; columns are "
                            f"{', '.join(columns)}")
    names = table[wanted].fillna("").astype(str)
    return Candidates(points.lon, points.lat, tuple(names))


def plan_rows(plan: SitePlan, candidates: Candidates) -> list[dict[str, object]]:
    """One row per chosen site, in curve order: position in the three systems, gain, total."""
    chosen = plan.chosen
    lon, lat = candidates.lon[chosen], candidates.lat[chosen]
    gcj_lon, gcj_lat = from_wgs84(lon, lat, CoordinateSystem.GCJ02)
    bd_lon, bd_lat = from_wgs84(lon, lat, CoordinateSystem.BD09)
    rows = []
    for rank, j in enumerate(chosen):
        total = float(plan.curve[rank])
        rows.append({
            "rank": rank + 1, "name": candidates.label(int(j)),
            "lon_wgs84": round(float(lon[rank]), 7), "lat_wgs84": round(float(lat[rank]), 7),
            "lon_gcj02": round(float(gcj_lon[rank]), 7),
            "lat_gcj02": round(float(gcj_lat[rank]), 7),
            "lon_bd09": round(float(bd_lon[rank]), 7), "lat_bd09": round(float(bd_lat[rank]), 7),
            "gain": float(plan.gains[rank]), "covered": total,
            "share": total / plan.demand_total if plan.demand_total else 0.0})
    return rows
