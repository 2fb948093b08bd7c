"""County-level inputs (``data=china_counties``): the districts and counties of one province
(``province``) or of all 31 (the default) from the 2020 census, projected within the
provincial projection.

The province is projected as in ``data=china_census`` (the nation and all 31 provinces,
calibrated, births raked to the nation). Its county-level units (区县: districts, counties,
county-level cities and the functional zones the census lists) are then projected with
(:func:`forecast.regions.county_projection.project_counties`):

- **base population**: the census's 1 November 2020 counts by sex and age group, aligned to
  1 July and graduated to single ages as the provinces are, then raked to the province's
  base population at every sex and age (so the counties add up to it exactly, including its
  young ages rebuilt from births);
- **fertility**: the province's ASFR of every year and draw times the county's level, the
  age-standardised census child-woman ratio against the province's
  (:func:`forecast.demography.subnational.child_woman_ratio_factor`, the provincial method's
  fallback: no county publishes births); the counties' births are then raked to the province's draw
  by draw;
- **mortality and the sex ratio at birth**: the province's (national rates);
- **migration**: the province's net migrants of every step, sex and age shared among its
  counties by population, plus migration between its counties: each county's census share of
  residents registered elsewhere against its province's (``county_migrant_excess``) and the
  fit of the prefectures' 2010-2020 growth on that share (``county_migration_fit``;
  :mod:`forecast.data.county_migration`), drawn per draw by
  :func:`forecast.regions.county_levels.county_exchange_draws`; the counties' migration adds
  up to the province's in every draw.

Counties therefore add up to their prefecture and province in every draw. A prefecture's
rows are the sums of its counties; the 33 county-level units under their province directly
(省直辖县级行政区划 of Henan, Hubei, Hainan and Xinjiang) belong to no prefecture and add up
to their province only (the census list's fixes: :func:`county_units`). ``province`` (GB/T
2260, e.g. 500000 Chongqing) selects the province; ``prefecture`` (e.g. 440300 Shenzhen)
reports only that prefecture's counties; with neither, all 2,989 county-level units of the
census are projected.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.data.census import (CENSUS_COUNT_RANGE, CENSUS_POPULATION, CENSUS_SHIFT_YEARS,
                                  CENSUS_YEAR, _split_open_group, load_china_census)
from forecast.data.common import SEX, year_column
from forecast.data.county_migration import county_migration_inputs
from forecast.data.provincial_inputs import CENSUS_LAGS, census_young_factors
from forecast.demography.regional_levels import KAPPA_MIN, change_variance, small_area_levels
from forecast.demography.small_area_noise import (fit_noise, noise_variance,
                                                  shared_change_fit)
from forecast.data.wpp import WPP_POPULATION, read_wpp_population
from forecast.core.errors import InputError, problem, raise_if
from forecast.core.options import Text, Where
from forecast.demography.graduation import AGES, graduate_counts
from forecast.core.paths import DATA_DIR
from forecast.data.tables import Column, check_age_groups, read_table
from forecast.core.variables import SEXES

COUNTY_POPULATION = "china_census2020_pop_age_sex_prefecture_county.csv"
REGIONS = "china_census2020_regions.csv"
#: ζ and γ of the counties' excess variance ζ n^-γ of their census fertility level (n the
#: children aged 0 counted; :mod:`forecast.demography.small_area_noise`), fitted to the
#: census's age-0 and ages 1-4 records of all 2,988 units by :func:`county_noise_fit`
#: (a test holds these to the fit): sd 0.10 at 300 children, 0.04 at 3,000
NOISE_SCALE, NOISE_POWER = 0.774, 0.764


def load_china_counties(province: str | int | None = None, prefecture: str | int | None = None,
                        county_file: str = COUNTY_POPULATION, regions_file: str = REGIONS,
                        data_dir: str | Path | None = None, regions: list | None = None,
                        **census_options) -> Inputs:
    """The inputs of ``load_china_census`` for the nation and provinces (``regions`` is
    ignored: the provinces reported are the counties'), plus the county-level units of
    ``province`` (of every province when ``province`` and ``prefecture`` are both null):
    ``county_population`` (county, sex, age), persons at 1 July 2020,
    ``county_fertility_factor``, ``county_fertility_sd`` and ``county_fertility_weight``
    (county; :func:`county_levels`), the census's young-age records ``county_census_factors``
    (census_group, county: age 0 and ages 1-4, before shrinking) and
    ``county_census_children`` (the same, children counted), and coordinates ``county_name``,
    ``county_prefecture``, ``county_province``; attrs ``counties_of`` (the provinces, a
    list), ``prefectures`` (code -> name of the prefectures reported) and ``report_regions``
    (the nation, the provinces, the prefectures and the counties reported).
    """
    folder = Path(data_dir) if data_dir else DATA_DIR
    table = read_regions(folder / regions_file)
    if province is None and prefecture is None:
        codes = sorted(set(table.loc[table["level"] == "province", "region_code"]) - {"000000"})
    else:
        codes = [_province_code(province, prefecture, folder / regions_file)]
    inputs = load_china_census(regions=codes, data_dir=data_dir, **census_options)
    if prefecture is not None:
        wanted = str(prefecture)
        if wanted not in set(table.loc[table["level"] == "prefecture", "region_code"]):
            raise InputError(problem(folder / regions_file, "region_code", None, wanted,
                                     "a prefecture-level code of the census (e.g. 440300)"))
    units = county_units(table)
    units = units[units["province_code"].isin(codes)]
    path = folder / county_file
    counts = county_counts(path, list(units["region_code"]))
    wpp = read_wpp_population(folder / WPP_POPULATION)
    wpp = wpp[(wpp["region"] == inputs.tfr_target) & (wpp["year"] == CENSUS_YEAR)]
    values, starts = _split_open_group(counts["values"], counts["starts"], wpp,
                                       folder / WPP_POPULATION)
    aligned = graduate_counts(values, starts, shift=CENSUS_SHIFT_YEARS)
    census = xr.DataArray(aligned, dims=("county", "sex", "age"),
                          coords={"county": counts["codes"], "sex": list(SEXES), "age": AGES})
    units = units.set_index("region_code").loc[counts["codes"]]
    check_units_add_up(counts, units, folder)
    of_province = units["province_code"].to_numpy()
    population, levels = [], []
    young = {group: xr.DataArray(values[:, :, list(starts).index(first)].sum(1), dims="county",
                                 coords={"county": counts["codes"]})
             for group, first in (("0", 0), ("1-4", 1))}
    for code in codes:
        chosen = np.flatnonzero(of_province == code)
        part = census.isel(county=chosen)
        mx = inputs["mx"].sel(region=code).isel(period=-1).transpose("sex", "age")
        part = part * np.exp(CENSUS_SHIFT_YEARS * mx.values)[None]
        target = inputs["population"].sel(region=code, drop=True)
        part = part * (target / part.sum("county")).fillna(0.0)
        population.append(part)
        levels.append(county_levels(part, {g: c.isel(county=chosen) for g, c in young.items()},
                                    inputs["asfr"].sel(region=inputs.nation, drop=True), mx,
                                    units["prefecture_code"].to_numpy()[chosen], code))
    population = xr.concat(population, dim="county").transpose("county", "sex", "age")
    levels = xr.concat(levels, dim="county")
    factor = np.exp(levels["mean"]).assign_attrs(
        units="1", description="fertility relative to the province: census age-0 count, "
        "indirectly standardised, shrunk towards the prefecture (median of the draws)")
    units = units.loc[population["county"].values]
    reported = [c for c, p in zip(units.index, units["prefecture_code"])
                if prefecture is None or p == str(prefecture)]
    # county-level units under the province directly (省直辖, e.g. 济源市) have no prefecture
    wanted = set(units.loc[reported, "prefecture_code"]) - {""}
    prefectures = {p: n for p, n in zip(units["prefecture_code"], units["prefecture_name"])
                   if p in wanted}
    coords = {"county_name": ("county", units["county"].to_list()),
              "county_prefecture": ("county", units["prefecture_code"].to_list()),
              "county_province": ("county", units["province_code"].to_list())}
    migration, migration_files = county_migration_inputs(
        [str(c) for c in population["county"].values], units["province_code"].to_numpy(),
        folder)
    ds = inputs.arrays.merge(migration.assign_coords(county=population["county"].values),
                             join="outer").assign(
        county_population=population.assign_attrs(units="persons"),
        county_fertility_factor=factor,
        county_fertility_sd=levels["sd"].assign_attrs(
            units="log of the factor", description="sd of the county's log factor"),
        county_fertility_weight=levels["weight"].assign_attrs(
            units="1", description="weight of the county's own census value against its "
            "prefecture's mean"),
        county_census_factors=levels["census"],
        county_census_children=xr.concat(
            [young[g] for g in ("0", "1-4")],
            dim=xr.DataArray(["0", "1-4"], dims="census_group")).sel(
                county=population["county"].values).assign_attrs(
            units="persons", description="children counted by the census, by age group")
        ).assign_coords(coords)
    files = list(inputs.source_files) + [str(path), str(folder / regions_file)] + [
        str(f) for f in migration_files]
    where = codes[0] if len(codes) == 1 else f"{len(codes)} provinces"
    return inputs.replace(
        arrays=ds, counties_of=codes, prefectures=prefectures, source_files=files,
        report_regions=[inputs.nation, *codes, *prefectures, *reported],
        description=inputs.description + f"; {len(counts['codes'])} county-level "
        f"units of {where} from the census")


#: The options of ``load_china_counties`` (``configs/data/china_counties.yaml``): those of the
#: census loader, and the units to report (checked against the regions table when loading).
load_china_counties.OPTIONS = load_china_census.OPTIONS.extended({
    **{key: Where(lambda v: v is None or len(str(v)) == 6 and str(v).isdigit(),
                  nullable=True, default=None, what="null or a 6-digit code, e.g. 500000")
       for key in ("province", "prefecture")},
    "county_file": Text(default=COUNTY_POPULATION),
    "regions_file": Text(default=REGIONS)})

def units_in_province(code: str, data_dir: str | Path | None = None,
                      regions_file: str = REGIONS) -> int | None:
    """County-level and prefecture rows of province ``code`` in the census region table, read
    without its checks (for the memory estimate); None where they cannot be counted."""
    path = (Path(data_dir) if data_dir else DATA_DIR) / (regions_file or REGIONS)
    try:
        table = pd.read_csv(path, usecols=["region_code", "province", "level"], dtype=str)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    names = table.loc[table["region_code"] == code, "province"]
    if names.empty:
        return None
    units = table[(table["province"] == names.iloc[0])
                  & table["level"].isin(["county", "prefecture"])]
    return len(units) or None


def read_regions(path: Path) -> pd.DataFrame:
    """The census's region table with each unit's ``province_code``, ``prefecture_code`` and
    ``prefecture_name`` (a municipality's two prefecture rows, 市辖区 and 县, are told apart
    by code: 500100 重庆市市辖区, 500200 重庆市县)."""
    table = read_table(path, [Column("region_code"), Column("level", allowed=frozenset(
        {"nation", "province", "prefecture", "county"})), Column("province"),
        Column("prefecture"), Column("county")], key=["region_code"])
    provinces = dict(zip(table.loc[table["level"] == "province", "province"],
                         table.loc[table["level"] == "province", "region_code"]))
    rows = table[table["level"] == "prefecture"]
    names = {c: (q if q != p else p + n) for c, p, q, n in
             zip(rows["region_code"], rows["province"], rows["prefecture"], rows["county"])}
    by_name = {(p, q): c for c, p, q in zip(rows["region_code"], rows["province"],
                                            rows["prefecture"])}
    table["province_code"] = table["province"].map(provinces).fillna("")
    prefix = table["region_code"].str[:4] + "00"
    table["prefecture_code"] = [
        pre if pre in names else by_name.get((p, q), "")
        for pre, p, q in zip(prefix, table["province"], table["prefecture"])]
    table["prefecture_name"] = table["prefecture_code"].map(names).fillna("")
    return table


def county_units(table: pd.DataFrame) -> pd.DataFrame:
    """The county-level units that tile each province once (rows of :func:`read_regions`).

    Three fixes to the census's county list, each checked by :func:`check_units_add_up`:
    its subtotal rows of the units under a province directly (名称 "省直辖县级行政区划" /
    "自治区直辖县级行政区划": Hubei, Hainan, Xinjiang; each the exact sum of the rows after
    it) are left out; a county row without a prefecture right after a prefecture row that
    has no unit of its own belongs to it (三沙市's three island groups); and a prefecture
    without county-level divisions (东莞市, 中山市, 儋州市, 嘉峪关市) is a unit of its own,
    reported once under its own code."""
    units = table[(table["level"] == "county")
                  & ~table["county"].str.endswith("直辖县级行政区划")].copy()
    with_units = set(units["prefecture_code"])
    owner = None  # (code, name) of a prefecture row with no unit of its own
    for i, row in table.iterrows():  # file order: a prefecture row, then its counties
        if row["level"] == "prefecture":
            owner = (None if row["region_code"] in with_units
                     else (row["region_code"], row["prefecture"]))
        elif row["level"] != "county" or i not in units.index:  # a subtotal ends a group
            owner = None
        elif owner and units.loc[i, "prefecture_code"] == "":
            units.loc[i, ["prefecture_code", "prefecture_name"]] = owner
    divided = set(units["prefecture_code"])
    whole = table[(table["level"] == "prefecture") & ~table["region_code"].isin(divided)].copy()
    whole["county"] = whole["prefecture"]
    whole[["prefecture_code", "prefecture_name"]] = ""
    return pd.concat([units, whole]).sort_index()


#: Largest relative difference allowed between a province's census total and the sum of its
#: county-level units' (the yearbook's tables agree to the person where complete).
UNITS_SUM_TOLERANCE = 1e-4


def check_units_add_up(counts: dict, units: pd.DataFrame, folder: Path) -> None:
    """Raise InputError naming every province whose county-level units' census counts do
    not add up to its own census total (a unit missing or counted twice)."""
    path = folder / CENSUS_POPULATION
    province = pd.read_csv(path, dtype={"region_code": str}).groupby("region_code")["value"].sum()
    totals = pd.Series(counts["values"].sum(axis=(1, 2)), index=counts["codes"])
    summed = totals.groupby(units.loc[counts["codes"], "province_code"].to_numpy()).sum()
    raise_if([problem(path, "value", None, f"{code}: {summed[code]:,.0f} in its county-level "
                      f"units against {province[code]:,.0f}",
                      "a province total equal to the sum of its county-level units")
              for code in summed.index
              if abs(summed[code] - province[code]) > UNITS_SUM_TOLERANCE * province[code]])


def county_counts(path: Path, codes: list[str]) -> dict:
    """The census counts (county, sex, group) of ``codes``, checked (every group present,
    counts in range), with the group starts. An empty count is zero persons: the yearbook
    leaves such cells blank (29 cells of 4 tiny units: 东营港经济开发区, the Nansha and
    Zhongsha islands, 达孜工业园区)."""
    table = read_table(path, [
        Column("region_code"), Column("level", allowed=frozenset({"prefecture", "county"})),
        year_column(), Column("sex", allowed=SEX), Column("age_group"),
        Column("value", "nonnegative", meaning="persons", limits=CENSUS_COUNT_RANGE,
               empty=0.0)],
        key=["region_code", "sex", "age_group"], keep=("region_code", set(codes)))
    found = set(table["region_code"])
    raise_if([problem(path, "region_code", None, c, "the census counts of every county of the "
                      "province") for c in codes if c not in found])
    table = check_age_groups(table, path, ["region_code", "sex"], "age_group", 0, np.inf,
                             open_starts=(85,))
    starts = np.sort(table["age_start"].unique())
    grid = table.set_index(["region_code", "sex", "age_start"])["value"]
    values = grid.reindex(pd.MultiIndex.from_product([codes, list(SEXES), starts])).to_numpy(
        float).reshape(len(codes), len(SEXES), len(starts))
    raise_if([problem(path, "age_start", None, c, "the same age groups for every county")
              for c in np.asarray(codes)[np.isnan(values).any(axis=(1, 2))]])
    return {"codes": codes, "values": values, "starts": starts}


def county_levels(population: xr.DataArray, young: dict[str, xr.DataArray],
                  national_asfr: xr.DataArray, mx: xr.DataArray, prefectures: np.ndarray,
                  province: str) -> xr.Dataset:
    """Each county's fertility level relative to its province (county): its census age-0
    count over the births its women would have at the national rates, relative to the
    province's (the counties' sum), in logs, shrunk towards its prefecture's mean by its
    size (:func:`forecast.demography.regional_levels.small_area_levels`; sampling variance
    1 / the children counted, plus :data:`forecast.demography.regional_levels.KAPPA_MIN`²
    for the census's own error; units under the province directly are one group). The sd
    then adds the small areas' excess variance :data:`NOISE_SCALE` × n^-:data:`NOISE_POWER`
    (n the children counted; :mod:`forecast.demography.small_area_noise`), which widens the
    level's interval without moving its centre.

    ``population`` (county, sex, age): persons at 1 July 2020; ``young``: the census's
    children aged ``"0"`` and ``"1-4"`` (county); ``national_asfr`` (age, year); ``mx``
    (sex, age). Returns ``mean``, ``sd`` (log scale) and ``weight`` (county), and
    ``census`` (county, group): the age-0 and ages 1-4 factors before shrinking."""
    region = population.rename(county="region")
    factors = census_young_factors(region, {g: c.rename(county="region") for g, c in
                                            young.items()}, national_asfr, mx, CENSUS_YEAR)
    age0 = factors["0"].values
    counted = young["0"].values
    seen = (counted > 0) & (age0 > 0)
    groups = np.where(prefectures == "", province, prefectures)
    levels = small_area_levels(np.log(np.where(seen, age0, 1.0)),
                               np.where(seen, 1.0 / np.maximum(counted, 1.0), 1e6), groups,
                               KAPPA_MIN ** 2)
    levels["sd"] = np.sqrt(levels["sd"] ** 2 + np.where(
        seen, noise_variance(counted, NOISE_SCALE, NOISE_POWER), 0.0))
    coords = {"county": population["county"].values}
    census = xr.concat([factors[g].rename(region="county") for g in ("0", "1-4")],
                       dim=xr.DataArray(["0", "1-4"], dims="census_group"))
    return xr.Dataset({k: ("county", levels[k]) for k in ("mean", "sd", "weight")},
                      coords=coords).assign(census=census.assign_coords(coords))


def county_noise_fit(inputs: Inputs) -> dict[str, float]:
    """ζ and γ of the counties' excess variance (:data:`NOISE_SCALE`, :data:`NOISE_POWER`)
    fitted to the census records of the counties of ``inputs`` (``load_china_counties``):
    their age-0 and ages 1-4 factors and children counted, the provinces' dynamics over
    the years between the two records (:data:`forecast.data.provincial_inputs.CENSUS_LAGS`)
    and the census's common error :data:`forecast.demography.regional_levels.KAPPA_MIN`
    (:func:`forecast.demography.small_area_noise.fit_noise`)."""
    return fit_noise(*census_records(inputs), _change_variance(inputs), KAPPA_MIN)


def county_shared_fit(inputs: Inputs) -> dict[str, float]:
    """The share of the counties' level change that a prefecture's counties have in common
    (:data:`forecast.regions.county_levels.SHARED_CHANGE`), fitted to the census records of
    the prefectures of ``inputs`` (``load_china_counties``) with the counties' excess
    variance (:data:`NOISE_SCALE`, :data:`NOISE_POWER`;
    :func:`forecast.demography.small_area_noise.shared_change_fit`)."""
    return shared_change_fit(*census_records(inputs), inputs["county_prefecture"].values,
                             inputs["county_province"].values, _change_variance(inputs),
                             KAPPA_MIN, NOISE_SCALE, NOISE_POWER)


def census_records(inputs: Inputs) -> tuple[np.ndarray, ...]:
    """The counties' census records of ``inputs`` (``load_china_counties``), each (county,):
    log factors of the children aged 0 and aged 1-4 (-inf where none were counted), and the
    children counted in each."""
    factors, children = inputs["county_census_factors"], inputs["county_census_children"]
    with np.errstate(divide="ignore"):  # a unit with no children counted: -inf, left out
        logs = [np.log(factors.sel(census_group=g).values) for g in ("0", "1-4")]
    return (*logs, *(children.sel(census_group=g).values for g in ("0", "1-4")))


def _change_variance(inputs: Inputs) -> float:
    """The variance of a level's change between the census's age-0 and ages 1-4 births
    under the provinces' dynamics of ``inputs``."""
    dynamics = inputs.provincial_dynamics
    return change_variance(float(dynamics["rho"]), float(dynamics["sigma"]), CENSUS_LAGS)


def _province_code(province, prefecture, regions_path: Path) -> str:
    """The province code from ``province`` or, without it, from ``prefecture``."""
    code = str(province) if province is not None else str(prefecture)[:2] + "0000"
    if len(code) != 6 or not code.endswith("0000") or not code.isdigit():
        raise InputError(f"config, data.province: got {province!r}; expected a 6-digit province "
                         "code ending in 0000, e.g. 500000.")
    if prefecture is not None and str(prefecture)[:2] != code[:2]:
        raise InputError(f"config, data.prefecture: got {prefecture!r}; expected a prefecture "
                         f"of province {code}.")
    return code
