"""Load and check the input data into one labelled ``xarray.Dataset``.

This is the only module that reads data files. Two loaders, one per data config:

- :func:`load_wpp` — one UN WPP 2024 region from any quinquennial base year;
- :func:`load_china_census` — the nation and the 31 provinces from the 2020 census, with the
  national WPP rates for China.

Both return a Dataset with dims ``region, sex, age, year`` (plus ``period`` for the 5-year
mortality periods) holding, on the sources' own time basis:

==================== ========================== =================================================
variable             dims                       meaning (units)
==================== ========================== =================================================
population           region, sex, age           persons at 1 July of the base year
asfr                 region, age, year          births per woman per year, calendar year
tfr                  region, year               children per woman, calendar year
srb                  region, year               male births per female birth, calendar year
net_migration_total  region, year               net migrants (persons per year), calendar year
mx                   region, sex, age, period   deaths per person-year, 5-year period from 1 July
births_observed      region, year               WPP births (persons per year), calendar year; WPP only
fertility_factor     region                     provincial / national child-woman ratio; census only
tfr_pool             pool_region, year          TFR of all WPP regions (children per woman), calendar
==================== ========================== =================================================

Attributes: ``base_year``, ``last_observed_year``, ``tfr_target`` (the ``pool_region`` whose
series is the national fertility of these inputs), ``national_region`` (census only),
``source_files``, ``data_sha256``, ``description``.


Ages are completed years 0...100, age 100 being the open interval 100+. Observations after
``until`` are dropped, so a backtest from any origin is the same call with another ``until``.
Every problem found stops the run with :class:`forecast.errors.InputError` before anything is
written: besides the checks of :mod:`forecast.tables`, every number must lie in a plausible
range (``*_RANGE`` and :data:`VITAL_RANGES` below, each with its reason), net migration within
:data:`MIGRATION_SHARE_LIMIT` of the population, and the census table must hold exactly the
nation and China's 31 provinces, adding up to the nation.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.errors import InputError, problem, raise_if
from forecast.graduation import AGES, graduate_counts, graduate_mx, graduate_rates
from forecast.tables import (Column, check_age_groups, check_limits_by, fmt_number,
                             read_table, require_values, shortest)
from forecast.variables import SEXES, VARIABLES

log = logging.getLogger(__name__)

#: The project's embedded default data.
from forecast.paths import DATA_DIR  # noqa: E402  (re-exported)

WPP_POPULATION = "wpp2024_pop_age5_sex_quinquennial.csv"
WPP_ASFR = "wpp2024_asfr_annual_age5.csv"
WPP_MX = "wpp2024_mx_abridged_5yr_periods.csv"
WPP_VITAL = "wpp2024_vital_annual.csv"
CENSUS_POPULATION = "china_census2020_pop_age_sex_province.csv"

#: Chinese names for the WPP regions that are part of China.
CHINESE_NAMES = {"CHN": "中国", "HKG": "中国香港", "MAC": "中国澳门", "TWN": "中国台湾"}
#: The census reference date, 1 November 2020, is this many years after 1 July 2020.
CENSUS_SHIFT_YEARS = 4.0 / 12.0
CENSUS_YEAR = 2020
NATION_CODE = "000000"
NATION_NAME = "全国"
#: China's 31 provincial-level divisions in the census table: GB/T 2260 code -> name.
PROVINCES = {
    "110000": "北京市", "120000": "天津市", "130000": "河北省", "140000": "山西省",
    "150000": "内蒙古自治区", "210000": "辽宁省", "220000": "吉林省", "230000": "黑龙江省",
    "310000": "上海市", "320000": "江苏省", "330000": "浙江省", "340000": "安徽省",
    "350000": "福建省", "360000": "江西省", "370000": "山东省", "410000": "河南省",
    "420000": "湖北省", "430000": "湖南省", "440000": "广东省", "450000": "广西壮族自治区",
    "460000": "海南省", "500000": "重庆市", "510000": "四川省", "520000": "贵州省",
    "530000": "云南省", "540000": "西藏自治区", "610000": "陕西省", "620000": "甘肃省",
    "630000": "青海省", "640000": "宁夏回族自治区", "650000": "新疆维吾尔自治区",
}
#: GB/T 2260 codes outside the mainland census (WPP regions TWN, HKG, MAC instead).
NOT_IN_CENSUS = {"710000": "台湾省 Taiwan", "810000": "香港特别行政区 Hong Kong",
                 "820000": "澳门特别行政区 Macao"}
#: The national census rows must equal the sum of the provinces' within this share (the
#: shipped table agrees exactly; this allows rounding in a table rebuilt from other sources).
CENSUS_SUM_TOLERANCE = 0.001
#: Plausible sex ratios at birth (male per female birth); outside it, a unit error is likely.
SRB_RANGE = (0.9, 1.3)
THOUSAND = 1000.0

# Plausible ranges of the input numbers (both ends included). Each is far wider than the
# shipped data (their extremes in brackets), so real data pass with a wide margin, yet narrow
# enough to stop a wrong unit (persons for thousands, per 1,000 for per person) and values
# such as 1e30 or 1e308 that would overflow or poison the projection.
#: Calendar years: only catches typos and overflow (data 1950-2023).
YEAR_RANGE = (1800, 2300)
#: Census persons per province (or nation), sex and age group: 200 million is three times
#: China's largest group (national 5-year group by sex, 63.9 million).
CENSUS_COUNT_RANGE = (0.0, 2e8)
#: Places, seats or new residents of one region: 100 million is twice China's kindergarten
#: enrolment (about 48 million in 2020) and several times any province's population change.
REGION_COUNT_RANGE = (0.0, 1e8)
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

_SEX = frozenset(SEXES)
_SEX_OR_BOTH = frozenset(SEXES + ("both",))


# --------------------------------------------------------------------------- readers

def _cached(reader):
    """Memoise a table reader on the file's path, size and modification time.

    Checking a whole WPP file takes about a second; runs and tests that load several regions
    read each unchanged file once. Callers get a copy, so the cache cannot be altered.
    """
    cache: dict[tuple, pd.DataFrame] = {}

    def read(path: Path) -> pd.DataFrame:
        path = Path(path)
        try:
            stat = path.stat()
            key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        except OSError:
            return reader(path)  # missing file: let the reader report it
        if key not in cache:
            cache[key] = reader(path)
        return cache[key].copy()

    read.__doc__ = reader.__doc__
    return read


def _year(name: str = "year") -> Column:
    return Column(name, "integer", meaning="calendar year", limits=YEAR_RANGE)


@_cached
def _read_population(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), Column("region_name"), _year(),
        Column("sex", allowed=_SEX), Column("age_group"),
        Column("value", "nonnegative", meaning="thousands of persons",
               limits=WPP_POPULATION_RANGE)],
        key=["region", "year", "sex", "age_group"])
    return check_age_groups(table, path, ["region", "year", "sex"], "age_group", 0, np.inf,
                            width=5, open_starts=(100,))


@_cached
def _read_asfr(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), _year(), Column("age_group"),
        Column("asfr", "nonnegative", meaning="births per woman per year", limits=ASFR_RANGE)],
        key=["region", "year", "age_group"])
    return check_age_groups(table, path, ["region", "year"], "age_group", 10, 55, width=5)


@_cached
def _read_mx(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), Column("period"), Column("sex", allowed=_SEX_OR_BOTH),
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


@_cached
def _read_vital(path: Path) -> pd.DataFrame:
    table = read_table(path, [
        Column("region"), _year(), Column("indicator"),
        Column("sex", allowed=_SEX_OR_BOTH), Column("value", "number")],
        key=["region", "year", "indicator", "sex"])
    check_limits_by(table, path, "value", "indicator", VITAL_RANGES)
    return table


@_cached
def _read_census(path: Path) -> pd.DataFrame:
    """The census table, checked: every value in range, exactly the nation and the 31
    provinces under their official codes, and the provinces adding up to the nation's rows
    by sex and age group."""
    table = read_table(path, [
        Column("region_code"), Column("level", allowed=frozenset({"nation", "province"})),
        Column("province"), _year(), Column("sex", allowed=_SEX),
        Column("age_group"), Column("value", "nonnegative", meaning="persons",
                                    limits=CENSUS_COUNT_RANGE)],
        key=["region_code", "sex", "age_group"])
    _check_census_regions(table, path)
    table = check_age_groups(table, path, ["region_code", "sex"], "age_group", 0, np.inf,
                             open_starts=tuple(range(50, 101, 5)))
    _check_census_sums(table, path)
    return table


def _check_census_regions(table: pd.DataFrame, path: Path) -> None:
    """Raise unless the census table holds the nation and all 31 provinces under their
    GB/T 2260 codes, one name per code and the matching level, and no other code."""
    problems = []
    expected_code = "a 6-digit province code such as 440000, or 000000 for the nation"
    known = {NATION_CODE: NATION_NAME, **PROVINCES}
    first_rows = table.drop_duplicates("region_code")
    for code, row in zip(first_rows["region_code"], first_rows["_row"]):
        rows = table[table["region_code"] == code]
        count = f"; {len(rows)} rows have this code" if len(rows) > 1 else ""
        if not re.fullmatch(r"\d{2}0000", code):
            problems += [problem(path, "region_code", r, code, expected_code)
                         for r in rows["_row"]]
        elif code in NOT_IN_CENSUS:
            problems.append(problem(path, "region_code", row, code, (
                f"a province of the census table: {code} ({NOT_IN_CENSUS[code]}) is not part "
                f"of the mainland census (use data=wpp with data.region HKG, MAC or TWN)"
                f"{count}")))
        elif code not in known:
            problems.append(problem(path, "region_code", row, code, (
                "a GB/T 2260 code of one of China's 31 provincial-level divisions (110000 北京市 "
                f"... 650000 新疆维吾尔自治区) or {NATION_CODE} for the nation{count}")))
    # Names are the table's own (written as given, e.g. in English); one name per code.
    for code, rec in table[table["region_code"].isin(known)].groupby("region_code"):
        names = rec.drop_duplicates("province")
        problems += [problem(path, "province", r, got, f"one name for region_code {code}, as in "
                             f"row {names['_row'].iloc[0]} (\"{names['province'].iloc[0]}\")")
                     for r, got in zip(names["_row"].iloc[1:], names["province"].iloc[1:])]
        level = "nation" if code == NATION_CODE else "province"
        for got, bad in rec[rec["level"] != level].groupby("level", sort=False):
            count = f" ({len(bad)} rows have this value)" if len(bad) > 1 else ""
            problems.append(problem(path, "level", int(bad["_row"].iloc[0]), got,
                                    f"{level} for region_code {code}{count}"))
    missing = [c for c in PROVINCES if c not in set(table["region_code"])]
    if missing:
        problems.append(problem(path, "region_code", None, ", ".join(missing), (
            "rows for every one of China's 31 provincial-level divisions (missing: "
            + ", ".join(f"{c} {PROVINCES[c]}" for c in missing) + "); the national rows are "
            "checked against their sum, and data.regions only selects the provinces reported")))
    raise_if(problems, limit=40)


def _check_census_sums(table: pd.DataFrame, path: Path) -> None:
    """Raise naming each national row (sex, age group) that differs from the sum of the 31
    provinces' rows by more than CENSUS_SUM_TOLERANCE."""
    nation = table[table["region_code"] == NATION_CODE].set_index(["sex", "age_group"])
    sums = table[table["region_code"] != NATION_CODE].groupby(["sex", "age_group"])["value"].sum()
    problems = []
    for (sex, group), rec in nation.sort_values("_row").iterrows():
        total, parts = float(rec["value"]), float(sums.get((sex, group), 0.0))
        if abs(parts - total) > CENSUS_SUM_TOLERANCE * total or (total == 0 and parts > 0):
            off = (f"the national row is off by {100 * (total / parts - 1):+.2f} %"
                   if parts > 0 else "no province has rows for it")
            problems.append(problem(path, "value", int(rec["_row"]), shortest(total), (
                f"the national count for sex={sex}, age_group={group} to equal the sum of the "
                f"31 provinces' rows ({fmt_number(parts)} persons) within "
                f"{100 * CENSUS_SUM_TOLERANCE:g} % ({off})")))
    raise_if(problems, limit=40)


# --------------------------------------------------------------------------- helpers

def _select(table: pd.DataFrame, path: Path, column: str, value, what: str) -> pd.DataFrame:
    require_values(table, path, column, [value], what)
    return table[table[column] == value]


def _annual(table: pd.DataFrame, path: Path, value: str, region: str, until: int,
            first_needed: int, what: str) -> pd.Series:
    """A complete annual series (index year) up to ``until``; raise naming the missing years
    from ``first_needed`` on. ``what`` names the series in the message."""
    series = table.set_index("year")[value].sort_index()
    series = series[series.index <= until]
    missing = [int(y) for y in range(first_needed, until + 1) if y not in series.index]
    if missing:
        raise InputError(problem(path, "year", None, ", ".join(map(str, missing)),
                                 f"every year from {first_needed} to {until} for region "
                                 f"{region} ({what})"))
    return series


def file_digest(paths: list[Path]) -> str:
    """SHA-256 over the bytes of the input files, in the given order."""
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).name.encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()


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
    years = _annual(wide.reset_index().assign(v=0), path, "v", region, until, first, "asfr").index
    wide = wide.loc[years]
    single = graduate_rates(wide.to_numpy(), wide.columns.to_numpy())
    return xr.DataArray(single.T, dims=("age", "year"), coords={"age": AGES, "year": years})


def _wpp_region_rates(region: str, until: int | None, first: int, data_dir: Path) -> xr.Dataset:
    """National WPP rates for one region: asfr, tfr, srb, mx, net migration, births.

    Calendar years ``first`` ... ``until`` (default: the last year of the ASFR file); the
    resolved ``until`` is in the result's attrs.
    """
    asfr_path, mx_path, vital_path = (data_dir / f for f in (WPP_ASFR, WPP_MX, WPP_VITAL))
    all_asfr = _read_asfr(asfr_path)
    until = _check_years(first, until, int(all_asfr["year"].max()), asfr_path)
    asfr_table = _select(all_asfr, asfr_path, "region", region, "a WPP region code")
    asfr = _asfr_years(asfr_table, asfr_path, region, until, first)
    mx = _mx_periods(_select(_read_mx(mx_path), mx_path, "region", region, "a WPP region code"),
                     mx_path, region, until)
    vital = _select(_read_vital(vital_path), vital_path, "region", region, "a WPP region code")

    def series(indicator, scale=1.0):
        rows = vital[(vital["indicator"] == indicator) & (vital["sex"] == "both")]
        s = _annual(rows, vital_path, "value", region, until, first, indicator) * scale
        return xr.DataArray(s.to_numpy(), dims="year", coords={"year": s.index.to_numpy()})

    # the sex ratio at birth is checked against SRB_RANGE with the other VITAL_RANGES
    _check_net_migration(vital, vital_path, region, data_dir / WPP_POPULATION)
    srb = series("sex_ratio_at_birth")
    return xr.Dataset({
        "asfr": asfr, "tfr": asfr.sum("age"), "srb": srb, "mx": mx,
        "net_migration_total": series("net_migration", THOUSAND),
        "births_observed": series("births", THOUSAND),
        "tfr_pool": _tfr_pool(_read_vital(vital_path), until),
    }, attrs={"until": until})


def _check_net_migration(vital: pd.DataFrame, path: Path, region: str, pop_path: Path) -> None:
    """Raise naming every year of ``region`` whose net migration exceeds, in absolute value,
    MIGRATION_SHARE_LIMIT times its population (thousands, from the WPP population file:
    interpolated between the quinquennial estimates, held at the last one after it)."""
    rows = vital[vital["indicator"] == "net_migration"]
    pop = _read_population(pop_path)
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
    wide = rows.pivot(index="region", columns="year", values="value").sort_index()
    wide = wide.loc[:, wide.columns.min():until].dropna(axis=0, how="any")
    pool = xr.DataArray(wide.to_numpy(), dims=("pool_region", "year"),
                        coords={"pool_region": wide.index.to_numpy(dtype=str),
                                "year": wide.columns.to_numpy(dtype=int)})
    return pool.assign_attrs(units="children per woman", description="WPP 2024 total fertility "
                             "rate of the regions the fertility models learn from, calendar year")


def config_int(name: str, value, allow_none: bool = False) -> int | None:
    """A whole-number config value, or an InputError naming the option."""
    if value is None and allow_none:
        return None
    try:
        if isinstance(value, bool) or float(value) != int(float(value)):
            raise ValueError
        return int(float(value))
    except (TypeError, ValueError):
        raise InputError(f"config, {name}: got {value!r}; expected a whole number (a year)."
                         ) from None


def _check_years(base_year: int, until: int | None, last_in_data: int, path: Path) -> int:
    until = last_in_data if until is None else until
    if until > last_in_data:
        raise InputError(problem(path, "year", None, until,
                                 f"data.until no later than {last_in_data}, the last year in the data"))
    if base_year > until:
        raise InputError(problem(path, "year", None, base_year,
                                 f"a base year no later than data.until={until}"))
    return until


def _finish(ds: xr.Dataset, base_year: int, until: int, files: list[Path], description: str
            ) -> xr.Dataset:
    for name in ds.data_vars:
        if name in VARIABLES:
            ds[name].attrs.update(units=VARIABLES[name].units,
                                  description=VARIABLES[name].description)
    ds["population"].attrs["date"] = f"1 July {base_year}"
    ds["net_migration_total"].attrs.update(units="persons per year",
                                           description="Net international migration, calendar year")
    if "births_observed" in ds:
        ds["births_observed"].attrs.update(units="persons per year",
                                           description="WPP 2024 estimate of births, calendar year")
    ds["mx"].attrs["period"] = "5-year period starting 1 July of `period`"
    ds["asfr"].attrs["time"] = "calendar year"
    ds.attrs.pop("until", None)
    return ds.assign_attrs(base_year=int(base_year), last_observed_year=int(until),
                           source_files=[str(f) for f in files], data_sha256=file_digest(files),
                           description=description)


# --------------------------------------------------------------------------- loaders

def load_wpp(region: str = "JPN", base_year: int = 2015, until: int | None = None,
             data_dir: str | Path | None = None) -> xr.Dataset:
    """Inputs for one WPP 2024 region, starting from its 1 July population of ``base_year``.

    ``base_year`` must be one of the quinquennial years in the population file (1950...2020).
    Population is graduated from 5-year groups to single ages (see :mod:`forecast.graduation`).
    """
    base_year = config_int("data.base_year", base_year)
    until = config_int("data.until", until, allow_none=True)
    data_dir = Path(data_dir) if data_dir else DATA_DIR
    pop_path = data_dir / WPP_POPULATION
    pop = _read_population(pop_path)
    pop = _select(pop, pop_path, "region", region, "a WPP region code")
    pop = _select(pop, pop_path, "year", int(base_year),
                  "a base year among the quinquennial population estimates")
    name = CHINESE_NAMES.get(region) or str(pop["region_name"].iloc[0])
    rates = _wpp_region_rates(region, until, int(base_year), data_dir)
    until = rates.attrs["until"]
    counts = np.stack([pop[pop["sex"] == s].sort_values("age_start")["value"].to_numpy()
                       for s in SEXES]) * THOUSAND
    starts = np.sort(pop["age_start"].unique())
    population = xr.DataArray(graduate_counts(counts, starts), dims=("sex", "age"),
                              coords={"sex": list(SEXES), "age": AGES})
    ds = rates.drop_vars("tfr_pool").assign(population=population).expand_dims(region=[region])
    ds["tfr_pool"] = rates["tfr_pool"]
    ds = ds.assign_coords(region_name=("region", [name]))
    files = [pop_path] + [data_dir / f for f in (WPP_ASFR, WPP_MX, WPP_VITAL)]
    ds = _finish(ds, int(base_year), until, files,
                 f"UN WPP 2024, {name} ({region}), base population 1 July {base_year}")
    return ds.assign_attrs(tfr_target=region)


def load_china_census(regions: list[str] | None = None, base_year: int = CENSUS_YEAR,
                      until: int | None = None, national_rates: str = "CHN",
                      data_dir: str | Path | None = None) -> xr.Dataset:
    """Inputs for China's nation (000000) and provinces from the 1 November 2020 census.

    The census is aligned to 1 July 2020, the start of the projection's annual steps, by
    reading it as a cohort function of exact age four months (1/3 year) later: persons aged
    under ``a`` on 1 July are those aged under ``a + 1/3`` on 1 November, less the children
    born between the two dates; single ages come from the cumulative spline of
    :func:`forecast.graduation.graduate_counts`. The four months' deaths are added back with
    the national single-year death rates (factor exp(mx / 3)). The census's open group 85+
    is split into 85-89, ..., 95-99 and 100+ by the national WPP shares of 2020 by sex.

    The nation's single-age population is the sum of its provinces' (the group totals are
    the same), so that the provinces add up to the nation at every age.

    Rates are China's national WPP series for every region, with provincial fertility scaled
    by :func:`forecast.subnational.child_woman_ratio_factor`. International net migration is
    shared among provinces in proportion to population (used only with ``migration=wpp``).

    All provinces are always loaded and projected (their births are raked to the nation's);
    ``regions`` selects the provinces reported, in attrs ``report_regions``. The census file
    must hold the nation and all 31 provinces (GB/T 2260 codes and names, see
    :data:`PROVINCES`), whose rows must add up to the national rows by sex and age group
    within :data:`CENSUS_SUM_TOLERANCE`; every count must lie in :data:`CENSUS_COUNT_RANGE`.
    """
    from forecast.subnational import child_woman_ratio_factor

    base_year = config_int("data.base_year", base_year)
    until = config_int("data.until", until, allow_none=True)
    data_dir = Path(data_dir) if data_dir else DATA_DIR
    path = data_dir / CENSUS_POPULATION
    if base_year != CENSUS_YEAR:
        raise InputError(problem(path, "year", None, base_year,
                                 f"data.base_year={CENSUS_YEAR}, the census year"))
    census = _read_census(path)
    raise_if([problem(path, "year", r, y, f"{CENSUS_YEAR}, the census year")
              for r, y in zip(census["_row"], census["year"]) if y != CENSUS_YEAR])
    provinces = sorted(set(census["region_code"]) - {NATION_CODE})
    require_values(census, path, "region_code", [NATION_CODE], "the nation's rows")
    wanted = list(dict.fromkeys(str(c) for c in (regions or provinces)))
    require_values(census, path, "region_code", wanted, "region codes present in the census table")

    wpp_pop_path = data_dir / WPP_POPULATION
    wpp_pop = _read_population(wpp_pop_path)
    wpp_pop = wpp_pop[(wpp_pop["region"] == national_rates) & (wpp_pop["year"] == CENSUS_YEAR)]
    rates = _wpp_region_rates(national_rates, until, CENSUS_YEAR, data_dir)
    until = rates.attrs["until"]

    codes = [NATION_CODE] + provinces
    counts = np.stack([np.stack([
        census[(census["region_code"] == c) & (census["sex"] == s)].sort_values("age_start")["value"]
        .to_numpy() for s in SEXES]) for c in codes])
    counts, starts = _split_open_group(counts, np.sort(census["age_start"].unique()), wpp_pop,
                                       wpp_pop_path)
    factor = child_woman_ratio_factor(counts, starts, codes, NATION_CODE, path)
    aligned = graduate_counts(counts, starts, shift=CENSUS_SHIFT_YEARS)
    latest_mx = rates["mx"].isel(period=-1).transpose("sex", "age").values
    aligned = aligned * np.exp(CENSUS_SHIFT_YEARS * latest_mx)[None]
    if provinces:
        # the nation as the sum of its provinces: the same group totals, and sub-national
        # projections then add up to the national one age by age
        aligned[0] = aligned[1:].sum(0)
    population = xr.DataArray(aligned, dims=("region", "sex", "age"),
                              coords={"region": codes, "sex": list(SEXES), "age": AGES})

    names = census.drop_duplicates("region_code").set_index("region_code")["province"]
    share = population.sum(("sex", "age")) / population.sel(region=NATION_CODE).sum(("sex", "age"))
    ds = xr.Dataset({
        "population": population,
        "asfr": rates["asfr"] * factor,
        "tfr": rates["tfr"] * factor,
        "srb": rates["srb"].expand_dims(region=codes),
        "mx": rates["mx"].expand_dims(region=codes),
        "net_migration_total": rates["net_migration_total"] * share,
        "fertility_factor": factor,
        "tfr_pool": rates["tfr_pool"],
    }).assign_coords(region_name=("region", [names.get(c, c) for c in codes]))
    ds["fertility_factor"].attrs.update(units="1", description=(
        "Provincial fertility relative to the nation: census child-woman ratio (children 0-4 "
        "per woman 15-49) of the region over the nation's"))
    ds["net_migration_total"].attrs["method"] = "national WPP total shared by population"
    files = [path, wpp_pop_path] + [data_dir / f for f in (WPP_ASFR, WPP_MX, WPP_VITAL)]
    ds = _finish(ds, CENSUS_YEAR, until, files,
                 "China 2020 census (1 Nov 2020, aligned to 1 July 2020) with UN WPP 2024 "
                 f"national rates ({national_rates})")
    return ds.assign_attrs(national_region=NATION_CODE, census_date="2020-11-01",
                           tfr_target=national_rates,
                           report_regions=[NATION_CODE] + [c for c in wanted if c != NATION_CODE])


def _split_open_group(counts: np.ndarray, starts: np.ndarray, wpp_pop: pd.DataFrame, path: Path
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Split an open group (e.g. 85+) into 5-year groups and 100+ by WPP shares, by sex.

    ``counts`` is (region, sex, group); returns counts and starts ending with 100+.
    """
    open_start = int(starts[-1])
    if open_start == 100:
        return counts, starts
    old = wpp_pop[wpp_pop["age_start"] >= open_start]
    if open_start not in set(wpp_pop["age_start"]):
        raise InputError(problem(path, "age_group", None, f"{open_start}+",
                                 f"WPP population by 5-year age in {CENSUS_YEAR}, with a group "
                                 f"starting at {open_start}, to split the census's open age group"))
    shares = np.stack([old[old["sex"] == s].sort_values("age_start")["value"].to_numpy()
                       for s in SEXES])
    shares = shares / shares.sum(-1, keepdims=True)
    split = counts[..., -1:] * shares[None]
    new_starts = np.append(starts[:-1], np.sort(old["age_start"].unique()))
    return np.concatenate([counts[..., :-1], split], axis=-1), new_starts


# --------------------------------------------------------------------------- demand inputs

SUPPLY_COLUMNS = {
    "childcare_places": "places",
    "childcare_places_affordable": "places",
    "kindergarten_seats": "seats",
    "kindergarten_seats_public": "seats",
    "kindergarten_seats_affordable": "seats",
}
#: Columns that count part of another column ("of which").
SUPPLY_PARTS = {"childcare_places_affordable": "childcare_places",
                "kindergarten_seats_public": "kindergarten_seats",
                "kindergarten_seats_affordable": "kindergarten_seats"}


def load_supply(file: str | Path, regions: list[str], data_dir: str | Path | None = None,
                last_year: int | None = None) -> xr.Dataset:
    """Current supply of childcare places and kindergarten seats by region.

    CSV columns: ``region_code``, ``reference_year`` (the year the counts describe; supply
    is held at that level afterwards), and the counts of :data:`SUPPLY_COLUMNS` (places or
    seats, >= 0; the affordable and public counts are parts of the totals). Other columns
    (``region_name``, ``source``, ``illustrative``) are carried as documentation. Regions of
    the table that the projection does not have are an error, and so is a ``reference_year``
    after ``last_year`` (the horizon: the supply would never be compared); projected regions
    missing from the table get no supply indicators. A national row (000000) that differs
    from the sum of all 31 provinces by more than 1 % is reported in the log.

    Returns a Dataset (region) of the counts plus ``reference_year``.
    """
    path = Path(file)
    if not path.is_absolute():
        path = (Path(data_dir) if data_dir else DATA_DIR) / path
    table = read_table(path, [Column("region_code"), _year("reference_year")]
                       + [Column(c, "nonnegative", meaning=u, limits=REGION_COUNT_RANGE)
                          for c, u in SUPPLY_COLUMNS.items()],
                       key=["region_code"])
    problems = [problem(path, "region_code", r, c, "a region code of the projection ("
                        + ", ".join(regions[:5]) + ", ...)")
                for r, c in zip(table["_row"], table["region_code"]) if c not in regions]
    for part, whole in SUPPLY_PARTS.items():
        problems += [problem(path, part, r, f"{p:g}", f"at most {whole} ({w:g})")
                     for r, p, w in zip(table["_row"], table[part], table[whole]) if p > w]
    if last_year is not None:
        problems += [problem(path, "reference_year", r, y, f"a year no later than the horizon "
                             f"{last_year}") for r, y in zip(table["_row"], table["reference_year"])
                     if y > last_year]
    raise_if(problems)
    _check_national_row(table, path)
    ds = xr.Dataset({c: ("region", table[c].to_numpy(float)) for c in SUPPLY_COLUMNS},
                    coords={"region": table["region_code"].to_numpy(str)})
    ds["reference_year"] = ("region", table["reference_year"].to_numpy(int))
    for c, unit in SUPPLY_COLUMNS.items():
        ds[c].attrs["units"] = unit
    return ds.assign_attrs(source_file=str(path), data_sha256=file_digest([path]))


def _check_national_row(table: pd.DataFrame, path: Path) -> None:
    """Log a warning when the national row is not the sum of the provinces (all 31 present)."""
    nation = table[table["region_code"] == NATION_CODE]
    provinces = table[table["region_code"].str.fullmatch(r"\d{2}0000") &
                      (table["region_code"] != NATION_CODE)]
    if nation.empty or len(provinces) < 31:
        return
    for column in SUPPLY_COLUMNS:
        total, parts = float(nation[column].iloc[0]), float(provinces[column].sum())
        if parts > 0 and abs(total / parts - 1) > 0.01:
            log.warning("%s: the national %s (%g) differs from the sum of the provinces (%g) "
                        "by %.1f %%", path, column, total, parts, 100 * (total / parts - 1))


def load_new_residents(file: str | Path, regions: list[str], data_dir: str | Path | None = None
                       ) -> xr.DataArray:
    """Planned new residents (persons) by region and year: columns region_code, year,
    new_residents. Returns a DataArray (region, year); absent cells are zero."""
    path = Path(file)
    if not path.is_absolute():
        path = (Path(data_dir) if data_dir else DATA_DIR) / path
    table = read_table(path, [Column("region_code"), _year(),
                              Column("new_residents", "nonnegative", meaning="persons",
                                     limits=REGION_COUNT_RANGE)],
                       key=["region_code", "year"])
    raise_if([problem(path, "region_code", r, c, "a region code of the projection")
              for r, c in zip(table["_row"], table["region_code"]) if c not in regions])
    wide = table.pivot(index="region_code", columns="year", values="new_residents").fillna(0.0)
    return xr.DataArray(wide.to_numpy(), dims=("region", "year"),
                        coords={"region": wide.index.to_numpy(str),
                                "year": wide.columns.to_numpy(int)},
                        attrs={"units": "persons", "source_file": str(path)})


MOE_KINDERGARTENS = "china_moe_kindergartens_national.csv"
TEN_THOUSAND = 10_000.0


def load_moe_kindergartens(data_dir: str | Path | None = None) -> xr.Dataset:
    """National kindergarten statistics from the Ministry of Education's bulletins (year).

    ``enrolled`` — children in kindergartens (在园幼儿, persons; NaN where a bulletin does not
    report it); ``gross_enrolment_rate`` — published 学前三年毛入园率 (percent of the
    population aged 3-5).
    """
    path = (Path(data_dir) if data_dir else DATA_DIR) / MOE_KINDERGARTENS
    table = read_table(path, [Column("region"), _year(), Column("indicator"),
                              Column("value", "nonnegative")], key=["region", "year", "indicator"])
    table = _select(table, path, "region", "CHN", "the national rows (CHN)")
    wide = table.pivot(index="year", columns="indicator", values="value").sort_index()
    for needed in ("preschool_enrolled_children", "preschool_gross_enrolment_rate"):
        if needed not in wide.columns:
            raise InputError(problem(path, "indicator", None, "none", f"rows of {needed}"))
    return xr.Dataset({
        "enrolled": ("year", wide["preschool_enrolled_children"].to_numpy() * TEN_THOUSAND,
                     {"units": "persons", "description": "children in kindergartens (在园幼儿)"}),
        "gross_enrolment_rate": ("year", wide["preschool_gross_enrolment_rate"].to_numpy(),
                                 {"units": "percent", "description": "published 毛入园率"}),
    }, coords={"year": wide.index.to_numpy(int)}).assign_attrs(source_file=str(path))
