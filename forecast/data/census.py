"""China's 2020 census by province, sex and age group: the checked table and
:func:`load_china_census`, the nation and its 31 provinces aligned to 1 July 2020 with the
national WPP rates."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.core.options import Flag, Group, Number, Text, Where, Whole, as_whole
from forecast.data.common import (DATA_DIR_OPTION, SEX, cached, config_int, existing_files,
                                   finish, until_after_base, year_column)
from forecast.data.nbs import OBSERVED_FILE, PROVINCE_OBSERVED_FILE, observed_series
from forecast.data.wpp import (WPP_ASFR, WPP_MX, WPP_POPULATION, WPP_VITAL, read_asfr,
                               read_wpp_population, wpp_region_rates)
from forecast.core.errors import InputError, problem, raise_if
from forecast.demography.graduation import AGES, graduate_counts
from forecast.demography.sex_ratio import census_sex_ratio
from forecast.core.paths import DATA_DIR
from forecast.data.tables import (Column, check_age_groups, fmt_number, read_table, require_values,
                                  shortest)
from forecast.core.variables import SEXES
from forecast.demography.young_ages import rebuild_from_births
from forecast.data.official_series import TFR_SERIES, official_inputs
from forecast.data.provincial_inputs import PROVINCIAL_OPTIONS, provincial_inputs

CENSUS_POPULATION = "china_census2020_pop_age_sex_province.csv"
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
#: Census persons per province (or nation), sex and age group: 200 million is three times
#: China's largest group (national 5-year group by sex, 63.9 million).
CENSUS_COUNT_RANGE = (0.0, 2e8)


@cached
def _read_census(path: Path) -> pd.DataFrame:
    """The census table, checked: every value in range, exactly the nation and the 31
    provinces under their official codes, and the provinces adding up to the nation's rows
    by sex and age group."""
    table = read_table(path, [
        Column("region_code"), Column("level", allowed=frozenset({"nation", "province"})),
        Column("province"), year_column(), Column("sex", allowed=SEX),
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



PROVINCE_MIGRANTS = "china_census2020_province_migrants.csv"
#: A region's total population: 2 billion persons is above any country's.
TOTAL_RANGE = (0.0, 2e9)


def read_province_migrants(path: Path, provinces: list[str]) -> xr.Dataset:
    """The census count of each province's residents registered (户口) in another province.

    Columns ``region_code, year, population_total, migrants_from_other_provinces`` (persons;
    a national row 000000 is optional). Every province needs a row, no other code is
    allowed, and the migrants cannot exceed the population. Returns ``population`` and
    ``migrants`` (region) for the provinces, persons.
    """
    table = read_table(path, [
        Column("region_code"), year_column(),
        Column("population_total", "nonnegative", meaning="persons", limits=TOTAL_RANGE),
        Column("migrants_from_other_provinces", "nonnegative", meaning="persons",
               limits=TOTAL_RANGE)], key=["region_code"])
    problems = [problem(path, "region_code", r, c, "a GB/T 2260 province code (110000 ... "
                        f"650000) or {NATION_CODE}")
                for r, c in zip(table["_row"], table["region_code"])
                if c not in provinces and c != NATION_CODE]
    problems += [problem(path, "migrants_from_other_provinces", r, shortest(m),
                         f"at most the population_total of the row ({fmt_number(p)})")
                 for r, m, p in zip(table["_row"], table["migrants_from_other_provinces"],
                                    table["population_total"]) if m > p]
    raise_if(problems)
    require_values(table, path, "region_code", provinces, "a row for every province")
    rows = table.set_index("region_code").loc[provinces]
    return xr.Dataset({
        "population": ("region", rows["population_total"].to_numpy(float)),
        "migrants": ("region", rows["migrants_from_other_provinces"].to_numpy(float))},
        coords={"region": provinces})


def load_china_census(regions: list[str] | None = None, base_year: int = CENSUS_YEAR,
                      until: int | None = None, national_rates: str = "CHN",
                      data_dir: str | Path | None = None,
                      observed_file: str | Path | None = OBSERVED_FILE,
                      young_ages: dict | None = None,
                      province_observed_file: str | Path | None = PROVINCE_OBSERVED_FILE,
                      provincial: dict | None = None,
                      province_migrants_file: str | Path | None = PROVINCE_MIGRANTS,
                      tfr_series: str = "official") -> Inputs:
    """Inputs for China's nation (000000) and provinces from the 1 November 2020 census.

    The census is aligned to 1 July 2020, the start of the projection's annual steps, by
    reading it as a cohort function of exact age four months (1/3 year) later: persons aged
    under ``a`` on 1 July are those aged under ``a + 1/3`` on 1 November, less the children
    born between the two dates; single ages come from the cumulative spline of
    :func:`forecast.demography.graduation.graduate_counts`. The four months' deaths are added back
    with the national single-year death rates (factor exp(mx / 3)). The census's open group 85+
    is split into 85-89, ..., 95-99 and 100+ by the national WPP shares of 2020 by sex.

    The nation's single-age population is the sum of its provinces' (the group totals are
    the same), so that the provinces add up to the nation at every age.

    Rates are China's national WPP series for every region, with provincial fertility scaled
    by a factor from the provinces' published births (``province_observed_file``, relative to
    ``data_dir``; :func:`forecast.demography.provincial_history.provincial_history`, indirect
    standardisation; ``provincial``: ``factor_years``, ``factor_trend``, ``migration_from``); a
    province without observed births (or with no file) falls back on the age-standardised census
    child-woman ratio (:func:`forecast.demography.subnational.child_woman_ratio_factor`). The same
    history gives each province's net migration per step (``province_net_migration``, region x
    ``migration_step``, the nation's row its national total; ``migration=provincial_trend``).
    International net migration is also shared among provinces in proportion to population
    (``net_migration_total``, used with ``migration=wpp``). ``province_migrants_file``
    (:func:`read_province_migrants`; None for none) gives each province's census stock of
    migrants from other provinces, ``province_migrant_stock`` (region), persons, whose
    turnover ``migration=provincial_trend`` adds as an exchange between provinces.

    All provinces are always loaded and projected (their births are raked to the nation's);
    ``regions`` selects the provinces reported, in attrs ``report_regions``. The census file
    must hold the nation and all 31 provinces (GB/T 2260 codes and names, see
    :data:`PROVINCES`), whose rows must add up to the national rows by sex and age group
    within :data:`CENSUS_SUM_TOLERANCE`; every count must lie in :data:`CENSUS_COUNT_RANGE`.

    ``observed_file`` (relative to ``data_dir``, or absolute; None for none) holds the
    national series the projection is calibrated to (:mod:`forecast.data.nbs`), returned as
    ``observed_births``, ``observed_deaths`` and ``observed_population_yearend``
    (observed_year). With it, ``young_ages`` (``from_births``, ``max_age``,
    ``undercount_threshold``; :func:`forecast.demography.young_ages.rebuild_from_births`) rebuilds
    the young ages from the observed births, reported in attrs ``young_ages_report``; attrs
    ``jump_off_year`` is the last year with observed rates or births, after which the
    forecast starts. ``tfr_series`` (:mod:`forecast.data.official_series`): ``official``
    puts China's official TFR, rebuilt from the observed births on the census base, into the
    TFR models' pool (``tfr_official``, observed_year, holds it); ``wpp`` keeps WPP's.
    """
    base_year = config_int("data.base_year", base_year)
    until = config_int("data.until", until, allow_none=True)
    if tfr_series not in TFR_SERIES.options:
        raise ValueError(f"tfr_series: got {tfr_series!r}; expected {TFR_SERIES.expected()}")
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
    wpp_pop = read_wpp_population(wpp_pop_path)
    wpp_pop = wpp_pop[(wpp_pop["region"] == national_rates) & (wpp_pop["year"] == CENSUS_YEAR)]
    wpp_last = int(read_asfr(data_dir / WPP_ASFR)["year"].max())
    # rates end with WPP; observed births of later years (up to until) calibrate those years
    rates = wpp_region_rates(national_rates, None if until is None else min(until, wpp_last),
                             CENSUS_YEAR, data_dir)
    observed, observed_last = None, wpp_last
    if observed_file:
        observed_path = Path(observed_file)
        observed_path = observed_path if observed_path.is_absolute() else data_dir / observed_path
        observed = observed_series(observed_path, national_rates, until)
        observed_last = int(observed["observed_births"].dropna("observed_year")["observed_year"].max())
    if until is not None and until > max(wpp_last, observed_last):
        raise InputError(problem(data_dir / WPP_ASFR, "year", None, until, (
            f"data.until no later than {max(wpp_last, observed_last)}, the last year with "
            "rates or observed births")))
    until = rates.attrs["until"]

    codes = [NATION_CODE] + provinces
    counts = np.stack([np.stack([
        census[(census["region_code"] == c) & (census["sex"] == s)].sort_values("age_start")["value"]
        .to_numpy() for s in SEXES]) for c in codes])
    counts, starts = _split_open_group(counts, np.sort(census["age_start"].unique()), wpp_pop,
                                       wpp_pop_path)
    aligned = graduate_counts(counts, starts, shift=CENSUS_SHIFT_YEARS)
    latest_mx = rates["mx"].isel(period=-1).transpose("sex", "age").values
    aligned = aligned * np.exp(CENSUS_SHIFT_YEARS * latest_mx)[None]
    if provinces:
        # the nation as the sum of its provinces: the same group totals, and sub-national
        # projections then add up to the national one age by age
        aligned[0] = aligned[1:].sum(0)
    population = xr.DataArray(aligned, dims=("region", "sex", "age"),
                              coords={"region": codes, "sex": list(SEXES), "age": AGES})
    census_population = population
    young = {"from_births": True, "max_age": 4, "undercount_threshold": 0.01, **(young_ages or {})}
    report = None
    if observed is not None and young["from_births"]:
        population, report = _young_ages_from_births(population, counts, starts, observed, rates,
                                                     young)

    province_file = None
    if province_observed_file:
        province_file = Path(province_observed_file)
        province_file = province_file if province_file.is_absolute() else data_dir / province_file
    young_counts = {group: xr.DataArray(counts[1:, :, list(starts).index(first)].sum(1),
                                        dims="region", coords={"region": provinces})
                    for group, first in (("0", 0), ("1-4", 1))}
    history, factor, provincial_files = provincial_inputs(
        population, census_population, young_counts, provinces, NATION_CODE, CENSUS_YEAR,
        province_file, observed, rates, until, national_rates, data_dir, provincial or {}, path)
    names = census.drop_duplicates("region_code").set_index("region_code")["province"]
    share = population.sum(("sex", "age")) / population.sel(region=NATION_CODE).sum(("sex", "age"))
    infants = xr.DataArray(counts[:, :, list(starts).index(0)], dims=("region", "sex"),
                           coords={"region": codes, "sex": list(SEXES)})
    sex_ratio = census_sex_ratio(infants.sel(sex="male"), infants.sel(sex="female"))
    ds = xr.Dataset({
        "population": population,
        "asfr": rates["asfr"] * factor,
        "tfr": rates["tfr"] * factor,
        # each province's own sex ratio at birth: the nation's, times the province's census
        # ratio of infants relative to the nation's (held over the years)
        "srb": rates["srb"] * sex_ratio["relative"],
        "census_sex_ratio_at_birth": sex_ratio["ratio"],
        "census_sex_ratio_at_birth_sd": sex_ratio["sd"],
        "mx": rates["mx"].expand_dims(region=codes),
        "net_migration_total": rates["net_migration_total"] * share,
        "fertility_factor": factor,
        "tfr_pool": rates["tfr_pool"],
        "e0_pool": rates["e0_pool"],
    }).assign_coords(region_name=("region", [names.get(c, c) for c in codes]))
    if observed is not None and tfr_series == "official":
        pool, official = official_inputs(
            population.sel(region=NATION_CODE, drop=True),
            observed["observed_births"].rename(observed_year="year"), national_rates,
            CENSUS_YEAR, rates["tfr_pool"], data_dir)
        # the observed years' rates on the official level, which the forecast continues
        scale = official["factor"].reindex(year=ds["year"].values).fillna(1.0)
        ds = ds.drop_vars("tfr_pool").assign(
            asfr=ds["asfr"] * scale, tfr=ds["tfr"] * scale,
            tfr_official=official["tfr"].rename(year="observed_year"))
        # the pool may reach beyond the rates (a year of births added to the observed file)
        flags = ["measurement_error", "unsmoothed"]
        ds = ds.merge(xr.Dataset({"tfr_pool": pool.drop_vars(flags), **{
            f"tfr_pool_{flag}": pool[flag].drop_vars(flags) for flag in flags}}), join="outer")
    ds["fertility_factor"].attrs.update(units="1", description=(
        "Provincial fertility relative to the nation at the base year (data.provincial.level; "
        "forecast/data/provincial_inputs.py)"))
    if history is not None:
        for name in ("fertility_level_mean", "fertility_level_sd",
                     "fertility_level_census_weight", "fertility_dynamics_theta",
                     "fertility_dynamics_theta_cov", "fertility_dynamics_estimate",
                     "fertility_factor_history", "census_fertility_factor"):
            if name in history:
                ds[name] = history[name]
        if "dynamics" in history.attrs:
            ds.attrs["provincial_dynamics"] = history.attrs["dynamics"]
        ds["province_net_migration"] = history["net_migration"]
        ds["province_net_migration_rate"] = history["net_migration_rate"]
        ds["observed_province_population_yearend"] = history["yearend"]
        ds.attrs["provincial_report"] = history.attrs["report"]
    if province_migrants_file:
        migrants_path = Path(province_migrants_file)
        migrants_path = (migrants_path if migrants_path.is_absolute()
                         else data_dir / migrants_path)
        stock = read_province_migrants(migrants_path, provinces)
        ds["province_migrant_stock"] = stock["migrants"].assign_attrs(
            units="persons", description="census residents registered in another province")
        provincial_files = provincial_files + [migrants_path]
    ds["net_migration_total"].attrs["method"] = "national WPP total shared by population"
    files = ([path, wpp_pop_path] + [data_dir / f for f in (WPP_ASFR, WPP_MX, WPP_VITAL)]
             + provincial_files)
    jump_off = until
    if observed is not None:
        ds = ds.merge(observed.drop_attrs(), join="outer")
        files.append(Path(observed.attrs["source_file"]))
        for flow in ("births", "deaths"):  # named by calibration's messages
            ds[f"observed_{flow}"].attrs.update(observed[f"observed_{flow}"].attrs,
                                                source_file=observed.attrs["source_file"])
        jump_off = max(until, observed_last)
        ds.attrs.update(observed_births_derived=observed.attrs["births_derived"],
                        observed_deaths_derived=observed.attrs["deaths_derived"])
    if report is not None:
        ds.attrs["young_ages_report"] = report.round(6).to_dict("records")
    ds = finish(ds, CENSUS_YEAR, until, files,
                 "China 2020 census (1 Nov 2020, aligned to 1 July 2020) with UN WPP 2024 "
                 f"national rates ({national_rates})")
    return Inputs.from_dataset(ds, national_region=NATION_CODE, census_date="2020-11-01",
                               jump_off_year=int(jump_off), tfr_target=national_rates,
                               report_regions=[NATION_CODE] + [c for c in wanted
                                                               if c != NATION_CODE])


def census_region_codes(data_dir: str | Path | None = None) -> frozenset[str]:
    """Region codes of the census table (its ``region_code`` column, read alone and cached),
    or an empty set where the table cannot be read."""
    path = (Path(data_dir) if data_dir else DATA_DIR) / CENSUS_POPULATION
    if path not in _CODES:
        try:
            codes = pd.read_csv(path, usecols=["region_code"], dtype=str)["region_code"]
            _CODES[path] = frozenset(c.strip() for c in codes.dropna()
                                     if _region_code(c.strip()) is not None)
        except (OSError, ValueError, UnicodeDecodeError):
            return frozenset()
    return _CODES[path]


_CODES: dict[Path, frozenset[str]] = {}


def _region_code(code) -> str | None:
    """``code`` as 6 digits, or None."""
    if isinstance(code, bool):
        return None
    if isinstance(code, int) and 100000 <= code <= 999999:
        return str(code)
    if isinstance(code, str) and len(code) == 6 and code.isdigit():
        return code
    return None


def _regions_in_census(node, name, problems, root) -> None:
    """Rule: ``regions`` is null or a list of 6-digit codes of the census table."""
    regions = node.get("regions")
    if regions is None:
        return
    if not isinstance(regions, list):
        problems.add(f"{name}.regions", regions, "null (every province) or a list of 6-digit "
                     "region codes, e.g. [440000,500000]")
        return
    known = census_region_codes(node.get("data_dir"))
    for code in regions:
        text = _region_code(code)
        if text is None:
            problems.add(f"{name}.regions", code, "a 6-digit region code such as 440000")
        elif known and text not in known:
            problems.add(f"{name}.regions", code, f"a region code of the census table "
                         f"({min(known)} ... {max(known)})")


_regions_in_census.keys = ("regions",)


#: The options of ``load_china_census`` and ``load_china_counties`` (``configs/data/``).
load_china_census.OPTIONS = Group({
    "base_year": Whole(what="a whole-number year", required=True),
    "until": Whole(what="a whole-number year or null", nullable=True),
    "data_dir": DATA_DIR_OPTION,
    "national_rates": Text(),
    "young_ages": Group({
        "from_births": Flag(),
        "max_age": Where(lambda a: as_whole(a) in (4, 9),
                         what="4 (census groups 0 and 1-4) or 9 (to 5-9)"),
        "undercount_threshold": Number(0, 1, hi_open=True)}, nullable=True),
    "provincial": PROVINCIAL_OPTIONS,
    "tfr_series": TFR_SERIES,
}, rules=(until_after_base, _regions_in_census,
          existing_files("observed_file", "province_observed_file", "province_migrants_file")))

def _young_ages_from_births(population: xr.DataArray, counts: np.ndarray, starts: np.ndarray,
                            observed: xr.Dataset, rates: xr.Dataset, young: dict) -> tuple:
    """Young ages rebuilt from the observed births (:func:`rebuild_from_births`): the
    nation's census groups below 10, WPP's sex ratio at birth, its latest period mortality."""
    young_groups = np.flatnonzero(starts < 10)
    ends = np.append(starts[1:], np.inf)[young_groups].astype(int)
    census_groups = xr.DataArray(counts[0][:, young_groups], dims=("sex", "group"),
                                 coords={"sex": list(SEXES)})
    births = observed["observed_births"].rename(observed_year="year").dropna("year")
    try:
        return rebuild_from_births(
            population, census_groups, starts[young_groups], ends, births, rates["srb"],
            rates["mx"].isel(period=-1, drop=True).transpose("sex", "age"),
            base_time=CENSUS_YEAR + 0.5, census_time=CENSUS_YEAR + 10 / 12, nation=NATION_CODE,
            max_age=int(young["max_age"]),
            undercount_threshold=float(young["undercount_threshold"]))
    except ValueError as err:
        raise InputError(problem(observed.attrs["source_file"], "year", None, str(err),
                                 "observed births for every year of the cohorts aged 0-9 at "
                                 "the census (or data.young_ages.from_births=false)")) from err


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

