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
import pandas as pd

from ..model import normalise_label

UNKNOWN_DIVISION = "000000"
POSITION_DECIMALS = 3


def make_ids(prefixes: np.ndarray, division_codes: np.ndarray, names: np.ndarray,
             lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """``{prefix}{division}-{8 hex digits}`` for every row, e.g. ``NN-450103-3fa2c1b4``."""
    codes, uniques = pd.factorize(names, use_na_sentinel=False)  # names repeat: 第1驿站…
    labels = [normalise_label(str(name)) for name in uniques]
    digests = [hashlib.blake2b(f"{labels[k]}|{x:.{POSITION_DECIMALS}f},"
                               f"{y:.{POSITION_DECIMALS}f}".encode(), digest_size=4).hexdigest()
               for k, x, y in zip(codes.tolist(), lon.tolist(), lat.tolist(), strict=True)]
    divisions = np.where(division_codes == "", UNKNOWN_DIVISION, division_codes)
    return prefixes.astype(object) + divisions.astype(object) + "-" + np.array(digests,
                                                                               dtype=object)
