"""Provincial validation: fertility levels and migration against the published series.

Part 1 (fertility hind-cast): the provinces' factors from indirect standardisation
(forecast.demography.provincial_history) for 2005-2019; from each origin 2010-2016, each way of
setting the level (last year, mean of 3 or 5 years, a 3- or 5-year trend) predicts the factors of
the later years up to 2019, scored by the absolute relative error of the births it implies (births
are proportional to the factor, with the province's women and the national rates of the year).
The census child-woman ratios (2020, plain and age-standardised) are scored on the same years
as references; they see the census, so they are not a true hind-cast.

Part 2 (population, held out): from data up to 2020 (``data.until=2020``: the provinces'
history stops at the step 2019-2020) project year-end populations 2021 and 2022 with
provincial migration, WPP's national migration shared by population, and none; score
against NBS's published provincial series.

Part 3 (birth rates side by side): the provinces' crude birth rates relative to the nation,
published for 2017-2019, against the projection's for 2020-2023 (calibrated national births,
fertility factors from indirect standardisation, or the old census child-woman ratio).

Part 4 (years of stay of the migrant exchange): the provinces' net migration 2010-2020 by
broad cohort from the 2010 and 2020 censuses (census survival with the national ratios, so
the 2010 census's under-count of children and mortality cancel), against what the migration
model implies over the decade: the provinces' estimated net migration 2011-2019 spread by the
Rogers-Castro schedule, plus the turnover of their 2020 stocks of migrants from other
provinces for a range of mean years of stay (forecast.demography.provincial_history.stock_exchange).

Run from the project root: .venv/bin/python experiments/provincial_validation/validate.py
Writes results/*.csv (about two minutes on 2 cores).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data import NATION_CODE, PROVINCES, load_china_census
from forecast.models.fertility.constant import ConstantFertility
from forecast.models.mortality.lee_carter import LeeCarterMortality
from forecast.models.migration.net_migrants import (ProvincialTrendMigration, WppMigration, ZeroMigration,
                                                    national_survivors)
from forecast.core.paths import DATA_DIR
from forecast.projection.project import project_inputs
from forecast.demography.provincial_history import level_factor, stock_exchange
from forecast.demography.subnational import ANNUAL_RHO

OUT = Path(__file__).with_name("results")
CODES = list(PROVINCES)
LEVELS = {"last year": (1, False), "mean of 3 years": (3, False), "mean of 5 years": (5, False),
          "3-year trend": (3, True), "5-year trend": (5, True)}


def factor_history(inputs: xr.Dataset) -> xr.DataArray:
    """Observed factors (region, year) as the run computes them (the inputs' report, as in
    run.json)."""
    report = {r["region"]: r for r in inputs.provincial_report}
    return xr.DataArray(
        [[report[c]["factor_history"].get(y, np.nan) for y in range(2005, 2020)]
         for c in CODES], dims=("region", "year"),
        coords={"region": CODES, "year": np.arange(2005, 2020)})


def old_child_woman_ratio(inputs: xr.Dataset) -> xr.DataArray:
    """The previous default: children 0-4 per woman 15-49 of the census, over the nation's."""
    population = inputs["population"]
    children = population.sel(age=slice(0, 4)).sum(("sex", "age"))
    women = population.sel(sex="female", age=slice(15, 49)).sum("age")
    ratio = children / women
    return ratio / ratio.sel(region=NATION_CODE)


def fertility_hindcast(inputs: xr.Dataset) -> pd.DataFrame:
    history = factor_history(inputs)
    report = {r["region"]: r for r in inputs.provincial_report}
    references = {
        "census child-woman ratio (plain)": old_child_woman_ratio(inputs).sel(region=CODES),
        "census child-woman ratio (age-standardised)": xr.DataArray(
            [report[c]["child_woman_ratio_factor"] for c in CODES], dims="region",
            coords={"region": CODES})}
    rows = []
    for origin in range(2010, 2017):
        past = history.sel(year=slice(None, origin))
        for year in range(origin + 1, 2020):
            observed = history.sel(year=year)
            predictions = {name: level_factor(past, n, trend, at_year=year)
                           for name, (n, trend) in LEVELS.items()} | references
            # what the projection does: the level, then the Scale-AR(1)'s expected path to 1
            start = level_factor(past, 3)
            predictions["mean of 3 years, reverting as the Scale-AR(1)"] = (
                1 + ANNUAL_RHO ** (year - origin) * (start - 1))
            for name, predicted in predictions.items():
                error = predicted / observed - 1.0
                rows += [{"origin": origin, "year": year, "h": year - origin, "method": name,
                          "region": c, "abs_error_percent": 100 * abs(float(error.sel(region=c)))}
                         for c in CODES]
    return pd.DataFrame(rows)


def population_holdout() -> pd.DataFrame:
    """Year-end populations 2021-2022 from data up to 2020 (held out), and from all data
    (the default run, whose history covers the steps to mid-2022)."""
    published = load_china_census()["observed_province_population_yearend"]
    rows = []
    recent = {"dynamics": "recent_mean"}
    variants = (("held out", "provincial trend, reverting level (default)",
                 ProvincialTrendMigration()),
                ("held out", "provincial trend, mean of 5 steps",
                 ProvincialTrendMigration(**recent)),
                ("held out", "provincial trend, mean of 3 steps",
                 ProvincialTrendMigration(years=3, **recent)),
                ("held out", "provincial trend, mean of 5 steps, decay over 5 steps",
                 ProvincialTrendMigration(decay_years=5, **recent)),
                ("held out", "half the provincial trend, mean of 5 steps",
                 ProvincialTrendMigration(scale=0.5, **recent)),
                ("held out", "WPP national, shared by population", WppMigration()),
                ("held out", "zero", ZeroMigration()),
                ("all data", "provincial trend (default)", ProvincialTrendMigration()))
    for fit, label, migration in variants:
        inputs = load_china_census(until=2020 if fit == "held out" else None)
        result = project_inputs(inputs, ConstantFertility(), LeeCarterMortality(draws=1),
                                migration, 2023).isel(draw=0)
        for year in (2020, 2021, 2022):
            projected = result["population_yearend"].sel(year=year, region=CODES)
            observed = published.sel(observed_year=year, region=CODES)
            rows += [{"data": fit, "migration": label, "year": year, "region": c,
                      "name": PROVINCES[c],
                      "observed": float(observed.sel(region=c)),
                      "projected": float(projected.sel(region=c))} for c in CODES]
    table = pd.DataFrame(rows)
    table["difference_percent"] = 100 * (table["projected"] / table["observed"] - 1)
    return table


def birth_rates() -> pd.DataFrame:
    inputs = load_china_census()
    published = inputs["observed_province_population_yearend"]
    report = {r["region"]: r for r in inputs.provincial_report}
    rows = []
    factor = old_child_woman_ratio(inputs)
    old = inputs.replace(arrays=inputs.arrays.assign(
        asfr=inputs["asfr"].sel(region=NATION_CODE) * factor))
    for label, data in (("indirect standardisation", inputs), ("old child-woman ratio", old)):
        result = project_inputs(data, ConstantFertility(), LeeCarterMortality(draws=1),
                                ProvincialTrendMigration(), 2024).isel(draw=0)
        births = result["births_calendar"].sum("sex")
        population = result["population"].sum(("sex", "age"))
        for year in range(2020, 2024):
            cbr = 1000 * births.sel(year=year) / population.sel(year=year)
            rows += [{"method": label, "year": year, "region": c,
                      "crude_birth_rate": float(cbr.sel(region=c)),
                      "relative": float(cbr.sel(region=c) / cbr.sel(region=NATION_CODE))}
                     for c in CODES]
    rates = pd.DataFrame(rows)
    observed = []
    for year in (2017, 2018, 2019):
        mean_pop = 0.5 * (published.sel(observed_year=year) + published.sel(observed_year=year - 1))
        cbr = xr.DataArray([report[c]["crude_birth_rate"][year] for c in CODES],
                           dims="region", coords={"region": CODES})
        nation = float((cbr * mean_pop.sel(region=CODES)).sum() / mean_pop.sel(region=CODES).sum())
        observed += [{"method": "published", "year": year, "region": c,
                      "crude_birth_rate": float(cbr.sel(region=c)),
                      "relative": float(cbr.sel(region=c)) / nation} for c in CODES]
    return pd.concat([pd.DataFrame(observed), rates], ignore_index=True)


#: Mean years of stay tried; None: no exchange.
STAYS = [2, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 30, None]
#: Cohorts of the decade 2010-2020: ages in 2010 -> census age groups in 2020.
COHORTS = {"aged 0-14 in 2010": ((0, 14), ["10-14", "15-19", "20-24"], "age_0_14_2010"),
           "aged 15-59 in 2010": ((15, 59), [f"{a}-{a + 4}" for a in range(25, 70, 5)],
                                  "age_15_59_2010")}


def census_survival() -> pd.DataFrame:
    """Net migration 2010-2020 by province and cohort (persons), from the 2010 broad age
    shares of the prefecture bulletins and the 2020 census groups; provinces with a
    prefecture missing in 2010 (other than one of fewer than 10,000 people) are left out."""
    bulletins = pd.read_csv(DATA_DIR / "china_census_city_2010_2020_bulletins.csv",
                            dtype={"province_code": str})
    census = pd.read_csv(DATA_DIR / "china_census2020_pop_age_sex_province.csv",
                         dtype={"region_code": str})
    gaps = bulletins[bulletins[["popu_2010", "age_0_14_2010", "age_15_59_2010"]].isna().any(axis=1)
                     & ~(bulletins["popu_2020"] < 10_000)]
    complete = [c for c in CODES if c not in set(gaps["province_code"])]
    rows = []
    for label, (_, groups, share) in COHORTS.items():
        start = (bulletins["popu_2010"] * bulletins[share] / 100).groupby(
            bulletins["province_code"]).sum().reindex(CODES)
        end = census[census["age_group"].isin(groups)].groupby("region_code")["value"].sum()
        end = end.reindex(CODES)
        ratio = end.sum() / start.sum()  # survival, under-count and international migration
        rows += [{"cohort": label, "region": c, "start_2010": start[c], "end_2020": end[c],
                  "net_migration": end[c] - ratio * start[c], "complete": c in complete}
                 for c in CODES]
    return pd.DataFrame(rows)


def exchange_fit(inputs: xr.Dataset, observed: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Root mean square error over provinces and cohorts of the decade's net migration
    implied by the model, for each mean years of stay."""
    model = ProvincialTrendMigration()
    arrivals = model.exchange_arrivals()
    population = inputs["population"].sel(region=CODES)
    weights = model._age_weights(inputs, CODES).sum("sex")
    net = (inputs["province_net_migration"].sel(region=CODES, migration_step=slice(2011, 2019))
           .mean("migration_step"))
    stock = inputs["province_migrant_stock"].sel(region=CODES).drop_vars("region_name",
                                                                          errors="ignore")
    totals = population.sum(("sex", "age")).drop_vars("region_name", errors="ignore")
    survivors = national_survivors(inputs)
    fits, detail = [], []
    for stay in STAYS:
        flows = net * weights
        if stay is not None:
            flows = flows + stock_exchange(stock, totals, arrivals, stay, survivors)
        for label, ((lo, hi), _, _) in COHORTS.items():
            implied = sum(flows.sel(age=slice(lo + t, hi + t)).sum("age") for t in range(10))
            part = observed[observed["cohort"] == label].set_index("region")
            detail += [{"years_of_stay": stay, "cohort": label, "region": c,
                        "observed": part.loc[c, "net_migration"],
                        "implied": float(implied.sel(region=c)),
                        "complete": bool(part.loc[c, "complete"])} for c in CODES]
    detail = pd.DataFrame(detail)
    used = detail[detail["complete"]]
    for stay, rows in used.groupby("years_of_stay", dropna=False):
        error = rows["implied"] - rows["observed"]
        fits.append({"years_of_stay": stay, "rmse_persons": float(np.sqrt((error ** 2).mean())),
                     "provinces": rows["region"].nunique()})
    return pd.DataFrame(fits), detail


def main() -> None:
    OUT.mkdir(exist_ok=True)
    inputs = load_china_census()
    hindcast = fertility_hindcast(inputs)
    hindcast.to_csv(OUT / "fertility_hindcast.csv", index=False, float_format="%.4f")
    summary = (hindcast.groupby(["method"])["abs_error_percent"]
               .agg(["mean", "median", lambda s: (s > 10).mean() * 100]).round(2))
    summary.columns = ["mean_abs_error_percent", "median", "share_over_10_percent"]
    by_h = hindcast.pivot_table(index="method", columns="h", values="abs_error_percent").round(2)
    print(summary, by_h, sep="\n\n")
    summary.to_csv(OUT / "fertility_hindcast_summary.csv")

    population = population_holdout()
    population.to_csv(OUT / "population_2021_2022.csv", index=False, float_format="%.3f")
    print(population.assign(abs=population["difference_percent"].abs())
          .groupby(["data", "migration", "year"])["abs"].agg(["mean", "max"]).round(2))

    observed = census_survival()
    fits, detail = exchange_fit(inputs, observed)
    fits.to_csv(OUT / "exchange_fit.csv", index=False, float_format="%.1f")
    detail.to_csv(OUT / "exchange_fit_provinces.csv", index=False, float_format="%.1f")
    print(fits.round(0).to_string())

    rates = birth_rates()
    rates.to_csv(OUT / "birth_rates.csv", index=False, float_format="%.4f")
    wide = rates.pivot_table(index="region", columns=["method", "year"], values="relative")
    print(wide.round(2).to_string())


if __name__ == "__main__":
    main()
