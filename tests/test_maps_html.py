"""Structure of the generated map pages: offline assets, the station payload, escaping."""

from __future__ import annotations

import re

import numpy as np
import pytest

from stations.crs import wgs84_to_bd09, wgs84_to_gcj02
from stations.errors import MapError
from stations.maps import Basemap, build_station_map, parse_basemap, render_html
from stations.maps.assets import ASSETS, UNUSED_FOLIUM_ASSETS, asset_text
from stations.maps.coverage_map import build_coverage_map
from stations.maps.payload import COORDINATE_SCALE, decode_payload
from stations.model import AMENITIES

HOSTILE = "<img src=x onerror=alert(1)>"
PAYLOAD = re.compile(r'StationsMap\.mountStations\([^,]+, (\{.*?\}),\s*"([A-Za-z0-9+/=]+)"\)',
                     re.S)


def external_urls(page: str) -> list[str]:
    """URLs the page would fetch by itself: script sources and linked style sheets."""
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", page)
    links = re.findall(r"<link[^>]*\bhref=\"([^\"]+)\"", page)
    return scripts + links


def payload_of(page: str) -> dict[str, object]:
    match = PAYLOAD.search(page)
    assert match, "station payload not found"
    return decode_payload(match.group(2))


@pytest.fixture
def station_page(sample_frame) -> str:
    return render_html(build_station_map(sample_frame))


def test_offline_station_map_links_nothing_outside(station_page):
    assert external_urls(station_page) == []
    for library in ("jquery", "bootstrap", "font-awesome", "fontawesome", "awesome-markers"):
        assert library not in station_page.lower()
    # Leaflet, the cluster styles and our scripts are inlined, once each.
    for name in ("leaflet", "leaflet_css", "markerclusterdefaultcss", "grid_cluster_js",
                 "station_layer_js"):
        assert station_page.count(asset_text(name)) == 1, name
    # Leaflet's CSS images became data URIs, so nothing is fetched relative to the file.
    assert "url(images/" not in station_page
    assert "data:image/png;base64," in station_page


def test_offline_coverage_map_links_nothing_outside(sample_frame):
    page = render_html(build_coverage_map(sample_frame))
    assert external_urls(page) == []
    assert "L.HeatLayer" in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()


def test_cdn_mode_links_only_the_libraries_the_maps_use(sample_frame):
    page = render_html(build_station_map(sample_frame), offline=False)
    urls = external_urls(page)
    assert sorted(urls) == sorted(
        ASSETS[name].cdn_url for name in
        ("leaflet", "leaflet_css", "markerclustercss", "markerclusterdefaultcss"))
    assert not any(name in " ".join(urls) for name in UNUSED_FOLIUM_ASSETS)
    # Our own controls are inlined in both modes.
    assert "window.StationsMap" in page


def test_payload_carries_every_station_with_its_amenities(station_page, sample_frame):
    payload = payload_of(station_page)
    assert payload["count"] == len(sample_frame)
    scale = payload["scale"]
    lon = np.cumsum(payload["lon"]) / scale
    lat = np.cumsum(payload["lat"]) / scale
    np.testing.assert_allclose(lon, sample_frame.geometry.x, atol=1e-6)
    np.testing.assert_allclose(lat, sample_frame.geometry.y, atol=1e-6)
    names = payload["text"]["name"]
    assert names == list(sample_frame["name"])
    for bit, amenity in enumerate(AMENITIES):
        has = [(mask >> bit) & 1 == 1 for mask in payload["mask"]]
        assert has == list(sample_frame[amenity.column]), amenity.code


def test_payload_navigation_offsets_come_from_the_crs_module(station_page, sample_frame):
    payload = payload_of(station_page)
    lon, lat = sample_frame.geometry.x.to_numpy(), sample_frame.geometry.y.to_numpy()
    for prefix, convert in (("gcj", wgs84_to_gcj02), ("bd", wgs84_to_bd09)):
        want_lon, want_lat = convert(lon, lat)
        got_lon = lon + np.asarray(payload[f"{prefix}_dlon"]) / COORDINATE_SCALE
        got_lat = lat + np.asarray(payload[f"{prefix}_dlat"]) / COORDINATE_SCALE
        np.testing.assert_allclose(got_lon, want_lon, atol=1.1e-6)
        np.testing.assert_allclose(got_lat, want_lat, atol=1.1e-6)
        # The shift is real: hundreds of metres, not zero.
        assert np.all(np.abs(got_lon - lon) > 1e-3)


def test_hostile_text_never_reaches_the_page_as_markup(sample_frame):
    frame = sample_frame.copy()
    frame.loc[0, "city"] = "</title><script>alert(2)</script>"
    frame.loc[1, "address"] = "</script><script>alert(3)</script>"
    for page in (render_html(build_station_map(frame, title=frame.loc[0, "city"])),
                 render_html(build_coverage_map(frame, place=frame.loc[0, "city"]))):
        assert HOSTILE not in page
        assert "<script>alert(" not in page
        assert "</title><script>" not in page
    assert payload_of(render_html(build_station_map(frame)))["text"]["name"][5] == HOSTILE


def test_amap_base_map_draws_in_gcj02(sample_frame):
    page = render_html(build_station_map(sample_frame, Basemap.AMAP))
    config = PAYLOAD.search(page).group(1)
    assert '"crs":"gcj02"' in config
    assert "autonavi.com" in page and "AutoNavi" in page
    assert "tile.openstreetmap.org" not in page


def test_osm_base_map_carries_its_attribution(station_page):
    assert "tile.openstreetmap.org" in station_page
    assert "OpenStreetMap" in station_page and "copyright" in station_page


def test_unknown_base_map_and_empty_table_are_clear_errors(sample_frame):
    with pytest.raises(MapError, match="allowed: osm, amap"):
        parse_basemap("google")
    with pytest.raises(MapError, match="no stations"):
        build_station_map(sample_frame.iloc[0:0])


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,x", "yizhan.org", ""])
def test_rider_page_link_must_be_a_web_address(sample_frame, url):
    with pytest.raises(MapError, match="rider page"):
        build_station_map(sample_frame, rider_page_url=url)


def test_template_syntax_in_data_is_not_evaluated(sample_frame):
    frame = sample_frame.copy()
    frame["city"] = "{{ 7 * 7 }}{% if true %}x{% endif %}"
    page = render_html(build_coverage_map(frame, place=frame.loc[0, "city"]))
    assert '"{{ 7 * 7 }}{% if true %}x{% endif %}"' in page
    frame.loc[0, "name"] = "{{ 6 * 7 }}"
    payload = payload_of(render_html(build_station_map(frame)))
    assert payload["text"]["name"][0] == "{{ 6 * 7 }}"


def test_the_same_map_renders_to_the_same_file(sample_frame):
    pages = {render_html(build_station_map(sample_frame)) for _ in range(2)}
    assert len(pages) == 1
    coverage_pages = {render_html(build_coverage_map(sample_frame)) for _ in range(2)}
    assert len(coverage_pages) == 1


def test_popups_give_the_hours_in_words(station_page, sample_frame):
    hours = payload_of(station_page)["text"]["hours"]
    if isinstance(hours, dict):
        hours = [hours["levels"][code] for code in hours["codes"]]
    by_id = dict(zip(sample_frame["id"], hours, strict=True))
    assert by_id["NN-003"] == "周一至周五 08:00–18:00 / Mon–Fri 08:00–18:00"
    assert by_id["NN-001"] == "24小时开放 / Open 24 hours"
    assert "opening_hours" not in payload_of(station_page)["text"]
