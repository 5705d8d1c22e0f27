"""Uploading an office sheet in Chromium against a real server: a GB18030 sheet with BD-09
positions is reviewed on the map and in the table, applied and served within a second; a
cancelled one writes nothing; a form without its CSRF token is refused."""

from __future__ import annotations

import time

import httpx
import pytest
from browser import SCREENSHOTS, chromium
from playwright.sync_api import expect
from test_console_browser import server, sign_in  # noqa: F401  (the fixture is used by name)
from test_console_upload import MARKUP, sheet_bytes

pytestmark = pytest.mark.browser


def choose_sheet(page, url: str) -> None:
    page.goto(f"{url}/console/upload")
    page.set_input_files("#f-sheet", files=[{"name": "南宁.csv", "mimeType": "text/csv",
                                             "buffer": sheet_bytes("gb18030")}])
    page.select_option("#f-crs", "bd09")


def submit(page, form: str) -> None:
    """Submit a form of the page as its button does (the browser sends its fields, the CSRF
    token among them); a click below the review's frame is sometimes lost under load."""
    with page.expect_navigation():
        page.locator(form).evaluate("form => form.requestSubmit()")


def upload_and_wait_for_the_map(page) -> None:
    """Send the sheet, and wait until the review's frame has drawn its map: its scripts ran
    (allowed by their hashes), new, moved with its old position, and missing stations."""
    page.click("#upload button[type=submit]")
    expect(page.frame_locator("#review-map").locator("path.leaflet-interactive")
           ).to_have_count(4)
    page.wait_for_load_state("load")


def test_a_sheet_is_reviewed_on_the_map_applied_and_served_within_a_second(server):  # noqa: F811
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        dialogs: list[str] = []
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        sign_in(page, server, "nn")
        choose_sheet(page, server)
        upload_and_wait_for_the_map(page)
        summary = page.inner_text("#summary")
        assert "新增 1 added" in summary and "1 moved" in summary and "缺失 1 missing" in summary
        assert "修改 3 changed" in summary
        refused = page.inner_text("#refused")
        assert "南宁.csv row 6 (第6行): YY-003" in refused and "outside this office" in refused
        frame = page.frame_locator("#review-map")
        table = frame.locator("table").inner_text()
        for word in ("新增 new", "修改 changed", "缺失 missing", f"{MARKUP}新建驿站",
                     "opening_hours"):
            assert word in table
        assert "NN-004" in page.inner_text("#missing")
        page.select_option('select[name="missing_all"]', "close")  # for every missing one
        page.screenshot(path=str(SCREENSHOTS / "console-upload-review.png"), full_page=True)
        submit(page, "#apply")
        applied_at = time.monotonic()
        page.wait_for_selector("#applied")
        while True:
            answer = httpx.get(f"{server}/stations/NN-005")
            if answer.status_code == 200:
                break
            assert time.monotonic() - applied_at < 1.0, answer.status_code
            time.sleep(0.05)
        assert answer.json()["properties"]["name"] == f"{MARKUP}新建驿站"
        closed = httpx.get(f"{server}/stations/NN-004").json()["properties"]["status"]
        assert closed == "closed"
        assert httpx.get(f"{server}/stations/YY-003").status_code == 404
        assert dialogs == []


def test_cancel_writes_nothing_and_a_form_without_its_token_is_refused(server):  # noqa: F811
    with chromium() as browser:
        page = browser.new_page()
        sign_in(page, server, "nn")
        choose_sheet(page, server)
        upload_and_wait_for_the_map(page)
        submit(page, "#cancel")
        assert "未作任何修改" in page.inner_text("#cancelled")
        assert httpx.get(f"{server}/stations/NN-005").status_code == 404
        assert httpx.get(f"{server}/stations/NN-001").json()["properties"]["opening_hours"] \
            == "24/7"
        choose_sheet(page, server)
        page.evaluate("document.querySelector('#upload input[name=csrf]').remove()")
        page.click("#upload button[type=submit]")
        assert "表单已过期" in page.inner_text("#message")
        page.goto(f"{server}/console/upload/review")
        assert page.url.endswith("/console/upload")  # nothing is waiting for review
