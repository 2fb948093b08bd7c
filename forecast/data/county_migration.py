"""Inputs of migration between counties: each county's census stock of residents registered
elsewhere and the fit of the prefectures' 2010-2020 growth on their stocks
(:mod:`forecast.demography.regional_migration`).

Files (relative to the data folder): ``china_census2020_region_indicators.csv`` (the census
county table's indicators for every province, prefecture and county: ``population_total``,
``pop_hukou_registered_other_county_same_province``, ``pop_hukou_registered_other_province``,
persons) and ``china_census_city_2010_2020_bulletins.csv`` (prefecture populations of 2010 and
2020, ``popu_2010``, ``popu_2020``, persons, 2020 boundaries). A unit the indicators do not list
(the census's functional zones without a code) takes its province's share: no differential.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.tables import Column, read_table
from forecast.demography import regional_migration as rm

INDICATORS_FILE = "china_census2020_region_indicators.csv"
BULLETINS_FILE = "china_census_city_2010_2020_bulletins.csv"
STOCK_COLUMNS = ("pop_hukou_registered_other_county_same_province",
                 "pop_hukou_registered_other_province")
#: Persons per row (the nation's row included): zero to China's population.
PERSONS_RANGE = (0.0, 1.5e9)


def read_stocks(path: Path) -> pd.DataFrame:
    """Residents and residents registered elsewhere by region code (index), persons."""
    columns = [Column("region_code"), Column("level"),
               Column("population_total", "nonnegative", meaning="persons",
                      limits=PERSONS_RANGE)]
    columns += [Column(c, "nonnegative", meaning="persons", limits=PERSONS_RANGE, empty=0.0)
                for c in STOCK_COLUMNS]
    table = read_table(path, columns, key=["region_code"])
    table["stock"] = table[list(STOCK_COLUMNS)].sum(axis=1)
    return table.set_index("region_code")[["level", "population_total", "stock"]]


def read_growth(path: Path) -> pd.DataFrame:
    """Prefectures' populations of 2010 and 2020 (persons) with province codes, where both
    are published."""
    table = read_table(path, [
        Column("city_code"), Column("province_code"),
        Column("popu_2010", "nonnegative", meaning="persons", limits=PERSONS_RANGE, empty=0.0),
        Column("popu_2020", "nonnegative", meaning="persons", limits=PERSONS_RANGE, empty=0.0)],
        key=["city_code"])
    return table[(table["popu_2010"] > 0) & (table["popu_2020"] > 0)]


def prefecture_fit(stocks: pd.DataFrame, growth: pd.DataFrame) -> tuple[dict, pd.DataFrame]:
    """The fit of the prefectures' annual log growth differential 2010-2020 on their excess
    share (:func:`forecast.demography.regional_migration.fit_differential`), and the table it
    was fitted on (``excess``, ``growth`` per year, ``weight``, ``province_code``), with the
    leave-one-province-out predictions (``predicted``, ``sd``)."""
    table = growth.join(stocks, on="city_code", how="inner")
    table["excess"] = rm.excess_share(table["stock"], table["population_total"],
                                      table["province_code"].to_numpy())
    rate = np.log(table["popu_2020"] / table["popu_2010"]) / 10
    sums = table.groupby("province_code")[["popu_2010", "popu_2020"]].sum()
    province = np.log(sums["popu_2020"] / sums["popu_2010"]) / 10
    table["growth"] = rate - table["province_code"].map(province)
    table["weight"] = table["popu_2020"]
    fit = rm.fit_differential(table["excess"], table["growth"], table["weight"])
    held_out = rm.leave_one_group_out(table["excess"].to_numpy(), table["growth"].to_numpy(),
                                      table["weight"].to_numpy(),
                                      table["province_code"].to_numpy())
    return fit, table.assign(**held_out)


def county_migration_inputs(codes: list[str], provinces: np.ndarray, folder: Path
                            ) -> tuple[xr.Dataset, list[Path]]:
    """``county_migrant_excess`` (county): each county's excess share against its province,
    and ``county_migration_fit`` (parameter: slope, slope_se, sigma) of the prefectures'
    growth; with the files read."""
    stocks = read_stocks(folder / INDICATORS_FILE)
    fit, _ = prefecture_fit(stocks, read_growth(folder / BULLETINS_FILE))
    known = stocks.reindex(codes)
    population = known["population_total"].to_numpy(float)
    stock = known["stock"].to_numpy(float)
    listed = np.isfinite(population) & (population > 0)
    excess = np.zeros(len(codes))
    excess[listed] = rm.excess_share(stock[listed], population[listed], provinces[listed])
    names = ("slope", "slope_se", "sigma")
    return xr.Dataset({
        "county_migrant_excess": xr.DataArray(excess, dims="county", coords={"county": codes},
                                              attrs={"units": "1", "description": (
                                                  "census share of residents registered "
                                                  "elsewhere less the province's")}),
        "county_migration_fit": xr.DataArray([fit[n] for n in names], dims="parameter_mig",
                                             coords={"parameter_mig": list(names)},
                                             attrs={"units": "per year per unit share (slope, "
                                                    "slope_se); per year (sigma)"}),
    }), [folder / INDICATORS_FILE, folder / BULLETINS_FILE]
