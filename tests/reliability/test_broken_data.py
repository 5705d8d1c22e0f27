"""A broken replacement GeoPackage under the feeds: old feeds served, one log line, one read."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from fastapi.testclient import TestClient

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.geodata import write_stations


def test_feeds_refuse_a_broken_file_once_and_keep_serving(sample_gpkg: Path, sample_frame,
                                                          caplog):
    app = create_app(ApiSettings(data=sample_gpkg, reload_interval_s=0))
    with TestClient(app) as client:
        good = client.get("/feeds/geojson")
        assert good.status_code == 200
        data = sample_gpkg.read_bytes()
        staged = sample_gpkg.with_name("staged.gpkg")
        staged.write_bytes(data[: len(data) // 2])
        os.replace(staged, sample_gpkg)
        caplog.set_level(logging.ERROR)
        for _ in range(5):
            again = client.get("/feeds/geojson")
            assert again.status_code == 200 and again.content == good.content
        refusals = [r for r in caplog.records if "still serving" in r.getMessage()]
        assert len(refusals) == 1, "the broken file is logged once, not on every request"
        # A good file again is picked up.
        write_stations(sample_frame.iloc[:3], sample_gpkg)
        assert len(client.get("/feeds/geojson").json()["features"]) == 3
