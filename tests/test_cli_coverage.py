"""``stations coverage`` end to end: operator boundaries, demand, table and map."""

from __future__ import annotations

import json

import geopandas as gpd
import pyogrio
from planning_data import two_districts

from stations.cli import main


def write_boundaries(tmp_path):
    path = tmp_path / "districts.geojson"
    pyogrio.write_dataframe(two_districts()[["code", "name", "geometry"]], path)
    return path


def test_coverage_table_json_and_map(tmp_path, sample_gpkg, capsys):
    # The sample's Nanning stations are far from the two squares: two empty districts.
    boundaries = write_boundaries(tmp_path)
    demand = tmp_path / "demand.csv"
    demand.write_text("lon,lat,count\n116.35,39.90,4\n", encoding="utf-8")
    out = tmp_path / "coverage.json"
    page = tmp_path / "coverage.html"
    code = main(["coverage", "--data", str(sample_gpkg), "--boundaries", str(boundaries),
                 "--demand", str(demand), "--json", "-o", str(out), "--map", str(page),
                 "--reach", "800"])
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["reach_m"] == 800 and result["by"] == "straight"
    assert [d["name"] for d in result["districts"]] == ["甲区", "乙区"]
    assert [d["stations"] for d in result["districts"]] == [0, 0]
    assert result["totals"]["demand"] == 4 and result["totals"]["demand_share"] == 0
    html = page.read_text(encoding="utf-8")
    assert "mountDistricts" in html and "甲区" in html
    summary = capsys.readouterr().err
    assert "2 个行政区；0 个驿站" in summary
    # The sample's stations all lie beyond the two squares: said, not silently dropped.
    assert "2 areas; 0 stations; 0.0 % of the area within 800 m" in summary
    count = len(pyogrio.read_dataframe(sample_gpkg, layer="stations"))
    assert f"{count} stations lie outside these areas" in summary


def test_coverage_csv_to_stdout(tmp_path, sample_gpkg, capsys):
    code = main(["coverage", "--data", str(sample_gpkg), "--boundaries",
                 str(write_boundaries(tmp_path))])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("code,name,level,province,city,area_km2,stations")
    assert len(lines) == 3


def test_coverage_errors_are_one_line(tmp_path, sample_gpkg, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("lon,lat\n116.4,x\n", encoding="utf-8")
    code = main(["coverage", "--data", str(sample_gpkg), "--boundaries",
                 str(write_boundaries(tmp_path)), "--demand", str(bad)])
    assert code == 2
    err = capsys.readouterr().err
    assert "row 1 (第1行): latitude 'x' is not a number" in err and "Traceback" not in err
    no_code = tmp_path / "nocode.geojson"
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name": ["x"]}, geometry=[
        two_districts().geometry[0]], crs="EPSG:4326"), no_code)
    assert main(["coverage", "--data", str(sample_gpkg), "--boundaries", str(no_code)]) == 2
    assert "no code column" in capsys.readouterr().err
    missing = tmp_path / "nowhere.gpkg"
    assert main(["coverage", "--data", str(missing), "--boundaries",
                 str(write_boundaries(tmp_path))]) != 0
    err = capsys.readouterr().err
    assert "nowhere.gpkg: no such GeoPackage" in err and "Traceback" not in err
