"""The projection core: accounting identity, ageing, births, clamping, vectorisation."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from forecast.core.draw_quantiles import quantiles_of
from forecast.demography.ccmpp import project
from forecast.demography.population_stream import population_total, young_population
from forecast.demography.graduation import AGES
from tests.conftest import make_population, make_rates

YEARS = np.arange(2020, 2023)
N = len(AGES)


def _totals(ds):
    pop = ds["population"].sum("age")
    start = pop.isel(year=slice(0, -1))
    end = pop.isel(year=slice(1, None)).assign_coords(year=start["year"])
    flows = (ds["births"] - ds["deaths"] + ds["net_migration"]).sel(year=start["year"])
    return start, end, flows


@settings(max_examples=40, deadline=None)
@given(pop=arrays(float, (2, 2, N), elements=st.floats(0, 1e5)),
       mx=arrays(float, (2, N), elements=st.floats(0, 2.0)),
       asfr=st.floats(0, 0.3), srb=st.floats(0.9, 1.2),
       mig=arrays(float, (2, N), elements=st.floats(-2e3, 2e3)))
def test_accounting_identity_holds_exactly(pop, mx, asfr, srb, mig):
    """P(t+1) = P(t) + B - D + M for every region, sex and step (M as applied)."""
    rates = make_rates(YEARS, regions=("a", "b"), asfr_level=asfr, srb=srb)
    rates["mx"] = rates["mx"] + xr.DataArray(mx, dims=("sex", "age"))
    rates["net_migration"] = rates["net_migration"] + xr.DataArray(mig, dims=("sex", "age"))
    ds = project(make_population(pop, regions=("a", "b")), **rates)
    start, end, flows = _totals(ds)
    np.testing.assert_allclose(end, start + flows, rtol=1e-10, atol=1e-6)
    assert float(ds["population"].min()) >= 0.0


def test_without_events_each_cohort_moves_up_one_age_unchanged():
    pop = make_population(np.arange(N, dtype=float) + 1.0)
    ds = project(pop, **make_rates(YEARS))
    for k in range(1, len(YEARS) + 1):
        after = ds["population"].isel(year=k, draw=0)
        np.testing.assert_array_equal(after.sel(age=slice(k, 99)).values,
                                      pop.sel(age=slice(0, 99 - k)).values)
        assert float(after.sel(age=slice(0, k - 1)).sum()) == 0.0
    # the open group collects everyone who reaches 100: ages 100-k ... 100 at the start
    last = ds["population"].isel(year=-1, draw=0).sel(age=100)
    np.testing.assert_array_equal(last.values, pop.sel(age=slice(100 - len(YEARS), 100)).sum("age").values)


def test_births_use_mean_exposure_and_split_by_sex_ratio():
    pop = make_population(1000.0)
    ds = project(pop, **make_rates(YEARS[:1], asfr_level=0.05, srb=1.05))
    # no deaths: women 15-49 at the end are those aged 14-48 at the start, all 1000 per age
    expected = 0.05 * 1000.0 * 35
    births = ds["births"].isel(year=0, draw=0).sel(region="a")
    np.testing.assert_allclose(float(births.sum()), expected)
    np.testing.assert_allclose(float(births.sel(sex="male") / births.sel(sex="female")), 1.05)
    np.testing.assert_allclose(ds["population"].isel(year=1, draw=0).sel(age=0).values.ravel(),
                               births.values.ravel())


def test_net_emigration_larger_than_a_cohort_is_clamped_and_reported():
    pop = make_population(np.where(AGES >= 95, 1.0, 100.0))
    rates = make_rates(YEARS, migration=-10.0)
    ds = project(pop, **rates)
    assert float(ds["population"].min()) >= 0.0
    clamped = float(ds["migration_clamped"].sum())
    assert clamped > 0
    applied = float(ds["net_migration"].sum())
    np.testing.assert_allclose(applied, float(rates["net_migration"].sum()) + clamped)


def test_regions_and_draws_are_projected_independently():
    """A two-region, three-draw call equals the one-region, one-draw calls stacked."""
    rng = np.random.default_rng(7)
    regions = ("a", "b")
    pop = make_population(rng.uniform(0, 1000, (2, 2, N)), regions=regions)
    rates = make_rates(YEARS, regions=regions, mx_level=0.01, migration=3.0)
    asfr = rates["asfr"] * xr.DataArray([0.02, 0.05, 0.08], dims="draw", coords={"draw": [0, 1, 2]})
    both = project(pop, **{**rates, "asfr": asfr})
    for r in regions:
        for d in range(3):
            single = project(pop.sel(region=[r]),
                             **{k: v.sel(region=[r]) for k, v in rates.items()} |
                             {"asfr": asfr.sel(region=[r], draw=[d])})
            np.testing.assert_allclose(both["population"].sel(region=r, draw=d).values,
                                       single["population"].isel(region=0, draw=0).values)


def test_births_total_rakes_regions_to_a_national_total():
    regions = ("a", "b")
    pop = make_population(500.0, regions=regions)
    rates = make_rates(YEARS, regions=regions, asfr_level=0.04, mx_level=0.01)
    calendar = np.append(YEARS, YEARS[-1] + 1)
    target = xr.DataArray([1000.0, 2000.0, 3000.0, 4000.0], dims="year", coords={"year": calendar})
    ds = project(pop, **rates, births_total=target)
    np.testing.assert_allclose(ds["births_calendar"].sum(("region", "sex")).sel(draw=0), target)
    # a step holds the second half of one calendar year's births and the first half of the next
    np.testing.assert_allclose(ds["births"].sum(("region", "sex")).sel(draw=0, year=YEARS),
                               [1500.0, 2500.0, 3500.0])


def test_rates_with_wrong_dims_are_refused():
    rates = make_rates(YEARS)
    with pytest.raises(ValueError, match="unexpected dims"):
        project(make_population(1.0), **{**rates, "srb": rates["srb"].expand_dims(sex=["female"])})


def test_calendar_births_and_deaths_equal_a_direct_hand_computation():
    """Births of calendar year Y = sum over ages of that year's ASFR x the women at 1 July Y;
    deaths = that year's death rates x the population at 1 July Y, both by sex with the year's
    sex ratio at birth; a step's births are half of each of the two years it overlaps."""
    rng = np.random.default_rng(3)
    pop = make_population(rng.uniform(100, 1000, (1, 2, N)))
    rates = make_rates(YEARS, asfr_level=0.04, mx_level=0.01)
    rates["asfr"] = rates["asfr"] * xr.DataArray([1.0, 1.5, 0.5, 2.0], dims="year",
                                                 coords={"year": rates["asfr"]["year"]})
    rates["srb"] = rates["srb"] + xr.DataArray([0.0, 0.02, 0.04, 0.06], dims="year",
                                               coords={"year": rates["srb"]["year"]})
    ds = project(pop, **rates)
    for year in rates["asfr"]["year"].values:
        women = ds["population"].sel(region="a", sex="female", year=year, draw=0)
        total = float((rates["asfr"].sel(region="a", year=year) * women).sum())
        male = total * float(rates["srb"].sel(region="a", year=year)) / (
            1 + float(rates["srb"].sel(region="a", year=year)))
        births = ds["births_calendar"].sel(region="a", year=year, draw=0)
        np.testing.assert_allclose(float(births.sel(sex="male")), male, rtol=1e-12)
        np.testing.assert_allclose(float(births.sum("sex")), total, rtol=1e-12)
        people = ds["population"].sel(region="a", year=year, draw=0)
        np.testing.assert_allclose(ds["deaths_calendar"].sel(region="a", year=year, draw=0),
                                   (rates["mx"].sel(region="a", year=year) * people).sum("age")
                                   .transpose("sex"), rtol=1e-12)
    steps = ds["births"].sel(region="a", draw=0, year=YEARS).sum("sex").values
    calendar = ds["births_calendar"].sel(region="a", draw=0).sum("sex").values
    np.testing.assert_allclose(steps, 0.5 * (calendar[:-1] + calendar[1:]), rtol=1e-12)


@settings(max_examples=40, deadline=None)
@given(pop=arrays(float, (3, 2, N), elements=st.floats(1e3, 1e5)),
       rate=arrays(float, (3, 2, N), elements=st.floats(-0.2, 0.2)),
       counts=arrays(float, (3, 2, N), elements=st.floats(-50, 50)),
       total=arrays(float, (2, N), elements=st.floats(-100, 100)))
def test_migration_rates_reconciled_to_a_total_keep_the_identity(pop, rate, counts, total):
    """Flows from rates of the population at the start of each step, plus counts, reconciled
    to a total at every sex and age: the regions' net migrants add up to the total in every
    step (less what could not be applied), and P(t+1) = P(t) + B - D + M holds."""
    regions = ("a", "b", "c")
    rates = make_rates(YEARS, regions=regions, asfr_level=0.05, mx_level=0.01)
    coords = {"region": list(regions), "sex": ["female", "male"], "age": AGES}
    rates["net_migration"] = rates["net_migration"] + xr.DataArray(
        counts, dims=("region", "sex", "age"), coords=coords)
    rate_da = xr.DataArray(rate, dims=("region", "sex", "age"),
                           coords=coords).expand_dims(year=YEARS)
    target = xr.DataArray(total, dims=("sex", "age"),
                          coords={k: coords[k] for k in ("sex", "age")}).expand_dims(year=YEARS)
    ds = project(make_population(pop, regions=regions), **rates, net_migration_rate=rate_da,
                 migration_total=target)
    start, end, flows = _totals(ds)
    np.testing.assert_allclose(end, start + flows, rtol=1e-10, atol=1e-6)
    # what was not applied (emigration beyond the persons present, rare: a region's share of
    # a reconciled total can exceed a small cohort) is reported, so applied - clamped = total
    applied = ds["net_migration"].sel(year=YEARS).sum("region").isel(draw=0)
    clamped = ds["migration_clamped"].sel(year=YEARS).sum("region").isel(draw=0)
    np.testing.assert_allclose(applied - clamped, target.sum("age").transpose("sex", "year"),
                               rtol=1e-9, atol=1e-6)


def test_float32_stays_within_a_millionth_of_float64(rates_factory, population_factory):
    """float32 halves the memory; over 15 steps of three regions with raking to a total and
    migration, its results stay within 2e-6 relative of float64's (about 10 ulps)."""
    rng = np.random.default_rng(3)
    regions = ("a", "b", "c")
    years = list(range(2020, 2035))
    rates = rates_factory(years, regions=regions, asfr_level=0.06, mx_level=0.01,
                          migration=25.0)
    population = population_factory(rng.uniform(1e4, 2e5, size=(3, 2, N)), regions=regions)
    total = rates["asfr"].isel(region=0, drop=True).sum("age") * 0 + 3.0e5
    results = {dt: project(population, **rates, births_total=total, dtype=dt)
               for dt in ("float64", "float32")}
    assert results["float32"]["population"].dtype == np.float32
    for name in ("population", "births_calendar", "deaths_calendar"):
        wide, narrow = (results[dt][name].astype(float) for dt in ("float64", "float32"))
        np.testing.assert_allclose(narrow, wide, rtol=2e-6, atol=1e-3, err_msg=name)


@pytest.mark.parametrize("seed", [0, 1])
def test_a_streamed_population_keeps_the_quantiles_totals_and_young_ages_of_every_draw(seed):
    """Streaming (two years' state held) gives, bit for bit, the quantiles over draws of
    the population kept draw by draw, its totals (sexes, then ages) and its youngest ages;
    the flows are the same arrays."""
    rng = np.random.default_rng(seed)
    regions, draws = ("a", "b", "c"), 40
    years = np.arange(2020, 2026)
    rates = make_rates(years, regions=regions, mx_level=0.01, migration=30.0)
    level = xr.DataArray(rng.uniform(0.02, 0.09, draws), dims="draw",
                         coords={"draw": np.arange(draws)})
    rates["asfr"] = rates["asfr"] * level
    population = make_population(rng.uniform(0, 5e4, (3, 2, N)), regions=regions)
    probs = [0.5, 0.1, 0.9, 0.025, 0.975]
    kept = project(population, **rates)
    streamed = project(population, **rates, population_quantiles=probs, young_ages=6)
    expected = quantiles_of(kept["population"], probs).transpose(*streamed["population"].dims)
    xr.testing.assert_equal(streamed["population"], expected)
    np.testing.assert_array_equal(population_total(streamed), population_total(kept))
    assert population_total(streamed).dims == ("region", "year", "draw")
    young = young_population(streamed)
    assert young.sizes["age"] == 6
    xr.testing.assert_equal(young, kept["population"].sel(age=slice(0, 5)).transpose(
        *young.dims))
    for name in ("births", "deaths", "net_migration", "births_calendar", "deaths_calendar"):
        assert streamed[name].identical(kept[name]), name


def test_a_single_draw_is_not_streamed():
    """With one draw the quantiles would only repeat it: the population is kept as it is."""
    rates = make_rates(YEARS, mx_level=0.01)
    ds = project(make_population(100.0), **rates, population_quantiles=[0.5], young_ages=6)
    assert "draw" in ds["population"].dims and "population_young" not in ds


def test_progress_is_reported_after_every_step():
    calls = []
    project(make_population(100.0), **make_rates(YEARS, mx_level=0.01),
            progress=lambda done, steps: calls.append((done, steps)))
    assert calls == [(k, len(YEARS)) for k in range(1, len(YEARS) + 1)]
