"""``stations serve`` refuses a missing or corrupt GeoPackage with a clean message."""

from __future__ import annotations

import pytest

from stations.cli import EXIT_ERROR, main


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("content", [None, b"not a geopackage"])
def test_bad_data_file_is_a_clean_error(tmp_path, capsys, monkeypatch, content, workers):
    for name in ("STATIONS_DATA", "STATIONS_RELOAD_INTERVAL_S"):  # restored after the test
        monkeypatch.setenv(name, "")
    path = tmp_path / "stations.gpkg"
    if content is not None:
        path.write_bytes(content)
    assert main(["serve", "--data", str(path), "--workers", workers]) == EXIT_ERROR
    err = capsys.readouterr().err
    assert err.startswith("stations serve: error:") and str(path) in err
    assert "Traceback" not in err


def test_workers_must_be_positive(sample_gpkg, capsys):
    assert main(["serve", "--data", str(sample_gpkg), "--workers", "0"]) == EXIT_ERROR
    assert "--workers" in capsys.readouterr().err
