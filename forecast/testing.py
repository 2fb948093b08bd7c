"""Helpers shared by the tests and the experiments: small labelled arrays on the project's
dims, the simulated TFR pool of the dragon-year checks and the checks themselves, and the
kindergarten enrolment reference check. Nothing in the package's layers imports this module.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.variables import SEXES
from forecast.data import load_moe_kindergartens, load_wpp
from forecast.demography.graduation import AGES
from forecast.models.fertility.bayes import (CALENDAR_REGIONS, HierarchicalTFR, dragon_steps,
                                             is_dragon_year)
from forecast.models.fertility.constant import ConstantFertility
from forecast.models.migration.net_migrants import WppMigration
from forecast.models.mortality.constant import ConstantMortality
from forecast.projection.project import project_inputs


# --------------------------------------------------------------------------- small arrays

def make_rates(years, regions=("a",), asfr_level=0.0, mx_level=0.0, srb=1.06, migration=0.0):
    """Flat rates on single ages for the given step years (no draw dim): net migration by
    step, and the calendar-year rates for those years and the year after the last step."""
    steps = np.asarray(years)
    years = np.append(steps, steps[-1] + 1)
    f = np.zeros(len(AGES))
    f[15:50] = asfr_level
    coords = {"region": list(regions), "sex": list(SEXES), "age": AGES, "year": years}
    asfr = xr.DataArray(np.broadcast_to(f[None, :, None], (len(regions), len(AGES), len(years))),
                        dims=("region", "age", "year"),
                        coords={k: coords[k] for k in ("region", "age", "year")})
    shape = (len(regions), len(SEXES), len(AGES), len(years))
    mx = xr.DataArray(np.full(shape, float(mx_level)), dims=("region", "sex", "age", "year"),
                      coords=coords)
    mig = xr.DataArray(np.full(shape[:-1] + (len(steps),), float(migration)),
                       dims=("region", "sex", "age", "year"), coords=coords | {"year": steps})
    srb_da = xr.DataArray(np.full((len(regions), len(years)), srb), dims=("region", "year"),
                          coords={"region": list(regions), "year": years})
    return {"asfr": asfr, "mx": mx, "srb": srb_da, "net_migration": mig}


def make_population(values, regions=("a",)):
    """Population (region, sex, age) from an array broadcastable to that shape."""
    shape = (len(regions), len(SEXES), len(AGES))
    return xr.DataArray(np.broadcast_to(np.asarray(values, dtype=float), shape).copy(),
                        dims=("region", "sex", "age"),
                        coords={"region": list(regions), "sex": list(SEXES), "age": AGES})


# --------------------------------------------------------------------------- TFR pools

#: Largest |z| of a check of a posterior against what the simulated data contain
#: (two-sided 0.05 % of a normal).
Z_MAX = 3.5

#: What the recovery test's populations are drawn from (annual changes of log TFR), close to
#: the WPP pool's posterior: drifts around -1.2 % a year, shocks from about 1 % to 6 %.
RECOVERY_HYPER = {"drift_mean": -0.012, "drift_sd": 0.008, "ar": 0.4,
                  "log_sigma_mean": float(np.log(0.025)), "log_sigma_sd": 0.5, "nu": 15.0}
RECOVERY_SEEDS = {"data": 11, "sampler": 5}
#: Least number of the 12 populations whose 95 % interval covers its own value (a scalar
#: check's |z| is at most Z_MAX). Not 9, as Binomial(12, 0.95) would suggest: the 12 drift
#: intervals share the pooled spread and miss together when the data happen to pool the
#: drifts; measured, P(fewer than 8) = 0.4 % (see the recovery test's docstring).
COVERED_MIN = 8


def simulate_pool(seed: int, n: int = 12, years: int = 40, hyper: dict = RECOVERY_HYPER):
    """A pool (pool_region, year) drawn from the model, and what it actually contains:
    each population's drift and momentum and the shocks of the changes the model is fitted
    to (it conditions on the first change), shape (population, years - 2)."""
    rng = np.random.default_rng(seed)
    drift = hyper["drift_mean"] + hyper["drift_sd"] * rng.standard_normal(n)
    sigma = np.exp(hyper["log_sigma_mean"] + hyper["log_sigma_sd"] * rng.standard_normal(n))
    y = np.empty((n, years))
    shocks = np.empty((n, years - 1))
    y[:, 0] = np.log(rng.uniform(1.2, 2.2, n))
    change = drift.copy()
    for t in range(1, years):
        shocks[:, t - 1] = sigma * rng.standard_t(hyper["nu"], n)
        change = drift + hyper["ar"] * (change - drift) + shocks[:, t - 1]
        y[:, t] = y[:, t - 1] + change
    pool = xr.DataArray(np.exp(y), dims=("pool_region", "year"),
                        coords={"pool_region": [f"r{i}" for i in range(n)],
                                "year": np.arange(1980, 1980 + years)})
    return pool, {"drift": drift, "ar": np.full(n, hyper["ar"]), "shocks": shocks[:, 1:]}


def pool_recovery_checks(posterior: xr.Dataset, realised: dict) -> tuple[dict, dict]:
    """Each check's value and margin (>= 0 passes): the posterior against what the
    simulated data contain (see :func:`simulate_pool`), not against the hyper-parameters
    they were drawn from.

    - mean drift z: the posterior of the mean of the populations' drifts against the mean of
      the drifts drawn, (posterior mean - realised) / posterior sd;
    - mean momentum z: the same for the momentum (all populations have 0.4);
    - shock size z: the model's shock standard deviation, sqrt(mean over populations of
      sigma_c^2 nu / (nu - 2)) (identified, unlike sigma or nu alone), against the root mean
      square of the shocks drawn, on the log scale;
    - drifts covered, shock sizes covered: populations whose central 95 % interval of the
      drift covers their drift drawn, and whose interval of the shock standard deviation
      sigma_c sqrt(nu / (nu - 2)) covers the root mean square of their own shocks drawn.
    """
    s = posterior.stack(sample=("chain", "draw"))
    drift = s["drift"].transpose("pool_region", "sample").values
    ar = s["ar"].transpose("pool_region", "sample").values
    nu = s["nu"].values
    with np.errstate(invalid="ignore", divide="ignore"):  # nu <= 2: infinite variance
        sd = s["sigma"].transpose("pool_region", "sample").values * np.sqrt(
            np.where(nu > 2, nu / (nu - 2), np.inf))
    shocks = realised["shocks"]

    def z(draws, value):
        return float((draws.mean() - value) / draws.std())

    def covered(draws, values):
        lo, hi = np.quantile(draws, [0.025, 0.975], axis=1)
        return int(((lo <= values) & (values <= hi)).sum())

    values = {
        "mean drift z": z(drift.mean(0), realised["drift"].mean()),
        "mean momentum z": z(ar.mean(0), realised["ar"].mean()),
        "shock size z": z(np.log(np.sqrt((sd**2).mean(0))), np.log(np.sqrt((shocks**2).mean()))),
        "drifts covered": covered(drift, realised["drift"]),
        "shock sizes covered": covered(sd, np.sqrt((shocks**2).mean(1))),
    }
    margins = {k: (Z_MAX - abs(v)) if k.endswith(" z") else v - COVERED_MIN
               for k, v in values.items()}
    return values, margins


# --------------------------------------------------------------------------- dragon years

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


def dragon_recovery_checks(model: HierarchicalTFR, realised: dict) -> tuple[dict, dict]:
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


def dragon_forecast_checks(pool: xr.DataArray, model: HierarchicalTFR, tfr: xr.DataArray
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


# --------------------------------------------------------------------------- kindergartens

def estimated_ages_3_5(last_year: int = 2020) -> xr.DataArray:
    """China's population aged 3-5 at 1 July (persons) by year: WPP 2024's 1 July 2015
    population projected with WPP's own rates (the reference projection of the tests)."""
    result = project_inputs(load_wpp("CHN", 2015), ConstantFertility(), ConstantMortality(),
                            WppMigration(), last_year)
    pop = result["population"].sel(region="CHN", draw=0, drop=True).sum("sex")
    return pop.sel(age=[3, 4, 5]).sum("age").assign_attrs(units="persons")


def kindergarten_enrolment_comparison() -> xr.Dataset:
    """Per year with published enrolment: population 3-5, enrolment, our and MOE's rates."""
    moe = load_moe_kindergartens()
    moe = moe.sel(year=moe["enrolled"].notnull() & (moe["year"] >= 2015))
    ages = estimated_ages_3_5().sel(year=moe["year"])
    ours = 100 * moe["enrolled"] / ages
    return xr.Dataset({"population_3_5": ages, "enrolled": moe["enrolled"],
                       "ger_ours": ours, "ger_published": moe["gross_enrolment_rate"],
                       "difference_pp": ours - moe["gross_enrolment_rate"]})
