"""Build demo_supply_provinces.csv, the illustrative supply table of the 31 provinces.

Not official statistics: no provincial series of childcare places or kindergarten seats was
available. National figures are shared out by each province's census population:

- childcare places: 2.03 per 1,000 residents (national level at the end of 2021, as reported
  in secondary sources; STANDARDS.md) times the province's census population;
- affordable childcare places: 60 % of those (the planning standard, assumed met);
- kindergarten seats: national enrolment in 2019 (在园幼儿 47,138,800; MOE bulletin, in
  china_moe_kindergartens_national.csv) shared by the province's population aged 3-5 at 1 July
  2020 (census, aligned and graduated as in the default run);
- public seats: the national public share of enrolment in 2019 (1 - 2,649.44 / 4,713.88 =
  43.8 %, MOE 2019);
- affordable seats: 76 % of seats (national coverage of affordable kindergartens reported for
  2019), illustrative;
- the nation (000000): the sum of the provinces.

Run from the project root: .venv/bin/python data/make_demo_supply.py
"""

from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data import load_china_census

HERE = Path(__file__).resolve().parent
PLACES_PER_1000 = 2.03
AFFORDABLE_CHILDCARE = 0.60
ENROLMENT_2019 = 47_138_800
PUBLIC_SHARE_2019 = 1 - 2649.44 / 4713.88
AFFORDABLE_KINDERGARTEN = 0.76


def main():
    inputs = load_china_census()
    pop = inputs["population"].sum("sex")
    provinces = [r for r in pop["region"].values if r != "000000"]
    pop = pop.sel(region=provinces)
    total = pop.sum("age").values
    ages_3_5 = pop.sel(age=[3, 4, 5]).sum("age").values
    seats = ENROLMENT_2019 * ages_3_5 / ages_3_5.sum()
    table = pd.DataFrame({
        "region_code": provinces,
        "region_name": inputs["region_name"].sel(region=provinces).values,
        "reference_year": 2021,
        "childcare_places": np.round(total * PLACES_PER_1000 / 1000),
        "childcare_places_affordable": np.round(total * PLACES_PER_1000 / 1000 * AFFORDABLE_CHILDCARE),
        "kindergarten_seats": np.round(seats),
        "kindergarten_seats_public": np.round(seats * PUBLIC_SHARE_2019),
        "kindergarten_seats_affordable": np.round(seats * AFFORDABLE_KINDERGARTEN),
        "illustrative": True,
        "source": "illustrative: national totals shared by census population; see data/README.md",
    })
    counts = [c for c in table.columns if c.startswith(("childcare", "kindergarten"))]
    nation = {**{c: table[c].sum() for c in counts}, "region_code": "000000",
              "region_name": "全国", "reference_year": 2021, "illustrative": True,
              "source": "sum of the provinces below"}
    table = pd.concat([pd.DataFrame([nation]), table], ignore_index=True)[table.columns]
    table.to_csv(HERE / "demo_supply_provinces.csv", index=False, encoding="utf-8",
                 float_format="%.0f")


if __name__ == "__main__":
    main()
