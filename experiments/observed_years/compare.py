"""Observed against projected for 2020-2023, and a census-base backtest of births.

Part 1 (deterministic): national births, deaths, year-end population and ages 0-3 of the
default data, projected with the observed ASFR held (``fertility=constant``) and Lee-Carter
mortality (central path), with and without the calibration to NBS (``observed_file``) and
the young ages rebuilt from births.

Part 2 (census-base backtest): from data up to each origin (2020, 2021, 2022: ``data.until``),
forecast national births with the default Bayesian TFR model and score them against NBS for
the later years up to 2023 (CRPS, in persons, and whether NBS lies in the 80 % interval),
calibrated to the observed years up to the origin or not.

Run from the project root: .venv/bin/python experiments/observed_years/compare.py [--draws N]
Writes results/observed_2020_2023.csv and results/census_backtest.csv.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data import load_china_census
from forecast.projection.evaluate import crps_ensemble
from forecast.models.fertility.bayes import HierarchicalTFR
from forecast.models.fertility.constant import ConstantFertility
from forecast.models.mortality.lee_carter import LeeCarterMortality
from forecast.models.migration.net_migrants import ZeroMigration
from forecast.projection.project import project_inputs

OUT = Path(__file__).with_name("results")
NATION = "000000"
YEARS = range(2020, 2024)


def observed_table() -> pd.DataFrame:
    nbs = load_china_census(regions=[])
    rows = []
    for label, kwargs in (("uncalibrated", {"observed_file": None}),
                          ("calibrated, young ages from births", {})):
        inputs = load_china_census(regions=[], **kwargs)
        result = project_inputs(inputs, ConstantFertility(), LeeCarterMortality(draws=1),
                                ZeroMigration(), 2024).sel(region=NATION, draw=0)
        for year in YEARS:
            obs = nbs.sel(observed_year=year)
            rows.append({
                "variant": label, "year": year,
                "births": float(result["births_calendar"].sum("sex").sel(year=year)),
                "births_nbs": float(obs["observed_births"]),
                "deaths": float(result["deaths_calendar"].sum("sex").sel(year=year)),
                "deaths_nbs": float(obs["observed_deaths"]),
                "population_yearend": float(result["population_yearend"].sel(year=year)),
                "population_yearend_nbs": float(obs["observed_population_yearend"]),
                "population_0_3_july": float(result["population"].sum("sex")
                                             .sel(year=year, age=slice(0, 3)).sum()),
            })
    return pd.DataFrame(rows)


def census_backtest(draws: int) -> pd.DataFrame:
    nbs = load_china_census(regions=[])
    rows = []
    for origin in (2020, 2021, 2022):
        for label, kwargs in (("uncalibrated", {"observed_file": None}), ("calibrated", {})):
            inputs = load_china_census(regions=[], until=origin, **kwargs)
            model = HierarchicalTFR(draws=draws, samples=1000, tune=1000, progressbar=False,
                                    random_seed=origin)
            result = project_inputs(inputs, model, LeeCarterMortality(draws=draws), ZeroMigration(),
                                    2023).sel(region=NATION)
            births = result["births_calendar"].sum("sex")
            for year in range(origin + 1, 2024):
                sample = births.sel(year=year).values
                observed = float(nbs["observed_births"].sel(observed_year=year))
                lo, hi = np.quantile(sample, [0.1, 0.9])
                rows.append({"origin": origin, "variant": label, "year": year, "h": year - origin,
                             "observed": observed, "median": float(np.median(sample)),
                             "crps": float(crps_ensemble(sample[None, :], np.array([observed]))[0]),
                             "in_80": bool(lo <= observed <= hi)})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--draws", type=int, default=500)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    table = observed_table()
    table.to_csv(OUT / "observed_2020_2023.csv", index=False, float_format="%.0f")
    print(table.to_string())
    scores = census_backtest(args.draws)
    scores.to_csv(OUT / "census_backtest.csv", index=False, float_format="%.4f")
    print(scores.to_string())
    print(scores.groupby("variant")[["crps", "in_80"]].mean())


if __name__ == "__main__":
    main()
