"""Serving the rider page: content negotiation at ``/``, gzip, ETags and cache headers."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest
import xstatic.pkg.leaflet
from fastapi.testclient import TestClient

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.api.web import CHIP_AMENITIES, VERSIONED_CACHE
from stations.model import AMENITY_BY_CODE
from stations.reports import REPORT_KIND_CODES

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"


@pytest.fixture
def client(sample_gpkg: Path) -> TestClient:
    return TestClient(create_app(ApiSettings(data=sample_gpkg)))


@pytest.mark.parametrize(
    ("headers", "query", "html"),
    [
        ({"Accept": BROWSER_ACCEPT}, "", True),
        ({"Accept": "text/html"}, "", True),
        ({}, "?f=html", True),
        ({"Accept": "application/json"}, "?f=html", True),
        ({}, "", False),
        ({"Accept": "*/*"}, "", False),
        ({"Accept": "application/json"}, "", False),
        ({"Accept": "application/json, text/html;q=0.5"}, "", False),
        ({"Accept": BROWSER_ACCEPT}, "?f=json", False),
    ],
)
def test_landing_serves_the_page_to_browsers_and_json_to_clients(
    client: TestClient, headers: dict[str, str], query: str, html: bool
) -> None:
    del client.headers["accept"]  # the test client would send "Accept: */*"
    response = client.get("/" + query, headers=headers)
    assert response.status_code == 200
    assert "Accept" in [v.strip() for v in response.headers["vary"].split(",")]
    if html:
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "<title>附近工会驿站" in response.text
        assert "default-src 'self'" in response.headers["content-security-policy"]
    else:
        assert response.headers["content-type"].startswith("application/json")
        assert isinstance(response.json().get("links"), list)


def test_page_links_versioned_assets_and_embeds_the_vocabulary(client: TestClient) -> None:
    page = client.get("/?f=html").text
    assets = dict(re.findall(r'"static/([a-z.]+)\?v=([0-9a-f]{12})"', page))
    assert set(assets) == {"app.js", "app.css", "leaflet.js", "leaflet.css"}
    block = re.search(r'<script id="vocabulary" type="application/json">(.*?)</script>', page)
    assert block is not None
    vocabulary = json.loads(block.group(1))
    assert vocabulary["filters"] == list(CHIP_AMENITIES)
    assert all(code in AMENITY_BY_CODE for code in vocabulary["filters"])
    assert vocabulary["amenities"]["microwave"]["label_zh"] == "微波炉"
    assert [kind["code"] for kind in vocabulary["report_kinds"]] == list(REPORT_KIND_CODES)


def test_static_files_are_gzipped_cached_and_revalidated(client: TestClient) -> None:
    page = client.get("/?f=html").text
    version = re.search(r'"static/leaflet\.js\?v=([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]
    leaflet = (Path(xstatic.pkg.leaflet.BASE_DIR) / "leaflet.js").read_bytes()

    zipped = client.get(f"/static/leaflet.js?v={version}",
                        headers={"Accept-Encoding": "gzip"})
    assert zipped.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["cache-control"] == VERSIONED_CACHE
    assert int(zipped.headers["content-length"]) < len(leaflet) // 3
    assert zipped.content == leaflet  # httpx undoes the gzip

    plain = client.get("/static/leaflet.js", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == leaflet
    assert plain.headers["cache-control"] == "no-cache"  # unversioned URL: always revalidate
    assert plain.headers["content-type"].startswith(("text/javascript", "application/javascript"))

    etag = plain.headers["etag"]
    again = client.get("/static/leaflet.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


def test_page_itself_is_revalidated_on_every_visit(client: TestClient) -> None:
    first = client.get("/?f=html", headers={"Accept-Encoding": "gzip"})
    assert first.headers["cache-control"] == "no-cache"
    assert first.headers["content-encoding"] == "gzip"
    assert "Accept" in first.headers["vary"]
    raw = gzip.compress(first.content)
    assert len(raw) < 4000  # the page itself stays small
    again = client.get("/?f=html", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_unknown_static_file_is_a_json_404(client: TestClient) -> None:
    for path in ("/static/secret.py", "/static/..%2Fapp.py", "/static/index.html"):
        response = client.get(path)
        assert response.status_code == 404
        assert "detail" in response.json()
