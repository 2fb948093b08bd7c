"""The Bayesian TFR model on a pool with China's official series: series that end in
different years, measurement errors on the revised years, and a year of births the user
adds to the observed file."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from forecast.core.paths import DATA_DIR
from forecast.data import load_china_census
from forecast.models.fertility.bayes import HierarchicalTFR, dragon_term_needed, error_cells
from forecast.models.fertility.baseline import RandomWalkDrift
from forecast.models.fertility.trajectory import tfr_pool
from forecast.testing import YEARS, simulate_dragon_pool

#: NBS's births of 2024 (Statistical Communiqué 2024: 9.54 million), a year of the dragon
#: after 9.02 million in 2023: a year a user adds to the observed file.
BIRTHS_2024 = 9_540_000


def test_series_that_end_early_enter_only_with_their_observed_changes():
    pool, _ = simulate_dragon_pool(0)
    ragged = pool.copy()
    ragged.loc[{"pool_region": "JPN", "year": [2021, 2022]}] = np.nan
    regions = [str(r) for r in pool["pool_region"].values]
    model = HierarchicalTFR().build(np.log(ragged.values), regions)
    # each series contributes its changes after the first (the model conditions on it)
    assert model["change"].eval().size == len(regions) * (len(YEARS) - 2) - 2
    assert not np.isnan(model.compile_logp()(model.initial_point()))


def test_measurement_errors_are_latent_only_where_marked():
    pool, _ = simulate_dragon_pool(0)
    regions = [str(r) for r in pool["pool_region"].values]
    marked = pool.assign_coords(measurement_error=(
        ("pool_region", "year"), (pool["pool_region"] == "TWN").values[:, None]
        & (pool["year"] < 2000).values[None, :]))
    cells = error_cells(marked)
    assert cells.sum() == (YEARS < 2000).sum()
    model = HierarchicalTFR().build(np.log(pool.values), regions, error_cells=cells)
    assert {"error_sd", "z_error"} <= {v.name for v in model.free_RVs}
    assert model["measurement_error"].eval().shape == (cells.sum(),)
    assert not error_cells(pool).any()  # a pool without the coordinate has none


@pytest.fixture(scope="module")
def with_2024(tmp_path_factory):
    """The census inputs with 2024's births added to the observed file."""
    folder = tmp_path_factory.mktemp("observed")
    table = pd.read_csv(DATA_DIR / "china_nbs_observed.csv", dtype=str)
    row = {"region": "CHN", "year": "2024", "indicator": "births", "value": str(BIRTHS_2024),
           "unit": "persons", "source": "NBS 2024 Statistical Communique"}
    path = folder / "observed.csv"
    pd.concat([table, pd.DataFrame([row])]).to_csv(path, index=False)
    return load_china_census(regions=[], observed_file=path)


def test_an_added_year_enters_the_official_series_and_the_pool(with_2024):
    inputs = with_2024
    assert inputs.jump_off_year == 2024
    official = inputs["tfr_official"].sel(observed_year=[2023, 2024]).values
    assert official[1] > official[0] * 1.03  # births +5.8 %, fewer women
    china = inputs["tfr_pool"].sel(pool_region="CHN")
    assert float(china.sel(year=2024)) == pytest.approx(official[1])
    assert np.isnan(inputs["tfr_pool"].sel(pool_region="JPN", year=2024))
    # the year's rates are the observed TFR in every draw; the forecast starts after it
    model = RandomWalkDrift(draws=50, random_seed=5)
    rates = model.rates(inputs, np.arange(2020, 2027))
    tfr = rates["asfr"].sel(region=inputs.nation).sum("age")
    np.testing.assert_allclose(tfr.sel(year=2024), official[1], rtol=1e-12)
    assert float(tfr.sel(year=2025).std("draw")) > 0


def _posterior(pool, model, draws: int, rng) -> az.InferenceData:
    """A posterior of the model's shape for ``pool``: drifts about -1 % a year, momentum
    0.5, shocks of 3 %, the dragon bump 0.06 on log TFR (as fitted to the official series,
    about 0.05-0.06), small measurement errors; one chain of ``draws``."""
    window = model.training_window(pool)
    regions = [str(r) for r in window["pool_region"].values]
    calendar = model.calendar_in(regions)
    n_error = int(error_cells(window).sum())

    def around(centre, spread, *shape):
        return centre + spread * rng.standard_normal((1, draws, *shape))

    return az.from_dict(posterior={
        "drift": around(-0.01, 0.003, len(regions)), "ar": around(0.5, 0.05, len(regions)),
        "sigma": np.abs(around(0.03, 0.003, len(regions))), "nu": np.full((1, draws), 10.0),
        "dragon": around(0.06, 0.01, len(calendar)),
        "measurement_error": around(0.0, 0.02, n_error)},
        dims={"drift": ["pool_region"], "ar": ["pool_region"], "sigma": ["pool_region"],
              "dragon": ["calendar_region"], "measurement_error": ["error_cell"]},
        coords={"pool_region": regions, "calendar_region": calendar,
                "error_cell": np.arange(n_error)})


@pytest.mark.parametrize("seed", [5, 6])
def test_a_dragon_jump_off_year_is_not_carried_into_the_next(with_2024, seed):
    """2024 is a year of the dragon: by default (``dragon_year: auto``) the term is then on,
    and the forecast of 2025 starts from the series without the bump, so its median falls
    below 2024's. The posterior is one of the fitted model's shape (the fit itself is
    tested on simulated series in tests/models/test_dragon_year.py)."""
    model = HierarchicalTFR(draws=200, random_seed=seed, progressbar=False)
    assert model.dragon_setting == "auto" and not model.dragon_year
    pool = tfr_pool(with_2024)
    posterior = _posterior(pool, model, 200, np.random.default_rng(seed))
    model.fit = lambda _: posterior  # the posterior above stands for the fit
    tfr = model.forecast_tfr(pool, np.arange(2025, 2028), ["CHN"])
    assert model.dragon_year
    observed = float(pool.sel(pool_region="CHN", year=2024))
    assert float(tfr.sel(pool_region="CHN", year=2025).median("draw")) < observed


def test_a_second_momentum_lag_of_zero_is_the_one_lag_model(with_2024):
    """``momentum_lags: 2`` with r2 = 0 in every draw gives the AR(1) model's paths draw for
    draw, through the dragon jump-off and the measurement errors of the official pool."""
    pool = tfr_pool(with_2024)
    models = [HierarchicalTFR(draws=100, random_seed=3, progressbar=False, momentum_lags=lags)
              for lags in (1, 2)]
    posterior = _posterior(pool, models[0], 100, np.random.default_rng(3))
    posterior.posterior["ar2"] = 0.0 * posterior.posterior["ar"]
    paths = []
    for model in models:
        model.fit = lambda _: posterior
        paths.append(model.forecast_tfr(pool, np.arange(2025, 2029), ["CHN"]).values)
    np.testing.assert_array_equal(paths[0], paths[1])
    # a non-zero r2 brings the change before the last into the forecast
    posterior.posterior["ar2"] = 0.0 * posterior.posterior["ar"] + 0.6
    later = models[1].forecast_tfr(pool, np.arange(2025, 2029), ["CHN"]).values
    assert not np.array_equal(later, paths[0])


def test_the_dragon_term_is_needed_only_where_a_calendar_series_ends_in_a_dragon_year():
    pool, _ = simulate_dragon_pool(0)  # 1983-2022
    calendar = ["CHN", "HKG", "MAC", "TWN"]
    assert not dragon_term_needed(pool, ["TWN", "JPN"], calendar)
    ending = pool.sel(year=slice(None, 2012))
    assert dragon_term_needed(ending, ["TWN"], calendar)
    assert not dragon_term_needed(ending, ["JPN"], calendar)  # no calendar effect there


@pytest.mark.parametrize("seed", [5, 6])
def test_a_forecast_of_the_official_series_is_widened_by_the_configured_scale(with_2024, seed):
    """China's row ends in official (unsmoothed) values: its paths are widened by
    ``unsmoothed_interval_scale`` around each year's median on the log scale; the same
    model's paths of a smoothed WPP series are left as simulated."""
    pool = tfr_pool(with_2024)
    assert bool(pool["unsmoothed"].sel(pool_region="CHN", year=2024))
    years = np.arange(2025, 2029)
    paths = {}
    for scale in (1.0, 1.7):
        model = HierarchicalTFR(draws=201, random_seed=seed, progressbar=False,
                                unsmoothed_interval_scale=scale)
        posterior = _posterior(pool, model, 201, np.random.default_rng(seed))
        model.fit = lambda _: posterior
        paths[scale] = model.forecast_tfr(pool.sel(year=slice(None, 2023)), years - 1,
                                          ["CHN", "JPN"])
    logs = {k: np.log(v.sel(pool_region="CHN").values) for k, v in paths.items()}
    centre = np.median(logs[1.0], axis=1, keepdims=True)
    np.testing.assert_allclose(logs[1.7], centre + 1.7 * (logs[1.0] - centre), atol=1e-12)
    np.testing.assert_array_equal(paths[1.7].sel(pool_region="JPN"),
                                  paths[1.0].sel(pool_region="JPN"))
