"""Uploading an office sheet in the console: review, apply or cancel, scope, CSRF, conflicts,
in both stores (a GeoPackage, and PostGIS when the test database is there)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import openpyxl
import pytest
from conftest import SAMPLE_ROWS
from fastapi.testclient import TestClient
from store_fixtures import STORE_KINDS, sample_store
from test_console import NOON, PASSWORD, Clock

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.crs import from_wgs84
from stations.store import Change, Scope

MARKUP = "<img src=x onerror=alert(2)>"
HEADINGS = ("编号", "驿站名称", "城市", "所在区县", "详细地址", "经度", "纬度", "开放时间", "状态",
            "服务设施")


def sheet_rows() -> list[tuple[str, ...]]:
    """The Nanning office's new sheet: NN-001's hours changed, NN-002 moved 220 m, NN-003 as
    it was, NN-004 left out, a new station whose name is markup, and a Yunyang station that
    is not Nanning's to add."""
    rows = []
    for station_id, name, _, city, district, lon, lat, *_ in SAMPLE_ROWS[:3]:
        if station_id == "NN-002":
            lat += 0.002
        hours = "周一至周五 8:00-18:00" if station_id == "NN-001" else "24小时"
        rows.append((station_id, name, city, district, f"{city}{district}", lon, lat, hours))
    rows.append(("NN-005", f"{MARKUP}新建驿站", "南宁市", "青秀区", "南宁市青秀区", 108.41,
                 22.81, "24小时"))
    rows.append(("YY-003", "云阳新驿站", "重庆市", "云阳县", "重庆市云阳县", 108.70, 30.93,
                 "24小时"))
    out = []
    for station_id, name, city, district, address, lon, lat, hours in rows:
        blon, blat = from_wgs84(lon, lat, "bd09")
        out.append((station_id, name, city, district, address, f"{float(blon):.6f}",
                    f"{float(blat):.6f}", hours, "开放", "饮水、微波炉"))
    return out


def sheet_bytes(encoding: str = "gb18030") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    writer.writerows(sheet_rows())
    return buffer.getvalue().encode(encoding)


@pytest.fixture(params=STORE_KINDS)
def upload(request, tmp_path):
    """A console on either store, with the Nanning and Yunyang accounts; (client, store, clock)."""
    store_iter = sample_store(request.param, tmp_path)
    store = next(store_iter)
    if request.param == "gpkg":
        settings = ApiSettings(data=store.path, reload_interval_s=0)
    else:
        settings = ApiSettings(database=store.url, data=tmp_path / "absent.gpkg")
    clock = Clock()
    app = create_app(settings, clock=clock)
    app.state.accounts.create("nn", PASSWORD, "南宁市总工会", Scope(city="南宁市"), NOON)
    app.state.accounts.create("yy", PASSWORD, "云阳县总工会", Scope(district="云阳县"), NOON)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, store, clock
    store_iter.close()


def sign_in(client, username: str = "nn") -> str:
    answer = client.post("/console/login", data={"username": username, "password": PASSWORD},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return re.search(r'name="csrf" value="([^"]+)"', client.get("/console/upload").text)[1]


def send_sheet(client, csrf: str | None, content: bytes | None = None, name: str = "南宁.csv",
               crs: str = "bd09"):
    data = {"crs": crs} if csrf is None else {"csrf": csrf, "crs": crs}
    return client.post("/console/upload", data=data, follow_redirects=False,
                       files={"sheet": (name, sheet_bytes() if content is None else content,
                                        "text/csv")})


def review_key(page: str) -> str:
    return re.search(r'name="key" value="([0-9a-f]+)"', page)[1]


def test_a_sheet_is_reviewed_then_applied_in_the_accounts_name(upload):
    client, store, _ = upload
    csrf = sign_in(client)
    before = store.snapshot()
    answer = send_sheet(client, csrf)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/upload/review"
    page = client.get("/console/upload/review").text
    assert "新增 1 added, 修改 3 changed (其中移动超过 50 米 1 moved" in page
    assert "缺失 1 missing" in page and "NN-004" in page
    refused = re.search(r'<div class="error" id="refused">(.*?)</div>', page, re.S)[1]
    assert "南宁.csv row 6 (第6行): YY-003" in refused and "outside this office" in refused
    assert store.snapshot() == before  # a review writes nothing
    framed = client.get("/console/upload/review/map")
    policy = framed.headers["content-security-policy"]
    assert "sandbox allow-scripts" in policy and policy.count("'sha256-") == 2
    assert "NN-005" in framed.text and "移动 moved" in framed.text
    key = review_key(page)
    undecided = client.post("/console/upload/apply", data={"csrf": csrf, "key": key})
    assert undecided.status_code == 422 and "NN-004" in undecided.text
    assert store.snapshot() == before
    applied = client.post("/console/upload/apply", follow_redirects=False,
                          data={"csrf": csrf, "key": key, "missing.0": "close"})
    assert applied.status_code == 303, applied.text
    assert client.get("/stations/NN-005").json()["properties"]["name"] == f"{MARKUP}新建驿站"
    assert store.get("NN-004").record["status"] == "closed"
    assert store.get("NN-001").record["opening_hours"] == "Mo-Fr 08:00-18:00"
    with pytest.raises(LookupError):
        store.get("YY-003")
    entry = store.history(limit=1)[0]
    assert entry.who == "南宁市总工会 / nn" and entry.action == "import"
    assert f"#{entry.id}" in client.get(applied.headers["location"]).text
    # Applied once: the review is gone, a second apply changes nothing.
    assert client.post("/console/upload/apply", data={"csrf": csrf, "key": key}
                       ).status_code == 409


def test_an_xlsx_sheet_gives_the_same_review_and_gcj02_is_offered_first(upload):
    client, _, _ = upload
    csrf = sign_in(client)
    assert '<option value="gcj02" selected>' in client.get("/console/upload").text
    book = openpyxl.Workbook()
    book.active.append(HEADINGS)
    for row in sheet_rows():
        book.active.append(row)
    content = io.BytesIO()
    book.save(content)
    assert send_sheet(client, csrf, content.getvalue(), name="南宁.xlsx").status_code == 303
    page = client.get("/console/upload/review").text
    assert "新增 1 added, 修改 3 changed (其中移动超过 50 米 1 moved" in page
    assert "缺失 1 missing" in page and "YY-003" in page


def test_cancel_writes_nothing_and_forgets_the_review(upload):
    client, store, _ = upload
    csrf = sign_in(client)
    before = store.snapshot()
    send_sheet(client, csrf)
    answer = client.post("/console/upload/cancel", data={"csrf": csrf}, follow_redirects=False)
    assert answer.status_code == 303
    assert "未作任何修改" in client.get(answer.headers["location"]).text
    assert client.get("/console/upload/review", follow_redirects=False).status_code == 303
    assert store.snapshot() == before and store.history(limit=5) == []


def test_without_the_csrf_token_nothing_is_read_or_kept(upload):
    client, store, _ = upload
    csrf = sign_in(client)
    answer = send_sheet(client, None)
    assert answer.status_code == 403 and "表单已过期" in answer.text
    assert client.get("/console/upload/review", follow_redirects=False).status_code == 303
    send_sheet(client, csrf)
    key = review_key(client.get("/console/upload/review").text)
    for form in ({"key": key, "missing_all": "close"}, {"csrf": "forged", "key": key}):
        assert client.post("/console/upload/apply", data=form).status_code == 403
    assert store.history(limit=5) == []


def test_a_colleagues_edit_after_the_review_is_shown_not_overwritten(upload):
    client, store, _ = upload
    csrf = sign_in(client)
    send_sheet(client, csrf)
    key = review_key(client.get("/console/upload/review").text)
    current = store.get("NN-001")
    store.apply([Change("NN-001", {**current.record, "phone": "0771-99999"}, current.version)],
                who="南宁市总工会 / colleague", action="update", at=NOON)
    answer = client.post("/console/upload/apply",
                         data={"csrf": csrf, "key": key, "missing_all": "keep"})
    assert answer.status_code == 409 and 'id="conflict"' in answer.text
    assert "NN-001" in answer.text and "0771-99999" in answer.text
    assert store.get("NN-001").record["phone"] == "0771-99999"
    assert store.get("NN-001").record["opening_hours"] == "24/7"
    with pytest.raises(LookupError):
        store.get("NN-005")
    again = client.post("/console/upload/again", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 303
    fresh = review_key(client.get("/console/upload/review").text)
    assert fresh != key
    assert client.post("/console/upload/apply", follow_redirects=False,
                       data={"csrf": csrf, "key": fresh, "missing_all": "keep"}
                       ).status_code == 303
    assert store.get("NN-005").version == 1


def test_markup_in_sheet_cells_is_text_in_the_review(upload):
    client, _, _ = upload
    csrf = sign_in(client, "yy")  # the Nanning rows are refused, YY-002 is missing
    send_sheet(client, csrf)
    page = client.get("/console/upload/review").text
    assert "&lt;img src=x onerror=alert(2)&gt;新建驿站" in page  # a refused row
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # a missing station
    framed = client.get("/console/upload/review/map").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in framed
    assert "<img" not in page and "<img" not in framed


def test_bad_uploads_are_refused_naming_the_field(upload):
    client, store, clock = upload
    csrf = sign_in(client)
    wrong_kind = send_sheet(client, csrf, b"x", name="stations.xls")
    assert wrong_kind.status_code == 422 and "sheet: must be a .csv or .xlsx" in wrong_kind.text
    bad_crs = send_sheet(client, csrf, crs="mercator")
    assert bad_crs.status_code == 422 and "crs:" in bad_crs.text
    huge = send_sheet(client, csrf, b"a" * 2_100_000)
    assert huge.status_code == 413 and "表格超过 2000000 字节" in huge.text
    headings_only = send_sheet(client, csrf, "编号,驿站名称\n".encode())
    assert headings_only.status_code == 422 and "表头中找不到名称和经纬度列" in headings_only.text
    no_valid_row = send_sheet(client, csrf, "驿站名称,城市,经度,纬度\n甲驿站,南宁市,,\n".encode())
    assert no_valid_row.status_code == 303
    page = client.get("/console/upload/review").text
    assert "0 valid + 1 rejected" in page and "南宁.csv row 2 (第2行)" in page
    assert ">应用</button>" not in page  # nothing to apply
    clock.now += dt.timedelta(minutes=31)  # a review waits half an hour at most
    assert client.get("/console/upload/review", follow_redirects=False).status_code == 303
    assert store.history(limit=5) == []
