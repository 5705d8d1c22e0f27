"""Turn a built folium map into HTML and write it to disk.

Building a map and saving it are separate steps so that tests and benchmarks can inspect or
time each.  Writing is atomic, like the GeoPackage: a reader never sees half a map.
"""

from __future__ import annotations

import contextlib
import html
import json
import os
from pathlib import Path

import folium

from .assets import resolve_assets, walk_elements

_SCRIPT_UNSAFE = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                                "\u2028": "\\u2028", "\u2029": "\\u2029"})


def script_json(value: object) -> str:
    """JSON that is safe to put inside a ``<script>`` element, whatever strings it holds."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).translate(_SCRIPT_UNSAFE)


def set_title(fmap: folium.Map, title: str) -> None:
    """The page title (folium writes it unescaped, so it is escaped here)."""
    fmap.get_root().title = html.escape(title)


def render_html(fmap: folium.Map, offline: bool = True) -> str:
    """The complete HTML page; ``offline`` inlines every script and style sheet."""
    figure = fmap.get_root()
    resolve_assets(figure, offline=offline)
    # Folium names each element with a random id; numbering them instead makes the same map
    # the same file, so regenerated maps only differ where the data does.
    for number, element in enumerate(walk_elements(figure)):
        element._id = f"{number:04d}"
    page = figure.render()
    return page.replace("<html>", '<html lang="zh-CN">', 1)


def save_map(fmap: folium.Map, path: str | os.PathLike[str], offline: bool = True) -> Path:
    """Render ``fmap`` and write it to ``path`` atomically; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(render_html(fmap, offline=offline), encoding="utf-8")
        os.replace(temporary, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return target
