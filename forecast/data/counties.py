"""County-level inputs (``data=china_counties``): one province's districts and counties from
the 2020 census, projected within the provincial projection.

The province is projected as in ``data=china_census`` (the nation and all 31 provinces,
calibrated, births raked to the nation). Its county-level units (区县: districts, counties,
county-level cities and the functional zones the census lists) are then projected with
(:func:`forecast.counties.project_counties`):

- **base population**: the census's 1 November 2020 counts by sex and age group, aligned to
  1 July and graduated to single ages as the provinces are, then raked to the province's
  base population at every sex and age (so the counties add up to it exactly, including its
  young ages rebuilt from births);
- **fertility**: the province's ASFR of every year and draw times the county's level, the
  age-standardised census child-woman ratio against the province's
  (:func:`forecast.subnational.child_woman_ratio_factor`, the provincial method's fallback:
  no county publishes births); the counties' births are then raked to the province's draw by
  draw;
- **mortality and the sex ratio at birth**: the province's (national rates);
- **migration**: the province's net migrants of every step, sex and age shared among its
  counties by population. The census has each county's stock of residents registered
  elsewhere but no flows between counties, so no county gains from another; the counties'
  migration adds up to the province's.

Counties therefore add up to their prefecture and province in every draw. A prefecture's
rows are the sums of its counties. ``province`` (GB/T 2260, e.g. 500000 Chongqing) selects
the province; ``prefecture`` (e.g. 440300 Shenzhen) reports only that prefecture's counties.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from forecast.data.census import (CENSUS_COUNT_RANGE, CENSUS_SHIFT_YEARS, CENSUS_YEAR,
                                  _split_open_group, load_china_census)
from forecast.data.common import SEX, year_column
from forecast.data.wpp import WPP_POPULATION, read_wpp_population
from forecast.errors import InputError, problem, raise_if
from forecast.graduation import AGES, graduate_counts
from forecast.paths import DATA_DIR
from forecast.subnational import child_woman_ratio_factor
from forecast.tables import Column, check_age_groups, read_table
from forecast.variables import SEXES

COUNTY_POPULATION = "china_census2020_pop_age_sex_prefecture_county.csv"
REGIONS = "china_census2020_regions.csv"
#: The years of national ASFR the child-woman ratio is standardised with (the children aged
#: 0-4 at the census were born in 2015-2020).
CWR_YEARS = slice(2015, 2019)


def load_china_counties(province: str | int | None = None, prefecture: str | int | None = None,
                        county_file: str = COUNTY_POPULATION, regions_file: str = REGIONS,
                        data_dir: str | Path | None = None, regions: list | None = None,
                        **census_options) -> xr.Dataset:
    """The inputs of ``load_china_census`` for the nation and provinces (``regions`` is
    ignored: the province reported is ``province``), plus the counties of ``province``: ``county_population`` (county, sex, age), persons at 1 July 2020,
    ``county_fertility_factor`` (county), and coordinates ``county_name``,
    ``county_prefecture``; attrs ``counties_of`` (the province), ``prefectures`` (code ->
    name) and ``report_regions`` (the nation, the province, its prefectures and the counties
    reported).
    """
    folder = Path(data_dir) if data_dir else DATA_DIR
    code = _province_code(province, prefecture, folder / regions_file)
    inputs = load_china_census(regions=[code], data_dir=data_dir, **census_options)
    regions = read_regions(folder / regions_file)
    units = regions[(regions["level"] == "county") & (regions["province_code"] == code)]
    if prefecture is not None:
        wanted = str(prefecture)
        if wanted not in set(regions.loc[regions["level"] == "prefecture", "region_code"]):
            raise InputError(problem(folder / regions_file, "region_code", None, wanted,
                                     "a prefecture-level code of the census (e.g. 440300)"))
    path = folder / county_file
    counts = county_counts(path, list(units["region_code"]))
    wpp = read_wpp_population(folder / WPP_POPULATION)
    wpp = wpp[(wpp["region"] == inputs.attrs["tfr_target"]) & (wpp["year"] == CENSUS_YEAR)]
    values, starts = _split_open_group(counts["values"], counts["starts"], wpp,
                                       folder / WPP_POPULATION)
    aligned = graduate_counts(values, starts, shift=CENSUS_SHIFT_YEARS)
    mx = inputs["mx"].sel(region=code).isel(period=-1).transpose("sex", "age").values
    aligned = aligned * np.exp(CENSUS_SHIFT_YEARS * mx)[None]
    census = xr.DataArray(aligned, dims=("county", "sex", "age"),
                          coords={"county": counts["codes"], "sex": list(SEXES), "age": AGES})
    target = inputs["population"].sel(region=code, drop=True)
    population = census * (target / census.sum("county")).fillna(0.0)
    factor = county_fertility(population, inputs["asfr"].sel(region=code, drop=True))
    units = units.set_index("region_code").loc[counts["codes"]]
    reported = [c for c in counts["codes"] if prefecture is None
                or units.loc[c, "prefecture_code"] == str(prefecture)]
    prefectures = {p: n for p, n in zip(units["prefecture_code"], units["prefecture_name"])
                   if p in {units.loc[c, "prefecture_code"] for c in reported}}
    coords = {"county_name": ("county", units["county"].to_list()),
              "county_prefecture": ("county", units["prefecture_code"].to_list())}
    ds = inputs.assign(county_population=population.assign_attrs(units="persons"),
                       county_fertility_factor=factor).assign_coords(coords)
    files = list(inputs.attrs["source_files"]) + [str(path), str(folder / regions_file)]
    return ds.assign_attrs(
        counties_of=code, prefectures=prefectures, source_files=files,
        report_regions=[inputs.attrs["national_region"], code, *prefectures, *reported],
        description=inputs.attrs["description"] + f"; {len(counts['codes'])} county-level "
        f"units of {code} from the census")


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


def county_counts(path: Path, codes: list[str]) -> dict:
    """The census counts (county, sex, group) of ``codes``, checked (every group present,
    counts in range), with the group starts."""
    table = read_table(path, [
        Column("region_code"), Column("level", allowed=frozenset({"prefecture", "county"})),
        year_column(), Column("sex", allowed=SEX), Column("age_group"),
        Column("value", "nonnegative", meaning="persons", limits=CENSUS_COUNT_RANGE)],
        key=["region_code", "sex", "age_group"], keep=("region_code", set(codes)))
    raise_if([problem(path, "region_code", None, c, "the census counts of every county of the "
                      "province") for c in codes if c not in set(table["region_code"])])
    table = check_age_groups(table, path, ["region_code", "sex"], "age_group", 0, np.inf,
                             open_starts=(85,))
    starts = np.sort(table["age_start"].unique())
    values = np.stack([np.stack([
        table[(table["region_code"] == c) & (table["sex"] == s)].sort_values("age_start")
        ["value"].to_numpy(float) for s in SEXES]) for c in codes])
    return {"codes": codes, "values": values, "starts": starts}


def county_fertility(census: xr.DataArray, province_asfr: xr.DataArray) -> xr.DataArray:
    """Each county's fertility relative to its province (county): the age-standardised
    child-woman ratio of its base population (the census raked to the province's, whose
    young ages are rebuilt from births) against the province's (the counties' sum)."""
    asfr = province_asfr.sel(year=CWR_YEARS).mean("year")
    if "draw" in asfr.dims:
        asfr = asfr.mean("draw")
    total = census.sum("county").expand_dims(county=["province"])
    both = xr.concat([total, census], dim="county").rename(county="region")
    factor = child_woman_ratio_factor(both, asfr, "province", source="county census")
    return factor.drop_sel(region="province").rename(region="county").assign_attrs(
        units="1", description="age-standardised census child-woman ratio relative to the "
        "province's")


def _province_code(province, prefecture, regions_path: Path) -> str:
    """The province code from ``province`` or, without it, from ``prefecture``."""
    if province is None and prefecture is None:
        raise InputError("config, data.province: got null; expected a province code such as "
                         "500000 (Chongqing), or data.prefecture=<code>.")
    code = str(province) if province is not None else str(prefecture)[:2] + "0000"
    if len(code) != 6 or not code.endswith("0000") or not code.isdigit():
        raise InputError(f"config, data.province: got {province!r}; expected a 6-digit province "
                         "code ending in 0000, e.g. 500000.")
    if prefecture is not None and str(prefecture)[:2] != code[:2]:
        raise InputError(f"config, data.prefecture: got {prefecture!r}; expected a prefecture "
                         f"of province {code}.")
    return code
