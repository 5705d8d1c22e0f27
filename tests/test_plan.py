"""stations plan: maximal covering of uncovered demand, checked against hand-worked and
brute-force answers."""

from __future__ import annotations

import csv
import itertools
import json
import math

import numpy as np
import pytest

from stations.cli import main
from stations.crs import from_wgs84, to_wgs84
from stations.errors import PlanningError
from stations.planning.demand import demand_points
from stations.planning.sites import Candidates, coverage_matrix, plan_sites

# One degree of latitude on the project's sphere, in metres.
M_PER_DEG = 6_371_008.8 * math.pi / 180


def _north(lat0: float, metres: float) -> float:
    return lat0 + metres / M_PER_DEG


def test_demand_exactly_at_the_reach_is_covered_and_covered_demand_does_not_count():
    # Candidate A reaches the demand 1000 m north exactly; B reaches two points already served.
    lat0 = 22.8
    demand = demand_points([108.3, 108.5, 108.5], [_north(lat0, 1000), lat0, lat0 + 0.001],
                           [5, 3, 3])
    candidates = Candidates(np.array([108.3, 108.5]), np.array([lat0, lat0]))
    plan = plan_sites(candidates, demand, [108.5], [lat0], n=1, reach_m=1000)
    assert list(plan.chosen) == [0]
    assert plan.covered_before == 6
    assert plan.covered_after == 11
    assert plan.optimal


def test_nothing_left_to_cover_chooses_no_site():
    demand = demand_points([108.3], [22.8], [1])
    plan = plan_sites(Candidates(np.array([108.31]), np.array([22.8])), demand, [108.3], [22.8],
                      n=3, reach_m=500)
    assert len(plan.chosen) == 0
    assert plan.covered_after == plan.covered_before == 1


def _brute_force(matrix, weight, n):
    best = 0.0
    for subset in itertools.combinations(range(matrix.shape[0]), n):
        covered = np.asarray(matrix[list(subset)].sum(axis=0)).ravel() > 0
        best = max(best, float(weight[covered].sum()))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_greedy_is_bounded_and_exact_finds_the_brute_force_optimum(seed):
    rng = np.random.default_rng(seed)
    demand = demand_points(108.3 + rng.random(300) * 0.1, 22.8 + rng.random(300) * 0.1,
                           rng.integers(1, 10, 300))
    candidates = Candidates(108.3 + rng.random(12) * 0.1, 22.8 + rng.random(12) * 0.1)
    matrix = coverage_matrix(candidates, demand.lon, demand.lat, 1500)
    best = _brute_force(matrix, demand.weight, 3)
    heuristic = plan_sites(candidates, demand, [], [], n=3, reach_m=1500)
    exact = plan_sites(candidates, demand, [], [], n=3, reach_m=1500, exact=True)
    assert heuristic.covered_after <= best + 1e-9 <= heuristic.upper_bound + 1e-6
    assert exact.covered_after == pytest.approx(best)
    assert exact.optimal
    # The coverage curve adds the sites one by one, each gain no larger than the one before.
    assert np.all(np.diff(exact.gains) <= 1e-9)
    assert exact.curve[-1] == pytest.approx(exact.covered_after)


def test_bad_requests_name_the_problem():
    demand = demand_points([108.3], [22.8])
    candidates = Candidates(np.array([108.3]), np.array([22.8]))
    with pytest.raises(PlanningError, match="sites"):
        plan_sites(candidates, demand, [], [], n=0, reach_m=1000)
    with pytest.raises(PlanningError, match="reach"):
        plan_sites(candidates, demand, [], [], n=1, reach_m=0)


def _write_demand(path, lon, lat, weight):
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["经度", "纬度", "订单"])
        writer.writerows(zip(lon, lat, weight, strict=True))


def test_cli_takes_gcj02_demand_and_writes_the_sites_in_three_systems(tmp_path, sample_gpkg):
    # Demand around a spot far from the sample stations, given in GCJ-02 as Amap shows it.
    wgs_lon, wgs_lat = np.array([116.0, 116.001, 115.999]), np.array([40.5, 40.5005, 40.4995])
    gcj_lon, gcj_lat = from_wgs84(wgs_lon, wgs_lat, "gcj02")
    _write_demand(tmp_path / "demand.csv", gcj_lon, gcj_lat, [10, 20, 30])
    with open(tmp_path / "sites.csv", "w", encoding="utf-8") as f:
        f.write("lon,lat,name\n116.0,40.5,=HYPERLINK(\"x\")\n116.05,40.55,远处 far\n")
    out = tmp_path / "plan.csv"
    code = main(["plan", "--data", str(sample_gpkg), "--demand", str(tmp_path / "demand.csv"),
                 "--demand-crs", "gcj02", "--candidates", str(tmp_path / "sites.csv"),
                 "--sites", "1", "--reach", "500", "-o", str(out),
                 "--map", str(tmp_path / "plan.html")])
    assert code == 0
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    site = dict(zip(rows[0], rows[1], strict=True))
    assert site["名称 name"] == "'=HYPERLINK(\"x\")"
    assert float(site["累计覆盖 covered"]) == 60
    lon, lat = float(site["经度 WGS84"]), float(site["纬度 WGS84"])
    assert (lon, lat) == (116.0, 40.5)
    for system, suffix in (("gcj02", "GCJ-02 (高德/腾讯)"), ("bd09", "BD-09 (百度)")):
        back = to_wgs84([float(site[f"经度 {suffix}"])], [float(site[f"纬度 {suffix}"])], system)
        assert abs(back[0][0] - lon) < 1e-6 and abs(back[1][0] - lat) < 1e-6
    page = (tmp_path / "plan.html").read_text(encoding="utf-8")
    assert "=HYPERLINK(&quot;x&quot;)" in page or "=HYPERLINK(&#34;x&#34;)" in page


def test_cli_json_for_programs(tmp_path, sample_gpkg):
    rng = np.random.default_rng(7)
    _write_demand(tmp_path / "d.csv", 108.3 + rng.random(200) * 0.05,
                  22.8 + rng.random(200) * 0.05, rng.integers(1, 5, 200))
    out = tmp_path / "plan.json"
    assert main(["plan", "--data", str(sample_gpkg), "--demand", str(tmp_path / "d.csv"),
                 "--sites", "3", "--grid", "400", "--reach", "800", "--exact", "--json",
                 "-o", str(out)]) == 0
    answer = json.loads(out.read_text(encoding="utf-8"))
    assert answer["optimal"] is True
    assert answer["covered_before"] <= answer["covered_after"] <= answer["upper_bound"] + 1e-6
    assert [s["rank"] for s in answer["sites"]] == list(range(1, len(answer["sites"]) + 1))
    assert answer["sites"][-1]["covered"] == pytest.approx(answer["covered_after"])


def test_cli_needs_exactly_one_demand(tmp_path, sample_gpkg, capsys):
    assert main(["plan", "--data", str(sample_gpkg)]) == 2
    assert "demand" in capsys.readouterr().err
