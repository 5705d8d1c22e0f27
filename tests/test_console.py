"""The office console: sign-in, CSRF, scope, edits through the store, conflicts, reports."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.console.accounts import Accounts
from stations.crs import to_wgs84
from stations.store import Scope

NOON = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
PASSWORD = "correct horse battery"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = NOON

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def console(sample_gpkg, tmp_path):
    accounts = tmp_path / "console.sqlite"
    staff = Accounts(accounts)
    staff.create("nn", PASSWORD, "南宁市总工会", Scope(city="南宁市"), NOON)
    staff.create("yy", PASSWORD, "云阳县总工会", Scope(district="云阳县"), NOON)
    clock = Clock()
    app = create_app(ApiSettings(data=sample_gpkg, reload_interval_s=0,
                                 console_accounts=accounts), clock=clock)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, clock


def sign_in(client, username: str = "nn") -> str:
    answer = client.post("/console/login", data={"username": username, "password": PASSWORD},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    cookie = answer.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    page = client.get("/console")
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def edit_form(csrf: str, version: int = 1, **fields: str) -> dict[str, str]:
    form = {"csrf": csrf, "version": str(version), "name": "民族大道枫林路口工会驿站",
            "address": "南宁市青秀区", "phone": "0771-12351", "opening_hours": "24小时",
            "lon": "108.396", "lat": "22.817", "amenity_microwave": "1"}
    return {**form, **fields}


def test_signed_out_pages_lead_to_sign_in(console):
    client, _ = console
    answer = client.get("/console", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/login"
    assert "<h1>登录</h1>" in client.get("/console/login").text


def test_wrong_passwords_lock_the_account_for_a_doubling_time(console):
    client, clock = console
    for _ in range(5):
        answer = client.post("/console/login", data={"username": "nn", "password": "wrong"})
        assert answer.status_code == 401
    locked = client.post("/console/login", data={"username": "nn", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 30
    clock.now += dt.timedelta(seconds=31)
    assert client.post("/console/login", data={"username": "nn", "password": PASSWORD},
                       follow_redirects=False).status_code == 303


def test_an_edit_in_hours_as_offices_write_them_reaches_the_api(console):
    client, _ = console
    csrf = sign_in(client)
    answer = client.post("/console/stations/NN-001",
                         data=edit_form(csrf, opening_hours="周一至周五 8:00-18:00"),
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    station = client.get("/stations/NN-001").json()["properties"]
    assert station["opening_hours"] == "Mo-Fr 08:00-18:00"
    page = client.get(answer.headers["location"]).text
    assert "已保存" in page and "周一至周五 08:00–18:00" in page
    assert "nn" in page and "撤销" in page


def test_a_stale_edit_is_a_conflict_showing_both_versions(console):
    client, _ = console
    csrf = sign_in(client)
    assert client.post("/console/stations/NN-001", data=edit_form(csrf, name="甲"),
                       follow_redirects=False).status_code == 303
    stale = client.post("/console/stations/NN-001", data=edit_form(csrf, name="乙"))
    assert stale.status_code == 409
    assert "<h1>冲突</h1>" in stale.text and "甲" in stale.text and "乙" in stale.text
    assert client.get("/stations/NN-001").json()["properties"]["name"] == "甲"


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example"}])
def test_writes_without_the_token_or_from_another_site_are_refused(console, headers):
    client, _ = console
    csrf = sign_in(client)
    form = edit_form("" if not headers else csrf, name="改")
    answer = client.post("/console/stations/NN-001", data=form, headers=headers)
    assert answer.status_code == 403
    assert client.get("/stations/NN-001").json()["properties"]["name"] != "改"


def test_an_office_sees_and_changes_only_its_own_stations(console):
    client, _ = console
    csrf = sign_in(client)
    listing = client.get("/console").text
    assert "NN-001" in listing and "YY-001" not in listing
    assert client.get("/console/stations/YY-001").status_code == 404
    answer = client.post("/console/stations/YY-001", data=edit_form(csrf, name="改"))
    assert answer.status_code == 404
    assert client.get("/stations/YY-001").json()["properties"]["name"] == "月光草坪工会驿站"


def test_markup_in_data_is_shown_as_text(console):
    client, _ = console
    sign_in(client, "yy")
    page = client.get("/console").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
    assert "default-src 'none'" in client.get("/console").headers["content-security-policy"]


def test_reports_are_closed_with_a_note_beside_the_stations_recent_edits(console):
    client, _ = console
    for kind in ("microwave_broken", "charger_missing"):
        assert client.post("/stations/NN-002/reports",
                           json={"kind": kind, "note": "<b>坏</b>"}).status_code == 201
    csrf = sign_in(client)
    moved = client.post("/console/stations/NN-002", data=edit_form(
        csrf, name="五象大道体强路口工会驿站", lon="108.3901", lat="22.7702"),
        follow_redirects=False)
    assert moved.status_code == 303
    inbox = client.get("/console/reports").text
    assert "微波炉坏了" in inbox and "&lt;b&gt;坏&lt;/b&gt;" in inbox and "<b>坏</b>" not in inbox
    assert "南宁市总工会 / nn · update" in inbox  # the edit, beside the reports
    first, second = sorted(int(i) for i in re.findall(r"/console/reports/(\d+)/resolve", inbox))
    answer = client.post(f"/console/reports/{first}/resolve", follow_redirects=False, data={
        "csrf": csrf, "outcome": "resolved", "note": "<i>换了新的</i>"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/console/reports?station=NN-002&saved=1#r-{first}"
    page = client.get(answer.headers["location"]).text
    assert "&lt;i&gt;换了新的&lt;/i&gt;" in page and "<i>换" not in page
    assert client.post(f"/console/reports/{second}/resolve", data={
        "csrf": csrf, "outcome": "dismissed", "note": "重复"}).status_code == 200
    page = client.get("/console/reports?station=NN-002").text
    assert "已驳回" in page and "重复" in page and "南宁市总工会 / nn" in page
    again = client.post(f"/console/reports/{first}/resolve",
                        data={"csrf": csrf, "outcome": "resolved", "note": "again"})
    assert again.status_code == 409
    assert "没有未处理的反馈" in client.get("/console/reports").text
    assert client.get("/console/reports?station=YY-001").status_code == 404


def test_a_report_of_another_office_or_with_a_bad_outcome_is_refused(console):
    client, _ = console
    report_id = client.post("/stations/NN-002/reports", json={"kind": "other"}).json()["id"]
    csrf = sign_in(client, "yy")
    refused = client.post(f"/console/reports/{report_id}/resolve",
                          data={"csrf": csrf, "outcome": "resolved", "note": "不是我们的"})
    assert refused.status_code == 404
    csrf = sign_in(client, "nn")
    bad = client.post(f"/console/reports/{report_id}/resolve",
                      data={"csrf": csrf, "outcome": "maybe", "note": ""})
    assert bad.status_code == 422 and "outcome" in bad.text


def test_close_for_now_and_reopen(console):
    client, _ = console
    csrf = sign_in(client)
    answer = client.post("/console/stations/NN-001/status",
                         data={"csrf": csrf, "version": "1", "status": "temporarily_closed",
                               "note": "装修 renovation"}, follow_redirects=False)
    assert answer.status_code == 303
    assert client.get("/stations/NN-001").json()["properties"]["status"] == "temporarily_closed"
    assert client.post("/console/stations/NN-001/status",
                       data={"csrf": csrf, "version": "2", "status": "reopened"},
                       follow_redirects=False).status_code == 303
    assert client.get("/stations/NN-001").json()["properties"]["status"] == "open"


def test_sign_out_ends_the_session(console):
    client, _ = console
    csrf = sign_in(client)
    client.post("/console/logout", data={"csrf": csrf})
    assert client.get("/console", follow_redirects=False).status_code == 303


def test_a_position_is_converted_for_the_map_only_when_signed_in(console):
    client, _ = console
    query = {"lon": "108.4", "lat": "22.8", "crs": "gcj02"}
    assert client.get("/console/position", params=query).status_code == 401
    sign_in(client)
    answer = client.get("/console/position", params=query).json()
    lon, lat = to_wgs84(108.4, 22.8, "gcj02")
    assert answer["wgs84"] == pytest.approx([float(lon), float(lat)], abs=1e-9)
    assert answer["gcj02"] == pytest.approx([108.4, 22.8], abs=1e-7)
    assert abs(answer["wgs84"][0] - 108.4) > 1e-3  # the shift is hundreds of metres
    plain = client.get("/console/position", params={"lon": "108.4", "lat": "22.8"}).json()
    assert plain["wgs84"] == [108.4, 22.8]


def test_a_bad_position_is_refused_naming_the_field(console):
    client, _ = console
    sign_in(client)
    for query, field in [({"lon": "東", "lat": "22.8"}, "lon"),
                         ({"lon": "108.4", "lat": "91"}, "lat"),
                         ({"lon": "nan", "lat": "22.8"}, "lon"),
                         ({"lon": "108.4", "lat": "22.8", "crs": "mercator"}, "mercator")]:
        answer = client.get("/console/position", params=query)
        assert answer.status_code == 422 and field in answer.text, query


def test_a_position_typed_out_of_range_is_refused_naming_the_field(console):
    client, _ = console
    csrf = sign_in(client)
    answer = client.post("/console/stations/NN-001", data=edit_form(csrf, lat="95"))
    assert answer.status_code == 422 and "lat: must be between -90 and 90" in answer.text


def test_english_is_chosen_by_a_cookie_and_returns_to_the_same_page(console):
    client, _ = console
    sign_in(client)
    answer = client.post("/console/language", data={"lang": "en", "back": "/console?status=open"},
                         follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console?status=open"
    assert "stations_console_lang=en" in answer.headers["set-cookie"]
    page = client.get("/console").text
    assert '<html lang="en">' in page and "<h1>Stations" in page and "Temporarily closed" in page
    assert 'href="/console">Stations</a>' in page and ">驿站</a>" not in page
    client.post("/console/language", data={"lang": "zh", "back": "/console"})
    assert "<h1>驿站" in client.get("/console").text


def test_the_language_switch_never_leads_to_another_site(console):
    client, _ = console
    for back in ["//evil.example/console", "https://evil.example", "/consolex", "/console\\x"]:
        answer = client.post("/console/language", data={"lang": "en", "back": back},
                             follow_redirects=False)
        assert answer.headers["location"] == "/console", back
    refused = client.post("/console/language", data={"lang": "fr", "back": "/console"})
    assert refused.status_code == 400


def test_pages_allow_scripts_of_this_site_and_images_of_the_two_tile_hosts_only(console):
    client, _ = console
    sign_in(client)
    page = client.get("/console")
    policy = dict(part.strip().split(" ", 1) for part in
                  page.headers["content-security-policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
    hosts = policy["img-src"].split()
    assert "https://tile.openstreetmap.org" in hosts and "https://webrd01.is.autonavi.com" in hosts
    assert all(h in ("'self'", "data:") or h.startswith("https://") for h in hosts)
    script = re.search(r'<script src="(/static/console\.js\?v=\w+)"', page.text).group(1)
    assert "console.js" in script and client.get(script).status_code == 200
    assert "<script>" not in page.text
