"""Reference test against published figures: UN WPP 2024, 1 July 2015 -> 1 July 2020.

Start from WPP's 2015 population by 5-year age and sex, project annually with WPP's own
rates (each step the mean of the two calendar years it spans) and compare with WPP's 2020
estimates (thousands of persons, 5-year groups) and WPP's annual births. Tolerances are those
of the project's acceptance criteria; ages 85+ are left out because the abridged 5-year-period
mortality data are legacy rates that do not match WPP 2024 at the oldest ages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.demography.ccmpp import project
from forecast.models.fertility.constant import ConstantFertility
from forecast.data import DATA_DIR, load_wpp
from forecast.models.migration.net_migrants import WppMigration
from forecast.models.mortality.constant import ConstantMortality
from forecast.projection.project import project_inputs


def _projected_2020(region):
    inputs = load_wpp(region, 2015)
    result = project_inputs(inputs, ConstantFertility(), ConstantMortality(), WppMigration(), 2020)
    pop = result["population"].sel(region=region, year=2020, draw=0).sum("sex")
    groups = np.add.reduceat(pop.values, np.arange(0, 101, 5))  # 0-4, ..., 95-99, 100+
    births = result["births"].sel(region=region, draw=0).sum("sex").sel(year=range(2015, 2020))
    return groups, births.values


def _wpp_2020(region):
    pop = pd.read_csv(DATA_DIR / "wpp2024_pop_age5_sex_quinquennial.csv")
    pop = pop[(pop["region"] == region) & (pop["year"] == 2020)]
    return pop.groupby("age_start")["value"].sum().sort_index().to_numpy() * 1000.0


def _wpp_step_births(region):
    vital = pd.read_csv(DATA_DIR / "wpp2024_vital_annual.csv")
    births = vital[(vital["region"] == region) & (vital["indicator"] == "births")]
    annual = births.set_index("year")["value"] * 1000.0
    return np.array([(annual[y] + annual[y + 1]) / 2 for y in range(2015, 2020)])


@pytest.fixture(scope="module", params=["THA", "JPN"])
def comparison(request):
    region = request.param
    groups, births = _projected_2020(region)
    return region, groups / _wpp_2020(region) - 1.0, births / _wpp_step_births(region) - 1.0, groups


def test_total_population_within_half_a_percent(comparison):
    region, rel, _, groups = comparison
    total = groups.sum() / _wpp_2020(region).sum() - 1.0
    assert abs(total) < 0.005, f"{region}: total off by {total:.3%}"


def test_ages_0_4_within_two_percent(comparison):
    region, rel, _, _ = comparison
    assert abs(rel[0]) < 0.02, f"{region}: ages 0-4 off by {rel[0]:.3%}"


def test_births_in_each_step_within_two_percent(comparison):
    """Births 1 July t - 1 July t+1 vs the mean of WPP's births in calendar years t and t+1."""
    region, _, births, _ = comparison
    assert np.all(np.abs(births) < 0.02), f"{region}: births off by {np.round(births * 100, 2)} %"


def test_five_year_groups(comparison):
    """Thailand: every group under 85 within 1 %. Japan: median |error| under 50 within 1.5 %."""
    region, rel, _, _ = comparison
    if region == "THA":
        worst = np.abs(rel[:17]).max()
        assert worst < 0.01, f"THA: worst 5-year group under 85 off by {worst:.3%}"
    else:
        median = np.median(np.abs(rel[:10]))
        assert median < 0.015, f"JPN: median error of groups under 50 is {median:.3%}"


def test_lagged_rates_would_fail():
    """The test can fail: feeding each calendar year the previous year's fertility (a
    one-year timing slip) misses Japan's births by more than the 2 % tolerance."""
    inputs = load_wpp("JPN", 2015)
    steps, years = np.arange(2015, 2020), np.arange(2015, 2021)
    shape = WppMigration().rates(inputs, steps)["net_migration"]
    migration = shape / shape.sum(("sex", "age")) * inputs["net_migration_total"].sel(year=steps)

    def lagged(da):
        return da.sel(year=years - 1).assign_coords(year=years)

    result = project(inputs["population"], asfr=lagged(inputs["asfr"]),
                     mx=ConstantMortality().rates(inputs, years),
                     srb=lagged(inputs["srb"]), net_migration=migration)
    births = result["births"].sel(region="JPN", draw=0, year=steps).sum("sex").values
    assert np.abs(births / _wpp_step_births("JPN") - 1.0).max() > 0.02
