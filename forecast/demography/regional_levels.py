"""Regional fertility levels as a state-space model fitted to China's own provinces.

The log fertility factor of region r (its fertility relative to the nation's by indirect
standardisation, :mod:`forecast.demography.provincial_history`) is a latent level observed
with transitory noise in the published series:

.. math::

    x_{r,t} = \\rho\\, x_{r,t-1} + \\eta_{r,t}, \\quad \\eta \\sim N(0, \\sigma^2); \\qquad
    y_{r,t} = x_{r,t} + \\varepsilon_{r,t}, \\quad \\varepsilon \\sim N(0, \\tau^2)

Two dynamics (:data:`MODELS`, option ``data.provincial.dynamics``):

- ``local_level`` (default): ρ = 1, the local level model (Durbin & Koopman 2012, *Time
  Series Analysis by State Space Methods*, ch. 2): a level that does not revert, started
  diffuse (nothing is assumed about the regions' spread before the first observation).
  The provinces' series do not tell ρ apart from 1 once the start is not assumed stationary
  (profile likelihood over 2005-2019: ρ = 0.99 against 1, a likelihood-ratio statistic of
  1.5), their 5-year changes show no pull towards the nation, and the rolling-origin check
  holds its intervals at every horizon (``experiments/calibration``);
- ``ar1``: ρ fitted in [0, 0.999], the AR(1) reverting to the nation's level, started at its
  stationary law N(0, σ²/(1-ρ²)).

The free parameters are pooled over the regions and estimated by maximum likelihood with a
Kalman filter (ch. 4-7) under boundary-avoiding priors on σ and τ; their uncertainty is the
inverse Hessian of the log posterior on the fitting scale (logit ρ, log σ, log τ), sampled
once per draw. τ is year-to-year movement of the published rate that does not persist
(sampling noise of the survey, one-year timing), and published rates will carry it too, so
the draws add it to every forecast year.

The census of 1 November 2020 is the freshest evidence: its age-0 count records each region's
births of the 12 months before it (:func:`census_birth_factors`). It enters as an observation
of the level of 2020 with error variance κ²; the published series' prediction of 2020 carries,
besides its filter variance, a bias β² of the series against the census (the series of a
decade are based on population estimates and sample surveys that the census re-bases). Both
are measured on the data:

- κ² from the census's internal consistency: its ages 1-4 record the births of 2016-19; the
  variance of log(age-0 factor / ages 1-4 factor) less the variance of the true change of the
  level over those 2.5 years under the fitted dynamics is 2κ² (floored at :data:`KAPPA_MIN`).
  A bias shared by both counts (children living apart from their mothers) cannot be seen
  there.
- β² from the series against the census over the same years: the variance of log(ages 1-4
  factor / the series' mean factor of 2016-19) is κ² + β² + τ²/4.

The level of 2020 is then the precision-weighted combination of the series' prediction and the
census value (a Kalman update), with its variance; forecast draws start from it.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import optimize

#: Smallest standard deviation of the census value's error, log scale: the census's own
#: consistency cannot rule out errors shared by its young ages below this.
KAPPA_MIN = 0.02
#: The dynamics of the log factors (module docstring), the first the default.
MODELS = ("local_level", "ar1")
#: Bounds of ρ in the ``ar1`` fit (the AR(1) is stationary towards the nation's level).
RHO_RANGE = (0.0, 0.999)
PARAMETERS = ("rho", "sigma", "tau")
#: The parameters each model fits (the others are fixed: ρ = 1 for the local level).
FREE = {"local_level": ("sigma", "tau"), "ar1": PARAMETERS}
#: Rate of the Gamma(2, rate) priors of σ and τ (log factor per year): mode 1 / rate = 0.5,
#: far above any province's movement, so that the data decide.
SD_PRIOR_RATE = 2.0
#: Variance of a non-reverting level before its first observation (log scale): diffuse
#: against any province's spread (a standard deviation of 100 against 0.25).
DIFFUSE_VAR = 1e4


def census_birth_factors(children: xr.DataArray, women: xr.DataArray, asfr: xr.DataArray,
                         weights: dict[int, float]) -> xr.DataArray:
    """Fertility factor of each region from a census count of young children by indirect
    standardisation: children over the births its women would have had at the national rates
    in the years they were born, relative to the regions' sum.

    .. math:: c_r = \\frac{C_r / \\sum_y w_y \\sum_x f_x(y) W_{r,x}(y)}
                          {\\sum_q C_q / \\sum_q \\sum_y w_y \\sum_x f_x(y) W_{q,x}(y)}

    Parameters
    ----------
    children : (region), children counted at the census, persons
    women : (region, age, year), women at 1 July of each year, persons
    asfr : (age, year), national births per woman per year
    weights : calendar year -> share of that year in the children's birth window (years)

    Returns
    -------
    DataArray (region), dimensionless, 1 = the regions' sum. A census under-count common to
    all regions cancels; only differences between regions remain.
    """
    expected = sum(float(w) * (asfr.sel(year=y) * women.sel(year=y)).sum("age")
                   for y, w in weights.items())
    ratio = children / expected
    return (ratio / (children.sum("region") / expected.sum("region"))).assign_attrs(
        units="1", description="census young children over expected births, relative")


def start_variance(stationary: np.ndarray, rho: np.ndarray, sigma: np.ndarray
                   ) -> np.ndarray:
    """Variance of the level before the first observation: the AR(1)'s stationary
    σ²/(1-ρ²) where ``stationary`` (and ρ < 1), else :data:`DIFFUSE_VAR`."""
    rho, sigma = np.asarray(rho, dtype=float), np.asarray(sigma, dtype=float)
    return np.where(stationary, sigma ** 2 / np.where(stationary, 1.0 - rho ** 2, 1.0),
                    DIFFUSE_VAR)


def kalman_filter(y: np.ndarray, rho: np.ndarray, sigma: np.ndarray, tau: np.ndarray,
                  innovations: bool = False, diffuse: bool = False
                  ) -> tuple[np.ndarray, ...]:
    """Filter the model over time, vectorised over series.

    ``y`` is (..., time) with NaN where not observed; ``rho``, ``sigma``, ``tau`` broadcast
    against ``y[..., 0]``. The state starts around 0 at its stationary law where ρ < 1,
    diffuse where ρ = 1 or with ``diffuse`` (:func:`start_variance`); from a diffuse start a
    series' first observation only sets its level and adds nothing to the likelihood (the
    diffuse log-likelihood, comparable across ρ). Returns the log-likelihood of each series
    (...), and the filtered mean and variance of the state at the last time (...); with
    ``innovations`` also the standardised one-step prediction errors (..., time), NaN where
    not observed and at each series' first observation."""
    y = np.asarray(y, dtype=float)
    shape = y.shape[:-1]
    rho, sigma, tau = (np.broadcast_to(np.asarray(v, dtype=float), shape) for v in
                       (rho, sigma, tau))
    rho2, sigma2, tau2 = rho ** 2, sigma ** 2, tau ** 2
    seen = np.isfinite(y)
    observed = np.where(seen, y, 0.0)
    first = seen & (np.cumsum(seen, axis=-1) == 1)  # each series' first observation
    counted_first = (rho < 1.0) & (not diffuse)
    counted = seen & (~first | counted_first[..., None])  # terms of the likelihood
    mean = np.zeros(shape)
    var = start_variance(counted_first, rho, sigma)
    loglik = np.zeros(shape)
    standardised = np.full(y.shape, np.nan) if innovations else None
    for t in range(y.shape[-1]):
        if t:
            mean, var = rho * mean, rho2 * var + sigma2
        total = var + tau2
        innovation = (observed[..., t] - mean) * seen[..., t]
        loglik -= 0.5 * counted[..., t] * (np.log(2 * np.pi * total) + innovation ** 2 / total)
        if innovations:
            standardised[..., t] = np.where(seen[..., t] & ~first[..., t],
                                            innovation / np.sqrt(total), np.nan)
        gain = seen[..., t] * var / total
        mean, var = mean + gain * innovation, var * (1.0 - gain)
    return (loglik, mean, var, standardised) if innovations else (loglik, mean, var)


def unpack(theta: np.ndarray, free: tuple[str, ...]) -> tuple[np.ndarray, ...]:
    """(ρ, σ, τ) from the fitting scale: ``theta`` holds the ``free`` parameters along its
    first axis, ρ as logit(ρ / ρ_max), σ and τ as logs; ρ is 1 where it is not free."""
    theta = np.asarray(theta, dtype=float)
    at = {name: theta[i] for i, name in enumerate(free)}
    sigma, tau = np.exp(at["sigma"]), np.exp(at["tau"])
    rho = (RHO_RANGE[1] / (1.0 + np.exp(-at["rho"])) if "rho" in at
           else np.ones_like(sigma))
    return rho, sigma, tau


def fit_dynamics(history: xr.DataArray, model: str = MODELS[0]) -> xr.Dataset:
    """The ``model``'s parameters (:data:`MODELS`) for the log factors ``history`` (region,
    year; NaN where not observed), pooled over the regions: the posterior mode under
    boundary-avoiding Gamma(2, :data:`SD_PRIOR_RATE`) priors on σ and τ (Chung et al. 2013;
    nearly flat over the plausible range, zero at zero: a short series cannot put a variance
    at 0), with the covariance on the fitting scale.

    Returns a Dataset: ``estimate`` (parameter: rho, sigma, tau); ``theta`` and
    ``theta_cov`` (free[, free2]: the fitted parameters, :data:`FREE`) on the scale (logit
    ρ/ρ_max, log σ, log τ); attrs ``model``, ``log_posterior``, ``regions``,
    ``observations`` and ``standardised_error_sd`` (of the one-step prediction errors: about
    1 when the model's variances fit)."""
    if model not in MODELS:
        raise ValueError(f"unknown dynamics {model!r}; expected one of {', '.join(MODELS)}")
    free = FREE[model]
    y = np.log(history.transpose("region", "year").values)
    y = y[np.isfinite(y).sum(1) >= 2]
    if len(y) < 3:
        raise ValueError(f"{len(y)} regions with two or more observed factors; the dynamics "
                         "need three at least")

    def cost(theta):
        rho, sigma, tau = unpack(theta, free)
        prior = sum(np.log(sd) - SD_PRIOR_RATE * sd for sd in (sigma, tau))
        return -kalman_filter(y, rho, sigma, tau)[0].sum() - prior

    spread = np.log(np.nanstd(np.diff(y, axis=1)) / 2 + 1e-4)
    start = np.array(([2.0] if "rho" in free else []) + [spread, spread])
    theta, cov, minimum = minimise(cost, start)
    params = unpack(theta, free)
    standardised = kalman_filter(y, *params, innovations=True)[3]
    return xr.Dataset(
        {"estimate": ("parameter", np.array([float(p) for p in params])),
         "theta": ("free", theta),
         "theta_cov": (("free", "free2"), cov)},
        coords={"parameter": list(PARAMETERS), "free": list(free), "free2": list(free)},
        attrs={"model": model, "log_posterior": -minimum, "regions": int(len(y)),
               "observations": int(np.isfinite(y).sum()),
               "standardised_error_sd": float(np.nanstd(standardised))})


def minimise(cost, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The minimum of ``cost`` (a negative log-likelihood or log posterior) from ``start``
    (Nelder-Mead, then BFGS), the inverse of its numerical Hessian there (symmetric; its
    diagonal alone where it is not positive definite) and the cost's value."""
    best = optimize.minimize(cost, np.asarray(start, dtype=float), method="Nelder-Mead",
                             options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
    best = optimize.minimize(cost, best.x, method="BFGS")
    cov = np.linalg.pinv(numerical_hessian(cost, best.x))
    cov = (cov + cov.T) / 2
    if not np.all(np.linalg.eigvalsh(cov) > 0):
        cov = np.diag(np.abs(np.diag(cov)))
    return best.x, cov, float(best.fun)


def numerical_hessian(f, x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x``."""
    n = len(x)
    out = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = np.eye(n)[i] * step, np.eye(n)[j] * step
            out[i, j] = out[j, i] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j)
                                     + f(x - e_i - e_j)) / (4 * step ** 2)
    return out


def change_variance(rho: float, sigma: float, lags: np.ndarray) -> float:
    """Variance of x_{t+k} - mean of x at earlier ``lags`` (years before t+k) for the AR(1):
    σ²/(1-ρ²) · mean_ij (1 - ρ^l_i - ρ^l_j + ρ^|l_i-l_j|), the expected spread of a level
    against an average of earlier ones; its limit σ² · mean_ij min(l_i, l_j) for ρ = 1 (the
    random walk's increments)."""
    lags = np.asarray(lags, dtype=float)
    a, b = lags[:, None], lags[None, :]
    if rho >= 1.0:
        return float(sigma ** 2 * np.minimum(a, b).mean())
    return float(sigma ** 2 / (1 - rho ** 2)
                 * (1 - rho ** a - rho ** b + rho ** np.abs(a - b)).mean())


def census_errors(age0: xr.DataArray, ages1_4: xr.DataArray, series: xr.DataArray,
                  dynamics: xr.Dataset, lags: np.ndarray, series_years: list[int]
                  ) -> dict[str, float]:
    """κ and β (log scale) from the census's young ages against each other and against the
    series (module docstring). ``age0``, ``ages1_4`` (region), ``series`` (region, year);
    ``lags`` the years between the age-0 births and each year of the ages 1-4 births."""
    rho, sigma, tau = (float(dynamics["estimate"].sel(parameter=p)) for p in PARAMETERS)
    between = np.log(age0 / ages1_4)
    kappa2 = 0.5 * (float(between.var()) - change_variance(rho, sigma, lags))
    kappa2 = max(kappa2, KAPPA_MIN ** 2)
    mean_series = np.log(series.sel(year=series_years)).mean("year")
    against = (np.log(ages1_4) - mean_series).dropna("region")
    beta2 = max(float(against.var()) - kappa2 - tau ** 2 / len(series_years), 0.0)
    return {"kappa": float(np.sqrt(kappa2)), "beta": float(np.sqrt(beta2)),
            "census_vs_series_sd": float(against.std()),
            "age0_vs_ages1_4_sd": float(between.std())}


def level_at(history: xr.DataArray, dynamics: xr.Dataset, year: int,
             census: xr.DataArray | None = None, kappa: float = 0.0, beta: float = 0.0
             ) -> xr.Dataset:
    """The log level of each region in ``year`` (>= the last observed year): the series
    filtered and predicted forward, then updated with the ``census`` value of that year
    (region; NaN or absent for none) of error sd ``kappa``, the prediction carrying an extra
    bias sd ``beta``. A region without history takes the census value alone (or, under the
    AR(1), the nation's level 0 with the stationary variance; under the local level model
    such a region has no level and is refused).

    Returns a Dataset (region): ``mean`` and ``sd`` (log scale), ``census_weight``."""
    rho, sigma, tau = (float(dynamics["estimate"].sel(parameter=p)) for p in PARAMETERS)
    history = history.transpose("region", "year")
    years = history["year"].values
    y = np.log(history.values)
    _, mean, var = kalman_filter(y, rho, sigma, tau)  # the state in the series' last year
    steps = max(int(year) - int(years[-1]), 0)
    mean = mean * rho ** steps
    var = var * rho ** (2 * steps) + sigma ** 2 * (
        steps if rho >= 1.0 else (1 - rho ** (2 * steps)) / (1 - rho ** 2))
    has_history = np.isfinite(y).any(1)
    var = np.where(has_history, var + beta ** 2, var)
    weight = np.zeros(len(mean))
    seen = np.zeros(len(mean), dtype=bool)
    if census is not None:
        c = np.log(census.reindex(region=history["region"].values).values)
        seen = np.isfinite(c)
        weight = np.where(seen, var / (var + kappa ** 2), 0.0)
        mean = np.where(seen, mean + weight * (np.where(seen, c, 0.0) - mean), mean)
        var = var * (1.0 - weight)
    region = history["region"].values
    unknown = ~has_history & ~seen
    if rho >= 1.0 and unknown.any():
        raise ValueError(f"regions {', '.join(map(str, region[unknown]))} have neither a "
                         "published factor nor a census value: a non-reverting level has "
                         "no default (use the ar1 dynamics, or give them data)")
    return xr.Dataset({"mean": ("region", mean), "sd": ("region", np.sqrt(var)),
                       "census_weight": ("region", weight)}, coords={"region": region})


def level_paths(start: xr.Dataset, dynamics: xr.Dataset, start_year: int, years: np.ndarray,
                draws: int, rng: np.random.Generator, parameter_uncertainty: bool = True,
                groups: np.ndarray | None = None, shared: float = 0.0) -> xr.DataArray:
    """Draws of the fertility factor (region, year, draw), dimensionless: exp of the level
    started from N(``start.mean``, ``start.sd``²) in ``start_year``, moved by the fitted
    dynamics with their parameters (``dynamics.theta`` over its ``free`` parameters, the
    others fixed: :func:`unpack`) drawn per draw from the fit's sampling distribution
    (``theta_cov``), plus the transitory noise τ in every year after ``start_year``; the
    shocks Gaussian, as fitted. ``years`` are calendar years >= ``start_year``. With
    ``groups`` (region,: labels, "" for none) and ``shared`` in [0, 1], that share of each
    year's level shock (its variance) is drawn once per group and draw, the rest per region
    (the counties of a prefecture moving partly together); ``shared`` 0 draws exactly the
    numbers of independent regions."""
    years = np.asarray(years)
    n_steps = int(years.max()) - int(start_year)
    regions = start["region"].values
    theta = dynamics["theta"].values
    free = tuple(str(name) for name in dynamics["free"].values)
    if parameter_uncertainty:
        theta = rng.multivariate_normal(theta, dynamics["theta_cov"].values, size=draws).T
    else:
        theta = np.repeat(theta[:, None], draws, axis=1)
    rho, sigma, tau = unpack(theta, free)  # each (draw)
    size = (len(regions), draws)
    level = start["mean"].values[:, None] + start["sd"].values[:, None] * rng.standard_normal(size)
    paths = np.empty((len(regions), n_steps + 1, draws))
    paths[:, 0] = level
    together = None
    if groups is not None and shared > 0.0:
        labels = np.where(np.asarray(groups) == "", [f"-{r}" for r in regions], groups)
        together = np.unique(labels, return_inverse=True)[1]
    for k in range(n_steps):
        shock = rng.standard_normal(size)
        if together is not None:
            common = rng.standard_normal((together.max() + 1, draws))[together]
            shock = np.sqrt(1.0 - shared) * shock + np.sqrt(shared) * common
        level = rho * level + sigma * shock
        paths[:, k + 1] = level + tau * rng.standard_normal(size)
    out = xr.DataArray(np.exp(paths), dims=("region", "year", "draw"),
                       coords={"region": regions,
                               "year": np.arange(int(start_year), int(start_year) + n_steps + 1),
                               "draw": np.arange(draws)})
    return out.sel(year=years).assign_attrs(units="1", description="regional fertility / "
                                            "national fertility (state-space draws)")


def small_area_levels(log_factor: np.ndarray, sampling_var: np.ndarray, groups: np.ndarray,
                      extra_var: float) -> dict[str, np.ndarray]:
    """Empirical-Bayes levels of small areas: each area's log factor shrunk towards its
    group's mean by its precision (Morris 1983, *JASA* 78(381)).

    .. math::

        \\hat x_c = w_c\\, y_c + (1 - w_c)\\, \\bar y_g, \\qquad
        w_c = \\frac{\\omega_g^2}{\\omega_g^2 + v_c + \\kappa^2}, \\qquad
        \\operatorname{Var}(x_c) = w_c\\,(v_c + \\kappa^2)

    with y the observed log factor, v its sampling variance (e.g. 1 / the children counted),
    κ² ``extra_var`` (error common to all areas' census values), ḡ the group's
    precision-weighted mean and ω_g² the variance of the areas' true levels around it, by
    moments: the precision-weighted spread less the mean error variance, floored at a
    hundredth of the spread. A group of one area keeps its value.

    Parameters: arrays (area,): ``log_factor``, ``sampling_var``, ``groups`` (labels).
    Returns ``mean``, ``sd`` and ``weight`` (area,) and ``between_sd`` (area,: its
    group's ω)."""
    y, v = np.asarray(log_factor, float), np.asarray(sampling_var, float) + float(extra_var)
    mean, sd = np.empty_like(y), np.empty_like(y)
    weight, between = np.ones_like(y), np.zeros_like(y)
    for group in np.unique(groups):
        at = np.flatnonzero(np.asarray(groups) == group)
        if len(at) == 1:
            mean[at], sd[at], between[at] = y[at], np.sqrt(v[at]), np.nan
            continue
        precision = 1.0 / v[at]
        centre = np.sum(precision * y[at]) / precision.sum()
        spread = np.sum(precision * (y[at] - centre) ** 2) / precision.sum()
        error = np.sum(precision * v[at]) / precision.sum()
        omega2 = max(spread * len(at) / (len(at) - 1) - error, spread / 100.0)
        w = omega2 / (omega2 + v[at])
        mean[at] = w * y[at] + (1 - w) * centre
        sd[at] = np.sqrt(w * v[at])
        weight[at], between[at] = w, np.sqrt(omega2)
    return {"mean": mean, "sd": sd, "weight": weight, "between_sd": between}
