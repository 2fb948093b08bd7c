"""Provincial fertility levels and net migration from the provinces' published series."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr
from hydra.utils import instantiate
from omegaconf import OmegaConf

from forecast.demography.ccmpp import project
from forecast.data import NATION_CODE, PROVINCES, load_china_census
from forecast.core.errors import InputError
from forecast.demography.graduation import AGES
from forecast.core.paths import CONFIG_DIR as CONFIGS
CONFIG_DIR = Path(CONFIGS)
from forecast.projection.project import project_inputs
from forecast.demography.provincial_history import (indirect_standardisation, level_factor, net_migration_residual,
                                                    reconcile, survive_back)
from forecast.demography.subnational import child_woman_ratio_factor
from forecast.core.variables import SEXES

from tests.conftest import make_population, make_rates

YEARS = [2018, 2019]


def _by_region(values, regions, dims, coords):
    return xr.DataArray(np.asarray(values, dtype=float), dims=dims,
                        coords={"region": regions} | coords)


def test_indirect_standardisation_two_provinces_by_hand():
    """Two provinces, two ages, one year: expected births = national ASFR x women, factor =
    (observed / expected) over the same ratio for their sum."""
    asfr = xr.DataArray([[0.10], [0.05]], dims=("age", "year"),
                        coords={"age": [25, 35], "year": [2019]})
    women = _by_region([[[1000.0], [3000.0]], [[4000.0], [1000.0]]], ["a", "b"],
                       ("region", "age", "year"), {"age": [25, 35], "year": [2019]})
    births = _by_region([[200.0], [300.0]], ["a", "b"], ("region", "year"), {"year": [2019]})
    out = indirect_standardisation(births, women, asfr)
    # a: 0.1*1000 + 0.05*3000 = 250 expected; b: 0.1*4000 + 0.05*1000 = 450 expected
    assert out["expected"].sel(year=2019).values.tolist() == pytest.approx([250.0, 450.0])
    national = 500.0 / 700.0
    assert out["factor"].sel(year=2019).values == pytest.approx([0.8 / national, (300 / 450) / national])
    # the crude ratio of births per woman would rank them the other way round
    assert 200 / 4000 < 300 / 5000 and out["factor"].sel(region="a") > out["factor"].sel(region="b")


def test_a_province_identical_to_the_nation_has_factor_one():
    """Province a is 30 % of the nation at every age and in births: factor 1, whatever the
    other provinces do."""
    rng = np.random.default_rng(7)
    ages, years = np.arange(15, 50), [2017, 2018, 2019]
    others = rng.uniform(1e3, 1e5, (2, len(ages), len(years)))
    other_births = rng.uniform(1e3, 1e4, (2, len(years)))
    women = np.concatenate([0.3 / 0.7 * others.sum(0, keepdims=True), others])
    births = np.concatenate([0.3 / 0.7 * other_births.sum(0, keepdims=True), other_births])
    asfr = xr.DataArray(rng.uniform(0.0, 0.1, (len(ages), len(years))), dims=("age", "year"),
                        coords={"age": ages, "year": years})
    coords = {"age": ages, "year": years}
    out = indirect_standardisation(
        _by_region(births, ["a", "b", "c"], ("region", "year"), {"year": years}),
        _by_region(women, ["a", "b", "c"], ("region", "age", "year"), coords), asfr)
    np.testing.assert_allclose(out["factor"].sel(region="a"), 1.0, rtol=1e-12)
    assert not np.allclose(out["factor"].sel(region="b"), 1.0)


def test_a_province_missing_in_a_year_gets_no_factor_for_it():
    women = _by_region(np.ones((3, 1, 2)), ["a", "b", "c"], ("region", "age", "year"),
                       {"age": [30], "year": [2018, 2019]})
    births = _by_region([[1.0, np.nan], [1.0, 2.0], [1.0, 1.0]], ["a", "b", "c"],
                        ("region", "year"), {"year": [2018, 2019]})
    asfr = xr.DataArray([[1.0, 1.0]], dims=("age", "year"), coords={"age": [30], "year": [2018, 2019]})
    factor = indirect_standardisation(births, women, asfr)["factor"]
    assert factor.sel(year=2018).values.tolist() == pytest.approx([1.0, 1.0, 1.0])
    # 2019: relative to b and c only (3 births for 2 expected)
    assert np.isnan(factor.sel(region="a", year=2019))
    assert factor.sel(region=["b", "c"], year=2019).values.tolist() == pytest.approx([4 / 3, 2 / 3])


def test_level_factor_mean_and_trend():
    history = _by_region([[np.nan, 1.0, 1.2, 1.4]], ["a"], ("region", "year"),
                         {"year": [2016, 2017, 2018, 2019]})
    assert float(level_factor(history, 3).item()) == pytest.approx(1.2)
    assert float(level_factor(history, 2).item()) == pytest.approx(1.3)
    # the line through 2017-2019 reaches 1.6 in 2020
    assert float(level_factor(history, 3, trend=True, at_year=2020).item()) == pytest.approx(1.6)


def test_zero_change_and_zero_natural_increase_gives_zero_net_migration():
    """Province z: constant population, births = deaths. Its residual is zero and stays zero
    after the provinces are reconciled to a national total their residuals miss."""
    years = [2015, 2016, 2017, 2018]
    mid = _by_region([[100.0, 100, 100, 100], [50, 55, 61, 60], [80, 76, 70, 71]],
                     ["z", "p", "q"], ("region", "year"), {"year": years})
    births = _by_region([[3.0, 2, 4, 1], [1, 1, 1, 1], [2, 2, 2, 2]], ["z", "p", "q"],
                        ("region", "year"), {"year": years})
    deaths = births.copy(data=births.values.copy())
    deaths.loc[{"region": ["p", "q"]}] = 0.5
    residual = net_migration_residual(mid, births, deaths)
    assert residual.sel(region="z").values.tolist() == [0.0, 0.0, 0.0]
    # p gains 5, 6, -1 less its natural increase of 0.5 a step
    assert residual.sel(region="p").values.tolist() == pytest.approx([4.5, 5.5, -1.5])
    national = xr.DataArray([-3.0, 2.0, 7.0], dims="year", coords={"year": years[:-1]})
    net = reconcile(residual, national)
    assert net.sel(region="z").values.tolist() == [0.0, 0.0, 0.0]
    np.testing.assert_allclose(net.sum("region"), national, rtol=1e-12)


def test_survive_back_then_forward_gives_the_base_population():
    """Surviving a population back k years and projecting it forward k steps with the same
    death rates, no births and no migration returns it (ages k ... 98)."""
    rng = np.random.default_rng(3)
    base = make_population(rng.uniform(100, 1000, (2, len(SEXES), len(AGES))), regions=("a", "b"))
    mx = xr.DataArray(np.full((len(SEXES), len(AGES)), 0.01) + 0.001 * AGES / 10,
                      dims=("sex", "age"), coords={"sex": list(SEXES), "age": AGES})
    k = 4
    back = survive_back(base, mx, 2020, np.array([2020 - k])).isel(year=0, drop=True)
    steps = np.arange(2020 - k, 2020)
    rates = make_rates(steps, regions=("a", "b"))
    rates["mx"] = rates["mx"] * 0 + mx
    forward = project(back, **rates)["population"].sel(year=2020).isel(draw=0, drop=True)
    np.testing.assert_allclose(forward.sel(age=slice(k, 98)), base.sel(age=slice(k, 98)),
                               rtol=1e-10)


def test_age_standardised_child_woman_ratio():
    """Region b has twice a's women at every age and twice its children: factor 1, even
    though its women are older; region c has the nation's women but half the children."""
    values = np.zeros((3, len(SEXES), len(AGES)))
    values[:, :, :5] = [[[10.0]], [[20.0]], [[5.0]]]
    values[:, 0, 20:35] = [[100.0], [200.0], [100.0]]
    values[1, 0, 35:40] = 0.0
    population = make_population(values, regions=("000000", "b", "c"))
    asfr = xr.DataArray(np.where((AGES >= 20) & (AGES < 35), 0.1, 0.0), dims="age",
                        coords={"age": AGES})
    factor = child_woman_ratio_factor(population, asfr, "000000")
    assert factor.values.tolist() == pytest.approx([1.0, 1.0, 0.5])


@pytest.fixture(scope="module")
def census_inputs():
    return load_china_census()


def test_default_data_factors_and_method(census_inputs):
    """Every province has observed births 2005-2019 and census children: each level
    combines both (the state-space model), and the ranking of provinces is the known one."""
    report = {r["region"]: r for r in census_inputs.provincial_report}
    assert set(report) == set(PROVINCES)
    assert all(r["fertility_method"].startswith("published births and the census")
               for r in report.values())
    factor = census_inputs["fertility_factor"]
    assert float(factor.sel(region=NATION_CODE)) == 1.0
    # in the census, Shanghai and the north-east have the lowest fertility; Guangxi high
    low = factor.sortby(factor).region.values[:5]
    assert {"310000", "230000", "220000"} <= set(low)
    assert float(factor.sel(region="450000")) > 1.2


def _trend_model(**overrides):
    """The default provincial migration (one draw unless ``draws`` says otherwise)."""
    return instantiate(OmegaConf.merge(
        OmegaConf.load(CONFIG_DIR / "migration" / "provincial_trend.yaml"),
        {"random_seed": 7, **overrides}))


def test_trend_migration_keeps_observed_steps_then_applies_recent_rates(census_inputs):
    steps = np.arange(2020, 2035)
    out = _trend_model(exchange_years=None, dynamics="recent_mean").rates(census_inputs,
                                                                          steps)
    counts, rates = out["net_migration"], out["net_migration_rate"]
    observed = census_inputs["province_net_migration"]
    last = int(observed["migration_step"].max())
    # observed steps: the estimated counts, no rates
    np.testing.assert_allclose(
        counts.sel(year=slice(None, last), region=list(PROVINCES)).sum(("sex", "age")),
        observed.sel(migration_step=slice(2020, last), region=list(PROVINCES)), rtol=1e-9)
    assert float(np.abs(rates.sel(year=slice(None, last))).max()) == 0.0
    assert float(np.abs(counts.sel(region=NATION_CODE)).max()) == 0.0  # NBS: none abroad
    national = census_inputs["net_migration_total"].sel(region=NATION_CODE)
    wpp = _trend_model(exchange_years=None, national="wpp").rates(census_inputs, steps)
    assert float(wpp["net_migration"].sel(region=NATION_CODE, year=2030).sum()) == pytest.approx(
        float(national.sel(year=2023)))
    # later steps: the mean rate of the last five observed steps, by age per the schedule
    recent = census_inputs["province_net_migration_rate"].isel(migration_step=slice(-5, None))
    population = census_inputs["population"].sel(region=list(PROVINCES))
    implied = (rates.sel(year=2030, region=list(PROVINCES)) * population).sum(("sex", "age"))
    np.testing.assert_allclose(implied / population.sum(("sex", "age")),
                               recent.sel(region=list(PROVINCES)).mean("migration_step"),
                               rtol=1e-9)
    assert float(rates.sel(region="330000", year=2030).sum()) > 0
    assert float(rates.sel(region="230000", year=2030).sum()) < 0


def test_trend_migration_by_default_reverts_from_the_last_level(census_inputs):
    """The default dynamics: each province's total rate k steps after the last observed one
    is its fitted level there times ρ^k (rate_levels), which lies near its last observed
    rate; Zhejiang still gains and Jilin still loses in the first forecast step."""
    steps = np.arange(2020, 2035)
    model = _trend_model(exchange_years=None)
    rates = model.rates(census_inputs, steps)["net_migration_rate"]
    observed = census_inputs["province_net_migration_rate"].sel(region=list(PROVINCES))
    last = int(observed["migration_step"].max())
    population = census_inputs["population"].sel(region=list(PROVINCES))
    fit = model.fit
    for step in (last + 1, 2030):
        implied = (rates.sel(year=step, region=list(PROVINCES)) * population).sum(("sex", "age"))
        np.testing.assert_allclose(implied / population.sum(("sex", "age")),
                                   fit["level"] * fit["rho"] ** (step - last), rtol=1e-9)
    np.testing.assert_allclose(fit["level"], observed.sel(migration_step=last),
                               atol=2 * fit["level_sd"].max() + 1e-12)
    assert float(rates.sel(region="330000", year=last + 1).sum()) > 0
    assert float(rates.sel(region="220000", year=last + 1).sum()) < 0
    assert model.diagnostics["rate_reverting_level"]["rho"] == pytest.approx(fit["rho"],
                                                                             abs=1e-4)


def test_stock_exchange_moves_people_between_ages_and_regions_only():
    """The turnover of migrant stocks sums to zero over regions at every age and over ages in
    every region; destinations (more than their share of the stock) gain young adults and
    lose older ones, and a region holding exactly its share has none."""
    from forecast.models.migration.net_migrants import rogers_castro
    from forecast.demography.provincial_history import stock_age_pattern, stock_exchange

    arrivals = rogers_castro(AGES, 0.02, 0.1, 0.06, 0.1, 20.0, 0.4, 0.003)
    stock = xr.DataArray([8e6, 1e6, 3e6], dims="region", coords={"region": ["d", "o", "n"]})
    population = xr.DataArray([2e7, 5.5e7, 2.5e7], dims="region",
                              coords={"region": ["d", "o", "n"]})
    flows = stock_exchange(stock, population, arrivals, 8.0)
    np.testing.assert_allclose(flows.sum("region"), 0.0, atol=1e-6)
    np.testing.assert_allclose(flows.sum("age"), 0.0, atol=1e-6)
    assert float(np.abs(flows.sel(region="n")).max()) < 1e-6  # 12 % of both stock and people
    assert float(flows.sel(region="d", age=22)) > 0 > float(flows.sel(region="d", age=50))
    assert float(flows.sel(region="o", age=22)) < 0 < float(flows.sel(region="o", age=50))
    # the gross turnover is the excess stock over the years of stay
    gross = flows.sel(region="d").clip(min=0).sum()
    assert float(gross) < (8e6 - 2e7 * 12e6 / 1e8) / 8.0
    # a stock that never leaves is older than its arrivals; one that leaves at once is not
    mean_age = lambda p: float((p * AGES).sum())  # noqa: E731
    assert mean_age(stock_age_pattern(arrivals, 20.0)) > mean_age(stock_age_pattern(arrivals, 2.0))
    np.testing.assert_allclose(stock_age_pattern(arrivals, 1.0 + 1e-12), arrivals / arrivals.sum(),
                               atol=1e-9)


def test_exchange_keeps_observed_totals_and_brings_young_adults_to_destinations(census_inputs):
    steps = np.arange(2020, 2035)
    with_exchange = _trend_model().rates(census_inputs, steps)
    without = _trend_model(exchange_years=None).rates(census_inputs, steps)
    population = census_inputs["population"].sel(region=list(PROVINCES))
    extra = (with_exchange["net_migration_rate"] - without["net_migration_rate"]).sel(
        region=list(PROVINCES))
    # net zero within every province on the base population, at every step
    np.testing.assert_allclose((extra * population).sum(("sex", "age")), 0.0, atol=1e-3)
    beijing = (extra * population).sel(region="110000", year=2030).sum("sex")
    assert float(beijing.sel(age=slice(18, 26)).sum()) > 0 > float(beijing.sel(age=slice(35, 60)).sum())
    henan = (extra * population).sel(region="410000", year=2030).sum("sex")
    assert float(henan.sel(age=slice(18, 26)).sum()) < 0


def test_decay_takes_the_provinces_rates_to_zero(census_inputs):
    steps = np.arange(2020, 2035)
    rates = _trend_model(decay_years=5, exchange_years=None).rates(census_inputs, steps)["net_migration_rate"]
    held = _trend_model(exchange_years=None).rates(census_inputs, steps)["net_migration_rate"]
    last = int(census_inputs["province_net_migration"]["migration_step"].max())
    ratio = (rates / held.where(held != 0)).sel(region="230000")
    # linear decay: 4/5 of the rate one step after the last observed one, none after five
    assert float(ratio.sel(year=last + 1).max()) == pytest.approx(0.8)
    assert float(np.abs(rates.sel(year=slice(last + 5, None))).max()) == 0.0
    half = _trend_model(scale=0.5, exchange_years=None).rates(census_inputs, steps)["net_migration_rate"]
    np.testing.assert_allclose(half, 0.5 * held, rtol=1e-12)


def test_provinces_add_up_in_every_draw_with_migration(census_inputs):
    """A projection with draws of fertility and of provincial migration rates: population,
    births (by sex, although every province has its own sex ratio at birth) and net
    migration of the provinces add up to the nation's in every draw."""
    srb = census_inputs["srb"].isel(year=-1).sel(region=list(PROVINCES))
    assert float(srb.max() - srb.min()) > 0.1  # census 2020: 105 to 122 boys per 100 girls
    fertility = instantiate(OmegaConf.merge(
        OmegaConf.load(CONFIG_DIR / "fertility" / "constant_tfr.yaml"),
        {"draws": 8, "random_seed": 5}))
    migration = _trend_model(draws=8)
    mortality = instantiate(OmegaConf.load(CONFIG_DIR / "mortality" / "constant.yaml"))
    result = project_inputs(census_inputs, fertility, mortality, migration, 2035)
    provinces = result.sel(region=list(PROVINCES)).sum("region", skipna=False)
    nation = result.sel(region=NATION_CODE)
    for name in ("population", "births_calendar", "net_migration"):
        np.testing.assert_allclose(provinces[name], nation[name], rtol=1e-9, atol=1e-3)
    assert float(result["migration_clamped"].sum()) == 0.0
    # the draws differ in their migration rates, and in the flows that follow them
    flows = result["net_migration"].sel(region="230000", year=2034).sum("sex")
    population = result["population"].sel(region="230000", year=2034).sum(("sex", "age"))
    assert float((flows / population).std("draw")) > 1e-4  # per person per step


def test_default_data_meet_the_published_provincial_populations(census_inputs):
    """The observed steps' migration brings every province to its published year-end
    population of 2020-2022 within the planners' tolerance (1 %; 2021 within 0.5 %)."""
    from forecast.models.fertility.constant import ConstantFertility
    from forecast.models.mortality.lee_carter import LeeCarterMortality
    from forecast.models.migration.net_migrants import ProvincialTrendMigration
    from forecast.projection.observed_check import provincial_comparison

    result = project_inputs(census_inputs, ConstantFertility(), LeeCarterMortality(draws=1),
                            ProvincialTrendMigration(), 2024)
    table = provincial_comparison(result, census_inputs)["population_yearend"]
    assert set(table) == set(PROVINCES)
    worst = {year: max(abs(row[year]["difference_percent"]) for row in table.values())
             for year in ("2020", "2021", "2022")}
    assert all(row[y]["within_tolerance"] for row in table.values() for y in worst), worst
    assert worst["2021"] < 0.5, worst


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _drop_lines(path, unwanted) -> None:
    """Rewrite ``path`` without the lines for which ``unwanted(line)`` is true."""
    lines = path.read_text(encoding="utf-8").splitlines()
    _write(path, "\n".join(line for line in lines if not unwanted(line)) + "\n")


def test_unknown_province_code_names_file_column_and_row(data_dir):
    path = data_dir / "china_nbs_province_observed.csv"
    with path.open("a", encoding="utf-8") as f:
        f.write('990000,2019,crude_birth_rate,10,"per 1,000 population",test\n')
    with pytest.raises(InputError) as err:
        load_china_census(data_dir=data_dir)
    text = str(err.value)
    assert "china_nbs_province_observed.csv" in text and "region" in text
    assert "990000" in text and "row 1149" in text


def test_birth_rate_without_population_is_refused(data_dir):
    path = data_dir / "china_nbs_province_observed.csv"
    with path.open("a", encoding="utf-8") as f:
        f.write('110000,2023,crude_birth_rate,6.0,"per 1,000 population",test\n')
    with pytest.raises(InputError, match=r"population_yearend_total rows of region 110000 "
                                         r"for 2022 and 2023"):
        load_china_census(data_dir=data_dir)


def test_a_gap_in_a_population_series_is_refused(data_dir):
    _drop_lines(data_dir / "china_nbs_province_observed.csv",
                lambda line: line.startswith("310000,2012,population_yearend_total"))
    with pytest.raises(InputError, match=r"310000.*these are missing"):
        load_china_census(data_dir=data_dir)


def test_a_newly_published_year_extends_the_history(data_dir):
    """A user adds 2023 year-end populations (here: 2022's, unchanged): the migration history
    gains the step from mid-2022, whose residual is the natural decrease put back."""
    path = data_dir / "china_nbs_province_observed.csv"
    rows = [line for line in path.read_text(encoding="utf-8").splitlines()
            if ",2022,population_yearend_total," in line]
    assert len(rows) == len(PROVINCES)
    with path.open("a", encoding="utf-8") as f:
        f.write("\n".join(r.replace(",2022,", ",2023,", 1) for r in rows) + "\n")
    before = load_china_census()["province_net_migration"]
    after = load_china_census(data_dir=data_dir)["province_net_migration"]
    assert int(after["migration_step"].max()) == int(before["migration_step"].max()) + 1
    np.testing.assert_allclose(after.sel(migration_step=before["migration_step"]), before,
                               rtol=1e-9, atol=1e-6)
    assert float(np.abs(after.isel(migration_step=-1)).sum()) > 0


def test_migrant_stock_file_is_checked(data_dir):
    path = data_dir / "china_census2020_province_migrants.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace(",8418418,", ",99999999,")  # Beijing: more migrants than people
    path.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")  # and Xinjiang missing
    with pytest.raises(InputError) as err:
        load_china_census(data_dir=data_dir)
    text = str(err.value)
    assert "china_census2020_province_migrants.csv" in text
    assert "migrants_from_other_provinces" in text and "row 3" in text and "99999999" in text


def test_a_province_without_populations_is_refused(data_dir):
    _drop_lines(data_dir / "china_nbs_province_observed.csv",
                lambda line: line.startswith("460000,") and "population_yearend" in line)
    with pytest.raises(InputError, match=r"region.*460000.*population_yearend_total rows for "
                                         r"every province"):
        load_china_census(data_dir=data_dir)


def test_a_province_without_births_falls_back_on_the_census(data_dir):
    _drop_lines(data_dir / "china_nbs_province_observed.csv",
                lambda line: line.startswith("540000,") and "population_yearend" not in line)
    inputs = load_china_census(data_dir=data_dir)
    report = {r["region"]: r for r in inputs.provincial_report}
    assert report["540000"]["fertility_method"] == "census age-0 count"
    # without a series the census value carries (almost) all the weight: the prior is the
    # stationary spread of the levels, sd above 0.2, against the census error's 0.02-0.05
    assert float(inputs["fertility_level_census_weight"].sel(region="540000")) > 0.95
    assert float(inputs["fertility_factor"].sel(region="540000")) == pytest.approx(
        report["540000"]["census_age_0_factor"], rel=0.02)
    assert report["110000"]["fertility_method"].startswith("published births")
    # the level of the series alone falls back on the census child-woman ratio
    series = load_china_census(data_dir=data_dir, provincial={"level": "series_mean"})
    report = {r["region"]: r for r in series.provincial_report}
    assert report["540000"]["fertility_method"].startswith("census child-woman ratio")
    assert float(series["fertility_factor"].sel(region="540000")) == pytest.approx(
        report["540000"]["child_woman_ratio_factor"], abs=1e-4)
    # the others keep their own births, relative to each other
    assert report["110000"]["fertility_method"].startswith("indirect")


def test_user_net_migrants_file(tmp_path, census_inputs):
    rows = ["region_code,year,net_migrants"]
    years = range(2020, 2026)
    for code in PROVINCES:
        rows += [f"{code},{y},{1000 if code == '440000' else -10}" for y in years]
    path = _write(tmp_path / "migrants.csv", "\n".join(rows) + "\n")
    cfg = OmegaConf.merge(OmegaConf.load(CONFIG_DIR / "migration" / "file.yaml"),
                          {"path": str(path)})
    flows = instantiate(cfg).rates(census_inputs, np.arange(2020, 2025))["net_migration"].sum(("sex", "age"))
    assert float(flows.sel(region="440000", year=2022)) == pytest.approx(1000.0)
    assert float(flows.sel(region=NATION_CODE, year=2022)) == pytest.approx(1000.0 - 300.0)
    # a national row that is not the provinces' sum, and a missing year, are refused
    _write(path, "\n".join(rows + ["000000,2020,5000"]) + "\n")
    with pytest.raises(InputError, match=r"net_migrants.*row 188.*sum of the regions"):
        instantiate(cfg).rates(census_inputs, np.arange(2020, 2025))
    _write(path, "\n".join(r for r in rows if not r.startswith("110000,2023")) + "\n")
    with pytest.raises(InputError, match=r"region 110000 for every year 2020-2025"):
        instantiate(cfg).rates(census_inputs, np.arange(2020, 2025))


def test_user_net_migrants_file_for_a_single_region(tmp_path):
    """data=wpp: the file holds the one region's rows, spread over sex and age."""
    from forecast.data import load_wpp

    inputs = load_wpp(region="JPN", base_year=2015)
    path = _write(tmp_path / "jpn.csv", "region_code,year,net_migrants\n"
                  + "".join(f"JPN,{y},{100_000 + 1000 * (y - 2015)}\n" for y in range(2015, 2021)))
    cfg = OmegaConf.merge(OmegaConf.load(CONFIG_DIR / "migration" / "file.yaml"),
                          {"path": str(path)})
    flows = instantiate(cfg).rates(inputs, np.arange(2015, 2020))["net_migration"].sum(("sex", "age"))
    # a step takes the mean of its two calendar years
    assert float(flows.sel(region="JPN", year=2016)) == pytest.approx(101_500.0)


def test_the_reverting_level_needs_three_observed_steps(census_inputs):
    """Two observed steps give each province one change of its rate, no scale: the run stops
    naming the option and the way out."""
    rates = census_inputs["province_net_migration_rate"]
    short = census_inputs.replace(arrays=census_inputs.arrays.assign(
        province_net_migration_rate=rates.isel(migration_step=slice(-2, None))))
    with pytest.raises(InputError, match="migration.dynamics: got 'reverting_level' with 2 "
                                         "observed steps.*recent_mean"):
        _trend_model(exchange_years=None).rates(short, np.arange(2020, 2035))
