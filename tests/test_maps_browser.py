"""The generated maps in real headless Chromium, with the network cut.

Every request that is not a local file is aborted: the pages must work from the file alone,
and the only outside requests they may try are base-map tiles.  Screenshots go to
``tests/screenshots/`` (``STATIONS_SCREENSHOTS=docs/img`` for the documentation).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from browser import SCREENSHOTS, chromium

from stations.crs import wgs84_to_bd09, wgs84_to_gcj02
from stations.maps import Basemap, build_station_map, save_map
from stations.maps.coverage_map import build_coverage_map

pytestmark = [pytest.mark.browser, pytest.mark.slow]

TILE_HOSTS = re.compile(r"^https://(tile\.openstreetmap\.org|webrd0[1-4]\.is\.autonavi\.com)/")
HOSTILE = "<img src=x onerror=alert(1)>"
FIRST_STATION = "民族大道枫林路口工会驿站"


@dataclass
class OpenedPage:
    """A page with what it tried to fetch from outside and what it complained about."""

    page: object
    aborted: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        """Console errors and uncaught exceptions other than the aborted tile requests."""
        return [e for e in self.errors if not e.startswith("Failed to load resource")]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


def open_offline(browser, path: Path, **context_options) -> OpenedPage:
    context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="zh-CN",
                                  **context_options)
    page = context.new_page()
    opened = OpenedPage(page)

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            request_route.continue_()
        else:
            opened.aborted.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.on("console", lambda m: opened.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: opened.errors.append(f"uncaught: {exc}"))
    page.add_init_script("window.__alerts = []; window.alert = m => window.__alerts.push(m);")
    page.goto(path.as_uri())
    return opened


def wait_until_clustered(page) -> None:
    page.wait_for_function("window.stationMapState && window.stationMapState.ready",
                           timeout=30_000)


def markers_on_screen(page) -> int:
    """Stations drawn: single pins plus the numbers on the cluster bubbles."""
    clusters = page.eval_on_selector_all(
        ".marker-cluster span", "spans => spans.map(s => Number(s.textContent))")
    return page.locator(".station-pin").count() + sum(clusters)


def settle(page) -> None:
    """Let Leaflet's fade and zoom animations finish before a screenshot."""
    page.wait_for_timeout(400)


def pins_in_view(page) -> list[object]:
    """The single-station pins inside the viewport (Leaflet also keeps some just outside)."""
    size = page.viewport_size
    pins = []
    for pin in page.locator(".station-pin").all():
        box = pin.bounding_box()
        if box and 0 <= box["x"] < size["width"] - 20 and 0 <= box["y"] < size["height"] - 20:
            pins.append(pin)
    return pins


def whole_map_view(page) -> None:
    page.evaluate("""() => {
        const map = window[document.querySelector('.folium-map').id];
        map.setView([27, 108.5], 5, {animate: false});
    }""")
    wait_until_clustered(page)


@pytest.fixture
def station_map_file(sample_frame, tmp_path) -> Path:
    return save_map(build_station_map(sample_frame), tmp_path / "stations.html")


def test_station_map_clusters_popups_and_filters(browser, station_map_file, sample_frame):
    opened = open_offline(browser, station_map_file)
    page = opened.page
    wait_until_clustered(page)
    assert page.locator(".marker-cluster").count() >= 1
    whole_map_view(page)
    assert markers_on_screen(page) == len(sample_frame)
    assert page.locator(".stations-count").inner_text() == "显示 6 / 6 个驿站"
    page.screenshot(path=str(SCREENSHOTS / "station-map.png"))

    # Search by name, open the popup from the result.
    page.fill(".stations-search input", "民族大道")
    page.locator(".stations-search-hit").first.click()
    popup = page.locator(".station-popup")
    popup.wait_for()
    assert popup.locator(".station-name").inner_text() == FIRST_STATION
    assert popup.locator(".station-name-en").inner_text() == "Minzu Avenue Fenglin Road Station"
    amenities = popup.locator(".station-amenities li")
    assert amenities.evaluate_all("items => items.map(i => i.dataset.amenity)") == [
        "drinking_water", "fridge", "microwave", "air_conditioning", "washing_machine",
        "phone_charging"]
    assert "🍲 微波炉" in popup.locator(".station-amenities").inner_text()
    assert popup.locator(".station-status").inner_text().startswith("开放")
    assert popup.locator(".station-phone").get_attribute("href") == "tel:077112351"
    gcj_lon, gcj_lat = wgs84_to_gcj02(108.3960, 22.8170)
    bd_lon, bd_lat = wgs84_to_bd09(108.3960, 22.8170)
    assert f"position={gcj_lon:.6f},{gcj_lat:.6f}" in popup.locator(".nav-amap").get_attribute(
        "href")
    assert f"location={bd_lat:.6f},{bd_lon:.6f}" in popup.locator(".nav-baidu").get_attribute(
        "href")
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / "station-map-popup.png"))

    # Clicking a pin opens that station's popup.
    page.keyboard.press("Escape")
    page.evaluate("() => document.querySelector('.leaflet-popup-close-button')?.click()")
    page.wait_for_selector(".station-popup", state="detached")
    pins_in_view(page)[0].click()
    popup.wait_for()
    assert popup.locator(".station-name").inner_text() in set(sample_frame["name"])

    # Amenity filters rebuild the clusters: 4 stations have a microwave, 1 also e-bike charging.
    page.check(".stations-filter input[data-amenity=microwave]")
    wait_until_clustered(page)
    assert page.locator(".stations-count").inner_text() == "显示 4 / 6 个驿站"
    page.check(".stations-filter input[data-amenity=ebike_charging]")
    wait_until_clustered(page)
    assert page.evaluate("window.stationMapState.visible") == 1
    whole_map_view(page)
    assert markers_on_screen(page) == 1
    # Search looks only among the stations the filter shows.
    page.fill(".stations-search input", "月光草坪")  # microwave, but no e-bike charging
    page.locator(".stations-search-none").wait_for()
    page.fill(".stations-search input", "五象大道")  # has both
    page.locator(".stations-search-hit").wait_for()
    page.uncheck(".stations-filter input[data-amenity=microwave]")
    page.uncheck(".stations-filter input[data-amenity=ebike_charging]")
    wait_until_clustered(page)
    whole_map_view(page)
    assert markers_on_screen(page) == 6

    page.click(".stations-fullscreen a")
    page.wait_for_function("document.fullscreenElement === "
                           "document.querySelector('.folium-map')")
    page.click(".stations-fullscreen a")
    page.wait_for_function("document.fullscreenElement === null")

    assert opened.problems() == []
    assert opened.aborted, "the base map should have asked for tiles"
    assert all(TILE_HOSTS.match(url) for url in opened.aborted), opened.aborted


def test_hostile_station_name_shows_as_text(browser, station_map_file):
    opened = open_offline(browser, station_map_file)
    page = opened.page
    wait_until_clustered(page)
    page.fill(".stations-search input", "<img")
    hit = page.locator(".stations-search-hit .hit-name")
    hit.wait_for()
    assert hit.inner_text() == HOSTILE
    hit.click()
    page.locator(".station-popup").wait_for()
    assert page.locator(".station-popup .station-name").inner_text() == HOSTILE
    page.evaluate("() => document.querySelector('.leaflet-popup-close-button').click()")
    tooltips = []
    for pin in pins_in_view(page):
        pin.hover()
        tooltips += page.locator(".station-tooltip").all_inner_texts()
    assert HOSTILE in tooltips
    assert page.locator("img[src=x]").count() == 0
    assert page.evaluate("window.__alerts") == []
    assert opened.problems() == []


def test_gcj02_shift_in_the_page_agrees_with_the_crs_module(browser, station_map_file):
    rng = np.random.default_rng(7)
    lon = np.concatenate([rng.uniform(73.5, 135.0, 300), [108.396, 121.4737, 0.0, 150.0]])
    lat = np.concatenate([rng.uniform(18.0, 53.5, 300), [22.817, 31.2304, 0.0, 60.0]])
    opened = open_offline(browser, station_map_file)
    shifted = np.array(opened.page.evaluate(
        "pts => pts.map(p => StationsMap.wgs84ToGcj02(p[0], p[1]))",
        np.column_stack([lon, lat]).tolist()))
    want_lon, want_lat = wgs84_to_gcj02(lon, lat)
    np.testing.assert_allclose(shifted[:, 0], want_lon, atol=1e-9, rtol=0)
    np.testing.assert_allclose(shifted[:, 1], want_lat, atol=1e-9, rtol=0)


@pytest.mark.parametrize("basemap", [Basemap.AMAP, Basemap.OSM])
def test_located_position_is_shifted_on_the_amap_base_map(browser, sample_frame, tmp_path,
                                                          basemap):
    path = save_map(build_station_map(sample_frame, basemap), tmp_path / "m.html")
    here = {"latitude": 22.8150, "longitude": 108.3990}
    opened = open_offline(browser, path, geolocation=here, permissions=["geolocation"])
    page = opened.page
    wait_until_clustered(page)
    page.click(".stations-locate a")
    page.wait_for_selector(".stations-locate[data-lat]")
    got = page.eval_on_selector(".stations-locate",
                                "b => [Number(b.dataset.lng), Number(b.dataset.lat)]")
    want = (wgs84_to_gcj02(108.3990, 22.8150) if basemap is Basemap.AMAP
            else (108.3990, 22.8150))
    np.testing.assert_allclose(got, [float(want[0]), float(want[1])], atol=1e-9)
    if basemap is Basemap.AMAP:
        settle(page)
        page.screenshot(path=str(SCREENSHOTS / "station-map-amap-located.png"))
    assert opened.problems() == []
    assert all(TILE_HOSTS.match(url) for url in opened.aborted)


def test_coverage_map_summary_choropleth_and_heat(browser, sample_frame, tmp_path):
    nanning = sample_frame[sample_frame["city"] == "南宁市"]
    path = save_map(build_coverage_map(nanning, place="南宁市"), tmp_path / "coverage.html")
    opened = open_offline(browser, path)
    page = opened.page
    summary = page.locator(".stations-summary")
    summary.wait_for()
    text = summary.inner_text()
    assert "南宁市" in text and "驿站 Stations\t4" in text
    assert re.search(r"1000 m 内覆盖 Within 1000 m\t\d+\.\d %", text)
    assert page.locator("path.leaflet-interactive").count() > 50
    # A tooltip per grid cell, with its station count and share within reach.
    cell = page.locator("path.leaflet-interactive[fill='#1a9850'], "
                        "path.leaflet-interactive[fill='#91cf60']").first
    cell.hover(force=True)
    tooltip = page.locator(".leaflet-tooltip")
    tooltip.wait_for()
    assert "驿站数 Stations" in tooltip.inner_text()
    settle(page)
    page.screenshot(path=str(SCREENSHOTS / "coverage-map.png"))
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 0
    page.get_by_label("驿站密度 Station density").check()
    page.wait_for_selector("canvas.leaflet-heatmap-layer")
    assert opened.problems() == []
    assert all(TILE_HOSTS.match(url) for url in opened.aborted)


def test_station_map_links_riders_to_the_rider_page(browser, sample_frame, tmp_path):
    path = save_map(build_station_map(sample_frame, rider_page_url="https://yizhan.example.org/"),
                    tmp_path / "stations.html")
    opened = open_offline(browser, path)
    wait_until_clustered(opened.page)
    link = opened.page.locator("a.stations-rider-link")
    assert link.count() == 1
    assert link.get_attribute("href") == "https://yizhan.example.org/"
    assert "离我最近的开放驿站" in link.inner_text()
    assert opened.problems() == []


def test_station_map_without_a_rider_page_has_no_link(browser, station_map_file):
    opened = open_offline(browser, station_map_file)
    wait_until_clustered(opened.page)
    assert opened.page.locator("a.stations-rider-link").count() == 0
