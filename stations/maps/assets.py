"""JavaScript and CSS the maps need, inlined from installed packages or linked from CDNs.

Many riders in China cannot reach the usual CDNs, so by default every script and style sheet is
written into the HTML file itself: Leaflet and the Leaflet.markercluster styles from the XStatic
packages, Leaflet.heat from the copy folium ships, and this package's own scripts.  Images that
Leaflet's CSS refers to become data URIs.  Base-map tiles are then the only outside requests.

Folium's page template also links jQuery, Bootstrap, Font Awesome and awesome-markers from
CDNs; the maps use none of them, so :func:`resolve_assets` drops those links in both modes.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from jinja2 import Template

from ..errors import StationsError

_LEAFLET_VERSION = "1.9.3"
_MARKERCLUSTER_VERSION = "1.4.1"


@dataclass(frozen=True)
class Asset:
    """One script or style sheet: where it lives on a CDN and where it lives on disk."""

    kind: str  # "js" or "css"
    cdn_url: str | None  # None: our own code, always inlined
    package: str
    filename: str


_JSDELIVR = "https://cdn.jsdelivr.net/npm"
ASSETS: dict[str, Asset] = {
    "leaflet": Asset("js", f"{_JSDELIVR}/leaflet@{_LEAFLET_VERSION}/dist/leaflet.js",
                     "xstatic.pkg.leaflet", "data/leaflet.js"),
    "leaflet_css": Asset("css", f"{_JSDELIVR}/leaflet@{_LEAFLET_VERSION}/dist/leaflet.css",
                         "xstatic.pkg.leaflet", "data/leaflet.css"),
    "markerclusterjs": Asset(
        "js", f"{_JSDELIVR}/leaflet.markercluster@{_MARKERCLUSTER_VERSION}/dist/"
        "leaflet.markercluster.js",
        "xstatic.pkg.leaflet_markercluster", "data/leaflet.markercluster.js"),
    "markerclustercss": Asset(
        "css", f"{_JSDELIVR}/leaflet.markercluster@{_MARKERCLUSTER_VERSION}/dist/"
        "MarkerCluster.css",
        "xstatic.pkg.leaflet_markercluster", "data/MarkerCluster.css"),
    "markerclusterdefaultcss": Asset(
        "css", f"{_JSDELIVR}/leaflet.markercluster@{_MARKERCLUSTER_VERSION}/dist/"
        "MarkerCluster.Default.css",
        "xstatic.pkg.leaflet_markercluster", "data/MarkerCluster.Default.css"),
    "leaflet-heat.js": Asset(
        "js", "https://cdn.jsdelivr.net/gh/python-visualization/folium@v0.20.0/folium/"
        "templates/leaflet_heat.min.js",
        "folium", "templates/leaflet_heat.min.js"),
    "map_controls_js": Asset("js", None, "stations.maps", "static/map_controls.js"),
    "map_controls_css": Asset("css", None, "stations.maps", "static/map_controls.css"),
    "grid_cluster_js": Asset("js", None, "stations.maps", "static/grid_cluster.js"),
    "station_layer_js": Asset("js", None, "stations.maps", "static/station_layer.js"),
    "district_layer_js": Asset("js", None, "stations.maps", "static/district_layer.js"),
}

# Links folium adds to every page for features the maps do not use.
UNUSED_FOLIUM_ASSETS = frozenset({
    "jquery", "bootstrap", "bootstrap_css", "glyphicons_css", "awesome_markers",
    "awesome_markers_css", "awesome_markers_font_css", "awesome_rotate_css",
})

_CSS_URL = re.compile(r"url\((['\"]?)(images/[^'\")]+)\1\)")


@cache
def asset_text(name: str) -> str:
    """The file content of an asset, with the images its CSS refers to made data URIs."""
    asset = ASSETS[name]
    path = Path(str(resources.files(asset.package))) / asset.filename
    text = path.read_text(encoding="utf-8")
    if asset.kind == "css":
        text = _CSS_URL.sub(lambda m: f"url({_data_uri(path.parent / m.group(2))})", text)
    # A literal "</script>" or "</style>" inside would end the element early.
    return text.replace("</script", "<\\/script").replace("</style", "<\\/style")


def _data_uri(path: Path) -> str:
    mime = {"png": "image/png", "svg": "image/svg+xml"}[path.suffix.lstrip(".")]
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def walk_elements(root: Element) -> Iterator[Element]:
    """``root`` and every element below it, parents first."""
    yield root
    for child in list(root._children.values()):
        yield from walk_elements(child)


def resolve_assets(figure: Figure, offline: bool) -> None:
    """Replace the CDN links of every element under ``figure`` with what the page needs.

    Must run once, before the figure is rendered.  Offline, each needed asset is inlined once
    into the page header, Leaflet first; with ``offline=False`` the CDN links stay except for
    the unused folium extras.  An element asking for an asset this module does not know raises
    :class:`StationsError`, so a new plugin cannot silently pull from a CDN.
    """
    needed: list[str] = []
    for element in walk_elements(figure):
        if not isinstance(element, JSCSSMixin):
            continue
        for name, _url in (*element.default_js, *element.default_css):
            if name in UNUSED_FOLIUM_ASSETS or name in needed:
                continue
            if name not in ASSETS:
                raise StationsError(f"map asset {name!r} has no offline copy")
            needed.append(name)
        element.default_js = []
        element.default_css = []
    needed.sort(key=_load_order)
    for name in needed:
        figure.header.add_child(RawHtml(_asset_tag(name, offline)), name=f"asset_{name}")


class RawHtml(Element):
    """Markup written into the page as is (``Element(text)`` would parse it as a template)."""

    _template = Template("{{ this.html }}")

    def __init__(self, html: str) -> None:
        super().__init__()
        self.html = html


def _load_order(name: str) -> int:
    """CSS first, then Leaflet, then plugins that extend it, then our own code."""
    asset = ASSETS[name]
    if asset.kind == "css":
        return 0
    if name == "leaflet":
        return 1
    return 2 if asset.cdn_url else 3


def _asset_tag(name: str, offline: bool) -> str:
    asset = ASSETS[name]
    if offline or asset.cdn_url is None:
        tag = "script" if asset.kind == "js" else "style"
        return f"<{tag}>\n{asset_text(name)}\n</{tag}>"
    if asset.kind == "js":
        return f'<script src="{asset.cdn_url}"></script>'
    return f'<link rel="stylesheet" href="{asset.cdn_url}"/>'


class AssetUser(JSCSSMixin):
    """Base for this package's map elements: declares assets by name only.

    Its ``script`` macro is added to the page as is.  Branca would wrap it in a new template
    and parse it again: slow for a national station table, and any ``{{`` in text from the
    data would then be evaluated as a template expression.
    """

    def __init__(self, js: tuple[str, ...] = (), css: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.default_js = [(name, ASSETS[name].cdn_url or "") for name in js]
        self.default_css = [(name, ASSETS[name].cdn_url or "") for name in css]

    def render(self, **kwargs: object) -> None:
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise StationsError("a map element can only be rendered inside a folium map")
        if self.default_js or self.default_css:
            raise StationsError("render the map with stations.maps.render_html")
        script = self._template.module.__dict__["script"]
        figure.script.add_child(RawHtml(script(self, kwargs)), name=self.get_name())

