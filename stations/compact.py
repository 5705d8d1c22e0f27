"""The compact batch answer for dispatch platforms: per point, station ids and metres.

``{"ids": [...], "distance_m": [...]}`` per point, each list k long, ``null`` where fewer than k
stations qualified (``radius_m``, filters).  A dispatch platform asks for tens of thousands of
points at once, so the bytes are assembled with numpy, never with a Python object per point.
Every piece is a fixed-width run of bytes taken from a table made once: each station's id as a
JSON string, and distances as groups of four digits, each padded with NUL bytes.  An answer is
a handful of array gathers, one ``tobytes()`` and one pass that deletes the padding: JSON text
never holds a raw NUL (it is escaped), so what remains is exactly the answer.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

_NULL = b"null"
_PAD = b"\x00"
_MAX_METRES = 99_999_999  # eight digits before the point: more than half the equator


def _table(texts: Sequence[bytes], width: int) -> npt.NDArray[np.void]:
    """``texts`` left-aligned in ``width`` bytes, padded with NUL, as one item each."""
    table = np.array(texts, dtype=f"S{width}").view(np.uint8).reshape(len(texts), width)
    return table.view(np.dtype((np.void, width))).reshape(-1)


class CompactIds:
    """Each station's id as fixed-width JSON, with a comma after it and without (the last of a
    row); the index -1 (no station) gives ``null``."""

    def __init__(self, id_json: Sequence[bytes]) -> None:
        texts = [*id_json, _NULL]
        self.count = len(texts)
        self.width = 1 + max(map(len, texts))
        self.table = _table([*(t + b"," for t in texts), *texts], self.width)

    def rows(self, index: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """(points, k * width) bytes: the ids of each row, comma-separated."""
        chosen = np.where(index >= 0, index, self.count - 1)
        chosen[:, -1] += self.count  # the last of each row has no comma
        return self.table[chosen].view(np.uint8).reshape(index.shape[0], -1)


# Distances as three 4-byte words: thousands (nothing when zero), units (zero-filled when
# thousands are shown) and ".d," or ".d" for the last of a row.
_HIGH = _table([b"", *(b"%d" % n for n in range(1, 10_000))], 4)
_LOW = _table([*(b"%d" % n for n in range(10_000)), *(b"%04d" % n for n in range(10_000))], 4)
_TENTHS = _table([*(b".%d," % n for n in range(10)), *(b".%d" % n for n in range(10))], 4)
_NULLS = _table([b"", _NULL, b",", b""], 4)


def metre_rows(distance_m: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """(points, k * 12) bytes: each distance as ``12345.6,`` (``null`` when infinite)."""
    points, k = distance_m.shape
    finite = np.isfinite(distance_m)
    tenths = np.rint(np.clip(np.where(finite, distance_m, 0), 0, _MAX_METRES) * 10
                     ).astype(np.int64)
    metres, tenth = np.divmod(tenths, 10)
    high, low = np.divmod(metres, 10_000)
    last = np.zeros((points, k), dtype=np.int64)
    last[:, -1] = 10
    words = np.stack([_HIGH[high], _LOW[low + 10_000 * (high > 0)], _TENTHS[tenth + last]],
                     axis=-1)
    if not finite.all():
        words[~finite] = np.stack([_NULLS[np.zeros_like(last)], _NULLS[np.ones_like(last)],
                                   _NULLS[2 + (last > 0)]], axis=-1)[~finite]
    return words.view(np.uint8).reshape(points, -1)


def compact_rows(ids: CompactIds, index: npt.NDArray[np.int64],
                 distance_m: npt.NDArray[np.float64], opening: bytes, closing: bytes) -> bytes:
    """Each point's ``{"ids":[...],"distance_m":[...]}`` between ``opening`` and ``closing``
    (a comma, or a newline for NDJSON), one after another."""
    if index.shape[0] == 0:
        return b""
    pieces = (opening + b'{"ids":[', ids.rows(index), b'],"distance_m":[',
              metre_rows(distance_m), b"]}" + closing)
    widths = [len(p) if isinstance(p, bytes) else p.shape[1] for p in pieces]
    rows = np.empty((index.shape[0], sum(widths)), dtype=np.uint8)
    start = 0
    for piece, width in zip(pieces, widths, strict=True):
        rows[:, start:start + width] = (np.frombuffer(piece, dtype=np.uint8)
                                        if isinstance(piece, bytes) else piece)
        start += width
    return rows.tobytes().translate(None, _PAD)
