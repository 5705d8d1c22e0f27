"""Fixtures for the reliability tests: the sample stations served by a real app."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_sample_frame

from stations.geodata import write_stations


@pytest.fixture(scope="module")
def module_gpkg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The six sample stations in a GeoPackage shared by one test module."""
    path = tmp_path_factory.mktemp("data") / "stations.gpkg"
    write_stations(make_sample_frame(), path)
    return path
