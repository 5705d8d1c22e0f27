"""A rebuilt GeoPackage is served without a restart; a broken one is refused."""

from __future__ import annotations

import logging
import os
import threading
import time

import httpx
import numpy as np
import pytest
from conftest import make_sample_frame
from live_server import running_server, stations_serve

from stations.api.app import create_app
from stations.api.settings import ApiSettings
from stations.geodata import station_frame, write_stations
from stations.live import LiveStations
from stations.model import AMENITIES, TEXT_FIELDS
from stations.service import StationService
from stations.synth import synthesize_table

pytestmark = pytest.mark.slow


def frame_with_extra_station():
    """The sample stations plus NN-005, right beside NN-001."""
    sample = make_sample_frame()
    columns = {c: [*sample[c].tolist()] for c in sample.columns if c != "geometry"}
    for column in columns:
        columns[column].append(False if column.startswith("has_") else "")
    for field, value in {"id": "NN-005", "name": "新建工会驿站", "city": "南宁市",
                         "address": "南宁市青秀区", "status": "open",
                         "opening_hours": "24/7"}.items():
        columns[field][-1] = value
    assert set(TEXT_FIELDS) <= set(columns)
    return station_frame(columns, [*sample.geometry.x, 108.3961], [*sample.geometry.y, 22.8171])


def wait_for(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def test_rebuilt_file_is_served_and_broken_files_are_refused(tmp_path, caplog):
    path = tmp_path / "stations.gpkg"
    first_version = write_stations(make_sample_frame(), path)
    settings = ApiSettings(data=path, reload_interval_s=0.1)
    with running_server(create_app(settings)) as url, httpx.Client(base_url=url) as client:
        assert client.get("/health").json()["data_version"] == first_version
        assert client.get("/stations/NN-005").status_code == 404

        # Riders keep asking while the file is replaced: not one request may fail.
        statuses: list[int] = []
        stop = threading.Event()

        def hammer() -> None:
            with httpx.Client(base_url=url) as own:
                while not stop.is_set():
                    statuses.append(own.get("/nearest", params={"lon": 108.39, "lat": 22.81,
                                                               "k": 3}).status_code)

        rider = threading.Thread(target=hammer)
        rider.start()
        try:
            second_version = write_stations(frame_with_extra_station(), path)
            wait_for(lambda: client.get("/health").json()["data_version"] == second_version)
            time.sleep(0.3)
        finally:
            stop.set()
            rider.join()
        assert statuses and set(statuses) == {200}
        assert client.get("/stations/NN-005").status_code == 200
        nearest = client.get("/nearest", params={"lon": 108.3961, "lat": 22.8171, "k": 1})
        assert nearest.json()["features"][0]["id"] == "NN-005"

        # A corrupt file and a half-written file are refused; the last good data stays.
        caplog.set_level(logging.ERROR, logger="stations.live")
        good_bytes = path.read_bytes()
        for broken in (b"not a geopackage" * 1000, good_bytes[: len(good_bytes) // 2]):
            caplog.clear()
            staged = tmp_path / "staged.gpkg"
            staged.write_bytes(broken)
            os.replace(staged, path)
            wait_for(lambda: "refused" in caplog.text)
            health = client.get("/health").json()
            assert health["data_version"] == second_version and health["station_count"] == 7
            assert client.get("/stations/NN-005").status_code == 200

        # Once a good file appears again, it is served.
        third_version = write_stations(make_sample_frame(), path)
        assert third_version == first_version
        wait_for(lambda: client.get("/health").json()["data_version"] == first_version)
        assert client.get("/stations/NN-005").status_code == 404


def write_synthetic(count: int, seed: int, path) -> str:
    """``count`` synthetic stations (``stations.synth``) in a GeoPackage; its data version."""
    table = synthesize_table(count, seed)
    columns: dict[str, object] = {f: table[f].to_numpy() if f in table else [""] * count
                                  for f in TEXT_FIELDS}
    codes = table["amenities"].str.split(";")
    for amenity in AMENITIES:
        columns[amenity.column] = codes.map(lambda c, code=amenity.code: code in c).to_numpy()
    return write_stations(station_frame(columns, table["lon"], table["lat"]), path)


def test_a_file_replaced_while_loading_is_not_thrown_away(tmp_path, monkeypatch):
    """Loads slower than the replacements: each loaded file is served, the newest last."""
    path = tmp_path / "stations.gpkg"
    write_stations(make_sample_frame(), path)
    live = LiveStations(path, interval_s=0)
    second = write_stations(frame_with_extra_station(), tmp_path / "second.gpkg")
    third = write_stations(make_sample_frame().iloc[:3], tmp_path / "third.gpkg")
    os.replace(tmp_path / "second.gpkg", path)
    real_load = StationService.load
    served: list[str] = []

    def slow_load(*args, **kwargs):
        service = real_load(*args, **kwargs)
        if not served:  # the third file lands while the second is being loaded
            os.replace(tmp_path / "third.gpkg", path)
        served.append(service.data_version)
        return service

    monkeypatch.setattr(StationService, "load", slow_load)
    assert live.check_now()
    assert served == [second, third]
    assert live.current.data_version == third and live.reloads == 2
    assert not live.check_now()  # nothing new


def test_reload_lag_while_the_server_is_saturated(tmp_path):
    """Riders keep a real `stations serve` busy (16 connections asking without pause) while
    its 5,000-station file is replaced: the new data is served within seconds (the loading
    thread reads the file without letting go of the GIL per row).  benchmarks/soak.py
    measures the lag of each swap against a harder load."""
    path = tmp_path / "stations.gpkg"
    write_synthetic(5_000, 1, path)
    second = write_synthetic(5_000, 2, tmp_path / "second.gpkg")
    with stations_serve(path, "--reload-interval", "0.2") as (url, _):
        stop = threading.Event()
        answered = [0]

        def rider(seed: int) -> None:
            rng = np.random.default_rng(seed)
            with httpx.Client(base_url=url, timeout=30) as own:
                while not stop.is_set():
                    own.get("/nearest", params={"lon": rng.uniform(100, 120),
                                                "lat": rng.uniform(22, 40), "k": 5})
                    answered[0] += 1

        riders = [threading.Thread(target=rider, args=(seed,)) for seed in range(16)]
        for thread in riders:
            thread.start()
        try:
            time.sleep(1.0)
            before = answered[0]
            os.replace(tmp_path / "second.gpkg", path)
            replaced = time.monotonic()
            with httpx.Client(base_url=url, timeout=30) as client:
                wait_for(lambda: client.get("/health").json()["data_version"] == second, 20)
            lag = time.monotonic() - replaced
            assert answered[0] > before  # the riders were being answered all along
        finally:
            stop.set()
            for thread in riders:
                thread.join()
    print(f"\nreload lag under load: {lag:.2f} s")
    assert lag < 5
