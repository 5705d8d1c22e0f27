"""The rider page and its static files: the page at ``/`` for browsers, assets under ``/static``.

Riders are on phones with weak connections, so every file is read once, gzipped once and sent
with an ETag.  The page links its assets with a content hash in the query (``app.js?v=…``):
those URLs never change meaning, so browsers may keep them for a year, while the page itself is
revalidated on every visit.  Leaflet comes from the ``xstatic-leaflet`` package and is served
by this site: no CDN, nothing downloaded at run time.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import xstatic.pkg.leaflet
from fastapi import APIRouter, HTTPException, Request, Response

from ..model import AMENITIES
from ..reports import REPORT_KINDS

STATIC_PREFIX = "static/"
# The amenities riders ask for most, offered as chips on the page (all are shown on stations).
CHIP_AMENITIES = ("microwave", "drinking_water", "phone_charging", "ebike_charging", "toilet",
                  "air_conditioning", "heating", "rest_seats")
PAGE_CACHE = "no-cache"
VERSIONED_CACHE = "public, max-age=31536000, immutable"
# The page builds its content with textContent; this policy is a second line of defence.
PAGE_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: https://tile.openstreetmap.org; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

router = APIRouter(tags=["rider page"])


@dataclass(frozen=True, slots=True)
class Asset:
    """One file ready to send: plain and gzipped bytes, media type and a content hash."""

    body: bytes
    gzipped: bytes
    media_type: str
    version: str

    @classmethod
    def from_bytes(cls, body: bytes, media_type: str) -> Asset:
        return cls(body, gzip.compress(body, compresslevel=9, mtime=0), media_type,
                   hashlib.sha256(body).hexdigest()[:12])

    @property
    def etag(self) -> str:
        # Weak: the plain and the gzipped bytes are the same content.
        return f'W/"{self.version}"'


def _asset_sources() -> dict[str, bytes]:
    web = resources.files("stations") / "web"
    leaflet = Path(xstatic.pkg.leaflet.BASE_DIR)
    return {
        "app.js": (web / "app.js").read_bytes(),
        "app.css": (web / "app.css").read_bytes(),
        "leaflet.js": (leaflet / "leaflet.js").read_bytes(),
        "leaflet.css": (leaflet / "leaflet.css").read_bytes(),
        # The office console's maps: the same Leaflet, one cached copy for both.
        "console.js": (resources.files("stations") / "console" / "static" / "console.js"
                       ).read_bytes(),
    }


def page_vocabulary(reach_m: float, by_road: bool = False) -> dict[str, object]:
    """What the page needs to draw chips and the report sheet without another request, the
    riding reach the operator set, and whether a road network answers ``by=road``."""
    return {
        "reach_m": reach_m,
        "by_road": by_road,
        "amenities": {a.code: {"code": a.code, "label_zh": a.label_zh, "label_en": a.label_en,
                               "icon": a.icon} for a in AMENITIES},
        "filters": list(CHIP_AMENITIES),
        "report_kinds": [{"code": k.code, "label_zh": k.label_zh, "label_en": k.label_en}
                         for k in REPORT_KINDS],
    }


@functools.cache
def static_assets() -> dict[str, Asset]:
    """Read, version and compress the page's files (once per process)."""
    return {
        name: Asset.from_bytes(body, mimetypes.guess_type(name)[0] or "application/octet-stream")
        for name, body in _asset_sources().items()
    }


@functools.lru_cache(maxsize=4)
def page_asset(reach_m: float, by_road: bool = False) -> Asset:
    """The page with its files' versions and the vocabulary filled in (once per setting)."""
    page = (resources.files("stations") / "web" / "index.html").read_text(encoding="utf-8")
    for name, asset in static_assets().items():
        page = page.replace(f'"{STATIC_PREFIX}{name}"',
                            f'"{STATIC_PREFIX}{name}?v={asset.version}"')
    # "<" escaped so that no vocabulary text can close the script element.
    vocabulary = json.dumps(page_vocabulary(reach_m, by_road), ensure_ascii=False
                            ).replace("<", "\\u003c")
    page = page.replace("{{vocabulary}}", vocabulary)
    return Asset.from_bytes(page.encode("utf-8"), "text/html; charset=utf-8")


def wants_html(request: Request) -> bool:
    """True when the client asks for a web page: ``?f=html``, or ``text/html`` preferred over
    JSON in ``Accept`` (browsers).  No Accept header, ``*/*`` or ``?f=json`` mean JSON."""
    requested = request.query_params.get("f")
    if requested:
        return requested.lower() == "html"
    html_q = json_q = 0.0
    for part in request.headers.get("accept", "").split(","):
        media, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        media = media.strip().lower()
        if media in ("text/html", "application/xhtml+xml"):
            html_q = max(html_q, quality)
        elif media in ("application/json", "application/geo+json", "*/*", "application/*"):
            json_q = max(json_q, quality)
    return html_q > json_q


def page_response(request: Request) -> Response:
    """The rider page, for the landing route when a browser asks for HTML."""
    settings = request.app.state.settings
    response = _send(page_asset(settings.reach_m, settings.roads is not None), request,
                     PAGE_CACHE)
    response.headers["Content-Security-Policy"] = PAGE_SECURITY_POLICY
    response.headers["Vary"] = "Accept, Accept-Encoding"
    return response


@router.get("/static/{name}", include_in_schema=False)
def static_file(name: str, request: Request) -> Response:
    asset = static_assets().get(name)
    if asset is None:
        raise HTTPException(status_code=404, detail=f"no static file {name!r}")
    versioned = request.query_params.get("v") == asset.version
    return _send(asset, request, VERSIONED_CACHE if versioned else PAGE_CACHE)


def _send(asset: Asset, request: Request, cache_control: str) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": cache_control, "Vary": "Accept-Encoding",
               "X-Content-Type-Options": "nosniff"}
    if asset.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)
