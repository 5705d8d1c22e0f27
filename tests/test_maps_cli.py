"""``stations map``: files written from a real GeoPackage, and clear errors."""

from __future__ import annotations

import pytest

from stations.cli import main

HOSTILE = "<img src=x onerror=alert(1)>"


def test_map_all_writes_whole_table_city_maps_and_index(sample_gpkg, tmp_path, capsys):
    out = tmp_path / "maps"
    assert main(["map", "--data", str(sample_gpkg), "--all", "--output", str(out),
                 "--no-progress"]) == 0
    names = sorted(p.name for p in out.glob("*.html"))
    assert names == sorted(["stations.html", "coverage.html", "南宁市-stations.html",
                            "南宁市-coverage.html", "重庆市-stations.html",
                            "重庆市-coverage.html", "index.html"])
    printed = capsys.readouterr().out.split()
    assert len(printed) == 6 and all(p.endswith(".html") for p in printed)
    index = (out / "index.html").read_text(encoding="utf-8")
    assert index.count("<li>") == 6
    for name in names:
        assert HOSTILE not in (out / name).read_text(encoding="utf-8")


def test_map_one_city_on_amap_with_cdn_links(sample_gpkg, tmp_path):
    out = tmp_path / "maps"
    assert main(["map", "--data", str(sample_gpkg), "--city", "南宁市", "--output", str(out),
                 "--basemap", "amap", "--cdn", "--kind", "stations"]) == 0
    assert sorted(p.name for p in out.glob("*.html")) == ["index.html",
                                                          "南宁市-stations-amap.html"]
    page = (out / "南宁市-stations-amap.html").read_text(encoding="utf-8")
    assert "autonavi.com" in page and 'src="https://cdn.jsdelivr.net/npm/leaflet@' in page


def test_coverage_radii_and_cell_size_reach_the_map(sample_gpkg, tmp_path):
    out = tmp_path / "maps"
    # The stations' hull as study area: a 250 m grid over all of Chongqing would be too fine.
    assert main(["map", "--data", str(sample_gpkg), "--city", "重庆市", "--output", str(out),
                 "--kind", "coverage", "--radius", "300", "--radius", "800",
                 "--cell-size", "250", "--no-districts"]) == 0
    page = (out / "重庆市-coverage.html").read_text(encoding="utf-8")
    assert "Within 300 m" in page and "Within 800 m" in page
    assert "Within 1000 m" not in page
    assert "0.25 km" in page


@pytest.mark.parametrize(("args", "message"), [
    (["--city", "北京市"], "city: no stations in '北京市'"),
    (["--radius", "-1"], "radius"),
    (["--cell-size", "5"], "cell size"),
    (["--city", "重庆市", "--kind", "coverage", "--cell-size", "60"], "cell size: 60 m cuts the"),
    (["--rider-page", "javascript:alert(1)"], "rider page"),
])
def test_bad_options_give_a_message_and_exit_2(sample_gpkg, tmp_path, capsys, args, message):
    code = main(["map", "--data", str(sample_gpkg), "--output", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.glob("*.html"))


def test_missing_geopackage_is_a_clear_error(tmp_path, capsys):
    assert main(["map", "--data", str(tmp_path / "none.gpkg"), "--output", str(tmp_path)]) == 2
    assert "no such GeoPackage" in capsys.readouterr().err


def test_unknown_base_map_is_refused_by_the_parser(sample_gpkg, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["map", "--data", str(sample_gpkg), "--basemap", "google"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'google'" in capsys.readouterr().err
