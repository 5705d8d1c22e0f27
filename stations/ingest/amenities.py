"""Amenity cells as offices fill them: labels in one cell, or one ticked column per amenity.

One cell lists labels separated by 、 ， , ； ; / or spaces (``饮水、微波炉 空调``), in Chinese or
English, as codes, labels or aliases of the vocabulary in :mod:`stations.model`; an unknown
label is reported with the closest known one.  A sheet may instead have one column per amenity
(heading ``微波炉``) ticked with √ / 是 / 有 / 1.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from ..model import AMENITY_BY_CODE, AMENITY_LABEL_INDEX, normalise_label

AMENITY_SUGGESTION_SCORE = 60.0
AMENITY_SEPARATORS = re.compile(r"[、,;，；/|\n]+")
TICKS = frozenset(("√", "✓", "✔", "☑", "v", "y", "yes", "true", "是", "有", "1", "●", "○是"))


def ticked_codes(columns: dict[str, np.ndarray], rows: int) -> np.ndarray:
    """Per row, the codes of the amenity columns ticked in it, as one cell (``a、b``)."""
    cells = [[] for _ in range(rows)]
    for code, values in columns.items():
        for i in np.flatnonzero([normalise_label(str(v)) in TICKS for v in values]).tolist():
            cells[i].append(code)
    return np.array(["、".join(c) for c in cells], dtype=object)


@dataclass(frozen=True, slots=True)
class AmenityCell:
    """What one amenity cell says: the known codes, and the labels that matched nothing."""

    codes: frozenset[str]
    unknown: tuple[str, ...]


def parse_amenities(cell: str) -> AmenityCell:
    """Split an amenity cell on 、 , ; ， ； or spaces and map each label onto the vocabulary.

    A label that contains spaces ("Drinking water") is first tried whole, then word by word.
    """
    codes: set[str] = set()
    unknown: list[str] = []
    for token in AMENITY_SEPARATORS.split(cell):
        token_codes = _label_codes(token)
        if token_codes is None:
            unknown.append(token.strip())
        else:
            codes.update(token_codes)
    return AmenityCell(frozenset(codes), tuple(unknown))


@lru_cache(maxsize=4096)
def _label_codes(token: str) -> tuple[str, ...] | None:
    """The codes one label names (none for a blank label), or None when it is unknown."""
    label = normalise_label(token)
    if not label:
        return ()
    code = AMENITY_LABEL_INDEX.get(label)
    if code:
        return (code,)
    words = [AMENITY_LABEL_INDEX.get(w) for w in label.split(" ")]
    if len(words) > 1 and all(words):
        return tuple(w for w in words if w)
    return None


@lru_cache(maxsize=4096)
def suggest_amenity(label: str) -> str | None:
    """The closest vocabulary entry as ``微波炉 (microwave)``, or None when nothing is close."""
    folded = normalise_label(label)
    choices = list(AMENITY_LABEL_INDEX)
    match = AMENITY_LABEL_INDEX.get(folded.replace(" ", ""))
    if match is None:
        best = process.extractOne(folded, choices, scorer=fuzz.WRatio,
                                  score_cutoff=AMENITY_SUGGESTION_SCORE)
        if best is None:
            return None
        match = AMENITY_LABEL_INDEX[best[0]]
    return f"{AMENITY_BY_CODE[match].label_zh} ({match})"


def unknown_amenity_message(label: str) -> str:
    suggestion = suggest_amenity(label)
    known = "; did you mean " + suggestion + "?" if suggestion else ""
    return f"unknown amenity {label!r} (ignored){known}"
