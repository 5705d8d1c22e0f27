"""OGC API - Features read by OWSLib's client from a real uvicorn server."""

from __future__ import annotations

import httpx
import pytest
from conftest import make_sample_frame
from live_server import running_server
from owslib.ogcapi.features import Features

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.geodata import write_stations

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    path = tmp_path_factory.mktemp("ogc") / "stations.gpkg"
    write_stations(make_sample_frame(), path)
    settings = ApiSettings(data=path, reload_interval_s=0, ogc_max_limit=4)
    with running_server(create_app(settings)) as url:
        yield url


def test_owslib_reads_the_collection(base_url):
    client = Features(base_url)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in (
        client.conformance()["conformsTo"])
    assert [c["id"] for c in client.collections()["collections"]] == ["stations"]
    assert client.collection("stations")["itemType"] == "feature"
    page = client.collection_items("stations", limit=2)
    assert page["numberMatched"] == 6 and page["numberReturned"] == 2
    assert [f["id"] for f in page["features"]] == ["NN-001", "NN-002"]
    chongqing = client.collection_items("stations", bbox=[108.6, 30.0, 109.0, 31.0])
    assert sorted(f["id"] for f in chongqing["features"]) == ["YY-001", "YY-002"]
    filtered = client.collection_items("stations", district="青秀区")
    assert [f["id"] for f in filtered["features"]] == ["NN-001", "NN-004"]
    item = client.collection_item("stations", "YY-002")
    assert item["properties"]["name"] == "<img src=x onerror=alert(1)>"
    api = client.api()  # found through the service-desc link and its media type
    assert "/collections/stations/items" in api["paths"]


def test_following_next_links_loads_everything(base_url):
    """What QGIS does: follow `next` until it is gone; limit above the maximum is clamped."""
    url = f"{base_url}/collections/stations/items?limit=1000"
    seen = []
    while url:
        page = httpx.get(url).json()
        rels = {link["rel"]: link for link in page["links"]}
        assert {"self", "alternate"} <= set(rels)
        assert page["numberReturned"] == len(page["features"]) <= 4
        seen += [f["id"] for f in page["features"]]
        url = rels.get("next", {}).get("href")
    assert seen == ["NN-001", "NN-002", "NN-003", "NN-004", "YY-001", "YY-002"]


def test_landing_page_links_and_defaults(base_url):
    landing = httpx.get(f"{base_url}/", headers={"Accept": "application/json"})
    assert landing.status_code == 200
    links = {link["rel"]: link for link in landing.json()["links"]}
    assert links["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["conformance"]["href"].endswith("/conformance")
    assert links["data"]["href"].endswith("/collections")
    items = httpx.get(f"{base_url}/collections/stations/items")  # no Accept header at all
    assert items.headers["content-type"].startswith("application/geo+json")


@pytest.mark.parametrize("query", ["foo=1", "limit=0", "limit=x", "offset=-1", "bbox=1,2,3",
                                   "bbox=1,50,2,40", "f=xml", "amenity=pizza"])
def test_bad_or_unknown_parameters_are_400(base_url, query):
    response = httpx.get(f"{base_url}/collections/stations/items?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue"
    assert body["detail"][0]["loc"][0] == "query"


def test_unknown_item_is_404(base_url):
    assert httpx.get(f"{base_url}/collections/stations/items/NOPE").status_code == 404


def test_openapi_bbox_is_four_or_six_numbers_as_the_server_takes(base_url):
    """The document used to allow 4 to 6 numbers; the server refuses 5 (and always did)."""
    document = httpx.get(f"{base_url}/openapi.json").json()
    parameters = document["paths"]["/collections/stations/items"]["get"]["parameters"]
    (bbox,) = [p for p in parameters if p["name"] == "bbox"]
    lengths = sorted((s["minItems"], s["maxItems"]) for s in bbox["schema"]["oneOf"])
    assert lengths == [(4, 4), (6, 6)]
    for numbers, status in (("108.6,30,109,31", 200), ("108.6,30,0,109,31,0", 200),
                            ("108.6,30,109,31,0", 400), ("108.6,30,109", 400)):
        response = httpx.get(f"{base_url}/collections/stations/items", params={"bbox": numbers})
        assert response.status_code == status, numbers
        if status == 200:
            assert sorted(f["id"] for f in response.json()["features"]) == ["YY-001", "YY-002"]
        else:
            assert "4 numbers" in response.json()["description"]
