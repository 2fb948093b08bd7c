"""forecast from Python: run a projection, read its tables, save the run's files.

Run from the project root:  .venv/bin/python examples/from_python.py [output folder]
(about 15 seconds: constant fertility, no MCMC). The tests run it too.
"""

from __future__ import annotations

import sys
from pathlib import Path

import forecast


def main(out: Path) -> forecast.Result:
    # The same configuration as `forecast fertility=constant horizon=2025 plots=false`:
    # every option is checked before any work, as on the command line.
    result = forecast.project(["fertility=constant", "horizon=2025", "plots=false"])

    # The projection: persons by region, sex, age, year and draw (xarray).
    births = result.projection["births_calendar"].sum("sex").sel(region="000000", draw=0)
    print("National births (persons per year):")
    print(births.dropna("year").to_series().round(-3).to_string())

    # The planner table of forecast.csv (pandas): median and intervals by region and year.
    table = result.forecast
    under_3 = table[(table["indicator"] == "population_0_2") & (table["region_code"] == "440000")]
    print(under_3[["region_name", "year", "unit", "median"]].to_string(index=False))

    # The demand table of demand.csv, and the posterior (None: no MCMC in this model).
    print("demand columns:", ", ".join(result.demand.columns[:6]), "...")
    print("posterior:", result.posterior)

    # The files the command line writes, in a run folder replaced whole.
    for path in result.save(out):
        print("wrote", path)
    return result


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "outputs/from_python"))
