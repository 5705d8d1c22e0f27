"""``stations export`` end to end: a real GeoPackage in, real files out."""

from __future__ import annotations

import json

import pytest

from stations.cli import main
from stations.export import EXPORTERS, default_filename


def test_list_names_every_format_and_its_coordinate_system(capsys):
    assert main(["export", "--format", "list"]) == 0
    out = capsys.readouterr().out
    for name, exporter in EXPORTERS.items():
        line = next(line for line in out.splitlines() if line.startswith(name + " "))
        assert exporter.crs.value in line
        assert default_filename(exporter) in line


def test_one_format_to_a_named_file(sample_gpkg, tmp_path, capsys):
    output = tmp_path / "out" / "feed.geojson"
    assert main(["export", "--format", "geojson", "--data", str(sample_gpkg),
                 "--output", str(output)]) == 0
    document = json.loads(output.read_text(encoding="utf-8"))
    assert len(document["features"]) == 6
    assert "6 stations" in capsys.readouterr().out
    assert [p.name for p in output.parent.iterdir()] == ["feed.geojson"]  # no temporary left


def test_folder_output_uses_the_coordinate_system_in_the_file_name(sample_gpkg, tmp_path):
    assert main(["export", "-f", "csv-bd09", "--data", str(sample_gpkg),
                 "--output", str(tmp_path)]) == 0
    assert (tmp_path / "stations-bd09.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_all_formats_into_a_folder(sample_gpkg, tmp_path):
    assert main(["export", "--format", "all", "--data", str(sample_gpkg),
                 "--output", str(tmp_path / "feeds")]) == 0
    written = sorted(p.name for p in (tmp_path / "feeds").iterdir())
    assert written == sorted(default_filename(e) for e in EXPORTERS.values())


@pytest.mark.parametrize(("arguments", "message"), [
    (["--format", "shapefile"], "unknown format 'shapefile'; allowed: geojson"),
    (["--format", "kml", "--data", "missing.gpkg"], "missing.gpkg: no such GeoPackage"),
])
def test_bad_input_is_a_clear_message_and_exit_2(arguments, message, capsys, tmp_path,
                                                 monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", *arguments]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err

