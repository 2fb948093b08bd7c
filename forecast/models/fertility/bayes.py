"""Hierarchical Bayesian model of annual TFR trajectories (PyMC), with partial pooling.

For each population c in the pool and year t of the training window, with
y_{c,t} = log TFR_{c,t} and the annual change d_{c,t} = y_{c,t} - y_{c,t-1}:

.. math::

    d_{c,t} \\mid d_{c,t-1} &\\sim \\mathrm{StudentT}\\big(\\nu,\\;
        \\mu_c + \\phi_c\\,(d_{c,t-1} - \\mu_c),\\; \\sigma_c\\big) \\\\
    \\mu_c &= \\bar\\mu + \\tau_\\mu z^{\\mu}_c, \\qquad
    \\phi_c = \\tanh(\\bar a + \\tau_a z^{a}_c), \\qquad z \\sim N(0, 1) \\\\
    \\log\\sigma_c &\\sim N(\\bar s, \\tau_s)

Each population's TFR changes by a drift μ_c per year (on the log scale, so TFR stays
positive), with momentum φ_c in its changes and shocks of size σ_c; the three are drawn from
pool-wide distributions, so a population with a short or noisy series borrows
strength from the others. There is no pull towards replacement: a negative drift continues,
which is what East Asia's sustained decline below 1.5 (Korea, Taiwan, Hong Kong, China)
needs; a drift near zero gives a flat median, and the random-walk part widens the intervals
with the horizon. Student-t shocks absorb one-off jumps (zodiac years, policy changes, the
2020 pandemic) without inflating σ for every year. Forecasts simulate the same equations
forward from the last observed change, one path per posterior draw.

With ``momentum_lags = 2`` (the configured default) the momentum remembers two changes, an
AR(2) written with partial autocorrelations so that it is stationary for any values:

.. math::

    d_{c,t} - \\mu_c = \\phi_c (1 - \\rho_c)(d_{c,t-1} - \\mu_c) + \\rho_c (d_{c,t-2} - \\mu_c)
        + \\varepsilon_{c,t}, \\qquad \\rho_c = \\tanh(\\bar r + \\tau_r z^{r}_c)

(``ar2`` is ρ_c; ρ_c = 0 is the model above), with priors ar2_mean ~ N(0, 1),
ar2_sd ~ HalfNormal(0.5), as for φ.

Optional dragon-year term (``dragon_year``: ``true``, ``false``, or ``auto``, the default:
on only when a forecast starts from a year of the dragon, so that its bump is not carried
forward; :func:`dragon_term_needed`). In populations that
follow the Chinese calendar (``calendar_regions``, by default mainland China, Hong Kong,
Macao and Taiwan) births rise in a year of the dragon (1952, 1964, ..., 2012, 2024, 2036:
every 12 years; the lunar year starts in late January or February, so the calendar year
is used). The term is a one-year level effect δ_c on log TFR on top of the process above,
which then describes the underlying series x:

.. math::

    y_{c,t} &= x_{c,t} + \\delta_c D_t, \\qquad D_t = 1 \\text{ in a dragon year, else } 0 \\\\
    d_{c,t} &= d^*_{c,t} + \\delta_c\\,(D_t - D_{t-1}), \\qquad
    d^*_{c,t} = x_{c,t} - x_{c,t-1} \\\\
    d^*_{c,t} \\mid d^*_{c,t-1} &\\sim \\mathrm{StudentT}\\big(\\nu,\\;
        \\mu_c + \\phi_c\\,(d^*_{c,t-1} - \\mu_c),\\; \\sigma_c\\big) \\\\
    \\delta_c &= \\bar\\delta + \\tau_\\delta z^{\\delta}_c \\text{ (calendar regions)},
    \\qquad \\delta_c = 0 \\text{ (all others)}

so the dragon year's change is raised by δ_c, the next year's lowered by δ_c, and the
momentum acts on the underlying change d* (not on the bump). δ_c is non-centred: a 30-year
window holds two or three dragon years per population, too few to pin down τ_δ. Forecasts
simulate x forward from its last value x_T = y_T - δ_c D_T and last change d*_T, and add
δ_c D_t to each forecast year, so a forecast covering 2024 or 2036 has the bump and the
fall after it. With the term off the model is exactly the one above (the same variables,
posterior and random streams).

Interval scale (``unsmoothed_interval_scale``): a forecast that continues an unsmoothed
series (the pool's ``unsmoothed`` values, China's official annual series) is widened around
its median on the log scale by a factor learned from the model's rolling-origin record on
that series (:mod:`forecast.models.fertility.interval_scale`); the posterior and the paths of
the smoothed series are not touched.

Sampling coordinates (the model is the same either way, only the coordinates NUTS moves in
differ; Papaspiliopoulos, Roberts & Sköld 2007): μ_c and φ_c are non-centred (the z above),
since one series says little about them and their spreads may be near zero. log σ_c is
sampled centred when each series measures its own shock size more precisely than the pool's
spread of them (:func:`centre_log_sigma`), as in the WPP pool, whose shocks range from about
1 % to 5 %; otherwise non-centred, log σ_c = s̄ + τ_s z^s_c. Non-centred on the WPP pool,
all z^s_c had to move with s̄, which mixed worst of all parameters
(``experiments/mcmc_checks/``).

Priors (annual changes of log TFR):

- drift_mean ~ N(0, 0.02): pooled drift within ±4 % a year; drift_sd ~ HalfNormal(0.01):
  populations differ by about 1 % a year in drift.
- ar_mean ~ N(0, 1), ar_sd ~ HalfNormal(0.5) on the atanh scale: momentum anywhere in
  (-1, 1), centred on none.
- log_sigma_mean ~ N(log 0.03, 1): typical shocks of 3 % (between 1 % and 8 % a priori);
  log_sigma_sd ~ HalfNormal(0.5).
- nu ~ Gamma(2, 0.1): the Juárez-Steel prior for Student-t degrees of freedom (mean 20),
  heavy tails possible but not forced.
- Dragon-year term only: dragon_mean ~ N(0, 0.1): the pooled bump in TFR within about
  ±20 % a priori, centred on none, no sign imposed (the largest registered bumps are of
  that order: Taiwan's TFR was 1.07 in 2011 and 1.27 in 2012; WPP 2024's smoother estimates
  give 1.06 and 1.19); dragon_sd ~ HalfNormal(0.05): the calendar regions' bumps differ by
  a few per cent (half the prior scale of the mean, so that four regions with two or
  three dragon years each can share one estimate).

References: Alkema et al. (2011), Probabilistic projections of the total fertility rate for
all countries, *Demography* 48(3); Ševčíková, Raftery & Gerland (2018), *Demographic
Research* 38(60); Juárez, M. A. & Steel, M. F. J. (2010), *JBES* 28(1); Papaspiliopoulos, O.,
Roberts, G. O. & Sköld, M. (2007), A general framework for the parametrization of
hierarchical models, *Statistical Science* 22(1).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import inspect
import logging
import time
from pathlib import Path

import forecast.core.quiet  # noqa: F401  (before arviz and pymc: silences their import notices)

import arviz as az
import numpy as np
import pymc as pm
import xarray as xr

from forecast.core.cache import cached, content_key
from forecast.core.cache import default_folder as default_cache_folder
from forecast.core.errors import Interrupted
from forecast.core.options import Choice, Flag, Number, Text, Where, Whole
from forecast.core.registry import INTERVALS
from forecast.models.fertility.interval_scale import widened
from forecast.models.fertility.trajectory import TfrTrajectoryFertility
from forecast.models.fertility.workers import chain_context

log = logging.getLogger(__name__)

#: Parameters whose convergence is reported.
HYPER = ["drift_mean", "drift_sd", "ar_mean", "ar_sd", "log_sigma_mean", "log_sigma_sd", "nu"]
PER_REGION = ["drift", "ar", "sigma"]
#: ... and, with the dragon-year term, its parameters.
DRAGON = ["dragon_mean", "dragon_sd", "dragon"]
#: The calendar regions of the dragon-year term unless configured otherwise.
CALENDAR_REGIONS = ["CHN", "HKG", "MAC", "TWN"]
#: A year of the dragon; they recur every 12 years.
DRAGON_YEAR = 2012
#: The NUTS samplers the model can use (nutpie only once it is installed).
NUTS_SAMPLERS = ("pymc", "nutpie")
#: What the forecast's expected change follows (``long_run``): the drift, or a pooled level.
LONG_RUNS = ("drift", "pooled_level")
CALENDAR_REGIONS_EXPECTED = ("a non-empty list of distinct WPP region codes, e.g. "
                             "[CHN, HKG, MAC, TWN]")


def valid_calendar_regions(regions) -> bool:
    """Whether ``regions`` is a non-empty list of distinct, non-empty region codes."""
    return (isinstance(regions, list) and bool(regions) and len(set(regions)) == len(regions)
            and all(isinstance(r, str) and r.strip() for r in regions))


def _nutpie_installed(node, name, problems, root) -> None:
    if node.get("nuts_sampler") == "nutpie" and importlib.util.find_spec("nutpie") is None:
        problems.add(f"{name}.nuts_sampler", "nutpie", "pymc, or nutpie once it is installed "
                     "(.venv/bin/pip install nutpie)")
RHAT_MAX = 1.01
ESS_MIN = 400


class HierarchicalTFR(TfrTrajectoryFertility):
    """Pooled Bayesian TFR model; see the module docstring for equations and priors.

    Parameters (beyond :class:`TfrTrajectoryFertility`'s)
    ----------
    samples : posterior draws kept per chain (``draws`` of them, evenly spaced over all
        chains, go to the projection)
    tune : tuning steps per chain
    chains, cores : MCMC chains and the processes running them
    target_accept : NUTS step-size adaptation target
    nuts_sampler : ``"pymc"`` or ``"nutpie"``
    progressbar : show sampling progress
    priors : overrides of :attr:`default_priors`, e.g. ``{"drift_sd": ["HalfNormal", {"sigma": 0.02}]}``
    dragon_year : add the dragon-year level effect on log TFR (module docstring): True,
        False, or ``"auto"`` (default): on when a target's series ends in a dragon year
        (:func:`dragon_term_needed`). Off, the model is exactly the one without it
    calendar_regions : pool regions (WPP codes) that have the dragon-year effect; the
        others have none. Each must be in the pool the model is fitted to.
    drift_damping : γ in (0, 1]: the drift fades by γ a year in the forecast
        (:func:`simulate_paths`); 1 (default) keeps it undamped
    momentum_lags : 1 (default) or 2: how many past changes the momentum remembers. With
        2 the changes follow an AR(2) around the drift, its coefficients from the partial
        autocorrelations r1 = φ_c (``ar``) and r2 (``ar2``, pooled like φ):
        d_t - μ = r1 (1 - r2)(d_{t-1} - μ) + r2 (d_{t-2} - μ) + ε, stationary for any r1,
        r2 in (-1, 1) and the AR(1) model at r2 = 0
    long_run : ``"drift"`` (default): each population's drift, damped by ``drift_damping``;
        ``"pooled_level"``: a pull towards a long-run level fitted on the whole pool
        (:func:`pooled_pull`, bayesTFR's Phase III idea) instead of the drift
    unsmoothed_interval_scale : k > 0: a forecast that continues an unsmoothed series (the
        pool's ``unsmoothed`` values: China's official series) is widened by k around its
        median on the log scale (:func:`forecast.models.fertility.interval_scale.widened`);
        1 (default) leaves it as simulated. The configured value is learned from the
        model's rolling-origin record on China's official series
        (``experiments/official_series/``)
    cache : reuse the posterior of an earlier fit of the same model to the same data with
        the same settings (:meth:`cache_key`; :mod:`forecast.core.cache`), identical to
        sampling it again; False samples anew
    cache_dir : the cache's folder (default ``~/.cache/forecast``)
    """

    default_priors = {
        "drift_mean": ("Normal", {"mu": 0.0, "sigma": 0.02}),
        "drift_sd": ("HalfNormal", {"sigma": 0.01}),
        "ar_mean": ("Normal", {"mu": 0.0, "sigma": 1.0}),
        "ar_sd": ("HalfNormal", {"sigma": 0.5}),
        # used only with momentum_lags=2: the second partial autocorrelation, like φ's
        "ar2_mean": ("Normal", {"mu": 0.0, "sigma": 1.0}),
        "ar2_sd": ("HalfNormal", {"sigma": 0.5}),
        "log_sigma_mean": ("Normal", {"mu": float(np.log(0.03)), "sigma": 1.0}),
        "log_sigma_sd": ("HalfNormal", {"sigma": 0.5}),
        "nu": ("Gamma", {"alpha": 2.0, "beta": 0.1}),
        # used only with dragon_year=True
        "dragon_mean": ("Normal", {"mu": 0.0, "sigma": 0.1}),
        "dragon_sd": ("HalfNormal", {"sigma": 0.05}),
        # used only where the pool marks values with a measurement error
        "error_sd": ("HalfNormal", {"sigma": 0.03}),
    }

    OPTIONS = TfrTrajectoryFertility.OPTIONS.extended({
        "samples": Whole(1), "tune": Whole(0), "chains": Whole(1), "cores": Whole(1),
        "target_accept": Number(0, 1, lo_open=True, hi_open=True),
        "nuts_sampler": Choice(NUTS_SAMPLERS),
        "progressbar": Flag(),
        "dragon_year": Where(lambda v: isinstance(v, bool) or v == "auto",
                             what="true, false or auto"),
        "drift_damping": Number(0, 1, lo_open=True),
        "long_run": Choice(LONG_RUNS),
        "unsmoothed_interval_scale": Number(0, lo_open=True),
        "momentum_lags": Whole(1, 2),
        "calendar_regions": Where(valid_calendar_regions, what=CALENDAR_REGIONS_EXPECTED),
        "priors": Where(lambda p: isinstance(p, dict), nullable=True,
                        what="null or a mapping of parameter -> [distribution, {arguments}]"),
        "cache": Flag(),
        "cache_dir": Text(nullable=True, hint=" (a folder), or null for ~/.cache/forecast"),
    }, rules=(_nutpie_installed,))

    def __init__(self, draws: int = 1000, samples: int = 2000, tune: int = 1000,
                 chains: int = 2, cores: int = 2, target_accept: float = 0.95,
                 nuts_sampler: str = "pymc",
                 progressbar: bool = True, priors: dict | None = None,
                 dragon_year: bool | str = "auto", calendar_regions: list[str] | None = None,
                 drift_damping: float = 1.0, long_run: str = "drift",
                 momentum_lags: int = 1, unsmoothed_interval_scale: float = 1.0,
                 cache: bool = True, cache_dir: str | None = None, **kwargs):
        super().__init__(draws=draws, **kwargs)
        self.cache = bool(cache)
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_folder()
        self.samples = int(samples)
        self.tune, self.chains, self.cores = int(tune), int(chains), int(cores)
        self.target_accept = float(target_accept)
        self.nuts_sampler = nuts_sampler
        self.progressbar = bool(progressbar)
        self.priors = {**self.default_priors, **{k: tuple(v) for k, v in (priors or {}).items()}}
        if not (isinstance(dragon_year, bool) or dragon_year == "auto"):
            raise ValueError(f"dragon_year: got {dragon_year!r}; expected true, false or auto")
        #: the option as given; ``dragon_year`` is whether the term is used (set for each
        #: forecast where the option is ``"auto"``)
        self.dragon_setting = dragon_year
        self.dragon_year = dragon_year is True
        self.drift_damping = float(drift_damping)
        if not 0.0 < self.drift_damping <= 1.0:
            raise ValueError(f"drift_damping: got {drift_damping!r}; expected a number in "
                             "(0, 1]")
        if long_run not in LONG_RUNS:
            raise ValueError(f"long_run: got {long_run!r}; expected one of {LONG_RUNS}")
        self.long_run = long_run
        if momentum_lags not in (1, 2):
            raise ValueError(f"momentum_lags: got {momentum_lags!r}; expected 1 or 2")
        self.momentum_lags = int(momentum_lags)
        self.unsmoothed_interval_scale = float(unsmoothed_interval_scale)
        if not self.unsmoothed_interval_scale > 0.0:
            raise ValueError(f"unsmoothed_interval_scale: got {unsmoothed_interval_scale!r}; "
                             "expected a number > 0")
        regions = list(CALENDAR_REGIONS if calendar_regions is None else calendar_regions)
        if dragon_year is not False and not valid_calendar_regions(regions):
            raise ValueError(f"calendar_regions: got {regions!r}; expected "
                             f"{CALENDAR_REGIONS_EXPECTED}")
        self.calendar_regions = [str(r) for r in regions]
        self.idata: az.InferenceData | None = None

    # ------------------------------------------------------------------ model
    def _prior(self, name: str, **kwargs):
        dist, params = self.priors[name]
        return getattr(pm, dist)(name, **dict(params), **kwargs)

    def calendar_in(self, regions: list[str]) -> list[str]:
        """The calendar regions, in ``regions``' order; raise if one is not among them."""
        missing = [r for r in self.calendar_regions if r not in regions]
        if missing:
            raise ValueError(f"calendar_regions: {missing} not in the TFR pool "
                             f"({', '.join(regions)}); expected pool regions only")
        return [r for r in regions if r in self.calendar_regions]

    def build(self, log_tfr: np.ndarray, regions: list[str],
              years: np.ndarray | None = None, error_cells: np.ndarray | None = None
              ) -> pm.Model:
        """The PyMC model for log TFR (region, year) of the training window; ``years`` (the
        window's calendar years) are needed only with the dragon-year term.

        A series may start late or end early (NaN): only changes whose year and the two
        before it are observed enter the likelihood. ``error_cells`` (region, year; bool)
        marks values with a measurement error e ~ N(0, ω²) (official estimates revised
        after a census): the process then drives log TFR less e, whose annual change is
        the observed change less e_t - e_{t-1}."""
        observed_level = np.isfinite(log_tfr)
        change = np.diff(np.where(observed_level, log_tfr, 0.0), axis=1)
        lags, n_years = self.momentum_lags, log_tfr.shape[1]
        usable = observed_level[:, 2:] & observed_level[:, 1:-1] & observed_level[:, :-2]
        # a change enters the likelihood with the `lags` changes before it
        used = np.all([observed_level[:, j:n_years - lags - 1 + j] for j in range(lags + 2)],
                      axis=0)
        ragged = not used.all()
        errors = (np.zeros(log_tfr.shape, dtype=bool) if error_cells is None
                  else np.asarray(error_cells, dtype=bool) & observed_level)
        coords = {"pool_region": regions}
        if self.dragon_year:
            if years is None or len(years) != log_tfr.shape[1]:
                raise ValueError("the dragon-year term needs the calendar year of every column")
            calendar = self.calendar_in(regions)
            coords["calendar_region"] = calendar
        if errors.any():
            coords["error_cell"] = np.arange(int(errors.sum()))
        with pm.Model(coords=coords) as model:
            drift_mean, drift_sd = self._prior("drift_mean"), self._prior("drift_sd")
            ar_mean, ar_sd = self._prior("ar_mean"), self._prior("ar_sd")
            ls_mean, ls_sd = self._prior("log_sigma_mean"), self._prior("log_sigma_sd")
            nu = self._prior("nu")
            z = {k: pm.Normal(f"z_{k}", 0.0, 1.0, dims="pool_region") for k in ("drift", "ar")}
            drift = pm.Deterministic("drift", drift_mean + drift_sd * z["drift"], dims="pool_region")
            ar = pm.Deterministic("ar", pm.math.tanh(ar_mean + ar_sd * z["ar"]), dims="pool_region")
            coefficients = [ar]
            if lags == 2:
                ar2_mean, ar2_sd = self._prior("ar2_mean"), self._prior("ar2_sd")
                ar2 = pm.Deterministic("ar2", pm.math.tanh(
                    ar2_mean + ar2_sd * pm.Normal("z_ar2", 0.0, 1.0, dims="pool_region")),
                    dims="pool_region")
                coefficients = [ar * (1.0 - ar2), ar2]
            self.log_sigma_centred = centre_log_sigma(change, usable)
            log.info("TFR model: log sigma sampled %s",
                     "centred" if self.log_sigma_centred else "non-centred")
            if self.log_sigma_centred:
                log_sigma = pm.Normal("log_sigma", ls_mean, ls_sd, dims="pool_region")
            else:
                log_sigma = ls_mean + ls_sd * pm.Normal("z_sigma", 0.0, 1.0, dims="pool_region")
            sigma = pm.Deterministic("sigma", pm.math.exp(log_sigma), dims="pool_region")
            # what the observed changes hold besides the process: the dragon year's bump
            # δ_c (D_t - D_{t-1}) and the measurement errors' change e_t - e_{t-1}
            extra = None
            if self.dragon_year:
                dragon_mean, dragon_sd = self._prior("dragon_mean"), self._prior("dragon_sd")
                z_dragon = pm.Normal("z_dragon", 0.0, 1.0, dims="calendar_region")
                dragon = pm.Deterministic("dragon", dragon_mean + dragon_sd * z_dragon,
                                          dims="calendar_region")
                member = np.array([[float(r == c) for c in calendar] for r in regions])
                extra = pm.math.dot(member, dragon)[:, None] * dragon_steps(years)[None, :]
            if errors.any():
                error_sd = self._prior("error_sd")
                error = pm.Deterministic(
                    "measurement_error", error_sd * pm.Normal("z_error", 0.0, 1.0,
                                                              dims="error_cell"),
                    dims="error_cell")
                cells = np.zeros((errors.size, int(errors.sum())))
                cells[np.flatnonzero(errors.ravel()), np.arange(int(errors.sum()))] = 1.0
                level_error = pm.math.dot(cells, error).reshape(log_tfr.shape)
                error_change = level_error[:, 1:] - level_error[:, :-1]
                extra = error_change if extra is None else extra + error_change
            underlying = change if extra is None else change - extra
            expected = drift[:, None]
            for lag, coefficient in enumerate(coefficients, start=1):
                before = underlying[:, lags - lag:underlying.shape[1] - lag]
                expected = expected + coefficient[:, None] * (before - drift[:, None])
            if extra is not None:
                expected = expected + extra[:, lags:]
            if ragged:
                rows, cols = np.nonzero(used)
                pm.StudentT("change", nu=nu, mu=expected[rows, cols], sigma=sigma[rows],
                            observed=change[:, lags:][rows, cols])
            else:
                pm.StudentT("change", nu=nu, mu=expected, sigma=sigma[:, None],
                            observed=change[:, lags:])
        return model

    @property
    def posterior(self) -> az.InferenceData | None:
        """The posterior of the last fit (None before :meth:`fit`)."""
        return self.idata

    def fit(self, pool: xr.DataArray) -> az.InferenceData:
        """Sample the posterior from the training window of ``pool`` (pool_region, year)."""
        window = self.training_window(pool)
        regions = [str(r) for r in window["pool_region"].values]
        # years and error cells only where used, so that subclasses'
        # build(log_tfr, regions) still work
        years = (window["year"].values,) if self.dragon_year else ()
        errors = error_cells(window)
        more = {"error_cells": errors} if errors.any() else {}
        model = self.build(np.log(window.values), regions, *years, **more)
        per_chain = max(self.samples, -(-self.draws // self.chains))

        def sample() -> az.InferenceData:
            start = time.perf_counter()
            log.info("Sampling the TFR model: %d populations, %d-%d, %d chains x (%d tune + "
                     "%d draws)%s", len(regions), int(window["year"].min()),
                     int(window["year"].max()), self.chains, self.tune, per_chain,
                     ", with the dragon-year term" if self.dragon_year else "")
            with model:
                sampled = pm.sample(
                    draws=per_chain, tune=self.tune, chains=self.chains, cores=self.cores,
                    target_accept=self.target_accept, random_seed=self.random_seed,
                    progressbar=self.progressbar, nuts_sampler=self.nuts_sampler,
                    compute_convergence_checks=False,
                    **({"mp_ctx": chain_context()} if self.nuts_sampler == "pymc" else {}))
            check_complete(sampled, self.chains, per_chain)
            sampled.posterior.attrs["sampling_seconds"] = time.perf_counter() - start
            return sampled

        if self.cache:
            key = self.cache_key(window, errors, per_chain)
            idata, path, hit = cached(self.cache_dir, "tfr-posterior", key, sample,
                                      save=lambda data, to: data.to_netcdf(str(to)),
                                      load=_load_posterior)
            log.info("TFR posterior %s %s (fertility.cache=false samples anew)",
                     "reused: the same model, data and settings were sampled before, in" if hit
                     else "kept for a rerun with the same model, data and settings in", path)
        else:
            idata = sample()
        names = (HYPER + PER_REGION + (DRAGON if self.dragon_year else [])
                 + (["error_sd"] if errors.any() else [])
                 + (["ar2_mean", "ar2_sd", "ar2"] if self.momentum_lags == 2 else []))
        self.diagnostics = convergence(idata, float(idata.posterior.attrs["sampling_seconds"]),
                                       names)
        if self.cache:
            self.diagnostics["posterior_cache"] = {"reused": hit, "file": str(path)}
        if self.dragon_year:
            self.diagnostics["dragon_effect"] = dragon_summary(idata)
        self.idata = idata
        return idata

    def cache_key(self, window: xr.DataArray, errors: np.ndarray, per_chain: int) -> str:
        """SHA-256 of what the posterior depends on: the training window (values, regions,
        years, measurement-error cells), every sampler and model setting, the model's source
        code and the versions of the sampling libraries."""
        return content_key({
            "model": type(self).__qualname__,
            "source": hashlib.sha256(Path(inspect.getsourcefile(type(self))).read_bytes()
                                     ).hexdigest(),
            "values": np.asarray(window.values, dtype=float),
            "regions": [str(r) for r in window["pool_region"].values],
            "years": np.asarray(window["year"].values, dtype=int), "errors": errors,
            "settings": {"per_chain": per_chain, "tune": self.tune, "chains": self.chains,
                         "cores": self.cores, "target_accept": self.target_accept,
                         "nuts_sampler": self.nuts_sampler, "seed": self.random_seed,
                         "priors": {k: [v[0], dict(v[1])] for k, v in self.priors.items()},
                         "dragon_year": self.dragon_year,
                         "calendar_regions": self.calendar_regions,
                         "momentum_lags": self.momentum_lags},
            "versions": {name: importlib.metadata.version(name)
                         for name in ("pymc", "pytensor", "numpy", "arviz")}})

    # ------------------------------------------------------------------ forecast
    def forecast_tfr(self, pool: xr.DataArray, years: np.ndarray, targets: list[str]
                     ) -> xr.DataArray:
        """Posterior predictive TFR paths for ``targets``; one path per posterior draw."""
        if self.dragon_setting == "auto":
            self.dragon_year = dragon_term_needed(self.training_window(pool), targets,
                                                  self.calendar_regions)
            if self.dragon_year:
                log.info("TFR model: a series ends in a year of the dragon; the dragon-year "
                         "term is on, so its bump is not carried forward")
        return self.paths_from_posterior(self.fit(pool), pool, years, targets)

    def paths_from_posterior(self, idata: az.InferenceData, pool: xr.DataArray,
                             years: np.ndarray, targets: list[str]) -> xr.DataArray:
        """TFR paths (pool_region, year, draw) of ``targets`` in ``years`` from the
        posterior ``idata`` of a fit to the same populations, each starting from its last
        observed value in ``pool``'s training window."""
        window = self.training_window(pool)
        errors = error_cells(window)
        unsmoothed = flagged_cells(window, "unsmoothed")
        lags = self.momentum_lags
        names = (["drift", "ar", "sigma", "nu"] + (["dragon"] if self.dragon_year else [])
                 + (["measurement_error"] if errors.any() else []) + (["ar2"] if lags == 2 else []))
        post = az.extract(idata, var_names=names)  # sample dim last
        take = np.linspace(0, post.sizes["sample"] - 1, self.draws).round().astype(int)
        post = post.isel(sample=take)
        years = np.asarray(years)
        order = [str(r) for r in pool["pool_region"].values]
        cell = np.cumsum(errors.ravel()).reshape(errors.shape) - 1  # index of each error
        pull = None  # its draws: stream 2's index after the populations'
        if self.long_run == "pooled_level":
            pull = pooled_pull(window, self.draws,
                               np.random.default_rng([self.random_seed, 2, len(order)]))
        paths = []
        for target in targets:
            rng = np.random.default_rng([self.random_seed, 2, order.index(target)])
            row = order.index(target)
            series = window.sel(pool_region=target)
            seen_at = np.flatnonzero(np.isfinite(series.values))[-(lags + 1):]
            last = int(series["year"].values[seen_at[-1]])
            if years[0] != last + 1:
                raise ValueError(f"forecast years of {target} must start in {last + 1}")
            y = np.log(series.values[seen_at])
            # the process's own last two values: less a measurement error where the values
            # carry one (draws of it), less the dragon year's bump (below)
            flagged = [(k, at) for k, at in enumerate(seen_at) if errors[row, at]]
            if flagged:
                y = np.repeat(y[:, None], post.sizes["sample"], axis=1)
                for k, at in flagged:
                    y[k] -= post["measurement_error"].isel(error_cell=cell[row, at]).values
            p = post.sel(pool_region=target)
            changes, level = np.diff(y, axis=0), None  # the last `lags` changes, oldest first
            y_last = y[-1]
            if self.dragon_year and target in self.calendar_regions:
                # the underlying series x = y - δ D and its changes d*, then δ D_t added back
                delta = post["dragon"].sel(calendar_region=target).values
                seen = is_dragon_year(np.arange(last - lags, last + 1)).astype(float)
                y_last = y[-1] - delta * seen[-1]
                changes = (np.reshape(changes, (lags, -1))
                           - np.diff(seen)[:, None] * delta[None, :])
                level = is_dragon_year(years).astype(float)[:, None] * delta[None, :]
            momentum = None if lags == 1 else (p["ar2"].values, changes[-2])
            simulated = simulate_paths(y_last, changes[-1], p["drift"].values, p["ar"].values,
                                       p["sigma"].values, post["nu"].values, len(years), rng,
                                       level=level, damping=self.drift_damping, pull=pull,
                                       second_lag=momentum)
            if unsmoothed[row, seen_at[-1]]:
                simulated = widened(simulated, self.unsmoothed_interval_scale)
                note = self.diagnostics.setdefault("unsmoothed_interval_scale", {
                    "scale": self.unsmoothed_interval_scale, "widened": []})
                note["widened"] = sorted({*note["widened"], target})
            paths.append(simulated)
        return xr.DataArray(np.stack(paths), dims=("pool_region", "year", "draw"),
                            coords={"pool_region": targets, "year": years,
                                    "draw": np.arange(self.draws)},
                            attrs={"units": "children per woman"})


def _load_posterior(path: Path) -> az.InferenceData:
    """A cached posterior, read whole into memory (the file may be replaced later)."""
    with az.rc_context(rc={"data.load": "eager"}):
        idata = az.from_netcdf(str(path))
    idata.posterior.attrs["sampling_seconds"] = float(idata.posterior.attrs["sampling_seconds"])
    return idata


def flagged_cells(pool: xr.DataArray, name: str) -> np.ndarray:
    """The pool's values (pool_region, year) that its boolean coordinate ``name`` marks
    (:mod:`forecast.data.official_series`), or none."""
    if name not in pool.coords:
        return np.zeros(pool.shape, dtype=bool)
    return pool[name].transpose(*pool.dims).values.astype(bool)


def error_cells(pool: xr.DataArray) -> np.ndarray:
    """The pool's values (pool_region, year) that carry a measurement error: its
    ``measurement_error`` coordinate (official estimates revised after a census), or none."""
    return flagged_cells(pool, "measurement_error")


def dragon_term_needed(pool: xr.DataArray, targets: list[str],
                       calendar_regions: list[str]) -> bool:
    """Whether a forecast of ``targets`` from ``pool`` (pool_region, year) needs the
    dragon-year term: a target that follows the Chinese calendar has its last observed value
    in a year of the dragon, whose bump the forecast must not carry forward."""
    for target in targets:
        series = pool.sel(pool_region=target).dropna("year")
        if target in calendar_regions and bool(is_dragon_year(series["year"].values[-1:]).any()):
            return True
    return False


def is_dragon_year(years) -> np.ndarray:
    """D_t: whether each calendar year is a year of the dragon (2012, every 12 years)."""
    return (np.asarray(years, dtype=int) - DRAGON_YEAR) % 12 == 0


def dragon_steps(years) -> np.ndarray:
    """D_t - D_{t-1} for the annual changes of ``years`` (length ``len(years) - 1``):
    +1 into a dragon year, -1 out of it, 0 otherwise."""
    return np.diff(is_dragon_year(years).astype(float))


def dragon_summary(idata: az.InferenceData) -> dict:
    """Posterior mean and central 95 % interval of δ̄ (``dragon_mean``), τ_δ (``dragon_sd``)
    and each calendar region's δ_c (``dragon``), on log TFR."""
    post = idata.posterior

    def stats(values) -> dict:
        values = np.ravel(values)
        lo, hi = np.quantile(values, INTERVALS["95"])
        return {"mean": round(float(values.mean()), 5), "lower_95": round(float(lo), 5),
                "upper_95": round(float(hi), 5)}

    return {"dragon_mean": stats(post["dragon_mean"].values),
            "dragon_sd": stats(post["dragon_sd"].values),
            "dragon": {str(c): stats(post["dragon"].sel(calendar_region=c).values)
                       for c in post["calendar_region"].values}}


def centre_log_sigma(change: np.ndarray, usable: np.ndarray | None = None) -> bool:
    """Whether to sample log σ_c centred, from the annual changes (population, year);
    ``usable`` (population, year - 1) marks the changes observed with the one before them
    (default: all).

    Each population's shock size is estimated from the residuals of an AR(1) fitted to its
    changes by least squares; the sampling variance of such a log standard deviation from n
    residuals is about v = 1 / (2 (n - 2)). The variance of the estimated log sizes across
    populations less v estimates τ_s². Centred when that exceeds 10 v (each series, not the
    pool, then decides its own σ_c: pooling weight v / (v + τ_s²) below 1/11). The margin is
    asymmetric on purpose: where τ_s is near zero the centred form fails outright (a funnel:
    divergences, R-hat far above 1), while the non-centred form where τ_s is large only
    mixes more slowly; in between (τ_s² / v of 2-10) the two mix alike. The WPP pool's
    ratio τ_s² / v is 22-26 for every 30-year window ending 1990-2023; of 1,000 pools
    simulated with equal σ_c, none exceeded 2.6.
    """
    lag, now = change[:, :-1], change[:, 1:]
    if usable is None or usable.all():
        n = now.shape[1]
        if change.shape[0] < 2 or n < 4:
            return False
        lag_c = lag - lag.mean(1, keepdims=True)
        now_c = now - now.mean(1, keepdims=True)
    else:  # each population over its own usable changes
        weight = usable.astype(float)
        n = weight.sum(1)
        if change.shape[0] < 2 or n.min() < 4:
            return False
        lag_c = (lag - (weight * lag).sum(1, keepdims=True) / n[:, None]) * weight
        now_c = (now - (weight * now).sum(1, keepdims=True) / n[:, None]) * weight
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = (lag_c * now_c).sum(1) / (lag_c**2).sum(1)
        resid = now_c - slope[:, None] * lag_c
        log_size = np.log(np.sqrt((resid**2).sum(1) / (n - 2)))
    sampling = float(np.mean(1.0 / (2.0 * (n - 2))))
    between = np.var(log_size, ddof=1) - sampling
    return bool(np.isfinite(between) and between > 10.0 * sampling)


def check_complete(idata: az.InferenceData, chains: int, per_chain: int) -> None:
    """Raise :class:`Interrupted` unless every chain returned every draw asked for.

    PyMC returns what it has when sampling is interrupted (Ctrl-C); a forecast from a
    partial posterior must not be published."""
    got_chains = int(idata.posterior.sizes["chain"])
    got_draws = int(idata.posterior.sizes["draw"])
    if got_chains != chains or got_draws != per_chain:
        raise Interrupted(f"TFR model: sampling stopped early ({got_chains} chains x {got_draws} "
                          f"draws of {chains} x {per_chain} asked for); nothing written")


def simulate_paths(y_last, change_last, drift: np.ndarray, ar: np.ndarray,
                   sigma: np.ndarray, nu: np.ndarray, steps: int, rng: np.random.Generator,
                   level: np.ndarray | None = None, damping: float = 1.0,
                   pull: np.ndarray | None = None,
                   second_lag: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """TFR paths (year, draw) from the model's equations, one per parameter draw.

    ``y_last`` and ``change_last`` (scalars or one per draw) are the last log TFR and its
    change of the process that the AR equation drives; ``level`` (year, draw), if given, is
    added to log TFR in each simulated year without entering that process (the dragon-year
    term: the last values are then those of the underlying series x and d*). ``damping`` γ
    in (0, 1] fades the drift in the forecast: the k-th year's expected change is μ γ^k
    (plus the momentum on the last change's departure from μ γ^(k-1)); γ = 1 is the model as
    fitted, an undamped drift. ``pull`` (2, draw), if given, replaces the drift by a pull
    towards a long-run level: the expected change is ``pull[0] + pull[1] * y`` of the year
    before (bayesTFR's Phase III AR(1), κ = -pull[1], level exp(pull[0] / κ)); with
    ``pull[1] = 0`` and ``pull[0] = μ`` it is the undamped drift. ``second_lag`` (r2 per
    draw, the change before the last) makes the momentum an AR(2) with partial
    autocorrelations ``ar`` and r2 (``momentum_lags: 2``); r2 = 0 is the AR(1)."""
    n = drift.shape[0]
    y = np.full(n, y_last, dtype=float)
    change = np.full(n, change_last, dtype=float)
    out = np.empty((steps, n))

    def expected(k, before):
        return drift * damping ** k if pull is None else pull[0] + pull[1] * before

    mean = expected(0, y - change)
    if second_lag is not None:
        r2 = second_lag[0]
        phi1, phi2 = ar * (1.0 - r2), r2
        change_before = np.full(n, second_lag[1], dtype=float)
        mean_before = expected(0, y - change - change_before)
    for k in range(steps):
        previous, mean = mean, expected(k + 1, y)
        if second_lag is None:
            momentum = ar * (change - previous)
        else:
            momentum = phi1 * (change - previous) + phi2 * (change_before - mean_before)
            change_before, mean_before = change, previous
        change = mean + momentum + sigma * rng.standard_t(nu)
        y = y + change
        out[k] = np.exp(y) if level is None else np.exp(y + level[k])
    return out


def pooled_pull(pool: xr.DataArray, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Draws (2, draw) of the pooled Phase III regression of the annual change of log TFR on
    its level the year before, Δy = a + b y + e, over every population of ``pool``
    (pool_region, year; gaps skipped): (a, b) from their least-squares normal approximation."""
    y = np.log(pool.transpose("pool_region", "year").values)
    change, before = np.diff(y, axis=1).ravel(), y[:, :-1].ravel()
    ok = np.isfinite(change) & np.isfinite(before)
    x = np.stack([np.ones(ok.sum()), before[ok]], axis=1)
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ x.T @ change[ok]
    resid = change[ok] - x @ coef
    cov = xtx_inv * (resid @ resid) / (len(resid) - 2)
    return rng.multivariate_normal(coef, cov, size=draws).T


def convergence(idata: az.InferenceData, seconds: float, names: list[str] | None = None
                ) -> dict:
    """R-hat, bulk and tail ESS (worst over ``names``, by default :data:`HYPER` and
    :data:`PER_REGION`), divergences; warnings when poor."""
    names = HYPER + PER_REGION if names is None else names
    rhat = az.rhat(idata, var_names=names)
    ess_bulk = az.ess(idata, var_names=names, method="bulk")
    ess_tail = az.ess(idata, var_names=names, method="tail")
    def over(stat, fn):
        values = np.concatenate([np.ravel(stat[v].values) for v in names])
        return None if np.all(np.isnan(values)) else float(fn(values))

    worst = {
        "rhat_max": over(rhat, np.nanmax),
        "ess_bulk_min": over(ess_bulk, np.nanmin),
        "ess_tail_min": over(ess_tail, np.nanmin),
        "divergences": int(idata.sample_stats["diverging"].sum()),
        "draws": int(idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]),
        "sampling_seconds": round(seconds, 1),
    }
    ess = [e for e in (worst["ess_bulk_min"], worst["ess_tail_min"]) if e is not None]
    worst["ess_bulk_per_second"] = (round(worst["ess_bulk_min"] / max(seconds, 1e-9), 2)
                                    if worst["ess_bulk_min"] is not None else None)
    warnings = []
    if worst["rhat_max"] is None:
        warnings.append("R-hat cannot be computed (one chain?): convergence is unchecked")
    elif worst["rhat_max"] > RHAT_MAX:
        warnings.append(f"R-hat {worst['rhat_max']:.3f} > {RHAT_MAX}: chains disagree")
    if not ess or min(ess) < ESS_MIN:
        warnings.append(f"effective sample size {min(ess) if ess else float('nan'):.0f}"
                        f" < {ESS_MIN}: intervals are imprecise; raise draws")
    if worst["divergences"]:
        warnings.append(f"{worst['divergences']} divergent transitions: raise target_accept")
    for w in warnings:
        log.warning("TFR model: %s", w)
    def fmt(value, spec):
        return "n/a" if value is None else format(value, spec)

    log.info("TFR model: R-hat max %s, ESS bulk min %s, tail min %s, %d divergences, "
             "sampled in %.1f s", fmt(worst["rhat_max"], ".3f"),
             fmt(worst["ess_bulk_min"], ".0f"), fmt(worst["ess_tail_min"], ".0f"),
             worst["divergences"], seconds)
    worst["warnings"] = warnings
    return worst
