"""City names as people type them: ``南宁`` for ``南宁市``, found among the cities in the data.

The data spells a city as the office sheet does (``南宁市``); riders, apps and planners often
leave off the 市/区/县 suffix or mistype a character.  Wherever a city is taken (``stations map
--city``, ``GET /nearest?city=``), an unknown name is answered with the closest known one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Final

from rapidfuzz import fuzz, process

# Longest first, so that 自治州 is removed whole and not only its 州.
ADMIN_SUFFIXES: Final = ("特别行政区", "自治州", "自治县", "地区", "市", "盟", "州", "县", "区")
CITY_SUGGESTION_SCORE: Final = 75


def fold(name: str) -> str:
    """The name without spaces, width or case differences."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def city_core(name: str) -> str:
    """The folded name without one administrative suffix: 南宁市 -> 南宁."""
    text = fold(name)
    for suffix in ADMIN_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


def suggest_city(name: str, known: Iterable[str]) -> str | None:
    """The known city ``name`` most likely means, or None when none is close."""
    cities = sorted({city for city in known if city})
    typed = fold(name)
    if not typed:
        return None
    # 广州 is 广州市 without its suffix, not 广 with one: try the name as typed and trimmed.
    for wanted in (typed, city_core(typed)):
        same = [city for city in cities if wanted in (fold(city), city_core(city))]
        if same:
            return same[0]
    best = process.extractOne(typed, cities, scorer=fuzz.ratio, processor=city_core,
                              score_cutoff=CITY_SUGGESTION_SCORE)
    return None if best is None else str(best[0])


def unknown_city_message(name: str, known: Iterable[str]) -> str | None:
    """``城市 '南宁' 没有驿站，是不是 南宁市？ no station in city '南宁'; did you mean 南宁市?``,
    or None when no known city is close."""
    suggestion = suggest_city(name, known)
    if suggestion is None:
        return None
    shown = repr(name[:100])
    return (f"城市 {shown} 没有驿站，是不是 {suggestion}？ "
            f"no station in city {shown}; did you mean {suggestion}?")
