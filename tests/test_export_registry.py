"""The feed registry: every exporter keeps the protocol, and output is reproducible."""

from __future__ import annotations

import pytest

from stations.crs import CoordinateSystem
from stations.errors import UnknownExportFormat
from stations.export import EXPORTERS, Exporter, default_filename, export_bytes, get_exporter


@pytest.mark.parametrize("name", list(EXPORTERS))
def test_exporter_keeps_the_protocol(name):
    exporter = EXPORTERS[name]
    assert isinstance(exporter, Exporter)
    assert exporter.name == name
    assert exporter.extension.startswith(".")
    assert "/" in exporter.media_type
    filename = default_filename(exporter)
    if exporter.crs is CoordinateSystem.WGS84:
        assert filename == f"stations{exporter.extension}"
    else:
        assert filename == f"stations-{exporter.crs.value}{exporter.extension}"


@pytest.mark.parametrize("name", list(EXPORTERS))
def test_same_stations_give_the_same_bytes(sample_frame, name):
    """Feeds are byte-for-byte reproducible, so a data version names exactly one file."""
    exporter = EXPORTERS[name]
    assert export_bytes(exporter, sample_frame) == export_bytes(exporter, sample_frame.copy())


def test_lookup_ignores_case_and_spaces_and_names_the_allowed_formats():
    assert get_exporter(" KML ") is EXPORTERS["kml"]
    with pytest.raises(UnknownExportFormat, match="allowed: geojson, geojson-gcj02, csv-gcj02"):
        get_exporter("shp")
