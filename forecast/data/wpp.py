"""UN World Population Prospects 2024: population, ASFR, abridged death rates and the annual
vital series; :func:`load_wpp` builds the inputs of one WPP region from a quinquennial base
year, and :func:`wpp_region_rates` the national rates the census loader uses too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.core.options import Group, Text, Whole
from forecast.data.common import (SEX, SEX_OR_BOTH, THOUSAND, annual_series, cached,
                                  check_years, config_int, file_digest, finish, select,
                                  year_column, DATA_DIR_OPTION, until_after_base)
from forecast.core.errors import InputError, problem, raise_if
from forecast.demography.graduation import AGES, graduate_counts, graduate_mx, graduate_rates
from forecast.core.paths import DATA_DIR
from forecast.data.tables import (Column, check_age_groups, check_limits_by, fmt_number,
                                  read_table, shortest)
from forecast.core.variables import SEXES

WPP_POPULATION = "wpp2024_pop_age5_sex_quinquennial.csv"
WPP_ASFR = "wpp2024_asfr_annual_age5.csv"
WPP_MX = "wpp2024_mx_abridged_5yr_periods.csv"
WPP_VITAL = "wpp2024_vital_annual.csv"

#: Chinese names for the WPP regions that are part of China.
CHINESE_NAMES = {"CHN": "中国", "HKG": "中国香港", "MAC": "中国澳门", "TWN": "中国台湾"}
#: Plausible sex ratios at birth (male per female birth); outside it, a unit error is likely.
SRB_RANGE = (0.9, 1.3)


# Plausible ranges of the input numbers (both ends included). Each is far wider than the
# shipped data (their extremes in brackets), so real data pass with a wide margin, yet narrow
# enough to stop a wrong unit (persons for thousands, per 1,000 for per person) and values
# such as 1e30 or 1e308 that would overflow or poison the projection.
#: WPP thousands of persons per sex and 5-year group: 500 million is more than the whole
#: world's boys aged 0-4 (about 350 million); [India, male 0-4 in 2005: 70,319].
WPP_POPULATION_RANGE = (0.0, 5e5)
#: Births per woman per year in a 5-year age group: no national population has recorded a
#: rate near 0.5 (the highest national rates are about 0.35-0.4) [0.354].
ASFR_RANGE = (0.0, 0.5)
#: Deaths per person-year: 2 means a remaining life expectancy of half a year, beyond any
#: national rate even in the open group 100+ [0.999999 at 100+; below age 85, 0.31].
#: (A rate must also be > 0, checked separately.)
MX_RANGE = (0.0, 2.0)
#: |net migration| at most this share of the region's population per year: net emigration
#: cannot exceed the population, and no country has gained its population over again in a
#: year [Hong Kong 1967 -33 %, Macao 1964 +32 %; other regions below 2 %].
MIGRATION_SHARE_LIMIT = 1.0
#: Per-indicator ranges of the vital-rates table (column ``value``), with its units.
VITAL_RANGES = {
    # children per woman: the lowest national TFR on record is about 0.6-0.7 (0.1 keeps log
    # TFR, which the fertility models use, finite); none has exceeded about 8.5 [0.66-7.51]
    "tfr": (0.1, 10.0, "children per woman"),
    # thousands per year: 100 million births or deaths a year in one country is far above any
    # on record (world births are about 130 million) [births 33,461; deaths 19,506]
    "births": (0.0, 1e5, "thousands of births per year"),
    "deaths": (0.0, 1e5, "thousands of deaths per year"),
    # thousands per year: 100 million migrants a year, far above any flow on record;
    # also limited relative to the population (MIGRATION_SHARE_LIMIT) [-1,353 to 1,889]
    "net_migration": (-1e5, 1e5, "thousands of persons per year"),
    "population_change": (-1e5, 1e5, "thousands of persons per year"),  # [-3,352 to 22,513]
    "sex_ratio_at_birth": (*SRB_RANGE, "male births per female birth"),  # [1.046-1.178]
    # per 1,000 population: a region cannot lose more than all its people in a year
    "crude_birth_rate": (0.0, 100.0, "births per 1,000 population"),  # [3.5-48.9]
    "crude_death_rate": (0.0, 1000.0, "deaths per 1,000 population"),  # [3.8-47.1]
    "crude_net_migration_rate": (-1000.0, 1000.0, "net migrants per 1,000 population"),  # +-359
    "rate_natural_change": (-1000.0, 100.0, "per 1,000 population"),  # [-7.8-36.5]
    "growth_rate": (-100.0, 100.0, "percent per year"),  # [-33.0-37.9]
    # years: above zero; no one has lived beyond 122 years [17.5-88.2]
    "life_expectancy_at_birth": (1.0, 120.0, "years"),
}



@cached
def read_wpp_population(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), Column("region_name"), year_column(),
        Column("sex", allowed=SEX), Column("age_group"),
        Column("value", "nonnegative", meaning="thousands of persons",
               limits=WPP_POPULATION_RANGE)],
        key=["region", "year", "sex", "age_group"])
    return check_age_groups(table, path, ["region", "year", "sex"], "age_group", 0, np.inf,
                            width=5, open_starts=(100,))


@cached
def read_asfr(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), year_column(), Column("age_group"),
        Column("asfr", "nonnegative", meaning="births per woman per year", limits=ASFR_RANGE)],
        key=["region", "year", "age_group"])
    return check_age_groups(table, path, ["region", "year"], "age_group", 10, 55, width=5)


@cached
def _read_mx(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), Column("period"), Column("sex", allowed=SEX_OR_BOTH),
        Column("age"), Column("mx", "nonnegative", meaning="deaths per person-year",
                              limits=MX_RANGE)],
        key=["region", "period", "sex", "age"])
    problems = [problem(path, "mx", r, v, "a death rate > 0")
                for r, v in zip(table["_row"], table["mx"]) if v <= 0]
    bounds = table["period"].str.extract(r"^(\d{4})-(\d{4})$").astype(float)
    not_five = bounds[0].isna() | (bounds[1] - bounds[0] != 5)
    for pos in np.flatnonzero(not_five.to_numpy()):
        problems.append(problem(path, "period", table["_row"].iloc[pos], table["period"].iloc[pos],
                                'a 5-year period such as "2015-2020"'))
    raise_if(problems)
    table["period_start"] = bounds[0].astype(int)
    table = table[table["sex"] != "both"]
    return check_age_groups(table, path, ["region", "period", "sex"], "age", 0, np.inf,
                            labels_are_starts=True, open_starts=(100,))


@cached
def _read_vital(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), year_column(), Column("indicator"),
        Column("sex", allowed=SEX_OR_BOTH), Column("value", "number")],
        key=["region", "year", "indicator", "sex"])
    check_limits_by(table, path, "value", "indicator", VITAL_RANGES)
    return table



def _mx_periods(table: pd.DataFrame, path: Path, region: str, until: int) -> xr.DataArray:
    """Graduated single-year mx (sex, age, period) for one region's closed periods <= until."""
    table = table[table["period_start"] + 5 <= until]
    if table.empty:
        raise InputError(problem(path, "period", None, "none", f"at least one 5-year period "
                                 f"ending by {until} for region {region}"))
    periods = np.sort(table["period_start"].unique())
    starts = np.sort(table["age_start"].unique())
    cube = (table.set_index(["sex", "period_start", "age_start"])["mx"]
            .unstack("age_start").reindex(columns=starts))
    values = np.stack([cube.loc[s].reindex(periods).to_numpy() for s in SEXES])
    if np.isnan(values).any():
        raise InputError(problem(path, "age", None, "missing ages",
                                 f"the same abridged ages for both sexes and every period, "
                                 f"region {region}"))
    single = graduate_mx(values, starts)
    return xr.DataArray(single.transpose(0, 2, 1), dims=("sex", "age", "period"),
                        coords={"sex": list(SEXES), "age": AGES, "period": periods})


def _asfr_years(table: pd.DataFrame, path: Path, region: str, until: int, first: int
                ) -> xr.DataArray:
    """Graduated single-year ASFR (age, year) for calendar years first..until."""
    wide = table.pivot(index="year", columns="age_start", values="asfr").sort_index()
    years = annual_series(wide.reset_index().assign(v=0), path, "v", region, until, first, "asfr").index
    wide = wide.loc[years]
    single = graduate_rates(wide.to_numpy(), wide.columns.to_numpy())
    return xr.DataArray(single.T, dims=("age", "year"), coords={"age": AGES, "year": years})


def wpp_region_rates(region: str, until: int | None, first: int, data_dir: Path) -> xr.Dataset:
    """National WPP rates for one region: asfr, tfr, srb, mx, net migration, births.

    Calendar years ``first`` ... ``until`` (default: the last year of the ASFR file); the
    resolved ``until`` is in the result's attrs.
    """
    asfr_path, mx_path, vital_path = (data_dir / f for f in (WPP_ASFR, WPP_MX, WPP_VITAL))
    all_asfr = read_asfr(asfr_path)
    until = check_years(first, until, int(all_asfr["year"].max()), asfr_path)
    asfr_table = select(all_asfr, asfr_path, "region", region, "a WPP region code")
    asfr = _asfr_years(asfr_table, asfr_path, region, until, first)
    mx = _mx_periods(select(_read_mx(mx_path), mx_path, "region", region, "a WPP region code"),
                     mx_path, region, until)
    all_vital = _read_vital(vital_path)
    vital = select(all_vital, vital_path, "region", region, "a WPP region code")

    def series(indicator, scale=1.0):
        rows = vital[(vital["indicator"] == indicator) & (vital["sex"] == "both")]
        s = annual_series(rows, vital_path, "value", region, until, first, indicator) * scale
        return xr.DataArray(s.to_numpy(), dims="year", coords={"year": s.index.to_numpy()})

    # the sex ratio at birth is checked against SRB_RANGE with the other VITAL_RANGES
    _check_net_migration(vital, vital_path, region, data_dir / WPP_POPULATION)
    srb = series("sex_ratio_at_birth")
    return xr.Dataset({
        "asfr": asfr, "tfr": asfr.sum("age"), "srb": srb, "mx": mx,
        "net_migration_total": series("net_migration", THOUSAND),
        "births_observed": series("births", THOUSAND),
        "tfr_pool": _tfr_pool(all_vital, until),
        "e0_pool": _e0_pool(all_vital, until),
    }, attrs={"until": until})


def _check_net_migration(vital: pd.DataFrame, path: Path, region: str, pop_path: Path) -> None:
    """Raise naming every year of ``region`` whose net migration exceeds, in absolute value,
    MIGRATION_SHARE_LIMIT times its population (thousands, from the WPP population file:
    interpolated between the quinquennial estimates, held at the last one after it)."""
    rows = vital[vital["indicator"] == "net_migration"]
    pop = read_wpp_population(pop_path)
    totals = pop[pop["region"] == region].groupby("year")["value"].sum().sort_index()
    if rows.empty or totals.empty:
        return
    population = np.interp(rows["year"].to_numpy(float), totals.index.to_numpy(float),
                           totals.to_numpy(float))
    limit = MIGRATION_SHARE_LIMIT * population
    bad = np.abs(rows["value"].to_numpy(float)) > limit
    share = f"{MIGRATION_SHARE_LIMIT:.0%}"
    raise_if([problem(path, "value", int(r), shortest(v), (
        f"net migration (thousands of persons per year) of at most {share} of the population "
        f"in absolute value: at most {fmt_number(round(lim, 1))} for {region} in {y} "
        f"(population {fmt_number(round(pop_, 1))} thousand, {pop_path.name})"))
        for r, y, v, lim, pop_ in zip(rows["_row"][bad], rows["year"][bad], rows["value"][bad],
                                      limit[bad], population[bad])])


def _tfr_pool(vital: pd.DataFrame, until: int) -> xr.DataArray:
    """Annual TFR of every region in the WPP file up to ``until`` (pool_region, year).

    The fertility models pool these series; regions whose series has gaps are left out."""
    rows = vital[(vital["indicator"] == "tfr") & (vital["year"] <= until)]  # WPP labels it female
    pool = _pool_wide(rows.pivot(index="region", columns="year", values="value"), until)
    return pool.assign_attrs(units="children per woman", description="WPP 2024 total fertility "
                             "rate of the regions the fertility models learn from, calendar year")


def _e0_pool(vital: pd.DataFrame, until: int) -> xr.DataArray:
    """Annual life expectancy at birth by sex of every region in the WPP file up to ``until``
    (pool_region, sex, year); regions whose series has gaps are left out."""
    rows = vital[(vital["indicator"] == "life_expectancy_at_birth") & (vital["year"] <= until)]
    wide = rows[rows["sex"].isin(SEXES)].pivot(index="region", columns=["sex", "year"],
                                               values="value")
    pool = xr.concat([_pool_wide(wide[sex], until) for sex in SEXES], dim="sex", join="inner")
    return pool.assign_coords(sex=list(SEXES)).transpose("pool_region", "sex", "year").assign_attrs(
        units="years", description="WPP 2024 life expectancy at birth of the regions the "
        "mortality model learns from, calendar year")


def _pool_wide(wide: pd.DataFrame, until: int) -> xr.DataArray:
    """A region x year table as (pool_region, year), its first year to ``until``, without the
    regions that have gaps."""
    wide = wide.sort_index().loc[:, wide.columns.min():until].dropna(axis=0, how="any")
    return xr.DataArray(wide.to_numpy(), dims=("pool_region", "year"),
                        coords={"pool_region": wide.index.to_numpy(dtype=str),
                                "year": wide.columns.to_numpy(dtype=int)})


def load_wpp(region: str = "JPN", base_year: int = 2015, until: int | None = None,
             data_dir: str | Path | None = None) -> Inputs:
    """Inputs for one WPP 2024 region, starting from its 1 July population of ``base_year``.

    ``base_year`` must be one of the quinquennial years in the population file (1950...2020).
    Population is graduated from 5-year groups to single ages (see
    :mod:`forecast.demography.graduation`).
    """
    base_year = config_int("data.base_year", base_year)
    until = config_int("data.until", until, allow_none=True)
    data_dir = Path(data_dir) if data_dir else DATA_DIR
    pop_path = data_dir / WPP_POPULATION
    pop = read_wpp_population(pop_path)
    pop = select(pop, pop_path, "region", region, "a WPP region code")
    pop = select(pop, pop_path, "year", int(base_year),
                  "a base year among the quinquennial population estimates")
    name = CHINESE_NAMES.get(region) or str(pop["region_name"].iloc[0])
    rates = wpp_region_rates(region, until, int(base_year), data_dir)
    until = rates.attrs["until"]
    counts = np.stack([pop[pop["sex"] == s].sort_values("age_start")["value"].to_numpy()
                       for s in SEXES]) * THOUSAND
    starts = np.sort(pop["age_start"].unique())
    population = xr.DataArray(graduate_counts(counts, starts), dims=("sex", "age"),
                              coords={"sex": list(SEXES), "age": AGES})
    pools = ["tfr_pool", "e0_pool"]
    ds = rates.drop_vars(pools).assign(population=population).expand_dims(region=[region])
    ds = ds.assign({name: rates[name] for name in pools})
    ds = ds.assign_coords(region_name=("region", [name]))
    files = [pop_path] + [data_dir / f for f in (WPP_ASFR, WPP_MX, WPP_VITAL)]
    ds = finish(ds, int(base_year), until, files,
                 f"UN WPP 2024, {name} ({region}), base population 1 July {base_year}")
    return Inputs.from_dataset(ds, tfr_target=region)


#: The options of ``load_wpp`` (``configs/data/wpp.yaml``).
load_wpp.OPTIONS = Group({
    "base_year": Whole(what="a whole-number year", required=True),
    "until": Whole(what="a whole-number year or null", nullable=True),
    "data_dir": DATA_DIR_OPTION,
    "region": Text(hint=" (a WPP region code such as JPN)", required=True),
}, rules=(until_after_base,))

WPP_VARIANTS = "wpp2024_china_projection_variants.csv"
#: The published WPP 2024 projection variants a file may hold, in the Dataset's order.
PROJECTION_VARIANTS = ("medium", "low", "high", "constant_fertility",
                       "lower_80", "upper_80", "lower_95", "upper_95")
#: Indicator -> (unit in the file, plausible range in that unit, factor to the Dataset's unit,
#: the Dataset's unit). Ranges as for VITAL_RANGES; a population up to 2 billion (2e6
#: thousands), above any country's [China, high variant 2024: 1,419,899].
VARIANT_INDICATORS = {
    "births": ("thousands", (0.0, 1e5), THOUSAND, "persons per year"),
    "tfr": ("children per woman", (0.1, 10.0), 1.0, "children per woman"),
    "population": ("thousands", (0.0, 2e6), THOUSAND, "persons"),
}
WPP_CITATION = ("United Nations, Department of Economic and Social Affairs, Population "
                "Division (2024). World Population Prospects 2024. "
                "© 2024 United Nations, CC BY 3.0 IGO.")


@cached
def _read_variants(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), Column("region_name"), year_column(),
        Column("indicator", allowed=frozenset(VARIANT_INDICATORS)),
        Column("variant", allowed=frozenset(PROJECTION_VARIANTS)),
        Column("value", "number"), Column("unit")],
        key=["indicator", "variant", "year"])
    problems = []
    for indicator, (unit, _, _, _) in VARIANT_INDICATORS.items():
        rows = table[(table["indicator"] == indicator) & (table["unit"] != unit)]
        problems += [problem(path, "unit", r, got, f'"{unit}" for indicator {indicator}')
                     for r, got in zip(rows["_row"], rows["unit"])]
    problems += [problem(path, "value", r, shortest(v), "a number > 0")
                 for r, v in zip(table["_row"], table["value"]) if not v > 0]
    raise_if(problems)
    check_limits_by(table, path, "value", "indicator",
                    {k: (*limits, unit) for k, (unit, limits, _, _) in VARIANT_INDICATORS.items()})
    first, last = int(table["year"].min()), int(table["year"].max())
    gaps = {key: sorted(set(range(first, last + 1)) - set(rows["year"]))
            for key, rows in table.groupby(["indicator", "variant"])}
    raise_if([problem(path, "year", None, ", ".join(map(str, missing)),
                      f"every year from {first} to {last} for indicator {indicator}, "
                      f"variant {variant}") for (indicator, variant), missing in gaps.items()
              if missing])
    return table


def wpp_variants(path: str | Path | None = None) -> xr.Dataset:
    """The UN WPP 2024 published projection variants of one region (default: China,
    ``data/wpp2024_china_projection_variants.csv``), to compare scenarios against.

    Variables ``births`` (persons per year, calendar year), ``tfr`` (children per woman,
    calendar year) and ``population`` (persons at 1 July), each with dims ``(variant, year)``;
    ``variant`` holds the variants of the file, in the order of :data:`PROJECTION_VARIANTS`,
    and an indicator the file has no rows for in a variant is NaN there (the shipped file has
    births of the medium variant only: its source, the R package wpp2024, has no others). Raises :class:`InputError` naming file, column and row for a
    missing column, a value that is not a finite number > 0 in its indicator's unit and range,
    an unknown indicator or variant, a duplicate (indicator, variant, year) or a missing year.
    """
    path = Path(path) if path is not None else DATA_DIR / WPP_VARIANTS
    table = _read_variants(path)
    regions = table["region"].unique()
    if len(regions) > 1:
        raise InputError(problem(path, "region", None, ", ".join(sorted(regions)),
                                 "one region per file"))
    present = set(table["variant"])
    variants = [v for v in PROJECTION_VARIANTS if v in present]
    years = np.sort(table["year"].unique())
    ds = xr.Dataset(coords={"variant": variants, "year": years})
    for indicator, (_, _, factor, unit) in VARIANT_INDICATORS.items():
        wide = (table[table["indicator"] == indicator]
                .pivot(index="variant", columns="year", values="value")
                .reindex(index=variants, columns=years))
        ds[indicator] = xr.DataArray(wide.to_numpy(float) * factor, dims=("variant", "year"),
                                     attrs={"units": unit})
    ds["births"].attrs["time"] = ds["tfr"].attrs["time"] = "calendar year"
    ds["population"].attrs["date"] = "1 July"
    name = str(table["region_name"].iloc[0])
    return ds.assign_attrs(
        region=str(regions[0]), region_name=name, source=WPP_CITATION,
        source_files=[str(path)], data_sha256=file_digest([path]),
        description=f"UN WPP 2024 published projection variants, {name} ({regions[0]})")
