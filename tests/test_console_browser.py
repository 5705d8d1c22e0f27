"""The office console in Chromium against a real server: sign in, edit, conflict, markup,
the map with its draggable pin on GCJ-02 and WGS84 tiles, and the language switch."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from browser import SCREENSHOTS, chromium
from live_server import running_server
from playwright.sync_api import Page, expect
from pyproj import Geod
from test_console import NOON, PASSWORD

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.console.accounts import Accounts
from stations.crs import from_wgs84, to_wgs84
from stations.store import Scope

pytestmark = pytest.mark.browser
TILE_HOSTS = re.compile(r"^https://(tile\.openstreetmap\.org|webrd0[1-4]\.is\.autonavi\.com)/")
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def server(sample_gpkg, tmp_path):
    accounts = tmp_path / "console.sqlite"
    staff = Accounts(accounts)
    staff.create("nn", PASSWORD, "南宁市总工会", Scope(city="南宁市"), NOON)
    staff.create("yy", PASSWORD, "云阳县总工会", Scope(district="云阳县"), NOON)
    app = create_app(ApiSettings(data=sample_gpkg, reload_interval_s=0,
                                 console_accounts=accounts))
    with running_server(app) as url:
        yield url


def sign_in(page, url: str, username: str) -> None:
    page.goto(f"{url}/console/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login button")
    page.wait_for_selector("#stations")


def test_an_edit_reaches_the_api_within_a_second_and_a_stale_one_is_a_conflict(server):
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 390, "height": 844})
        first, second = context.new_page(), context.new_page()
        sign_in(first, server, "nn")
        first.goto(f"{server}/console/stations/NN-001")
        second.goto(f"{server}/console/stations/NN-001")
        first.fill("#f-hours", "周一至周五 8:00-18:00")
        first.click("#edit button[type=submit]")
        saved_at = time.monotonic()
        first.wait_for_selector("#saved")
        while True:
            answer = httpx.get(f"{server}/stations/NN-001").json()["properties"]
            if answer["opening_hours"] == "Mo-Fr 08:00-18:00":
                break
            assert time.monotonic() - saved_at < 1.0, answer["opening_hours"]
            time.sleep(0.05)
        assert "周一至周五 08:00–18:00" in first.inner_text("#hours-words")
        first.screenshot(path=str(SCREENSHOTS / "console-station.png"), full_page=True)
        second.fill("#f-name", "另一位同事的修改")
        second.click("#edit button[type=submit]")
        second.wait_for_selector("#conflict")
        assert "另一位同事的修改" in second.inner_text("table")
        assert httpx.get(f"{server}/stations/NN-001").json()["properties"]["name"] \
            == "民族大道枫林路口工会驿站"


def test_markup_in_station_names_is_text_and_other_offices_are_out_of_sight(server):
    with chromium() as browser:
        page = browser.new_page()
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        sign_in(page, server, "yy")
        assert "<img src=x onerror=alert(1)>" in page.inner_text("#stations")
        assert "NN-001" not in page.inner_text("#stations")
        page.goto(f"{server}/console/stations/NN-001")
        assert "不属于本单位" in page.inner_text("#message")
        assert dialogs == []


@contextmanager
def watched_page(viewport: dict[str, int] = PHONE) -> Iterator[tuple[Page, list[str]]]:
    """A Chromium page whose base-map tiles are refused at once (the network is closed).  Script
    errors, CSP refusals, dialogs and requests to any other site are collected in the list,
    which must be empty at the end of the block."""
    problems: list[str] = []

    def route(request_route) -> None:
        url = request_route.request.url
        if url.startswith("http://127.0.0.1"):
            request_route.continue_()
            return
        if not TILE_HOSTS.match(url):
            problems.append(f"request to {url}")
        request_route.abort()

    with chromium() as browser:
        page = browser.new_context(viewport=viewport).new_page()
        page.route("**/*", route)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("console", lambda message: problems.append(message.text)
                if message.type == "error" and "ERR_FAILED" not in message.text else None)
        page.on("dialog", lambda dialog: (problems.append(f"dialog: {dialog.message}"),
                                          dialog.dismiss()))
        yield page, problems
    assert problems == []


def web_mercator_pixel(lon: float, lat: float, zoom: int) -> tuple[float, float]:
    """Leaflet's (EPSG:3857) world pixel of a position at ``zoom``."""
    size = 256 * 2 ** zoom
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    return (lon + 180) / 360 * size, (1 - y / math.pi) / 2 * size


def web_mercator_position(x: float, y: float, zoom: int) -> tuple[float, float]:
    size = 256 * 2 ** zoom
    lat = math.degrees(2 * math.atan(math.exp(math.pi * (1 - 2 * y / size))) - math.pi / 2)
    return x / size * 360 - 180, lat


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(Geod(ellps="WGS84").inv(a[0], a[1], b[0], b[1])[2])


@pytest.mark.parametrize(("basemap", "crs"), [("amap", "gcj02"), ("osm", "wgs84")])
def test_a_dragged_pin_is_saved_in_wgs84_where_it_was_dropped(server, basemap, crs):
    before = httpx.get(f"{server}/stations/NN-001").json()["geometry"]["coordinates"]
    with watched_page({"width": 1000, "height": 900}) as (page, _problems):
        sign_in(page, server, "nn")
        page.goto(f"{server}/console/stations/NN-001")
        page.select_option("#basemap", basemap)
        pin = page.locator(".pin")
        pin.scroll_into_view_if_needed()
        zoom = int(page.get_attribute("#map", "data-zoom"))
        start = pin.bounding_box()
        x, y = start["x"] + start["width"] / 2, start["y"] + start["height"] / 2
        page.mouse.move(x, y)
        page.mouse.down()
        page.mouse.move(x + 70, y - 45, steps=10)
        page.mouse.up()
        expect(page.locator("#f-lon")).not_to_have_value(str(before[0]))
        expect(page.locator("#save")).to_be_enabled()
        page.screenshot(path=str(SCREENSHOTS / f"console-pin-{basemap}.png"))
        page.click("#save")
        page.wait_for_selector("#saved")
        # Where the pin was drawn (Leaflet rounds it to a whole pixel) plus the drag, on the
        # tiles' own coordinates, then back to WGS84 by the Python transform.
        shown = from_wgs84(before[0], before[1], crs)
        px, py = (round(v) for v in web_mercator_pixel(float(shown[0]), float(shown[1]), zoom))
        dropped = web_mercator_position(px + 70, py - 45, zoom)
        meant = tuple(float(v) for v in to_wgs84(dropped[0], dropped[1], crs))
        after = httpx.get(f"{server}/stations/NN-001").json()["geometry"]["coordinates"]
        assert metres(after, meant) < 0.5
        assert 30 < metres(after, before) < 60
        # The page remembers the base map; on the other tiles the pin is shifted the other way.
        page.reload()
        assert page.input_value("#basemap") == basemap


def test_the_station_map_shows_names_as_text_in_popups(server):
    with watched_page() as (page, _problems):
        sign_in(page, server, "yy")
        markers = page.locator("#map path.leaflet-interactive")
        assert markers.count() == page.locator("#stations tr.station").count() == 2
        shown = []
        for index in range(markers.count()):
            markers.nth(index).click()
            page.wait_for_selector(".leaflet-popup-content a.name")
            shown += page.locator(".leaflet-popup-content a.name").all_inner_texts()
        assert "<img src=x onerror=alert(1)>" in shown and "月光草坪工会驿站" in shown
        assert page.locator(".leaflet-popup-content img").count() == 0
        page.screenshot(path=str(SCREENSHOTS / "console-map-phone.png"))


def test_english_is_remembered_across_a_reload_and_fits_a_phone(server):
    with watched_page() as (page, _problems):
        sign_in(page, server, "nn")
        assert page.inner_text("h1").startswith("驿站")
        page.click("#language button")
        page.wait_for_selector("html[lang=en]")
        assert page.inner_text("h1").startswith("Stations")
        page.reload()
        assert page.inner_text("h1").startswith("Stations")
        page.goto(f"{server}/console/stations/NN-001")
        assert "Opening hours" in page.inner_text("#edit")
        for path in ("/console", "/console/stations/NN-001", "/console/reports"):
            page.goto(server + path)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], (path, width)
        page.screenshot(path=str(SCREENSHOTS / "console-english-phone.png"), full_page=True)
        page.click("#language button")
        page.wait_for_selector("html[lang=zh-CN]")
        assert "驿站" in page.inner_text("header")


def test_a_report_closed_with_a_note_shows_it_as_text_and_a_form_without_token_is_refused(
        server):
    rider_note = "<b>坏</b>"
    assert httpx.post(f"{server}/stations/NN-002/reports", json={
        "kind": "microwave_broken", "note": rider_note}).status_code == 201
    office_note = "<script>alert(1)</script>换了新的"
    with watched_page() as (page, problems):
        sign_in(page, server, "nn")
        page.goto(f"{server}/console/reports")
        assert page.inner_text(".rider-note") == rider_note
        # A form posted without the session's token changes nothing.
        page.locator("form.resolve input[name=csrf]").evaluate("node => node.remove()")
        page.fill("form.resolve textarea", "无令牌")
        page.click("form.resolve button[value=resolved]")
        page.wait_for_selector("#message")
        assert "拒绝" in page.inner_text("h1") and "表单已过期" in page.inner_text("#message")
        assert [p for p in problems if "403" not in p] == []
        problems.clear()
        page.goto(f"{server}/console/reports")
        assert page.locator("form.resolve").count() == 1
        page.fill("form.resolve textarea", office_note)
        page.click("form.resolve button[value=resolved]")
        page.wait_for_selector("#saved")
        assert page.inner_text(".closed-reports .resolution-note") == office_note
        assert "nn" in page.inner_text(".closed-reports")
        assert page.locator("#map path.leaflet-interactive").count() == 1
        page.screenshot(path=str(SCREENSHOTS / "console-report-closed.png"), full_page=True)


def test_without_script_the_position_is_typed_and_saved(server):
    with chromium() as browser:
        page = browser.new_context(java_script_enabled=False, viewport=PHONE).new_page()
        sign_in(page, server, "nn")
        assert not page.locator("#map").is_visible()
        page.goto(f"{server}/console/stations/NN-001")
        assert not page.locator("#map").is_visible() and not page.locator(".pin").count()
        page.fill("#f-lon", "108.3971")
        page.fill("#f-lat", "22.8162")
        page.click("#save")
        page.wait_for_selector("#saved")
    answer = httpx.get(f"{server}/stations/NN-001").json()["geometry"]["coordinates"]
    assert answer == [108.3971, 22.8162]
