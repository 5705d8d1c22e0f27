"""The suggested sites on a map: where to build, what each adds, and the stations already there."""

from __future__ import annotations

import html

import folium
import numpy as np
import numpy.typing as npt

from ..planning.reach import Reach
from ..planning.sites import Candidates, SitePlan
from .basemaps import Basemap, display_lonlat, new_map
from .district_map import station_points_layer
from .render import set_title
from .service_areas import area_layer


def build_sites_map(plan: SitePlan, candidates: Candidates, station_lon: npt.ArrayLike,
                    station_lat: npt.ArrayLike, reach: Reach,
                    basemap: Basemap = Basemap.OSM, place: str = "") -> folium.Map:
    """Numbered markers for the chosen sites with their service areas, stations as dots.

    The service area is the reach circle, or by road the site's isochrone.

    Popups carry only numbers and the operator's site names, escaped.
    """
    lon = candidates.lon[plan.chosen]
    lat = candidates.lat[plan.chosen]
    centre = (float(np.mean(lat)), float(np.mean(lon))) if len(lon) else (35.0, 105.0)
    fmap = new_map(basemap, centre, 12 if len(lon) else 4)
    set_title(fmap, f"新站选址 Suggested sites — {place}".rstrip(" —"))
    station_points_layer(fmap, np.asarray(station_lon, dtype=np.float64),
                         np.asarray(station_lat, dtype=np.float64), basemap)
    x, y = display_lonlat(basemap, lon, lat)
    layer = folium.FeatureGroup(name="建议新站 Suggested sites").add_to(fmap)
    areas = reach.site_areas(lon, lat) if reach.by == "road" else None  # type: ignore[attr-defined]
    for rank, (j, sx, sy, gain, total) in enumerate(
            zip(plan.chosen, x, y, plan.gains, plan.curve, strict=True), start=1):
        name = html.escape(candidates.label(int(j)))
        share = total / plan.demand_total * 100 if plan.demand_total else 0.0
        popup = (f"<b>第 {rank} 个 Site {rank}</b> {name}<br>"
                 f"新增覆盖 adds {gain:,.0f}<br>累计 covered {total:,.0f} ({share:.1f} %)")
        if areas is None:
            folium.Circle((float(sy), float(sx)), radius=reach.reach_m, color="#238b45",
                          weight=1, fill=True, fill_opacity=0.08, interactive=False
                          ).add_to(layer)
        else:
            area_layer(layer, areas[rank - 1], basemap, f"{rank}")
        folium.Marker((float(sy), float(sx)), popup=folium.Popup(popup, max_width=260),
                      tooltip=f"{rank}",
                      icon=folium.DivIcon(html=f'<div class="site-rank">{rank}</div>')
                      ).add_to(layer)
    style = ("<style>.site-rank{background:#238b45;color:#fff;border-radius:50%;width:22px;"
             "height:22px;line-height:22px;text-align:center;font:bold 12px sans-serif;"
             "margin:-11px 0 0 -11px}</style>")
    fmap.get_root().header.add_child(folium.Element(style))
    folium.LayerControl().add_to(fmap)
    return fmap
