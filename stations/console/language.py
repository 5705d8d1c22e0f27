"""The console's language: Chinese first, English when a member of staff asks for it.

The choice is a cookie, so it needs no account, survives a reload and a sign-out, and works
without script: the switch in the header is a small form.  Templates pick each text with
``t("中文", "English")``; a message built in Python is a ``(zh, en)`` pair shown with ``|say``.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from jinja2 import Environment, pass_context
from jinja2.runtime import Context

from ..hours import describe_hours
from ..model import STATUS_LABELS_EN, STATUS_LABELS_ZH, Status

LANG_COOKIE: Final = "stations_console_lang"
LANGUAGES: Final = ("zh", "en")
LANG_COOKIE_MAX_AGE_S: Final = 365 * 24 * 3600
HOME: Final = "/console"

Text = str | tuple[str, str]


def language(request: Request) -> str:
    """``en`` when the cookie asks for English, else ``zh``."""
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "zh"


def pick(lang: str, zh: Text, en: str | None = None) -> str:
    """The text for ``lang``; a lone string (from data or an error) is shown as it is."""
    if isinstance(zh, tuple):
        zh, en = zh
    if en is None:
        return zh
    return en if lang == "en" else zh


def back_path(path: str) -> str:
    """Where to return after switching: a console page of this site, never another site."""
    if (path == HOME or path.startswith(HOME + "/") or path.startswith(HOME + "?")) \
            and path.isprintable() and "\\" not in path and len(path) < 2000:
        return path
    return HOME


def status_label(lang: str, status: str) -> str:
    try:
        known = Status(status)
    except ValueError:
        return status
    return (STATUS_LABELS_EN if lang == "en" else STATUS_LABELS_ZH)[known]


def install(env: Environment) -> None:
    """Give templates ``t``, ``|say``, ``|label``, ``|status`` and ``|hours`` in the page's
    language."""

    @pass_context
    def t(context: Context, zh: Text, en: str | None = None) -> str:
        return pick(context.get("lang", "zh"), zh, en)

    @pass_context
    def label(context: Context, item: Any) -> str:
        """An amenity's or a report kind's label; an unknown code as it is."""
        if isinstance(item, str):
            return item
        return pick(context.get("lang", "zh"), item.label_zh, item.label_en)

    @pass_context
    def status(context: Context, value: str) -> str:
        return status_label(context.get("lang", "zh"), value)

    @pass_context
    def hours(context: Context, osm: str | None) -> str:
        return describe_hours(osm or None, context.get("lang", "zh"))

    env.globals["t"] = t
    env.filters.update(say=t, label=label, status=status, hours=hours)
