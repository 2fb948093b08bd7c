"""Build ``china_nbs_observed.csv``, the observed national series, from the four NBS extracts
of the project's shared source data (run from the project root with the sources in
``../shared/data``; the output is committed, so runs never need the sources).

Every value is copied unchanged; only the layout is unified (region, year, indicator, value,
unit, source). The communiqué birth counts of 2016-2019 are left out: NBS revised those
years after the 2020 census, and the revised crude birth rates are in the annual series (the
births of years without a count are derived from them, see ``forecast.data.nbs``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

SOURCES = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = Path(__file__).with_name("china_nbs_observed.csv")
UNITS = {"per 1000 population": "per 1,000 population", "10k persons (万人)": "10k persons"}


def main() -> None:
    frames = []
    for name in ("china_nbs_national_annual_2004_2019.csv", "china_nbs_national_annual_2020_2023.csv"):
        table = pd.read_csv(SOURCES / name, dtype=str)
        frames.append(pd.DataFrame({
            "region": table["region"], "year": table["year"], "indicator": table["indicator"],
            "value": table["value"], "unit": table["unit"].map(UNITS),
            "source": "NBS annual data (data.stats.gov.cn layout), repository "
                      + table["source_repo"] + " @ " + table["source_commit"].str[:7]}))
    births = pd.read_csv(SOURCES / "china_nbs_births_2020_2023.csv", dtype=str)
    frames.append(pd.DataFrame({
        "region": births["region"], "year": births["year"], "indicator": "births",
        "value": births["births"], "unit": "persons",
        "source": births["original_document"] + ", transcribed in repository "
                  + births["source_repo"] + " @ " + births["source_commit"].str[:7]}))
    table = pd.concat(frames, ignore_index=True)
    if table["unit"].isna().any():
        raise SystemExit("unknown unit in the sources")
    table = table.drop_duplicates(["region", "year", "indicator"])
    table = table.sort_values(["indicator", "year"], kind="stable")
    table.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(table)} rows)")


if __name__ == "__main__":
    main()
