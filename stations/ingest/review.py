"""The change set as one self-contained HTML page, for the operator to review before applying.

The page needs no network: Leaflet is inlined from the package's own copy and there is no base
map, only the new (green), moved (blue, old position grey) and missing (red) stations over a
scale, and a table of every change.  All text from the sheet or the store is escaped, in the
table by :func:`html.escape` and in the map's data by :func:`stations.maps.render.script_json`.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from ..maps.assets import asset_text
from ..maps.render import script_json
from .changes import ChangeSet

_SCRIPT = """
const data = %s;
const map = L.map('map', {zoomSnap: 0.25});
const layers = {added: '#1a7f37', moved: '#0969da', missing: '#cf222e', before: '#8c959f'};
const bounds = [];
for (const p of data) {
  const m = L.circleMarker([p.lat, p.lon], {radius: 7, color: layers[p.kind], weight: 2,
                                            fillOpacity: 0.6}).addTo(map);
  const label = document.createElement('span');
  label.textContent = p.label;
  m.bindTooltip(label);
  bounds.push([p.lat, p.lon]);
}
if (bounds.length) { map.fitBounds(bounds, {padding: [30, 30], maxZoom: 16}); }
else { map.setView([35, 105], 4); }
L.control.scale({imperial: false}).addTo(map);
"""


def review_html(changes: ChangeSet, title: str) -> str:
    """The review page for ``changes``."""
    points = [{"kind": "added", "label": f"新增 new: {r['id']} {r['name']}",
               "lon": r["lon"], "lat": r["lat"]} for r in changes.added]
    for m in changes.moved:
        name = changes.names.get(m.station_id, "")
        points.append({"kind": "before", "label": f"原位置 before: {m.station_id} {name}",
                       "lon": m.before[0], "lat": m.before[1]})
        points.append({"kind": "moved", "label": f"移动 moved {m.metres:.0f} m: "
                       f"{m.station_id} {name}", "lon": m.after[0], "lat": m.after[1]})
    points += [{"kind": "missing", "label": f"缺失 missing: {r['id']} {r['name']}",
                "lon": r["lon"], "lat": r["lat"]} for r in changes.missing]
    rows = [_row("新增 new", str(r["id"]), str(r["name"]), "") for r in changes.added]
    for station_id, fields in changes.changed.items():
        detail = "<br>".join(f"{html.escape(c.field)}: {html.escape(repr(c.before))} → "
                             f"{html.escape(repr(c.after))}" for c in fields)
        rows.append(_row("修改 changed", station_id, changes.names.get(station_id, ""), detail,
                         escaped=True))
    rows += [_row("缺失 missing", str(r["id"]), str(r["name"]), "") for r in changes.missing]
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>{asset_text("leaflet_css")}
body {{ font-family: sans-serif; margin: 1em; }} #map {{ height: 60vh; background: #f6f8fa; }}
table {{ border-collapse: collapse; margin-top: 1em; }}
td, th {{ border: 1px solid #d0d7de; padding: 4px 8px; vertical-align: top; }}</style>
<script>{asset_text("leaflet")}</script></head><body>
<h1>{e(title)}</h1>
<p>{e(changes.summary())}</p>
<p>审阅编号 review key: <code>{e(changes.key)}</code> · 基准数据版本 base data version:
<code>{e(changes.base_version)}</code></p>
<p>图例 legend: <span style="color:#1a7f37">● 新增 new</span> · <span style="color:#0969da">●
移动 moved</span> (<span style="color:#8c959f">● 原位置 before</span>) · <span
style="color:#cf222e">● 缺失 missing</span></p>
<div id="map"></div>
<table><thead><tr><th>变更 change</th><th>编号 id</th><th>名称 name</th><th>内容 details</th>
</tr></thead><tbody>
{"".join(rows)}
</tbody></table>
<script>{_SCRIPT % script_json(points)}</script>
</body></html>
"""


def _row(kind: str, station_id: str, name: str, detail: str, escaped: bool = False) -> str:
    e = html.escape
    return (f"<tr><td>{e(kind)}</td><td>{e(station_id)}</td><td>{e(name)}</td>"
            f"<td>{detail if escaped else e(detail)}</td></tr>\n")


def write_review(changes: ChangeSet, path: str | os.PathLike[str], title: str) -> Path:
    """Write the review page; returns its path."""
    target = Path(path)
    target.write_text(review_html(changes, title), encoding="utf-8")
    return target
