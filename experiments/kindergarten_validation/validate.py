"""Kindergarten validation: published gross enrolment rates against enrolment over our
estimate of the population aged 3-5.

Run: .venv/bin/python experiments/kindergarten_validation/validate.py
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.fertility.constant import ConstantFertility
from forecast.data import load_moe_kindergartens, load_wpp
from forecast.migration import WppMigration
from forecast.mortality import ConstantMortality
from forecast.projection import project_inputs


def estimated_ages_3_5(last_year: int = 2020) -> xr.DataArray:
    """China's population aged 3-5 at 1 July (persons) by year: WPP 2024's 1 July 2015
    population projected with WPP's own rates (the reference projection of the tests)."""
    result = project_inputs(load_wpp("CHN", 2015), ConstantFertility(), ConstantMortality(),
                            WppMigration(), last_year)
    pop = result["population"].sel(region="CHN", draw=0, drop=True).sum("sex")
    return pop.sel(age=[3, 4, 5]).sum("age").assign_attrs(units="persons")


def comparison() -> xr.Dataset:
    """Per year with published enrolment: population 3-5, enrolment, our and MOE's rates."""
    moe = load_moe_kindergartens()
    moe = moe.sel(year=moe["enrolled"].notnull() & (moe["year"] >= 2015))
    ages = estimated_ages_3_5().sel(year=moe["year"])
    ours = 100 * moe["enrolled"] / ages
    return xr.Dataset({"population_3_5": ages, "enrolled": moe["enrolled"],
                       "ger_ours": ours, "ger_published": moe["gross_enrolment_rate"],
                       "difference_pp": ours - moe["gross_enrolment_rate"]})


def main():
    table = comparison()
    print("| year | population 3-5 (estimated, 1 July) | enrolled (MOE) | GER from these | GER published | difference |")
    print("|---:|---:|---:|---:|---:|---:|")
    for y in table["year"].values:
        r = table.sel(year=y)
        print(f"| {y} | {float(r.population_3_5):,.0f} | {float(r.enrolled):,.0f} | "
              f"{float(r.ger_ours):.1f} % | {float(r.ger_published):.1f} % | "
              f"{float(r.difference_pp):+.1f} pp |")
    print(f"\nlargest |difference|: {float(np.abs(table.difference_pp).max()):.2f} pp")


if __name__ == "__main__":
    main()
