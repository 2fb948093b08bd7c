"""Build ``china_nbs_province_observed.csv``, the observed provincial series, from two NBS
extracts of the project's shared source data (run from the project root with the sources in
``../shared/data``; the output is committed, so runs never need the sources).

Every value is copied unchanged; only the layout is that of ``china_nbs_observed.csv``
(region, year, indicator, value, unit, source), with the province named by its GB/T 2260
code. Indicators: ``crude_birth_rate`` (per 1,000 population, 2002-2019, as first published)
and ``population_yearend_total`` (10k persons, year-end resident population 2004-2022, the
series revised after the 2020 census).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

SOURCES = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data")
OUT = Path(__file__).with_name("china_nbs_province_observed.csv")
UNITS = {"per 1000 population": "per 1,000 population", "10k persons (万人)": "10k persons"}
INDICATORS = {"crude_birth_rate": "crude_birth_rate",
              "population_yearend_resident": "population_yearend_total"}


def main() -> None:
    rates = pd.read_csv(SOURCES / "china_province_crude_birth_rate_2002_2019.csv", dtype=str)
    codes = dict(zip(rates["region_name"], rates["region_code"]))
    population = pd.read_csv(SOURCES / "china_nbs_province_population_yearend.csv", dtype=str)
    unknown = sorted(set(population["province"]) - set(codes))
    if unknown:
        raise SystemExit(f"provinces without a code: {unknown}")
    frames = []
    for table, region in ((rates, rates["region_code"]), (population, population["province"].map(codes))):
        frames.append(pd.DataFrame({
            "region": region, "year": table["year"], "indicator": table["indicator"].map(INDICATORS),
            "value": table["value"], "unit": table["unit"].map(UNITS),
            "source": "NBS provincial annual data (分省年度数据), repository "
                      + table["source_repo"] + " @ " + table["source_commit"].str[:7]}))
    table = pd.concat(frames, ignore_index=True)
    if table[["indicator", "unit"]].isna().any().any():
        raise SystemExit("unknown indicator or unit in the sources")
    table = table.sort_values(["region", "indicator", "year"], kind="stable")
    table.to_csv(OUT, index=False, lineterminator="\n")
    print(f"wrote {OUT} ({len(table)} rows)")


if __name__ == "__main__":
    main()
