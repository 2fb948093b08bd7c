"""Build china_supply_provinces.csv, the default supply table: childcare places (托位) and
kindergarten seats (学位) of the nation and the 31 provinces, 2020-2025, from the published
figures in this folder. Every count carries a basis column: ``published`` or ``estimated:
<how>``; a count that nothing supports is left empty with basis ``not published``.

Childcare places (NHC / NBS, national only; china_childcare_places_national_2021_2025.csv):

- nation 2022, 2024, 2025: published places (362.4万, 573.7万, 665.7万);
- nation 2023: estimated, (4.08 - 0.7) places per 1,000 (the 2024 report: "0.7 more than at
  the end of 2023") x NBS year-end population 2023;
- nation 2021: estimated, 2.03 per 1,000 (a low-quality copy of a news paragraph) x NBS
  year-end population 2021;
- provinces: estimated, the national figure shared by the province's children aged 0-2 (the
  2020 census, aligned to 1 July 2020 as in the default run); no provincial series exists;
- affordable (普惠) places: not published at any level (only "89万 added in 2025"): empty.

Kindergarten seats (MOE): capacity is not published; classes are (provinces, 2020).

- 24 provinces 2020: estimated, classes (班数, MOE 2020 statistics) x the standard class size
  (30, the mixed-class size of 幼儿园工作规程 2016; configs/demand/national.yaml);
- nation 2020: estimated, national enrolment (在园幼儿, MOE bulletin) over the 24 provinces'
  enrolment per seat (their enrolment / their estimated seats);
- the 7 provinces without classes (云南 ... 新疆): estimated, the nation's seats less the 24
  provinces', shared by their children aged 3-5 (census 2020);
- 2021-2025: estimated, the 2020 seats x the national number of kindergartens relative to 2020
  (MOE bulletins: 29.17万 in 2020, 23.19万 in 2025), the same ratio in every province;
- public seats: estimated, seats x the national public share of enrolment that year (1 -
  private enrolment / enrolment, MOE bulletins);
- affordable (普惠) seats: estimated, seats x the national 普惠 share of enrolment that year.

Run from the project root: .venv/bin/python data/make_supply.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data import load_china_census

HERE = Path(__file__).resolve().parent
NATION = "000000"
YEARS = list(range(2020, 2026))
CLASS_SIZE = 30
CHILDCARE_FILE = "china_childcare_places_national_2021_2025.csv"
KINDERGARTEN_FILE = "china_moe_kindergartens_national_2020_2025.csv"
PROVINCE_FILE = "china_moe_kindergartens_province_2020.csv"
OBSERVED_FILE = "china_nbs_observed.csv"
PUBLISHED, NOT_PUBLISHED = "published", "not published"
SOURCE = ("NHC/NBS national childcare places 2022-2025; MOE kindergarten statistics 2020-2025 "
          "(national bulletins, provincial classes 2020); see data/README.md")


def _national_childcare(childcare: pd.DataFrame, population: pd.Series) -> dict:
    """year -> (places, basis) of the nation."""
    def value(year, indicator):
        rows = childcare[(childcare["year"] == year) & (childcare["indicator"] == indicator)
                         & (childcare["source_kind"] != "news_quoting_official")]
        return float(rows["value"].iloc[0]) if len(rows) else np.nan

    out = {year: (value(year, "childcare_places") * 1e4, PUBLISHED) for year in (2022, 2024, 2025)}
    per_1000_2023 = value(2024, "childcare_places_per_1000_pop") - 0.7
    out[2023] = (per_1000_2023 * population[2023] / 1000,
                 "estimated: (4.08 - 0.7) places per 1,000 (NBS 2024 report) x year-end "
                 "population 2023")
    out[2021] = (value(2021, "childcare_places_per_1000_pop") * population[2021] / 1000,
                 "estimated: 2.03 places per 1,000 (low-quality copy of a news report) x "
                 "year-end population 2021")
    return out


def main():
    childcare = pd.read_csv(HERE / CHILDCARE_FILE, dtype={"region_code": str})
    national = pd.read_csv(HERE / KINDERGARTEN_FILE)
    national = national.pivot(index="year", columns="indicator", values="value")
    province = pd.read_csv(HERE / PROVINCE_FILE, dtype={"region_code": str})
    province = province.pivot(index="region_code", columns="indicator", values="value")
    observed = pd.read_csv(HERE / OBSERVED_FILE)
    yearend = observed[observed["indicator"] == "population_yearend_total"].set_index(
        "year")["value"] * 1e4

    inputs = load_china_census()
    pop = inputs["population"].sum("sex")
    codes = [str(r) for r in pop["region"].values if r != NATION]
    names = {str(r): str(n) for r, n in zip(inputs["region_name"]["region"].values,
                                            inputs["region_name"].values)}
    ages_0_2 = pop.sel(region=codes, age=[0, 1, 2]).sum("age").to_series()
    ages_3_5 = pop.sel(region=codes, age=[3, 4, 5]).sum("age").to_series()

    # kindergarten seats in 2020
    with_classes = [c for c in codes if c in province.index]
    without = [c for c in codes if c not in province.index]
    seats_2020 = (province.loc[with_classes, "kindergarten_classes"] * CLASS_SIZE).to_dict()
    per_seat = (province.loc[with_classes, "kindergarten_enrolment"].sum()
                / sum(seats_2020.values()))
    nation_seats_2020 = national.loc[2020, "preschool_enrolled_children"] * 1e4 / per_seat
    rest = nation_seats_2020 - sum(seats_2020.values())
    seats_2020 |= (rest * ages_3_5[without] / ages_3_5[without].sum()).to_dict()
    seat_basis = {c: f"estimated: MOE classes 2020 x {CLASS_SIZE} children" for c in with_classes}
    seat_basis |= {c: "estimated: national seats less 24 provinces', shared by children aged "
                   "3-5 (census 2020)" for c in without}
    seats_2020[NATION] = nation_seats_2020
    seat_basis[NATION] = (f"estimated: MOE enrolment over the 24 provinces' enrolment per seat "
                          f"({per_seat:.3f})")
    kindergartens = national["kindergartens_count"]
    public_share = 1 - national["private_kindergarten_enrolled_children"] \
        / national["preschool_enrolled_children"]
    affordable_share = national["puhui_kindergarten_enrolled_children"] \
        / national["preschool_enrolled_children"]

    childcare_nation = _national_childcare(childcare, yearend)
    share_0_2 = ages_0_2 / ages_0_2.sum()
    rows = []
    for code in [NATION] + codes:
        for year in YEARS:
            places, basis = childcare_nation.get(year, (np.nan, NOT_PUBLISHED))
            if code != NATION and np.isfinite(places):
                places = places * share_0_2[code]
                basis = ("estimated: national places shared by children aged 0-2 (census "
                         f"2020); national figure {basis.split(':')[0]}")
            ratio = kindergartens[year] / kindergartens[2020]
            seats = seats_2020[code] * ratio
            kg_basis = seat_basis[code] + ("" if year == 2020 else
                                           f" x national kindergartens {year}/2020")
            rows.append({
                "region_code": code, "region_name": names.get(code, "全国"),
                "reference_year": year,
                "childcare_places": places, "childcare_places_basis": basis,
                "childcare_places_affordable": np.nan,
                "childcare_places_affordable_basis": NOT_PUBLISHED,
                "kindergarten_seats": seats, "kindergarten_seats_basis": kg_basis,
                "kindergarten_seats_public": seats * public_share[year],
                "kindergarten_seats_public_basis":
                    f"estimated: seats x national public share of enrolment {year} (MOE)",
                "kindergarten_seats_affordable": seats * affordable_share[year],
                "kindergarten_seats_affordable_basis":
                    f"estimated: seats x national 普惠 share of enrolment {year} (MOE)",
                "source": SOURCE})
    table = pd.DataFrame(rows)
    counts = [c for c in table.columns if c.startswith(("childcare", "kindergarten"))
              and not c.endswith("_basis")]
    table[counts] = table[counts].round()
    table.to_csv(HERE / "china_supply_provinces.csv", index=False, encoding="utf-8",
                 float_format="%.0f")


if __name__ == "__main__":
    main()
