"""The compiled step against the whole-array NumPy reference step, to 1e-12: regions x draws,
migration by counts, rates and a reconciled total, births raked by sex, migration between
regions, clamping; and bit-identical results from run to run."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import xarray as xr

from forecast.demography.ccmpp import project
from forecast.demography.graduation import AGES
from tests.conftest import make_population, make_rates

YEARS = list(range(2020, 2030))
REGIONS = ("a", "b", "c", "d")
DRAWS = 6
N = len(AGES)


def _draws(da: xr.DataArray, rng, spread: float) -> xr.DataArray:
    """``da`` with a draw dim, each draw scaled by its own factor around 1."""
    factor = xr.DataArray(np.exp(rng.normal(0.0, spread, DRAWS)), dims="draw",
                          coords={"draw": np.arange(DRAWS)})
    return da * factor


def _inputs(seed: int, uncertain_migration: bool) -> tuple[xr.DataArray, dict]:
    """Four regions with their own draws of fertility and mortality, migration from counts,
    rates and a national total (with draws where ``uncertain_migration``), births raked to
    a total by sex, and migration between the regions that nets to zero."""
    rng = np.random.default_rng(seed)
    rates = make_rates(YEARS, regions=REGIONS, asfr_level=0.05, mx_level=0.01)
    rates["asfr"] = _draws(rates["asfr"], rng, 0.1)
    rates["mx"] = _draws(rates["mx"], rng, 0.1)
    coords = {"region": list(REGIONS), "sex": ["female", "male"], "age": AGES}
    counts = xr.DataArray(rng.normal(0, 40, (len(REGIONS), 2, N)), dims=("region", "sex", "age"),
                          coords=coords)
    rates["net_migration"] = rates["net_migration"] + counts
    rate = xr.DataArray(rng.normal(0, 0.01, (len(REGIONS), 2, N)),
                        dims=("region", "sex", "age"), coords=coords).expand_dims(year=YEARS)
    total = xr.DataArray(rng.normal(0, 100, (2, N)), dims=("sex", "age"),
                         coords={k: coords[k] for k in ("sex", "age")}
                         ).expand_dims(year=YEARS)
    if uncertain_migration:
        rate = _draws(rate, rng, 0.3)
        total = _draws(total, rng, 0.3)
    swap = rng.normal(0, 30, (len(REGIONS), 2, N))
    exchange = xr.DataArray(swap - swap.mean(0), dims=("region", "sex", "age"), coords=coords)
    calendar = YEARS + [YEARS[-1] + 1]
    births = xr.DataArray(rng.uniform(2e3, 3e3, (len(calendar), 2)), dims=("year", "sex"),
                          coords={"year": calendar, "sex": ["female", "male"]})
    population = make_population(rng.uniform(0, 5e3, (len(REGIONS), 2, N)), regions=REGIONS)
    # a few tiny cohorts that the emigration takes below zero: clamped
    population[0, 0, 80:] = 0.5
    options = dict(net_migration_rate=rate, migration_total=total, exchange=exchange,
                   births_total=births, keep_migration_of=["b"])
    return population, {**rates, **options}


@pytest.mark.parametrize("uncertain_migration", [False, True])
def test_compiled_step_equals_the_reference_step(uncertain_migration):
    population, inputs = _inputs(11, uncertain_migration)
    compiled = project(population, **inputs)
    reference = project(population, **inputs, reference=True)
    assert float(compiled["migration_clamped"].sum()) > 0.0  # the clamps were exercised
    assert compiled["population"].sizes["draw"] == DRAWS
    for name, values in reference.data_vars.items():
        np.testing.assert_allclose(compiled[name], values, rtol=1e-12, atol=1e-9,
                                   err_msg=name)


def test_a_deterministic_nation_equals_the_reference_step():
    rates = make_rates(YEARS, asfr_level=0.06, mx_level=0.02, migration=-15.0)
    population = make_population(np.linspace(2e4, 1e2, N))
    compiled, reference = (project(population, **rates, reference=r) for r in (False, True))
    for name, values in reference.data_vars.items():
        np.testing.assert_allclose(compiled[name], values, rtol=1e-12, atol=1e-9,
                                   err_msg=name)


def test_compiled_results_are_bit_identical_from_run_to_run():
    population, inputs = _inputs(5, True)
    first, second = (project(population, **inputs) for _ in range(2))
    for name, values in first.data_vars.items():
        np.testing.assert_array_equal(second[name].values, values.values, err_msg=name)


def test_projections_from_several_threads_give_the_numbers_of_one_thread():
    """The compiled loops run one at a time (a lock): projections started from three
    threads at once give the numbers they give one after another."""
    inputs = [_inputs(seed, True) for seed in (1, 2, 3)]
    alone = [project(population, **rates) for population, rates in inputs]
    together: dict[int, xr.Dataset] = {}

    def run(k):
        together[k] = project(inputs[k][0], **inputs[k][1])

    threads = [threading.Thread(target=run, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k, expected in enumerate(alone):
        xr.testing.assert_identical(together[k], expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_migrants_reconciled_to_a_total_equal_the_whole_array_reference_bit_for_bit(seed):
    """The compiled reconciliation equals the whole-array NumPy reference exactly, where
    migrants are shared by their size and where no region has any (shared by population),
    and the regions then add up to the total."""
    from forecast.demography.ccmpp import reconcile_reference
    from forecast.demography.compiled_step import reconciled

    rng = np.random.default_rng(seed)
    shape = (5, DRAWS, 2, N)  # region, draw, sex, age
    P = rng.uniform(0.0, 1e4, shape)
    mig = rng.normal(0.0, 50.0, shape)
    mig[:, :, :, :3] = 0.0  # no region has migrants at ages 0-2
    total = rng.normal(0.0, 100.0, shape[1:])
    got = reconciled(mig, P, total)
    assert np.array_equal(got, reconcile_reference(mig, P, total))
    np.testing.assert_allclose(got.sum(0), total, rtol=1e-9, atol=1e-6)
    shared = np.broadcast_to((total / P.sum(0))[None, :, :, :3], (5, DRAWS, 2, 3))
    np.testing.assert_allclose(got[:, :, :, :3] / P[:, :, :, :3], shared, rtol=1e-9)
