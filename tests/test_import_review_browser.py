"""The import review page in real headless Chromium with the network cut: it draws every
marker from the file alone and shows hostile station names as text."""

from __future__ import annotations

import pytest
from browser import SCREENSHOTS, chromium

from stations.ingest.changes import ChangeSet, FieldChange, Moved
from stations.ingest.review import write_review

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HOSTILE = "<img src=x onerror=window.hacked=1>"


def record(station_id: str, name: str, lon: float, lat: float) -> dict[str, object]:
    return {"id": station_id, "name": name, "lon": lon, "lat": lat}


def test_review_page_offline_with_hostile_names(tmp_path):
    changes = ChangeSet(base_version="abc")
    changes.added.append(record("N-1", HOSTILE, 108.30, 22.80))
    changes.missing.append(record("N-2", "缺失驿站</script><script>window.hacked=2</script>",
                                  108.32, 22.81))
    changes.moved.append(Moved("N-3", 210.0, (108.34, 22.82), (108.342, 22.82)))
    changes.changed["N-3"] = [FieldChange("phone", "1", HOSTILE)]
    changes.names["N-3"] = HOSTILE
    page_file = write_review(changes, tmp_path / "review.html", f"审阅 {HOSTILE}")
    outside: list[str] = []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1000, "height": 800})

        def route(request_route) -> None:
            if request_route.request.url.startswith(("file:", "data:")):
                request_route.continue_()
            else:
                outside.append(request_route.request.url)
                request_route.abort()

        page.route("**/*", route)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        page.wait_for_selector(".leaflet-interactive")
        assert page.locator(".leaflet-interactive").count() == 4  # new, missing, moved + before
        assert page.evaluate("window.hacked === undefined")
        assert page.locator("td", has_text=HOSTILE).count() >= 2  # shown as text
        page.screenshot(path=str(SCREENSHOTS / "import-review.png"))
    assert outside == [] and errors == []
