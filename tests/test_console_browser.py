"""The office console in Chromium against a real server: sign in, edit, conflict, markup."""

from __future__ import annotations

import time

import httpx
import pytest
from browser import SCREENSHOTS, chromium
from live_server import running_server
from test_console import NOON, PASSWORD

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.console.accounts import Accounts
from stations.store import Scope

pytestmark = pytest.mark.browser


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
    page.click("button[type=submit]")
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
