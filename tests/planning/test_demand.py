"""Demand for childcare places and kindergarten seats: hand-computable cases, properties,
configs and the supply table's checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from forecast.planning.demand import demand_indicators
from forecast.planning.supply import supply_by_year
from forecast.core.errors import InputError
from forecast.demography.graduation import AGES
from forecast.data import load_supply
from forecast.core.paths import CONFIG_DIR

YEARS = np.arange(2024, 2027)


def standards(name="national"):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"demand={name}"])
    return OmegaConf.to_container(cfg.demand, resolve=True)


def population(per_age_0_5=1000.0, adults=994_000.0, draws=(1.0,)):
    """One region 'r': 1000 children at each age 0-5, the rest aged 40; scaled per draw."""
    values = np.zeros(len(AGES))
    values[:6] = per_age_0_5
    values[40] = adults
    scale = xr.DataArray(list(draws), dims="draw", coords={"draw": np.arange(len(draws))})
    base = xr.DataArray(np.broadcast_to(values[None, :, None], (1, len(AGES), len(YEARS))).copy(),
                        dims=("region", "age", "year"),
                        coords={"region": ["r"], "age": AGES, "year": YEARS})
    return (base * scale).assign_coords(region_name=("region", ["测试区"]))


def supply(childcare=3000.0, kindergarten=2000.0, year=2024):
    """Supply of region 'r' given for one reference year, in every year of :data:`YEARS`."""
    data = {"childcare_places": childcare, "childcare_places_affordable": 0.6 * childcare,
            "kindergarten_seats": kindergarten, "kindergarten_seats_public": 0.5 * kindergarten,
            "kindergarten_seats_affordable": 0.8 * kindergarten}
    ds = xr.Dataset({k: (("region", "reference_year"), [[v]]) for k, v in data.items()},
                    coords={"region": ["r"], "reference_year": [year]})
    for k in data:
        ds[f"{k}_basis"] = (("region", "reference_year"), [["published"]])
    return supply_by_year(ds, YEARS)


def at(da, year=2025):
    return da.sel(region="r", year=year).values.squeeze()


def test_one_region_by_hand():
    out = demand_indicators(population(), standards(), supply())
    # childcare: 1,000,000 residents x 4.5 / 1000 (from 2025); 60 % affordable
    assert at(out["childcare_places_standard"]) == pytest.approx(4500)
    assert np.isnan(at(out["childcare_places_standard"], 2024))
    assert at(out["childcare_places_standard_affordable"]) == pytest.approx(2700)
    assert at(out["childcare_places_need_realised"]) == pytest.approx(3 * 1000 * 0.06)
    assert at(out["childcare_places_need_willingness"]) == pytest.approx(3 * 1000 * 0.33)
    # kindergarten: 3000 children aged 3-5 x 90 %; 30 per class; 2 teachers, 1 carer a class
    assert at(out["kindergarten_seats_need"]) == pytest.approx(2700)
    assert at(out["kindergarten_seats_need_public"]) == pytest.approx(1350)
    assert at(out["kindergarten_seats_need_affordable"]) == pytest.approx(2295)
    assert at(out["kindergarten_classes"]) == 90
    assert at(out["kindergarten_teachers"]) == 180 and at(out["kindergarten_care_staff"]) == 90
    # supply and gaps: the standard as compliance, the willingness need as the gap
    assert at(out["childcare_gap_standard"]) == pytest.approx(1500)
    assert at(out["childcare_places_per_1000"]) == pytest.approx(3.0)
    assert at(out["childcare_places_per_1000_meets_standard"]) == 0
    assert at(out["childcare_affordable_share"]) == pytest.approx(0.6)
    assert at(out["childcare_affordable_share_meets_standard"]) == 1
    assert at(out["childcare_gap"]) == pytest.approx(3 * 1000 * 0.33 - 3000)
    assert at(out["kindergarten_gap"]) == pytest.approx(700)
    assert at(out["prob_childcare_shortage"]) == 0 and at(out["prob_kindergarten_surplus"]) == 0
    # caregivers by class type: 330 children wanting a place at each age, 1:3, 1:5, 1:7
    assert at(out["childcare_caregivers_need"]) == pytest.approx(330 / 3 + 330 / 5 + 330 / 7)
    # the standard's 4,500 places spread evenly over ages 0-2 here
    assert at(out["childcare_caregivers_standard"]) == pytest.approx(1500 * (1 / 3 + 1 / 5 + 1 / 7))
    # no idle seats, no toddler classes
    assert at(out["toddler_places_from_idle_seats"]) == 0
    # subsidy: 3000 children under 3 x 3600 CNY from 2025
    assert at(out["subsidy_budget"]) == pytest.approx(3000 * 3600)
    assert out["subsidy_budget"].attrs["units"] == "CNY per year"
    # a stable population has no new residents
    assert at(out["childcare_places_new_residential"]) == 0


def test_idle_kindergarten_seats_become_toddler_places():
    """Idle seats take toddlers, at most the children aged 2 who would use a place."""
    out = demand_indicators(population(), standards(), supply(childcare=500.0,
                                                              kindergarten=5000.0))
    # 2300 idle seats x 0.67 = 1541, capped at the 330 of 1000 children aged 2 wanting a place
    assert at(out["toddler_places_from_idle_seats"]) == pytest.approx(330)
    assert at(out["childcare_gap"]) == pytest.approx(990 - 500)
    assert at(out["childcare_gap_after_toddler_classes"]) == pytest.approx(990 - 500 - 330)
    out = demand_indicators(population(), standards(), supply(kindergarten=2900.0))
    assert at(out["toddler_places_from_idle_seats"]) == pytest.approx(200 * 0.67)


def test_planned_new_residents_give_places_and_floor_area():
    plan = xr.DataArray([[20000.0, 20000.0, 0.0]], dims=("region", "year"),
                        coords={"region": ["r"], "year": YEARS})
    out = demand_indicators(population(), standards(), supply(), new_residents=plan)
    assert at(out["childcare_places_new_residential"]) == pytest.approx(200)
    assert at(out["childcare_floor_area_new_residential"]) == pytest.approx(2400)
    assert out["childcare_floor_area_new_residential"].attrs["units"].startswith(
        "m2 usable floor area")


@pytest.mark.parametrize("k", [0.5, 2.0, 3.7])
def test_needs_scale_linearly_with_population(k):
    base = demand_indicators(population(), standards())
    scaled = demand_indicators(population() * k, standards())
    for name in ("childcare_places_standard", "childcare_places_need_realised",
                 "childcare_places_need_willingness", "kindergarten_seats_need",
                 "subsidy_budget"):
        np.testing.assert_allclose(scaled[name].values, k * base[name].values)


def test_gaps_and_probabilities_follow_the_draws():
    draws = (0.5, 0.9, 1.0, 1.2, 2.0)
    out = demand_indicators(population(draws=draws), standards(), supply())
    need = out["childcare_places_need_willingness"]
    xr.testing.assert_allclose(out["childcare_gap"], need - out["childcare_supply"])
    kg_gap = out["kindergarten_gap"].sel(region="r", year=2025).values
    assert at(out["prob_kindergarten_shortage"]) == pytest.approx(np.mean(kg_gap > 0))
    kg_need = out["kindergarten_seats_need"].sel(region="r", year=2025).values
    expected = np.mean(2000.0 - kg_need > 0.10 * kg_need)
    assert at(out["prob_kindergarten_surplus"]) == pytest.approx(expected)
    for name in ("prob_childcare_shortage", "prob_childcare_surplus",
                 "prob_kindergarten_shortage", "prob_kindergarten_surplus"):
        p = out[name].values
        assert np.all((p[~np.isnan(p)] >= 0) & (p[~np.isnan(p)] <= 1))


@pytest.mark.parametrize("seed", [0, 1])
def test_county_quantiles_from_order_statistics_equal_those_of_every_draw(seed, monkeypatch):
    """The county stage's quantiles (one sort per driver, each indicator of one driver at
    its order statistics) are those of demand_indicators' draws, bit for bit: units with
    and without supply, a chunk with no supplied unit, years before a standard applies,
    tied draws."""
    from forecast.core.draw_quantiles import quantiles
    from forecast.core.registry import INDICATORS, QUANTILES
    from forecast.planning import county_demand
    monkeypatch.setattr(county_demand, "CELLS_AT_ONCE", 2 * len(YEARS) * 200)
    units, draws = ["a", "b", "r", "c", "d"], 200
    rng = np.random.default_rng(seed)
    children = rng.gamma(20.0, 50.0, size=(len(units), 6, len(YEARS), draws))
    children[1] = np.round(children[1], -2)  # ties
    total = children.sum(1) + rng.gamma(50.0, 2e4, size=(len(units), len(YEARS), draws))
    at = list(INDICATORS)
    values = np.zeros((len(units), len(INDICATORS), len(YEARS), draws))
    values[:, at.index("population_age_0"):at.index("population_age_5") + 1] = children
    values[:, at.index("population")] = total
    given = supply(childcare=3000.0, kindergarten=2900.0).assign_coords(region=["r"])
    stage = county_demand.CountyDemand(standards(), given, YEARS)
    got = stage(values, units)

    labels = {"region": units, "year": YEARS, "draw": np.arange(draws)}
    full = demand_indicators(
        xr.DataArray(children, dims=("region", "age", "year", "draw"),
                     coords={**labels, "age": np.arange(6)}),
        standards(), given, total=xr.DataArray(total, dims=("region", "year", "draw"),
                                               coords=labels))
    assert list(full) == stage.names
    for i, name in enumerate(stage.names):
        value = full[name].reindex(region=units)
        expected = (quantiles(value.transpose("region", "year", "draw").values,
                              list(QUANTILES.values()))
                    if "draw" in value.dims else
                    np.repeat(value.transpose("region", "year").values[..., None],
                              len(QUANTILES), -1))
        np.testing.assert_array_equal(got[:, i], expected, err_msg=name)
    supplied = stage.names.index("childcare_gap")
    assert np.isnan(got[[0, 1, 3, 4], supplied]).all() and not np.isnan(got[2, supplied]).all()


DEMAND_FILES = sorted(p.stem for p in (Path(CONFIG_DIR) / "demand").glob("*.yaml"))


@pytest.mark.parametrize("name", DEMAND_FILES)
def test_every_demand_config_composes_with_sourced_numbers(name):
    cfg = standards(name)
    if not cfg["enabled"]:
        return
    sourced = []

    def walk(node):
        if isinstance(node, dict):
            if "value" in node or "rates" in node:
                sourced.append(node)
            else:
                for child in node.values():
                    walk(child)
    walk({k: cfg[k] for k in ("childcare", "kindergarten", "subsidy")})
    assert len(sourced) >= 13
    for node in sourced:
        assert node["source"] and int(node["applies_from"]) >= 2000
    # and it runs
    demand_indicators(population(), cfg, supply())


def test_guangdong_uses_its_5080_targets():
    cfg = standards("guangdong")
    assert cfg["kindergarten"]["public_share"]["value"] == 0.5
    assert cfg["kindergarten"]["affordable_share"]["value"] == 0.8
    assert cfg["childcare"]["places_per_1000"]["value"] == 4.5


def _supply_csv(tmp_path, rows):
    header = ("region_code,reference_year,childcare_places,childcare_places_affordable,"
              "kindergarten_seats,kindergarten_seats_public,kindergarten_seats_affordable\n")
    path = tmp_path / "supply.csv"
    path.write_text(header + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_supply_table_checks(tmp_path):
    good = "440000,2021,100,60,1000,500,800"
    loaded = load_supply(_supply_csv(tmp_path, [good]), ["440000"])
    assert loaded["childcare_places"].sel(region="440000").item() == 100
    with pytest.raises(InputError, match=r'column "childcare_places_affordable", row 2: got "160"'):
        load_supply(_supply_csv(tmp_path, ["440000,2021,100,160,1000,500,800"]), ["440000"])
    with pytest.raises(InputError, match=r'column "region_code", row 2: got "999999"'):
        load_supply(_supply_csv(tmp_path, ["999999,2021,100,60,1000,500,800"]), ["440000"])
    with pytest.raises(InputError, match=r'column "reference_year", row 2: got "2040"'):
        load_supply(_supply_csv(tmp_path, ["440000,2040,100,60,1000,500,800"]), ["440000"],
                    last_year=2035)
    with pytest.raises(InputError, match=r'column "kindergarten_seats", row 3: got "-5"'):
        load_supply(_supply_csv(tmp_path, [good, "500000,2021,1,1,-5,0,0"]),
                    ["440000", "500000"])
    with pytest.raises(InputError, match=r'column "kindergarten_seats", row 2: got "1e308"; '
                                         r'expected a number between 0 and'):
        load_supply(_supply_csv(tmp_path, ["440000,2021,100,60,1e308,500,800"]), ["440000"])
    with pytest.raises(InputError, match=r'column "region_code, reference_year", row 3'):
        load_supply(_supply_csv(tmp_path, [good, good]), ["440000"])
    # years after the horizon are left out where the region has an earlier one
    later = load_supply(_supply_csv(tmp_path, [good, "440000,2040,1,1,1,1,1"]), ["440000"],
                        last_year=2035)
    assert later["reference_year"].values.tolist() == [2021]


def test_supply_of_several_years_interpolated_then_carried_or_trended(tmp_path):
    """Counts given in 2021 and 2023 (2022 empty for childcare): interpolated between them,
    nothing before the first, the last carried forward or continued on its trend."""
    path = _supply_csv(tmp_path, ["440000,2021,100,,1000,500,800",
                                  "440000,2022,,,1100,500,800",
                                  "440000,2023,300,,1210,600,900"])
    table = load_supply(path, ["440000"])
    assert np.isnan(table["childcare_places"].sel(region="440000", reference_year=2022))
    years = np.arange(2020, 2027)
    carried = supply_by_year(table, years).sel(region="440000")
    places = carried["childcare_places"].values
    assert np.isnan(places[0]) and np.isnan(carried["childcare_places_affordable"]).all()
    np.testing.assert_allclose(places[1:], [100, 200, 300, 300, 300, 300])
    basis = carried["childcare_places_basis"].values
    assert basis[0] == "" and basis[1] == "given in supply.csv (2021)"
    assert basis[2].startswith("interpolated between 2021") and "carried forward from 2023" in basis[4]
    trended = supply_by_year(table, years, after="trend", trend_years=3).sel(region="440000")
    # seats grew by exactly 10 % a year in 2021-2023: the trend keeps that pace
    np.testing.assert_allclose(trended["kindergarten_seats"].sel(year=[2024, 2026]),
                               [1210 * 1.1, 1210 * 1.1 ** 3])
    assert "+10.0 % a year" in str(trended["kindergarten_seats_basis"].sel(year=2025).item())
    # a count with two reference years trends over those two
    np.testing.assert_allclose(trended["childcare_places"].sel(year=2024), 300 * 3 ** 0.5)


def test_default_supply_table_flags_every_count(tmp_path):
    """The shipped table: national childcare places as published for 2022, 2024 and 2025,
    every count with a basis, provinces adding up to the nation."""
    import pandas as pd
    from forecast.core.paths import DATA_DIR
    table = pd.read_csv(DATA_DIR / "china_supply_provinces.csv", dtype={"region_code": str})
    published = pd.read_csv(DATA_DIR / "china_childcare_places_national_2021_2025.csv")
    published = published[(published["indicator"] == "childcare_places")
                          & (published["source_kind"] != "news_quoting_official")]
    nation = table[table["region_code"] == "000000"].set_index("reference_year")
    for year, value in zip(published["year"], published["value"]):
        assert nation.loc[year, "childcare_places"] == value * 1e4
        assert nation.loc[year, "childcare_places_basis"] == "published"
    counts = [c for c in table if c.startswith(("childcare", "kindergarten"))
              and not c.endswith("_basis")]
    for column in counts:
        basis = table[f"{column}_basis"]
        assert (basis.str.startswith(("published", "estimated: ")) | (basis == "not published")).all()
        assert (table[column].isna() == (basis == "not published")).all()
        sums = table[table["region_code"] != "000000"].groupby("reference_year")[column].sum(
            min_count=1)
        np.testing.assert_allclose(sums.dropna(), nation[column].dropna(), rtol=1e-5)
    assert "illustrative" not in " ".join(table.columns)


@pytest.mark.parametrize("age,per_caregiver", [(0, 3), (1, 5), (2, 7)])
def test_caregivers_follow_the_class_type_of_each_age(age, per_caregiver):
    """Children of one age only: caregivers = places / that class type's ratio (乳儿班 1:3,
    托小班 1:5, 托大班 1:7), for the need and for the standard's places."""
    pop = population(per_age_0_5=0.0)
    pop.loc[{"age": age}] = 2100.0
    out = demand_indicators(pop, standards(), supply())
    assert at(out["childcare_caregivers_need"]) == pytest.approx(2100 * 0.33 / per_caregiver)
    places = at(out["childcare_places_standard"])
    assert at(out["childcare_caregivers_standard"]) == pytest.approx(places / per_caregiver)


def test_staffing_ratios_are_checked():
    from forecast.core.options import Problems
    from forecast.planning.demand import DEMAND_OPTIONS
    cfg = standards()
    cfg["childcare"]["children_per_caregiver"]["by_age"] = {0: 3, 1: 0.5}
    problems = Problems()
    DEMAND_OPTIONS.check(cfg, "demand", problems, {"demand": cfg})
    assert any("children_per_caregiver.by_age" in line for line in problems.lines), problems.lines
