"""Stations with open problem reports are marked on the station map."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from browser import chromium
from playwright.sync_api import Browser

from stations.cli import main
from stations.geodata import read_stations
from stations.maps import build_station_map, save_map
from stations.maps.payload import (
    OPEN_REPORTS_COLUMN,
    decode_payload,
    encode_payload,
    station_payload,
)
from stations.reports import SQLiteReportStore


def with_reports(frame: gpd.GeoDataFrame, counts: dict[str, int]) -> gpd.GeoDataFrame:
    frame = frame.copy()
    frame[OPEN_REPORTS_COLUMN] = frame["id"].map(counts).fillna(0).astype(int)
    return frame


def decode_payload_of(frame: gpd.GeoDataFrame) -> dict[str, object]:
    return decode_payload(encode_payload(station_payload(frame)))


def test_payload_lists_reported_stations_only(sample_frame: gpd.GeoDataFrame) -> None:
    payload = decode_payload_of(with_reports(sample_frame, {"NN-001": 2, "YY-002": 1}))
    ids = list(sample_frame["id"])
    assert [[ids[i], n] for i, n in payload["reports"]] == [["NN-001", 2], ["YY-002", 1]]
    assert decode_payload_of(sample_frame)["reports"] == []


def test_map_command_reads_open_reports_beside_the_geopackage(
    sample_gpkg: Path, tmp_path: Path
) -> None:
    store = SQLiteReportStore(sample_gpkg.with_name("reports.sqlite"))
    store.add("NN-003", "closed_at_night", client="a")
    store.add("NN-003", "other", client="b")
    resolved = store.add("NN-001", "other", client="c")
    store.resolve(resolved.report.id, who="office")
    out = tmp_path / "maps"
    assert main(["map", "--data", str(sample_gpkg), "--output", str(out), "--kind", "stations",
                 "--no-progress"]) == 0
    html = (out / "stations.html").read_text(encoding="utf-8")
    encoded = re.search(r'"([A-Za-z0-9+/=]{100,})"\);', html)  # the station payload
    assert encoded is not None
    payload = decode_payload(encoded.group(1))
    index = list(read_stations(sample_gpkg)["id"]).index("NN-003")
    assert payload["reports"] == [[index, 2]]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.mark.browser
@pytest.mark.slow
def test_reported_station_is_ringed_and_its_popup_says_so(
    browser: Browser, sample_frame: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    path = save_map(build_station_map(with_reports(sample_frame, {"NN-002": 3})),
                    tmp_path / "stations.html")
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("https://**", lambda route: route.abort())
    page.goto(path.as_uri())
    page.wait_for_function("window.stationMapState && window.stationMapState.ready")
    page.evaluate("""() => {
        const map = window[document.querySelector('.folium-map').id];
        map.setView([22.7700, 108.3900], 18, {animate: false});
    }""")
    reported = page.locator(".station-pin-reported")
    reported.first.wait_for()
    assert reported.count() == 1
    reported.first.click()
    popup = page.locator(".station-popup")
    popup.wait_for()
    assert popup.get_attribute("data-station-id") == "NN-002"
    assert "⚠ 3 个未处理" in popup.locator(".station-reports").inner_text()
    assert "有未处理的问题报告" in page.locator(".stations-legend").inner_text()
    assert errors == []
