"""Benchmark ``stations plan``: maximal covering at the size a city office plans with.

Prints, for a clustered synthetic city:

* 50,000 demand points x 5,000 candidates, choose 50, 1 km reach: time, covered demand and
  how far from the upper bound; the peer is HiGHS solving the LP relaxation of the same model
  on its own (time-limited);
* 5,000 x 500, choose 20: greedy with swaps against the proven optimum from ``exact=True``,
  and HiGHS solving the integer program from scratch as the peer.

Run: ``python benchmarks/bench_plan.py`` (about a minute on two idle cores).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from stations.planning import sites
from stations.planning.demand import demand_points


def city(demand: int, candidates: int, stations: int, seed: int):
    """Demand in 20 clusters over a 45 km square, candidates and stations spread evenly."""
    rng = np.random.default_rng(seed)
    centres = rng.random((20, 2)) * 0.4
    which = rng.integers(0, 20, demand)
    lon = 108.1 + centres[which, 0] + rng.normal(0, 0.03, demand)
    lat = 22.6 + centres[which, 1] + rng.normal(0, 0.03, demand)
    points = demand_points(lon, lat, rng.integers(1, 50, demand))
    sites_ = sites.Candidates(108.1 + rng.random(candidates) * 0.45,
                              22.6 + rng.random(candidates) * 0.45)
    return points, sites_, 108.1 + rng.random(stations) * 0.45, 22.6 + rng.random(stations) * 0.45


def report(label: str, plan: sites.SitePlan) -> None:
    print(f"{label}: {plan.seconds:.2f} s, covered {plan.covered_before:,.0f} -> "
          f"{plan.covered_after:,.0f}, bound {plan.upper_bound:,.0f} ({plan.bound_method}), "
          f"within {plan.gap * 100:.2f}% of the bound, optimal={plan.optimal}, "
          f"swaps={plan.swaps}")


def peer(points, candidates, st_lon, st_lat, n, integer: bool, limit: float) -> None:
    """HiGHS alone on the same (reduced) model."""
    reach = sites.StraightLineReach(st_lon, st_lat, 1000)
    open_demand = ~sites.within(reach.nearest_m(points.lon, points.lat), 1000)
    full = sites.coverage_matrix(candidates, points.lon, points.lat, 1000)
    matrix, weight = sites._contributing(full, points.weight, open_demand)
    started = time.perf_counter()
    value, _x, proven = sites._highs(matrix, weight, n, integer, limit)
    covered = float(points.weight[~open_demand].sum())
    what = "MIP" if integer else "LP relaxation"
    state = f"bound {covered + value:,.0f}" if proven else f"not finished within {limit:.0f} s"
    print(f"  peer, HiGHS {what} alone: {time.perf_counter() - started:.2f} s, {state}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer-limit", type=float, default=60.0)
    args = parser.parse_args()

    big = city(50_000, 5_000, 40, seed=2)
    report("50,000 x 5,000, choose 50", sites.plan_sites(big[1], big[0], big[2], big[3], 50, 1000))
    peer(*big, 50, integer=False, limit=args.peer_limit)

    small = city(5_000, 500, 10, seed=3)
    report("5,000 x 500, choose 20, greedy+swaps",
           sites.plan_sites(small[1], small[0], small[2], small[3], 20, 1000))
    report("5,000 x 500, choose 20, exact",
           sites.plan_sites(small[1], small[0], small[2], small[3], 20, 1000,
                                            exact=True))
    peer(*small, 20, integer=True, limit=args.peer_limit)


if __name__ == "__main__":
    main()
