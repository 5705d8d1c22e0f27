"""Build the set of map files for a station table: whole table and, on request, every city.

File names: ``stations.html`` and ``coverage.html`` for the whole table,
``<city>-stations.html`` and ``<city>-coverage.html`` per city, with ``-amap`` before
``.html`` on the Amap base map.  ``index.html`` links every map written.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import folium
import geopandas as gpd

from ..cities import unknown_city_message
from ..errors import MapError
from ..planning.coverage import Stations, district_coverage
from ..planning.reach import StraightLineReach
from .basemaps import Basemap
from .coverage import DEFAULT_RADII_M, check_cell_size, check_radii
from .coverage_map import build_coverage_map
from .district_layer import add_district_outlines
from .district_map import build_district_map
from .render import save_map
from .station_map import build_station_map, check_rider_page_url

ALL_PLACES = "全部 All"
# (level, within) -> the study areas of a place, or None to draw it without districts.
DistrictsFor = Callable[[str, str | None], gpd.GeoDataFrame | None]
MAP_KINDS = ("stations", "coverage")


@dataclass(frozen=True)
class MapOptions:
    """What every map of one run shares."""

    basemap: Basemap = Basemap.OSM
    offline: bool = True
    radii_m: tuple[int, ...] = DEFAULT_RADII_M
    cell_size_m: float | None = None
    kinds: tuple[str, ...] = MAP_KINDS
    rider_page_url: str | None = None

    def __post_init__(self) -> None:
        """Check the options before any file is written."""
        check_radii(self.radii_m)
        check_cell_size(self.cell_size_m)
        check_rider_page_url(self.rider_page_url)


def safe_file_stem(place: str) -> str:
    """A file-name part from a city name taken from the data: letters and digits only."""
    stem = re.sub(r"[^\w]+", "_", place, flags=re.UNICODE).strip("_")
    return stem or "unnamed"


def select_city(stations: gpd.GeoDataFrame, city: str) -> gpd.GeoDataFrame:
    """The stations of ``city``; an unknown city is an error naming the closest known one, or
    listing some."""
    chosen = stations[stations["city"] == city]
    if len(chosen) == 0:
        hint = unknown_city_message(city, stations["city"])
        if hint:
            raise MapError(f"city: {hint}")
        known = ", ".join(sorted(set(stations["city"]) - {""})[:10])
        raise MapError(f"city: no stations in {city!r}; cities in the data include: {known}")
    return chosen


def write_place_maps(stations: gpd.GeoDataFrame, place: str, out_dir: Path,
                     options: MapOptions, stem: str = "",
                     districts: gpd.GeoDataFrame | None = None,
                     by_district: bool = False) -> list[Path]:
    """Write the station and/or coverage map of one place; returns the files written.

    ``districts`` (WGS84 polygons) are outlined on both maps; the coverage map measures them
    as its study area, or with ``by_district`` is a choropleth of them (the national view).
    """
    suffix = "-amap" if options.basemap is Basemap.AMAP else ""
    prefix = f"{stem}-" if stem else ""
    written = []
    if "stations" in options.kinds:
        fmap = build_station_map(stations, options.basemap,
                                 title=f"工会驿站地图 Worker stations — {place}",
                                 rider_page_url=options.rider_page_url)
        if districts is not None:
            add_district_outlines(fmap, districts, options.basemap)
        written.append(save_map(fmap, out_dir / f"{prefix}stations{suffix}.html",
                                options.offline))
    if "coverage" in options.kinds:
        if districts is not None and by_district:
            fmap = _district_choropleth(stations, districts, options, place)
        else:
            fmap = build_coverage_map(stations, options.basemap, options.radii_m,
                                      options.cell_size_m, place=place, districts=districts)
        written.append(save_map(fmap, out_dir / f"{prefix}coverage{suffix}.html",
                                options.offline))
    return written


def _district_choropleth(stations: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
                         options: MapOptions, place: str) -> folium.Map:
    lon, lat = stations.geometry.x.to_numpy(), stations.geometry.y.to_numpy()
    reach_m = options.radii_m[-1]
    table = district_coverage(Stations.locate(lon, lat, districts), districts,
                              StraightLineReach(lon, lat, reach_m))
    return build_district_map(table, districts, reach_m, options.basemap, place)


def write_maps(stations: gpd.GeoDataFrame, out_dir: Path, options: MapOptions,
               cities: Sequence[str] = (), whole_table: bool = True,
               on_place_done: Callable[[str], None] | None = None,
               districts_for: DistrictsFor | None = None) -> list[Path]:
    """Write the whole-table maps (if ``whole_table``) and those of each city, then an index.

    ``districts_for(level, within)`` gives study areas: provinces for the whole table (its
    coverage map is then a choropleth by province), a city's districts for the city's maps.
    """
    places: list[tuple[str, gpd.GeoDataFrame, str]] = []
    if whole_table:
        places.append((ALL_PLACES, stations, ""))
    places += [(city, select_city(stations, city), safe_file_stem(city)) for city in cities]
    written: list[Path] = []
    for place, frame, stem in places:
        whole = place == ALL_PLACES and not stem
        districts = None if districts_for is None else districts_for(
            "province" if whole else "district", None if whole else place)
        written += write_place_maps(frame, place, out_dir, options, stem, districts,
                                    by_district=whole)
        if on_place_done:
            on_place_done(place)
    write_index(out_dir, written)
    return written


def write_index(out_dir: Path, files: Sequence[Path]) -> Path:
    """A plain page linking every map in ``out_dir`` (names escaped: they come from data)."""
    maps = sorted({p.name for p in out_dir.glob("*.html")} - {"index.html"}
                  | {p.name for p in files})
    items = "\n".join(f'<li><a href="{html.escape(name)}">{html.escape(name)}</a></li>'
                      for name in maps)
    page = ("<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>工会驿站地图 Station maps</title></head><body>"
            "<h1>工会驿站地图 Station maps</h1>"
            "<p>stations = 驿站地图 station map; coverage = 覆盖图 coverage map</p>"
            f"<ul>\n{items}\n</ul></body></html>\n")
    index = out_dir / "index.html"
    index.write_text(page, encoding="utf-8")
    return index
