"""Stable ids for stations whose sheet has none.

Office sheets rarely carry ids, and 序号 (1, 2, 3) is a row number that changes whenever a row
is added.  A made id is derived from what identifies the station: its administrative division
(GB/T 2260 code), its normalised name and its WGS84 position rounded to about 100 m.  The same
sheet imported again gives the same ids, and two rows with the same name at the same place get
the same id, which is how a repeated row is recognised.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..model import normalise_label

UNKNOWN_DIVISION = "000000"
POSITION_DECIMALS = 3


def make_id(prefix: str, division_code: str, name: str, lon: float, lat: float) -> str:
    """``{prefix}{division}-{8 hex digits}``, e.g. ``NN-450103-3fa2c1b4``."""
    key = (f"{normalise_label(name)}|{lon:.{POSITION_DECIMALS}f},"
           f"{lat:.{POSITION_DECIMALS}f}")
    digest = hashlib.blake2b(key.encode(), digest_size=4).hexdigest()
    return f"{prefix}{division_code or UNKNOWN_DIVISION}-{digest}"


def make_ids(prefixes: np.ndarray, division_codes: np.ndarray, names: np.ndarray,
             lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """:func:`make_id` for every row."""
    return np.array([make_id(*values) for values in zip(
        prefixes.tolist(), division_codes.tolist(), names.tolist(), lon.tolist(), lat.tolist(),
        strict=True)], dtype=object)
