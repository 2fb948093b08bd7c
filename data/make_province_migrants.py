"""Build ``china_census2020_province_migrants.csv``: each province's residents whose household
registration (户口) is in another province, from the 2020 census indicators of the project's
shared source data (run from the project root with the sources in ``../shared/data``; the
output is committed, so runs never need the sources). Values unchanged; province rows only.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

SOURCES = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = Path(__file__).with_name("china_census2020_province_migrants.csv")


def main() -> None:
    table = pd.read_csv(SOURCES / "china_census2020_region_indicators.csv", dtype=str)
    table = table[table["level"].isin(["nation", "province"])]
    out = pd.DataFrame({
        "region_code": table["region_code"], "year": table["year"],
        "population_total": table["population_total"].str.replace(r"\.0$", "", regex=True),
        "migrants_from_other_provinces": table["pop_hukou_registered_other_province"]
        .str.replace(r"\.0$", "", regex=True),
        "source": "2020 census yearbook (七普年鉴) county table, repository leiii/census @ 0ba0f1e"})
    out.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(out)} rows)")


if __name__ == "__main__":
    main()
