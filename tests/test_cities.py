"""City names as typed: 南宁 means 南宁市, in the API's 422 as on the command line."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.cities import suggest_city

KNOWN = ["南宁市", "重庆市", "北京市", "广州市", "福州市", "甘孜藏族自治州", "西安市", "Hong Kong",
         ""]


@pytest.mark.parametrize(("typed", "meant"), [
    ("南宁", "南宁市"), ("南宁市 ", "南宁市"), ("南 宁", "南宁市"), ("南宁是", "南宁市"),
    ("广州", "广州市"), ("福州", "福州市"), ("甘孜藏族", "甘孜藏族自治州"),
    ("ＨＯＮＧ ＫＯＮＧ", "Hong Kong"),
    ("南京", None), ("上海市", None), ("", None), ("市", None),
])
def test_suggests_the_city_meant(typed, meant):
    assert suggest_city(typed, KNOWN) == meant


@pytest.fixture
def api(sample_gpkg):
    return TestClient(create_app(ApiSettings(data=sample_gpkg)))


@pytest.mark.parametrize("path", ["/nearest", "/nearest/batch"])
def test_api_answers_a_near_miss_city_with_422_naming_the_city_meant(api, path):
    if path == "/nearest":
        response = api.get(path, params={"lon": 108.4, "lat": 22.8, "city": "南宁"})
    else:
        response = api.post(path, json={"points": [[108.4, 22.8]], "city": "南宁"})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"][-1] == "city"
    assert "did you mean 南宁市?" in error["msg"] and "是不是 南宁市" in error["msg"]


def test_api_city_without_stations_and_without_namesake_is_an_empty_answer(api):
    response = api.get("/nearest", params={"lon": 108.4, "lat": 22.8, "city": "北京市"})
    assert response.status_code == 200
    assert response.json()["features"] == []
    exact = api.get("/nearest", params={"lon": 108.4, "lat": 22.8, "city": "南宁市"})
    assert {f["properties"]["city"] for f in exact.json()["features"]} == {"南宁市"}
