"""The planner commands by road: ``--roads``, ``--profile``, ``--minutes`` end to end on the
river city's GeoPackage, with demand in GCJ-02 and clear errors for options that do not fit."""

from __future__ import annotations

import json

import pyogrio
import pytest
from planning_data import two_districts
from roads_data import RIDER, lonlat, write_river_city, write_river_district, write_river_stations

from stations.cli import main
from stations.crs import from_wgs84
from stations.index import haversine_m


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    folder = tmp_path_factory.mktemp("river-cli")
    demand = folder / "demand.csv"
    demand.write_text("lon,lat,weight\n{},{},5\n".format(*lonlat(*RIDER)), encoding="utf-8")
    return {"roads": str(write_river_city(folder / "river.osm.pbf")),
            "data": str(write_river_stations(folder / "stations.gpkg")),
            "boundaries": str(write_river_district(folder / "district.gpkg")),
            "demand": str(demand), "folder": folder}


def coverage(city, *options: str) -> dict:
    out = city["folder"] / "coverage.json"
    code = main(["coverage", "--data", city["data"], "--boundaries", city["boundaries"],
                 "--json", "-o", str(out), *options])
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_coverage_by_road_leaves_the_rider_across_the_river_out(city, capsys):
    # Station A is 349 m from the rider in a straight line, B 780 m; by e-bike 1220 and 820 m.
    straight = coverage(city, "--demand", city["demand"], "--reach", "500")
    assert straight["by"] == "straight" and straight["totals"]["demand_share"] == 1
    page = city["folder"] / "coverage.html"
    road = coverage(city, "--demand", city["demand"], "--reach", "500", "--roads",
                    city["roads"], "--profile", "ebike", "--map", str(page))
    assert road["by"] == "road" and road["reach_m"] == 500
    assert road["totals"]["demand_share"] == 0
    assert road["totals"]["area_share"] < straight["totals"]["area_share"]
    html = page.read_text(encoding="utf-8")
    assert '"fillColor": "#41ab5d"' in html  # the isochrone layer (AREA_STYLE)
    assert "Area within 道路 500 m 电动车 e-bike by road" in html
    assert "of the area within 道路 500 m 电动车 e-bike by road" in capsys.readouterr().err


def test_demand_in_gcj02_is_converted_before_measuring_by_road(city):
    # The walk over the footbridge to A is 460 m: 6.2 minutes (465 m) reach it.
    lon, lat = from_wgs84(*lonlat(*RIDER), "gcj02")
    shifted = city["folder"] / "demand-gcj02.csv"
    shifted.write_text(f"经度,纬度,weight\n{lon},{lat},5\n", encoding="utf-8")
    walk = ["--roads", city["roads"], "--minutes", "6.2"]
    converted = coverage(city, "--demand", str(shifted), "--demand-crs", "gcj02", *walk)
    assert converted["totals"]["demand_share"] == 1
    assert converted["reach"] == "6.2 分钟步行 walk (465 m by road)"
    # Unconverted, the point would sit farther from the rider's spot than the whole walk.
    assert haversine_m(lon, lat, *lonlat(*RIDER)) > 465


def test_plan_by_road_and_its_map_of_isochrones(city, capsys):
    candidates = city["folder"] / "candidates.csv"
    candidates.write_text("lon,lat,name\n{},{},北岸\n{},{},南岸\n".format(
        *lonlat(600, 280), *lonlat(800, 20)), encoding="utf-8")
    out, page = city["folder"] / "plan.json", city["folder"] / "plan.html"
    code = main(["plan", "--data", city["data"], "--demand", city["demand"], "--candidates",
                 str(candidates), "--sites", "1", "--roads", city["roads"], "--profile",
                 "ebike", "--reach", "400", "--json", "-o", str(out), "--map", str(page)])
    assert code == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert result["by"] == "road" and result["covered_before"] == 0
    # 20 + 280 + 20 m along the south bank; the north bank is 1220 m away over a bridge.
    assert [s["name"] for s in result["sites"]] == ["南岸"]
    html = page.read_text(encoding="utf-8")
    assert "L.circle(" not in html and '"Polygon"' in html


@pytest.fixture(scope="module")
def report(city):
    page = city["folder"] / "report.html"
    code = main(["planning-report", "--data", city["data"], "--area", "河区", "--boundaries",
                 city["boundaries"], "--roads", city["roads"], "--minutes", "10", "--sites",
                 "2", "-o", str(page)])
    assert code == 0
    return page


def test_planning_report_draws_the_walk_isochrone(report):
    html = report.read_text(encoding="utf-8")
    assert 'id="service-area"' in html and "10 分钟步行 walk (750 m by road)" in html


@pytest.mark.browser
def test_the_isochrone_shows_in_chromium_under_the_stations(report):
    from browser import chromium

    with chromium() as browser:
        page = browser.new_page()
        page.goto(report.as_uri())
        area = page.locator("#service-area").bounding_box()
        whole = page.locator("#map").bounding_box()
        assert area is not None and whole is not None
        # Drawn, and not the whole map: the walk reaches along the river's two streets.
        assert 0 < area["width"] * area["height"] < 0.95 * whole["width"] * whole["height"]
        assert page.locator("#map circle").count() >= 2  # stations drawn on top


@pytest.mark.parametrize(("options", "message"), [
    (["--minutes", "15"], "--minutes: needs --roads FILE"),
    (["--profile", "walk"], "--profile: needs --roads FILE"),
    (["--roads", "missing.osm.pbf"], "--roads missing.osm.pbf: no such file"),
    (["--roads", "{roads}", "--minutes", "10", "--reach", "500"],
     "--minutes: give --minutes or --reach, not both"),
    (["--roads", "{roads}", "--minutes", "0"], "minutes: must be 1..120, got 0"),
    (["--roads", "{roads}", "--profile", "car"], None),
])
def test_bad_reach_options_are_one_line_errors(city, capsys, options, message):
    options = [o.format(roads=city["roads"]) for o in options]
    if message is None:  # argparse refuses an unknown profile itself, naming the choices
        with pytest.raises(SystemExit) as exit_info:
            main(["coverage", "--data", city["data"], "--boundaries", city["boundaries"],
                  *options])
        assert exit_info.value.code == 2
        assert "--profile: invalid choice: 'car'" in capsys.readouterr().err
        return
    code = main(["coverage", "--data", city["data"], "--boundaries", city["boundaries"],
                 *options])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def test_a_road_file_that_does_not_cover_the_area_is_refused(city, tmp_path, capsys):
    beijing = tmp_path / "beijing.gpkg"
    pyogrio.write_dataframe(two_districts()[["code", "name", "geometry"]], beijing)
    code = main(["coverage", "--data", city["data"], "--boundaries", str(beijing), "--roads",
                 city["roads"]])
    err = capsys.readouterr().err
    assert code == 2
    assert "cover 0% of the study area" in err and "use an extract of the whole area" in err
