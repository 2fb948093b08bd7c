"""Build ``wpp2024_china_projection_variants.csv``: the UN World Population Prospects 2024
published projections for China (mainland, WPP code CHN, UN location code 156), 2024-2100.

Source: the R data package ``wpp2024`` (repository PPgp/wpp2024 on GitHub, maintainer
H. Ševčíková), branch ``main``, commit ``2da7768ae64fc74105d3f9e98f9a74d37b62f99a``, files

- ``data/tfrproj1dt.rda``  TFR: ``tfr`` (medium = median of the probabilistic projection),
  ``tfr_low``/``tfr_high`` (the low/high variants), ``tfr_80l/80u``, ``tfr_95l/95u``;
- ``data/popproj1dt.rda``  population at 1 July, thousands: ``popM + popF`` (medium),
  ``pop_low``/``pop_high``, ``pop_80l/80u``, ``pop_95l/95u``;
- ``data/miscproj1dt.rda`` births, thousands: ``births`` (medium variant only).

The package holds no births of the low/high variants, no probabilistic intervals of births and
no constant-fertility variant, so the CSV has none. Values are unchanged, except that the
medium population is the sum of the two sexes (rounded to the source's 3 decimals).

Run from the project root::

    python data/make_wpp_variants.py PATH

PATH is a directory holding the three ``.rda`` files, or a git clone or mirror of
PPgp/wpp2024 (the files are then read at the commit above with ``git show``). Needs the
package ``rdata`` (``pip install rdata pandas``), which is not a project dependency: use a
separate environment. The output is committed, so runs never need the sources.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import rdata

COMMIT = "2da7768ae64fc74105d3f9e98f9a74d37b62f99a"
CHINA = 156
OUT = Path(__file__).with_name("wpp2024_china_projection_variants.csv")
#: Source column suffix -> variant in the CSV.
VARIANTS = {"": "medium", "_low": "low", "_high": "high", "_80l": "lower_80",
            "_80u": "upper_80", "_95l": "lower_95", "_95u": "upper_95"}
#: Indicator -> (file, source column stem, unit).
INDICATORS = {"births": ("miscproj1dt", "births", "thousands"),
              "tfr": ("tfrproj1dt", "tfr", "children per woman"),
              "population": ("popproj1dt", "pop", "thousands")}


def read_rda(source: Path, name: str) -> pd.DataFrame:
    """China's rows of the data frame ``name`` from ``source``'s ``data/<name>.rda``."""
    path = source / f"{name}.rda"
    if not path.is_file():  # a git clone or mirror: the file at COMMIT
        blob = subprocess.run(["git", "-C", str(source), "show", f"{COMMIT}:data/{name}.rda"],
                              check=True, capture_output=True).stdout
        path = Path(tempfile.mkdtemp()) / f"{name}.rda"
        path.write_bytes(blob)
    table = rdata.read_rda(str(path))[name]
    return table[table["country_code"] == CHINA]


def main() -> None:
    source = Path(sys.argv[1])
    rows = []
    for indicator, (name, stem, unit) in INDICATORS.items():
        table = read_rda(source, name)
        if stem == "pop":
            table = table.assign(pop=(table["popM"] + table["popF"]).round(3))
        table = table[table["year"] >= 2024].sort_values("year")
        for suffix, variant in VARIANTS.items():
            if stem + suffix in table:
                rows.append(pd.DataFrame({
                    "region": "CHN", "region_name": "China", "year": table["year"].astype(int),
                    "indicator": indicator, "variant": variant,
                    "value": table[stem + suffix].astype(float), "unit": unit}))
    out = pd.concat(rows)
    out.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(out)} rows)")


if __name__ == "__main__":
    main()
