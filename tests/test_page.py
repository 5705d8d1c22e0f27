"""The rider page in real headless Chromium against the real API served by uvicorn.

The server runs on 127.0.0.1 on a free port with the sample GeoPackage (stations in Nanning and
Yunyang).  Map tiles are answered with a blank image unless a test blocks them; every test
fails on a console error or an uncaught page error.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import struct
import zlib
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from browser import SCREENSHOTS, chromium
from conftest import make_unknown_hours_frame
from live_server import running_server
from playwright.sync_api import Browser, ConsoleMessage, Page

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.geodata import write_stations
from stations.model import DEFAULT_GEOPACKAGE
from stations.reports import SQLiteReportStore, default_reports_path

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# A name that is not localhost: the page is then an insecure origin, as on a plain-HTTP site.
INSECURE_HOST_RULE = "--host-resolver-rules=MAP insecure.test 127.0.0.1"
PHONE = {"width": 360, "height": 740}
NANNING = {"longitude": 108.3700, "latitude": 22.8150}
YUNYANG = {"longitude": 108.6990, "latitude": 30.9330}
TILES = "https://tile.openstreetmap.org/**"
PAGE_WEIGHT_LIMIT = 100_000
REACH_M = 20_000  # the default
RURAL_GUANGXI = {"longitude": 108.0, "latitude": 26.0}  # 350 km from the nearest station


def _transparent_png() -> bytes:
    """A 1×1 transparent PNG: stands in for map tiles, which this machine cannot download."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00")) + chunk(b"IEND", b""))


BLANK_PNG = _transparent_png()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("geodata")
    write_stations(make_unknown_hours_frame(), folder / "stations.gpkg")
    return folder


# The moments the server's clock is set to: NN-003 (Mo-Fr 08:00-18:00) is open at the first only.
WEEKDAY_NOON = dt.datetime(2024, 6, 12, 12, 0)   # Wednesday, Asia/Shanghai
WEEKEND_NIGHT = dt.datetime(2024, 6, 15, 23, 0)  # Saturday


@pytest.fixture(scope="module")
def server_at(data_dir: Path) -> Iterator[Callable[[dt.datetime], str]]:
    """Base URL of the real app under uvicorn whose clock says the given moment (one each)."""
    urls: dict[dt.datetime, str] = {}
    with ExitStack() as stack:
        def url_at(moment: dt.datetime) -> str:
            if moment not in urls:
                settings = ApiSettings(data=data_dir / "stations.gpkg", clock_at=moment)
                urls[moment] = stack.enter_context(running_server(create_app(settings)))
            return urls[moment]
        yield url_at


@pytest.fixture(scope="module")
def server(server_at: Callable[[dt.datetime], str]) -> str:
    return server_at(WEEKEND_NIGHT)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium([INSECURE_HOST_RULE]) as launched:
        yield launched


class PageProblems:
    """Console errors and uncaught exceptions seen by a page."""

    def __init__(self, page: Page) -> None:
        self.messages: list[str] = []
        self.tile_failures = 0
        self.dialogs: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"page error: {error}"))
        page.on("dialog", self._dialog)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        if message.location.get("url", "").startswith("https://tile.openstreetmap.org/"):
            self.tile_failures += 1
        else:
            self.messages.append(f"console: {message.text} at {message.location}")

    def _dialog(self, dialog) -> None:  # type: ignore[no-untyped-def]
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def open_page(browser: Browser, url: str, *, where: dict[str, float] | None,
              tiles: bool = True, locale: str = "zh-CN") -> tuple[Page, PageProblems]:
    """A phone-sized page; ``where`` is the mocked position, None means location denied;
    ``locale`` is the browser's language."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale=locale, timezone_id="Asia/Shanghai",
        geolocation=where, permissions=["geolocation"] if where else [],
    )
    if tiles:
        context.route(TILES, lambda route: route.fulfill(body=BLANK_PNG, content_type="image/png"))
    else:
        context.route(TILES, lambda route: route.abort("internetdisconnected"))
    page = context.new_page()
    problems = PageProblems(page)
    page.goto(url)
    return page, problems


def open_located(browser: Browser, server: str, where: dict[str, float], locale: str = "zh-CN"
                 ) -> tuple[Page, PageProblems]:
    """The page with a granted position, once it lists stations."""
    page, problems = open_page(browser, server + "/", where=where, locale=locale)
    page.wait_for_selector("#list .station")
    return page, problems


def listed_ids(page: Page) -> list[str]:
    return page.locator("#list .station").evaluate_all("cards => cards.map(c => c.dataset.id)")


def api_ids(server: str, **params: object) -> list[str]:
    answer = httpx.get(f"{server}/nearest", params=params).raise_for_status().json()
    return [feature["id"] for feature in answer["features"]]


def wait_for_ids(page: Page, expected: list[str]) -> None:
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('#list .station')]"
        ".map(c => c.dataset.id)) === JSON.stringify(ids)", arg=expected, timeout=10_000)


def rider_query(where: dict[str, float] = NANNING, **extra: object) -> dict[str, object]:
    """What the page asks by default: within reach, stations not known to be closed."""
    return {"lon": f"{where['longitude']:.6f}", "lat": f"{where['latitude']:.6f}",
            "k": 8, "radius_m": REACH_M, "open_state": "open,unknown", **extra}


@pytest.mark.parametrize(("moment", "nearest"), [
    (WEEKDAY_NOON, ["NN-001", "NN-003", "NN-002"]),
    (WEEKEND_NIGHT, ["NN-001", "NN-002"]),  # NN-003 keeps office hours
], ids=["weekday-noon", "weekend-night"])
def test_located_rider_gets_the_api_nearest_stations_in_order(
    browser: Browser, server_at: Callable[[dt.datetime], str], moment: dt.datetime,
    nearest: list[str],
) -> None:
    server = server_at(moment)
    page, problems = open_located(browser, server, NANNING)
    expected = api_ids(server, **rider_query())
    assert expected == nearest  # the sample is laid out so that order matters; Yunyang is
    assert listed_ids(page) == expected  # beyond reach and NN-004 temporarily closed
    assert page.locator("#summary").text_content() == f"20 公里内离您最近的 {len(nearest)} 个驿站"

    first = page.locator("#list .station").first
    assert first.locator("h2").text_content() == "民族大道枫林路口工会驿站"
    assert first.locator(".distance").text_content() == "2.7 km"
    assert "微波炉" in first.locator(".amenities").text_content()
    assert first.locator(".hours").text_content() == "现在开放 · 24小时开放"
    assert first.locator(".times").text_content().endswith("骑行约 11 分钟（直线距离）")
    assert first.locator("a.tel").get_attribute("href") == "tel:0771-12351"
    # One numbered marker per listed station, and the rider's own position.
    assert page.locator("#map .rank-marker").all_text_contents() == [
        str(n) for n in range(1, len(expected) + 1)]
    assert page.locator("#map path.you-are-here").count() == 1
    if moment == WEEKDAY_NOON:
        page.screenshot(path=str(SCREENSHOTS / "phone-list.png"))
    assert problems.messages == [] and problems.tile_failures == 0


def test_navigate_links_carry_the_coordinates_the_api_gives_for_each_map_app(
    browser: Browser, server: str
) -> None:
    page, problems = open_located(browser, server, NANNING)
    for crs, link in (("gcj02", "a.amap"), ("bd09", "a.baidu")):
        answer = httpx.get(f"{server}/nearest", params=rider_query(crs=crs)).json()
        for feature in answer["features"]:
            card = page.locator(f"#list .station[data-id='{feature['id']}']")
            lon, lat = map(float, card.locator(link).get_attribute("data-lon-lat").split(","))
            assert lon == pytest.approx(feature["geometry"]["coordinates"][0], abs=2e-6)
            assert lat == pytest.approx(feature["geometry"]["coordinates"][1], abs=2e-6)
    amap = page.locator("#list .station").first.locator("a.amap").get_attribute("href")
    assert amap.startswith("https://uri.amap.com/navigation?to=")
    baidu = page.locator("#list .station").first.locator("a.baidu").get_attribute("href")
    assert baidu.startswith("https://api.map.baidu.com/direction?")
    assert "coord_type=bd09ll" in baidu
    assert problems.messages == []


def test_amenity_chips_and_closed_switch_refine_the_list_as_the_api_says(
    browser: Browser, server: str
) -> None:
    page, problems = open_located(browser, server, NANNING)
    before = listed_ids(page)

    page.locator(".chip[data-code='ebike_charging']").click()
    expected = api_ids(server, **rider_query(amenity="ebike_charging"))
    assert expected != before
    wait_for_ids(page, expected)
    assert page.locator(".chip[data-code='ebike_charging']").get_attribute("aria-pressed") == "true"

    page.locator(".chip[data-code='toilet']").click()
    expected = api_ids(server, **rider_query(amenity=["ebike_charging", "toilet"]))
    assert expected == []  # no sample station has both
    wait_for_ids(page, expected)
    assert "没有符合条件" in page.locator("#summary").text_content()

    page.locator(".chip[data-code='ebike_charging']").click()
    page.locator(".chip[data-code='toilet']").click()
    page.locator("#show-closed").check()
    everything = api_ids(server, **rider_query(open_state="open,closed,unknown"))
    assert "NN-004" in everything
    wait_for_ids(page, everything)
    closed = page.locator("#list .station[data-id='NN-004'] .hours")
    assert "暂停开放" in closed.text_content()
    assert problems.messages == []


def test_denied_location_shows_the_fallback_and_coordinates_work(
    browser: Browser, server: str
) -> None:
    page, problems = open_page(browser, server + "/", where=None)
    notice = page.locator("#notice")
    notice.wait_for(state="visible")
    assert "没有得到定位权限" in notice.text_content()
    assert page.locator("#manual").get_attribute("open") is not None
    assert page.locator("#list .station").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "phone-fallback.png"))

    # Coordinates copied from Amap are GCJ-02: the page converts them before asking.
    gcj = httpx.get(f"{server}/nearest", params=rider_query(crs="gcj02", k=1)).json()
    lon, lat = gcj["features"][0]["geometry"]["coordinates"]
    page.fill("#lon", f"{lon:.6f}")
    page.fill("#lat", f"{lat:.6f}")
    page.select_option("#crs", "gcj02")
    page.get_by_role("button", name="查找").click()
    page.wait_for_selector("#list .station")
    first = page.locator("#list .station").first
    assert first.get_attribute("data-id") == gcj["features"][0]["id"]
    assert first.locator(".distance").text_content() == "0 m"

    page.fill("#lat", "95")
    page.get_by_role("button", name="查找").click()
    assert "纬度" in notice.text_content()
    assert problems.messages == []


def test_tapping_the_map_sets_the_position_even_without_tiles(
    browser: Browser, server: str
) -> None:
    page, problems = open_page(browser, server + "/", where=None, tiles=False)
    page.locator("#notice").wait_for(state="visible")
    page.locator("#map").click(position={"x": 180, "y": 90})
    page.wait_for_selector("#list .station")
    assert len(listed_ids(page)) > 0
    assert page.locator("#map .rank-marker").count() == len(listed_ids(page))
    assert page.locator("#map path.you-are-here").count() == 1
    assert problems.tile_failures > 0  # tiles really failed, and nothing else did
    assert problems.messages == []


def test_insecure_origin_explains_why_there_is_no_position(
    browser: Browser, server: str
) -> None:
    insecure = server.replace("127.0.0.1", "insecure.test")
    page, problems = open_page(browser, insecure + "/", where=NANNING)
    notice = page.locator("#notice")
    notice.wait_for(state="visible")
    assert "HTTPS" in notice.text_content()
    assert page.evaluate("window.isSecureContext") is False
    assert problems.messages == []


def test_report_a_problem_in_two_taps(browser: Browser, server: str, data_dir: Path) -> None:
    store = SQLiteReportStore(default_reports_path(data_dir / "stations.gpkg"))
    before = len(store.reports(include_resolved=True))
    page, problems = open_located(browser, server, NANNING)
    station = page.locator("#list .station").first
    station_id = station.get_attribute("data-id")
    station.locator("button.report").click()
    sheet = page.locator("#report")
    sheet.wait_for(state="visible")
    assert page.locator("#report-send").is_disabled()
    sheet.get_by_role("button", name="微波炉坏了").click()              # tap 1: the kind
    page.fill("#report-note", "<b>晚上</b> 不热")
    page.screenshot(path=str(SCREENSHOTS / "phone-report.png"))
    page.locator("#report-send").click()                               # tap 2: confirm
    page.locator("#toast").wait_for(state="visible")
    assert "谢谢" in page.locator("#toast").text_content()
    assert not sheet.is_visible()

    reports = store.reports(include_resolved=True)
    assert len(reports) == before + 1
    assert (reports[-1].station_id, reports[-1].kind, reports[-1].note) == (
        station_id, "microwave_broken", "<b>晚上</b> 不热")
    assert problems.messages == []


def test_hostile_station_name_is_shown_as_text(browser: Browser, server: str) -> None:
    page, problems = open_located(browser, server, YUNYANG)
    page.locator("#show-closed").check()  # YY-002 keeps 06:00-22:00: closed at night
    page.wait_for_selector("#list .station[data-id='YY-002']")
    card = page.locator("#list .station[data-id='YY-002']")
    assert card.locator("h2").text_content() == "<img src=x onerror=alert(1)>"
    assert page.locator("#list img, #map .leaflet-tooltip img").count() == 0
    page.screenshot(path=str(SCREENSHOTS / "phone-hostile-name.png"))
    card.locator("button.report").click()
    assert page.locator("#report-station").text_content() == "<img src=x onerror=alert(1)>"
    assert page.locator("#report img").count() == 0
    assert problems.dialogs == []
    assert problems.messages == []


def test_english_toggle_keeps_chinese_names_and_is_remembered(
    browser: Browser, server: str
) -> None:
    page, problems = open_located(browser, server, NANNING)
    page.locator("#lang").click()
    assert page.locator(".chip[data-code='microwave']").text_content() == "🍲 Microwave"
    first = page.locator("#list .station").first
    assert first.locator("h2").text_content() == "民族大道枫林路口工会驿站"
    assert first.locator(".name-en").text_content() == "Minzu Avenue Fenglin Road Station"
    assert "Microwave" in first.locator(".amenities").text_content()
    assert page.evaluate("document.documentElement.lang") == "en"
    page.screenshot(path=str(SCREENSHOTS / "phone-list-en.png"))
    page.reload()
    page.wait_for_selector("#list .station")
    assert page.locator("#lang").text_content() == "中文"
    assert problems.messages == []


def test_page_weight_is_under_100_kb_compressed(browser: Browser, server: str) -> None:
    """Everything the page fetches from our server (page, code, styles, Leaflet, the station
    answer), counted as transferred bytes of compressed bodies, tiles excluded."""
    page, problems = open_page(browser, server + "/", where=NANNING)
    sizes: dict[str, int] = {}
    page.on("requestfinished", lambda request: sizes.__setitem__(
        request.url, request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"]))
    page.reload()
    page.wait_for_selector("#list .station")
    page.wait_for_load_state("networkidle")
    ours = {url: size for url, size in sizes.items() if url.startswith(server)}
    total = sum(ours.values())
    print(json.dumps({"page_weight_bytes": total, "files": ours}, indent=1))
    assert {url.split("?")[0].rsplit("/", 1)[-1] for url in ours} >= {
        "", "app.js", "app.css", "leaflet.js", "leaflet.css", "nearest"}
    assert total < PAGE_WEIGHT_LIMIT
    assert problems.messages == []


def test_unknown_hours_are_listed_with_the_call_first_note(browser: Browser, server: str) -> None:
    """On a Saturday night in Yunyang: YY-002 (06:00-22:00) is closed and hidden, YY-001
    (hours never recorded) is listed with a call-first note and its call button."""
    page, problems = open_located(browser, server, YUNYANG)
    assert listed_ids(page) == api_ids(server, **rider_query(YUNYANG)) == ["YY-001"]
    card = page.locator("#list .station[data-id='YY-001']")
    assert card.locator(".hours").text_content() == "开放时间未知，建议先打电话"
    assert card.locator("a.tel").get_attribute("href") == "tel:023-12351"
    page.screenshot(path=str(SCREENSHOTS / "phone-unknown-hours.png"))
    page.locator("#lang").click()
    assert card.locator(".hours").text_content() == "Hours unknown, call first"
    page.locator("#show-closed").check()
    closed = page.locator("#list .station[data-id='YY-002'] .hours")
    closed.wait_for()
    assert closed.text_content() == "Closed now · Daily 06:00–22:00"
    assert problems.messages == []


def test_nothing_within_reach_says_so_and_offers_the_nearest(browser: Browser,
                                                               server: str) -> None:
    page, problems = open_located(browser, server, RURAL_GUANGXI)
    answer = httpx.get(f"{server}/nearest", params=rider_query(RURAL_GUANGXI)).json()
    assert answer["features"] == []
    beyond = answer["nearestBeyondReach"]
    km = round(beyond["properties"]["distance_m"] / 1000)
    summary = page.locator("#summary")
    assert summary.locator("span").all_text_contents() == [
        "20 公里内没有驿站（不算已关闭的）。", f"最近的驿站在 {km} km 外："]
    assert listed_ids(page) == [beyond["id"]]
    card = page.locator("#list .station").first
    assert card.locator(".distance").text_content() == f"{km} km"
    assert card.locator(".times").count() == 0  # no "骑行 1425 分钟"
    assert page.locator("#map .rank-marker").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "phone-nothing-in-reach.png"))
    page.locator("#show-closed").check()
    summary.locator("span", has_text="20 公里内没有驿站。").wait_for()
    assert problems.messages == []


@pytest.mark.parametrize(("locale", "lang", "summary"), [
    ("zh-CN", "zh-CN", "20 公里内离您最近的 2 个驿站"),
    ("en-US", "en", "The 2 stations nearest to you within 20 km"),
    ("en-GB", "en", "The 2 stations nearest to you within 20 km"),
    ("zh-TW", "zh-CN", "20 公里内离您最近的 2 个驿站"),
    ("fr-FR", "zh-CN", "20 公里内离您最近的 2 个驿站"),  # neither: the page's own language
])
def test_first_visit_follows_the_browser_language(browser: Browser, server: str, locale: str,
                                                  lang: str, summary: str) -> None:
    page, problems = open_located(browser, server, NANNING, locale=locale)
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.locator("#summary").text_content() == summary
    assert problems.messages == []


def test_an_explicit_language_choice_outlives_the_browser_language(browser: Browser,
                                                                    server: str) -> None:
    page, problems = open_located(browser, server, NANNING, locale="en-US")
    assert page.locator("#lang").text_content() == "中文"
    page.locator("#lang").click()
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    page.reload()
    page.wait_for_selector("#list .station")
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert page.locator("#list .station").first.locator(".hours").text_content() == (
        "现在开放 · 24小时开放")
    assert problems.messages == []


def test_road_distances_are_labelled_as_such(browser: Browser, server: str) -> None:
    """An answer whose distances follow roads (``distance_basis: "road"``, from a server with a
    road network) is labelled so; the answer is the real one with that member changed."""
    def by_road(route) -> None:  # type: ignore[no-untyped-def]
        answer = route.fetch().json()
        answer["distance_basis"] = "road"
        route.fulfill(json=answer)

    context = browser.new_context(viewport=PHONE, locale="zh-CN", geolocation=NANNING,
                                  permissions=["geolocation"])
    context.route(TILES, lambda route: route.fulfill(body=BLANK_PNG, content_type="image/png"))
    context.route("**/nearest?*", by_road)
    page = context.new_page()
    problems = PageProblems(page)
    page.goto(server + "/")
    page.wait_for_selector("#list .station")
    times = page.locator("#list .station").first.locator(".times").text_content()
    assert times.endswith("骑行约 11 分钟（按道路）")
    assert problems.messages == []


def test_a_rider_in_central_xian_gets_xian_stations_on_the_shipped_sample(
    browser: Browser, tmp_path: Path
) -> None:
    """The case of issue 12: nine Xi'an stations 1-17 km away have no recorded hours; the page
    lists them (nearest 1.5 km) with the call-first note where there is a number to call, not
    Xiangyang 388 km away."""
    shipped = Path(__file__).resolve().parents[1] / DEFAULT_GEOPACKAGE
    shutil.copy(shipped, tmp_path / "stations.gpkg")  # reports would be kept beside it
    settings = ApiSettings(data=tmp_path / "stations.gpkg", clock_at=WEEKEND_NIGHT)
    with running_server(create_app(settings)) as url:
        page, problems = open_located(browser, url, {"longitude": 108.94, "latitude": 34.26})
        cards = page.locator("#list .station")
        assert cards.count() == 8
        distances = cards.locator(".distance").all_text_contents()
        assert distances[0] == "1.5 km" and all(d.endswith(" km") for d in distances)
        assert all(float(d.split()[0]) <= 17 for d in distances)
        for card in cards.all():  # the call-first note goes with a number to call
            calls = card.locator("a.tel").count()
            assert card.locator(".hours").text_content() == (
                "开放时间未知，建议先打电话" if calls else "开放时间未知")
        assert cards.locator("a.tel").count() >= 6
        assert "襄阳" not in page.locator("#list").text_content()
        assert problems.messages == []
