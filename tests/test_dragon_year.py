"""The TFR model's optional dragon-year term: switched off it changes nothing; switched on it
recovers a known bump from simulated series and forecasts it for the next dragon year."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from forecast.data import load_wpp
from forecast.fertility.bayes import (CALENDAR_REGIONS, HierarchicalTFR, dragon_steps,
                                      is_dragon_year, simulate_paths)
from forecast.paths import CONFIG_DIR

#: Largest |z| of a check of the posterior against what the simulated data contain (as the
#: parameter-recovery test in test_fertility.py: two-sided 0.05 % of a normal).
Z_MAX = 3.5

#: The simulated pool: the four calendar regions and two others, 40 years ending 2022
#: (dragon years 1988, 2000, 2012 inside), the existing process with momentum 0.4 and
#: Student-t shocks (nu = 15) of fixed sizes, so that the noise, and with it the precision
#: the data allow, is the same at every seed; the calendar regions' log TFR is raised by
#: DRAGON in each dragon year.
DRAGON = 0.08
AR, NU = 0.4, 15.0
SHOCK = {"CHN": 0.015, "HKG": 0.035, "MAC": 0.045, "TWN": 0.025, "JPN": 0.02, "KOR": 0.03}
YEARS = np.arange(1983, 2023)
SEEDS = {"data": 3, "sampler": 11}
#: A short MCMC (two chains in one process), enough for the checks' precision.
SHORT = {"samples": 300, "tune": 300, "chains": 2, "cores": 1, "draws": 200,
         "progressbar": False}


def simulate_dragon_pool(seed: int, dragon: float = DRAGON) -> tuple[xr.DataArray, dict]:
    """TFR (pool_region, year) from y = x + δ_c D_t, x the model's process without the
    term (drifts ~ N(-0.012, 0.008)), δ_c = ``dragon`` in the calendar regions, else 0; and
    the shocks drawn for the changes the model is fitted to (it conditions on the first)."""
    rng = np.random.default_rng(seed)
    regions = list(SHOCK)
    sigma = np.array([SHOCK[r] for r in regions])
    drift = -0.012 + 0.008 * rng.standard_normal(len(regions))
    n = len(YEARS)
    x = np.empty((len(regions), n))
    x[:, 0] = np.log(rng.uniform(1.2, 2.2, len(regions)))
    shocks = np.empty((len(regions), n - 1))
    change = drift.copy()
    for t in range(1, n):
        shocks[:, t - 1] = sigma * rng.standard_t(NU, len(regions))
        change = drift + AR * (change - drift) + shocks[:, t - 1]
        x[:, t] = x[:, t - 1] + change
    delta = np.array([dragon if r in CALENDAR_REGIONS else 0.0 for r in regions])
    y = x + delta[:, None] * is_dragon_year(YEARS)[None, :]
    pool = xr.DataArray(np.exp(y), dims=("pool_region", "year"),
                        coords={"pool_region": regions, "year": YEARS})
    return pool, {"delta": delta, "shocks": shocks[:, 1:]}


def dragon_regressor(years: np.ndarray = YEARS) -> np.ndarray:
    """g_t, how δ enters the innovation of each change the model is fitted to (t = 2 ... n-1):
    with δ' in place of δ the residual of change t is ε_t + (δ - δ') g_t, where
    g_t = (D_t - D_{t-1}) - φ (D_{t-1} - D_{t-2}). A dragon year gives 1, -(1 + φ), φ to the
    change into it and the two after it."""
    steps = dragon_steps(years)
    return steps[1:] - AR * steps[:-1]


def data_estimate(realised: dict) -> tuple[np.ndarray, np.ndarray]:
    """What each series' data say about its δ_c: the least-squares estimate with drift and
    momentum known, δ_c + Σ g ε / Σ g² from the shocks ε drawn, and its standard error
    rms(ε) / sqrt(Σ g²) (3 dragon years: Σ g² = 3 (1 + (1 + φ)² + φ²))."""
    g, shocks = dragon_regressor(), realised["shocks"]
    gg = (g**2).sum()
    return (realised["delta"] + (shocks * g).sum(1) / gg,
            np.sqrt((shocks**2).mean(1) / gg))


@pytest.fixture(scope="module")
def fitted():
    """One fit with the term on, to the simulated pool; forecasts 2023-2026."""
    pool, realised = simulate_dragon_pool(SEEDS["data"])
    model = HierarchicalTFR(window=len(YEARS), random_seed=SEEDS["sampler"], dragon_year=True,
                            **SHORT)
    tfr = model.forecast_tfr(pool, np.arange(2023, 2027), ["TWN", "JPN"])
    return pool, realised, model, tfr


# --------------------------------------------------------------------------- the term itself

def test_dragon_years_recur_every_twelve_years():
    dragons = [1952, 1964, 1976, 1988, 2000, 2012, 2024, 2036]
    assert is_dragon_year(dragons).all()
    assert not is_dragon_year([1951, 1953, 2011, 2013, 2023, 2025, 2030, 2035]).any()
    assert is_dragon_year(np.arange(1950, 2040)).sum() == 8
    # the changes into and out of a dragon year
    np.testing.assert_array_equal(dragon_steps([2010, 2011, 2012, 2013, 2014]), [0, 1, -1, 0])


def test_simulated_paths_add_the_level_without_moving_the_process():
    """No shocks, no momentum: log TFR moves by the drift, plus δ in the dragon year only,
    so the dragon year is exp(δ) above the geometric mean of the years either side."""
    n, delta = 3, np.array([0.05, 0.08, 0.1])
    years = np.arange(2023, 2027)
    level = is_dragon_year(years).astype(float)[:, None] * delta[None, :]
    paths = simulate_paths(np.log(1.2), 0.0, np.full(n, -0.02), np.zeros(n), np.zeros(n),
                           np.full(n, 10.0), len(years), np.random.default_rng(0), level=level)
    trend = 1.2 * np.exp(-0.02 * np.arange(1, 5))[:, None]
    np.testing.assert_allclose(paths, trend * np.exp(level))
    np.testing.assert_allclose(paths[1] / np.sqrt(paths[0] * paths[2]), np.exp(delta))


def test_the_term_adds_one_effect_per_calendar_region_only():
    pool, _ = simulate_dragon_pool(0)
    regions = [str(r) for r in pool["pool_region"].values]
    model = HierarchicalTFR(dragon_year=True, calendar_regions=["TWN", "HKG"]).build(
        np.log(pool.values), regions, YEARS)
    assert list(model.coords["calendar_region"]) == ["HKG", "TWN"]  # in the pool's order
    assert {"dragon_mean", "dragon_sd", "z_dragon"} <= {v.name for v in model.free_RVs}
    assert model.named_vars_to_dims["dragon"] == ("calendar_region",)
    with pytest.raises(ValueError, match="SGP"):
        HierarchicalTFR(dragon_year=True, calendar_regions=["TWN", "SGP"]).build(
            np.log(pool.values), regions, YEARS)
    with pytest.raises(ValueError, match="calendar_regions"):
        HierarchicalTFR(dragon_year=True, calendar_regions=[])


def test_the_config_switches_the_term_on():
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        off = compose(config_name="config", overrides=["fertility=bayes"])
        on = compose(config_name="config", overrides=["fertility=bayes",
                                                     "fertility.dragon_year=true",
                                                     "fertility.calendar_regions=[TWN,HKG]"])
    assert instantiate(off.fertility).dragon_year is False
    model = instantiate(on.fertility)
    assert model.dragon_year is True and model.calendar_regions == ["TWN", "HKG"]


# --------------------------------------------------------------------------- off: unchanged

#: The model before the dragon-year term existed, fitted with these settings to the WPP pool
#: up to 2019 and forecasting 2020-2025 for TWN and JPN (PyMC 5.28.5, PyTensor 2.38.3,
#: NumPy 2.4.6, as in requirements.lock): its first draws of drift_mean, sums over the
#: posterior, and TWN's first three paths. Sampling with a fixed seed in one process is
#: deterministic, so the term switched off must give these numbers exactly.
BEFORE_SETTINGS = {"draws": 20, "samples": 40, "tune": 40, "chains": 1, "cores": 1,
                   "progressbar": False, "random_seed": 7}
BEFORE = {
    "drift_mean": [-0.011537816327489469, -0.006113113064579445, -0.008812954538489633,
                   -0.01027373044648412, -0.011990437366875202],
    "sum drift": -4.779484855388997, "sum sigma": 12.39249896889256,
    "sum nu": 485.7305879044811, "sum tfr": 268.7746442981701,
    "TWN": [[1.0025900884083303, 1.0303911750217856, 1.0589249557199665],
            [0.9960439667004917, 1.0688945260744223, 1.0788379674353374],
            [1.0519688690992257, 1.0645303935460595, 1.0744290383048933],
            [1.0981567736997382, 1.0347526374681424, 1.0179693823618003],
            [1.0714949737801986, 1.049168083711169, 0.9382720503246205],
            [1.0317772262645963, 1.0885827124898981, 0.9653468865324161]],
}
BEFORE_VARIABLES = ["ar", "ar_mean", "ar_sd", "drift", "drift_mean", "drift_sd", "log_sigma",
                    "log_sigma_mean", "log_sigma_sd", "nu", "sigma", "z_ar", "z_drift"]


@pytest.mark.parametrize("options", [{}, {"dragon_year": False, "calendar_regions": ["TWN"]}],
                         ids=["default", "off, other regions"])
def test_switched_off_the_model_is_exactly_the_one_before(options):
    pool = load_wpp("JPN", 2015, until=2019)["tfr_pool"]
    model = HierarchicalTFR(**BEFORE_SETTINGS, **options)
    tfr = model.forecast_tfr(pool, np.arange(2020, 2026), ["TWN", "JPN"])  # 2024: a dragon
    post = model.idata.posterior
    assert sorted(post.data_vars) == BEFORE_VARIABLES
    assert post["drift_mean"].values.ravel()[:5].tolist() == BEFORE["drift_mean"]
    for name in ("drift", "sigma", "nu"):
        assert float(post[name].values.sum()) == pytest.approx(BEFORE[f"sum {name}"],
                                                                rel=1e-12, abs=0)
    assert tfr.sel(pool_region="TWN").values[:, :3].tolist() == BEFORE["TWN"]
    assert float(tfr.values.sum()) == pytest.approx(BEFORE["sum tfr"], rel=1e-12, abs=0)
    assert "dragon_effect" not in model.diagnostics


# --------------------------------------------------------------------------- on: recovery

def recovery_checks(model: HierarchicalTFR, realised: dict) -> tuple[dict, dict]:
    """Each check's value and margin (>= 0 passes): the posterior against the effect put
    into the simulated data (δ_c = DRAGON in each calendar region) and against what the
    data contain of it (:func:`data_estimate`).

    - dragon_mean z: (posterior mean - DRAGON) / posterior sd of δ̄ (the interval covers the
      truth);
    - mean of dragon z, dragon[c] z: the same for the mean of the calendar regions' δ_c and
      for each δ_c, against the data's least-squares estimates (their mean, and each);
    - dragon_mean lower 95: the lower end of δ̄'s central 95 % interval (must be > 0);
    - design: DRAGON / 8 less the standard error of the mean of the four estimates, which
      makes the exclusion of 0 hold at any seed: an estimate 3.5 standard errors low is
      still 4.5 above zero.
    """
    calendar = [i for i, r in enumerate(SHOCK) if r in CALENDAR_REGIONS]
    estimate, se = (a[calendar] for a in data_estimate(realised))
    post = model.idata.posterior.stack(sample=("chain", "draw"))
    mean = post["dragon_mean"].values
    each = post["dragon"].transpose("calendar_region", "sample").values  # the pool's order

    def z(draws, value):
        return float((draws.mean() - value) / draws.std())

    values = {"dragon_mean z": z(mean, DRAGON),
              "mean of dragon z": z(each.mean(0), estimate.mean()),
              **{f"dragon[{c}] z": z(d, e)
                 for c, d, e in zip(post["calendar_region"].values, each, estimate)},
              "dragon_mean lower 95": float(np.quantile(mean, 0.025)),
              "design": DRAGON / 8 - float(np.sqrt((se**2).sum()) / len(se))}
    margins = {k: (Z_MAX - abs(v)) if k.endswith(" z") else v for k, v in values.items()}
    return values, margins


def forecast_checks(pool: xr.DataArray, model: HierarchicalTFR, tfr: xr.DataArray
                    ) -> tuple[dict, dict]:
    """The bump of 2024 over 2023 and 2025 in the forecast, for TWN (calendar) and JPN (not).

    Per draw i, b_i = log TFR_2024 - (log TFR_2023 + log TFR_2025) / 2 = δ_i + e_i, with
    e_i = (d*_2024 - d*_2025) / 2 the underlying changes' difference, whose mean given the
    parameters is c_i = (1 - φ_i) φ_i² (d*_2022 - μ_i) / 2 (two AR steps from the last
    change; 2021 and 2022 are not dragon years, so d*_2022 = d_2022). Checks, for each region:

    - machinery: |mean(b) - mean(δ + c)| within 4 Monte Carlo standard errors of e - c;
    - effect: |mean(b) - truth| (DRAGON for TWN, 0 for JPN) within Z_MAX posterior sd of δ,
      plus those 4 standard errors, plus the largest |c|.
    """
    post = model.idata.posterior.stack(sample=("chain", "draw"))
    take = np.linspace(0, post.sizes["sample"] - 1, model.draws).round().astype(int)
    post = post.isel(sample=take)
    y = np.log(pool.values)
    order = [str(r) for r in pool["pool_region"].values]
    values, margins = {}, {}
    for region, delta, truth in (
            ("TWN", post["dragon"].sel(calendar_region="TWN").values, DRAGON),
            ("JPN", np.zeros(model.draws), 0.0)):
        log_tfr = np.log(tfr.sel(pool_region=region).values)  # (year, draw), 2023-2026
        bump = log_tfr[1] - (log_tfr[0] + log_tfr[2]) / 2
        i = order.index(region)
        ar, drift = post["ar"].isel(pool_region=i).values, post["drift"].isel(pool_region=i).values
        carried = (1 - ar) * ar**2 * ((y[i, -1] - y[i, -2]) - drift) / 2
        mc = 4 * (bump - delta - carried).std() / np.sqrt(model.draws)
        values[f"{region} bump"] = float(bump.mean())
        margins[f"{region} machinery"] = mc - abs(bump.mean() - (delta + carried).mean())
        margins[f"{region} effect"] = (Z_MAX * delta.std() + mc + np.abs(carried).max()
                                       - abs(bump.mean() - truth))
    return values, margins


@pytest.mark.slow
def test_a_known_dragon_effect_is_recovered(fitted):
    """δ_c = 0.08 in each calendar region: δ̄ agrees with it, the four δ_c and their mean
    with what the data contain, and δ̄'s 95 % interval excludes 0 (:func:`recovery_checks`).
    The data's precision is fixed by design (shock sizes fixed, 3 dragon years in each of 4
    series), so the checks hold whatever the seed: experiments/dragon_year/recovery_seeds.py,
    numbers in experiments/dragon_year/README.md."""
    _, realised, model, _ = fitted
    values, margins = recovery_checks(model, realised)
    failed = {k: round(values[k], 4) for k, m in margins.items() if not m >= 0}
    assert not failed, f"posterior disagrees with the simulated effect: {failed}"
    assert model.diagnostics["dragon_effect"]["dragon_mean"]["lower_95"] > 0
    assert model.diagnostics["rhat_max"] < 1.05


@pytest.mark.slow
def test_the_forecast_has_the_bump_in_the_next_dragon_year(fitted):
    """TWN's forecast for 2024 is exp(δ) above the geometric mean of 2023 and 2025, JPN's
    is not raised (:func:`forecast_checks`); in the median too."""
    pool, _, model, tfr = fitted
    values, margins = forecast_checks(pool, model, tfr)
    failed = {k: round(m, 4) for k, m in margins.items() if not m >= 0}
    assert not failed, f"forecast bump off (margins): {failed}; {values}"
    twn = tfr.sel(pool_region="TWN").median("draw")
    assert float(twn.sel(year=2024)) > float(twn.sel(year=2023))
    assert float(twn.sel(year=2024)) > float(twn.sel(year=2025))
