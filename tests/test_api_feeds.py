"""``GET /feeds/{format}`` through the real API app: same bytes as the exporter, validators."""

from __future__ import annotations

import os
import time
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from fastapi.testclient import TestClient
from pmtiles.reader import Reader

from stations.api.app import create_app
from stations.api.feeds import RangeNotSatisfiable, byte_range
from stations.api.http import accepts_gzip
from stations.api.settings import ApiSettings
from stations.export import EXPORTERS, default_filename, export_bytes, get_exporter
from stations.geodata import read_stations, write_stations


@pytest.fixture
def client(sample_gpkg):
    settings = ApiSettings(data=sample_gpkg, reload_interval_s=0, fast_path=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("name", list(EXPORTERS))
def test_each_feed_is_the_export_with_its_media_type(client, sample_gpkg, name):
    exporter = get_exporter(name)
    response = client.get(f"/feeds/{name}")
    assert response.status_code == 200
    assert response.headers["content-type"] == exporter.media_type
    assert response.content == export_bytes(exporter, read_stations(sample_gpkg))
    assert default_filename(exporter) in response.headers["content-disposition"]
    version = read_stations(sample_gpkg).attrs["data_version"]
    assert response.headers["etag"] == f'W/"{version}-{name}"'
    assert parsedate_to_datetime(response.headers["last-modified"]).timestamp() == int(
        os.stat(sample_gpkg).st_mtime)


def test_listing_links_every_feed(client):
    feeds = client.get("/feeds").json()["feeds"]
    assert [f["format"] for f in feeds] == list(EXPORTERS)
    bd09 = next(f for f in feeds if f["format"] == "csv-bd09")
    assert bd09["crs"] == "bd09" and bd09["filename"] == "stations-bd09.csv"
    assert client.get(bd09["href"]).status_code == 200


def test_conditional_requests_get_304_without_a_body(client):
    first = client.get("/feeds/kml")
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    again = client.get("/feeds/kml", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get("/feeds/kml", headers={"If-None-Match": f'"other", {etag}'}
                      ).status_code == 304
    assert client.get("/feeds/kml", headers={"If-Modified-Since": modified}).status_code == 304
    # If-None-Match decides when both are sent: a stale tag means a full answer.
    stale = client.get("/feeds/kml", headers={"If-None-Match": 'W/"old-kml"',
                                             "If-Modified-Since": modified})
    assert stale.status_code == 200 and stale.content == first.content
    earlier = format_datetime(parsedate_to_datetime(modified).replace(year=2020), usegmt=True)
    assert client.get("/feeds/kml", headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get("/feeds/kml", headers={"If-Modified-Since": "yesterday"}).status_code == 200


def test_a_rebuilt_geopackage_changes_the_feed_and_its_validators(client, sample_gpkg):
    first = client.get("/feeds/geojson")
    stations = read_stations(sample_gpkg)
    stations.loc[stations["id"] == "NN-001", "name"] = "新名字工会驿站"
    time.sleep(1.1)  # Last-Modified has whole seconds
    write_stations(stations, sample_gpkg)
    second = client.get("/feeds/geojson", headers={"If-None-Match": first.headers["etag"]})
    assert second.status_code == 200
    assert second.headers["etag"] != first.headers["etag"]
    assert parsedate_to_datetime(second.headers["last-modified"]) > parsedate_to_datetime(
        first.headers["last-modified"])
    assert "新名字工会驿站" in second.content.decode("utf-8")


def test_a_corrupt_replacement_keeps_the_last_good_feed(client, sample_gpkg):
    good = client.get("/feeds/gpx")
    sample_gpkg.write_bytes(b"not a geopackage")
    still = client.get("/feeds/gpx")
    assert still.status_code == 200 and still.content == good.content


def test_unknown_format_is_422_naming_the_parameter(client):
    response = client.get("/feeds/shapefile")
    assert response.status_code == 422
    detail = response.json()["detail"][0]
    assert detail["loc"] == ["path", "format"]
    assert "geojson" in detail["msg"] and "pmtiles" in detail["msg"]


def test_text_feeds_are_sent_gzipped_or_plain_as_the_client_asks(client, sample_gpkg):
    expected = export_bytes(get_exporter("kml"), read_stations(sample_gpkg))
    packed = client.get("/feeds/kml", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["vary"]
    assert packed.content == expected  # httpx unpacks it
    plain = client.get("/feeds/kml", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == expected


def test_map_clients_read_the_pmtiles_archive_by_byte_range(client, sample_gpkg):
    whole = client.get("/feeds/pmtiles").content
    assert whole == export_bytes(get_exporter("pmtiles"), read_stations(sample_gpkg))

    def get_bytes(offset: int, length: int) -> bytes:
        response = client.get("/feeds/pmtiles",
                              headers={"Range": f"bytes={offset}-{offset + length - 1}"})
        assert response.status_code == 206
        assert response.headers["content-range"] == (
            f"bytes {offset}-{offset + length - 1}/{len(whole)}")
        assert response.headers["accept-ranges"] == "bytes"
        return response.content

    reader = Reader(get_bytes)
    assert reader.header()["max_zoom"] == 12
    assert reader.metadata()["vector_layers"][0]["id"] == "stations"
    assert client.get("/feeds/pmtiles", headers={"Range": "bytes=-10"}).content == whole[-10:]
    beyond = client.get("/feeds/pmtiles", headers={"Range": f"bytes={len(whole)}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(whole)}"
    several = client.get("/feeds/pmtiles", headers={"Range": "bytes=0-1,5-6"})
    assert several.status_code == 200 and several.content == whole
    # If-Range with a (weak) validator cannot be honoured: the whole archive comes back.
    guarded = client.get("/feeds/pmtiles", headers={"Range": "bytes=0-9", "If-Range": 'W/"x"'})
    assert guarded.status_code == 200 and guarded.content == whole


@pytest.mark.parametrize(("header", "size", "expected"), [
    ("bytes=0-99", 1000, (0, 99)), ("bytes=900-", 1000, (900, 999)),
    ("bytes=990-2000", 1000, (990, 999)), ("bytes=-100", 1000, (900, 999)),
    ("bytes=-5000", 1000, (0, 999)), ("Bytes = 5 - 6", 1000, (5, 6)),
    # not one byte range: ignored, the whole feed is sent
    ("bytes=5-1", 1000, None), ("bytes=0-1,5-6", 1000, None), ("items=0-1", 1000, None),
    ("bytes=a-b", 1000, None), ("bytes=-", 1000, None),
])
def test_byte_range(header, size, expected):
    assert byte_range(header, size) == expected


@pytest.mark.parametrize(("header", "size"), [("bytes=1000-", 1000), ("bytes=-0", 1000),
                                              ("bytes=0-", 0)])
def test_byte_range_not_satisfiable(header, size):
    with pytest.raises(RangeNotSatisfiable):
        byte_range(header, size)


@pytest.mark.parametrize(("header", "expected"), [
    ("gzip", True), ("gzip, deflate, br", True), ("br;q=1.0, gzip;q=0.5", True), ("*", True),
    ("gzip;q=0", False), ("identity", False), ("", False), ("deflate", False),
])
def test_accepts_gzip(header, expected):
    assert accepts_gzip(header) is expected


def test_head_sends_the_validators_and_openapi_lists_the_route(client):
    head = client.head("/feeds/gpx")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == client.get("/feeds/gpx").headers["etag"]
    operation = client.get("/openapi.json").json()["paths"]["/feeds/{format}"]
    assert set(operation) == {"get"}
    assert {"200", "304", "422"} <= set(operation["get"]["responses"])
