"""Vector tiles: read with the pmtiles reader and decoded with mapbox-vector-tile."""

from __future__ import annotations

import gzip

import mapbox_vector_tile
import numpy as np
import pandas as pd
import pyogrio
import pytest
from export_checks import assert_round_trip, hostile_frame
from pmtiles.reader import MmapSource, Reader, all_tiles
from pmtiles.tile import Compression, TileType

from stations.errors import ExportError
from stations.export import get_exporter
from stations.export.vector_tiles import LAYER, MAX_ZOOM, MIN_ZOOM, unit_to_lonlat


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    frame = hostile_frame()
    path = tmp_path_factory.mktemp("tiles") / "stations.pmtiles"
    get_exporter("pmtiles").write(frame, path)
    with path.open("rb") as f:
        source = MmapSource(f)
        reader = Reader(source)
        header, metadata = reader.header(), reader.metadata()
        tiles = {zxy: gzip.decompress(data) for zxy, data in all_tiles(source)}
    return frame, header, metadata, tiles


def _features(tiles, zoom):
    for (z, x, y), data in tiles.items():
        if z != zoom:
            continue
        layer = mapbox_vector_tile.decode(data, default_options={"y_coord_down": True})[LAYER]
        for feature in layer["features"]:
            yield x, y, layer["extent"], feature


def test_header_and_metadata(archive):
    frame, header, metadata, _ = archive
    assert header["tile_type"] == TileType.MVT
    assert header["tile_compression"] == Compression.GZIP
    assert (header["min_zoom"], header["max_zoom"]) == (MIN_ZOOM, MAX_ZOOM)
    assert header["min_lon_e7"] <= frame.geometry.x.min() * 1e7
    assert header["max_lat_e7"] >= frame.geometry.y.max() * 1e7
    layer = metadata["vector_layers"][0]
    assert layer["id"] == LAYER
    assert layer["fields"]["amenities"] == "String"
    assert layer["fields"]["point_count"] == "Number"


def test_every_station_round_trips_at_the_top_zoom(archive):
    frame, _, _, tiles = archive
    rows = []
    for x, y, extent, feature in _features(tiles, MAX_ZOOM):
        px, py = feature["geometry"]["coordinates"]
        scale = 2**MAX_ZOOM
        lon, lat = unit_to_lonlat((x + px / extent) / scale, (y + py / extent) / scale)
        properties = feature["properties"]
        rows.append({
            "id": properties["id"], "name": properties["name"],
            "codes": [c for c in properties["amenities"].split(",") if c],
            "lon": float(lon), "lat": float(lat),
        })
    assert_round_trip(frame, pd.DataFrame(rows), "wgs84")


def test_lower_zooms_cluster_without_losing_stations(archive):
    frame, _, _, tiles = archive
    for zoom in range(MIN_ZOOM, MAX_ZOOM):
        counts = [f["properties"]["point_count"] for *_, f in _features(tiles, zoom)]
        assert sum(counts) == len(frame), zoom
    # At zoom 0 the four Nanning stations share a cell; at zoom 11 they are apart.
    assert max(f["properties"]["point_count"] for *_, f in _features(tiles, 0)) >= 4
    assert len(list(_features(tiles, 0))) < len(frame)
    assert len(list(_features(tiles, MAX_ZOOM))) == len(frame)


def test_positions_in_low_zoom_tiles_are_inside_their_tile(archive):
    _, _, _, tiles = archive
    for zoom in (0, 5, 10):
        xy = np.array([f["geometry"]["coordinates"] for _, _, _, f in _features(tiles, zoom)])
        extents = {extent for _, _, extent, _ in _features(tiles, zoom)}
        assert xy.min() >= 0 and xy.max() <= max(extents)


def test_empty_table_is_a_clear_error(tmp_path):
    with pytest.raises(ExportError, match="at least one station"):
        get_exporter("pmtiles").write(hostile_frame().iloc[0:0], tmp_path / "x.pmtiles")
    assert not (tmp_path / "x.pmtiles").exists()


def test_gdal_pmtiles_driver_reads_the_archive(tmp_path):
    frame = hostile_frame()
    path = tmp_path / "stations.pmtiles"
    get_exporter("pmtiles").write(frame, path)
    table = pyogrio.read_dataframe(path, layer=LAYER).to_crs("EPSG:4326")
    read_back = pd.DataFrame({
        "id": table["id"], "name": table["name"],
        "codes": [[c for c in text.split(",") if c] for text in table["amenities"].fillna("")],
        "lon": table.geometry.x, "lat": table.geometry.y,
    })
    assert_round_trip(frame, read_back, "wgs84")
