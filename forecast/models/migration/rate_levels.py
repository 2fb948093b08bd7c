"""The regions' net migration rates as levels that revert to zero, each region on its own scale.

Each region's rate y (per person per step) is its scale λ_r times a state-space model whose
parameters (ρ, σ, τ) are pooled over the regions: a level that reverts to zero as an AR(1),
seen with transitory noise (the filter of :mod:`forecast.demography.regional_levels`, started
diffuse: nothing is assumed about the regions' rates before their first step):

.. math::

    y_{r,t} = \\lambda_r z_{r,t}, \\quad z_{r,t} = x_{r,t} + \\varepsilon_{r,t}, \\quad
    x_{r,t} = \\rho\\, x_{r,t-1} + \\eta_{r,t}, \\quad \\eta \\sim N(0, \\sigma^2), \\;
    \\varepsilon \\sim N(0, \\tau^2)

Migration between provinces nets to zero, and the provinces' rates converged towards zero over
2011-2021 (Beijing's from +20 to +1 per 1,000, Shanxi's from -13 to -1); the fitted ρ says how
fast (0.87 a step on the repository's data: half-way in five steps).

The provinces' rates move on very different scales (Tianjin's by 5-20 per 1,000 a step,
Hebei's by 1) and each has 5-11 observed steps, so λ_r² is the variance of the region's
step-to-step changes shrunk towards the regions' distribution of such variances (empirical
Bayes: an inverse-gamma prior IG(a, b) fitted to the sample variances by their marginal
likelihood; Morris 1983, *JASA* 78(381)). The series are standardised by the posterior mode of
λ_r and (ρ, σ, τ) fitted as the fertility levels' are (posterior mode under the
boundary-avoiding priors on σ and τ, covariance from the Hessian). Each draw takes its own
(ρ, σ, τ) and its own λ_r² from the posterior IG(a + k/2, b + k s²/2) (k the degrees of
freedom of the sample variance s²): the scale's uncertainty widens the movement's tails as a
Student-t does. The filtered level of the last observed step, with its error, is where the
draws start.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy import optimize, special

from forecast.demography.regional_levels import (PARAMETERS, SD_PRIOR_RATE, kalman_filter,
                                                 minimise, unpack)

#: Starting values of (logit ρ/ρ_max, log σ, log τ) of the standardised series in the fit.
START = (2.0, np.log(1.0), np.log(0.1))


def scale_prior(sample_var: np.ndarray, dof: np.ndarray) -> tuple[float, float]:
    """(a, b) of the inverse-gamma prior of the regions' variances that maximises the
    marginal likelihood of their sample variances ``sample_var`` (each s² ~ v χ²_k / k with
    ``dof`` k, v ~ IG(a, b)); regions with k = 0 carry no information and are left out."""
    s2, k = np.asarray(sample_var, float), np.asarray(dof, float)
    used = (k > 0) & np.isfinite(s2) & (s2 > 0)
    s2, k = s2[used], k[used]
    if len(s2) < 2:
        raise ValueError(f"{len(s2)} regions with a sample variance of their rate changes; "
                         "the scales' prior needs two at least (three observed steps each)")

    def cost(log_ab):
        a, b = np.exp(log_ab)
        return -np.sum(special.gammaln(a + k / 2) - special.gammaln(a) + a * np.log(b)
                       - (a + k / 2) * np.log(b + k * s2 / 2) + (k / 2) * np.log(k / 2)
                       + (k / 2 - 1) * np.log(s2) - special.gammaln(k / 2))

    best = optimize.minimize(cost, np.log([2.0, float(np.mean(s2))]), method="Nelder-Mead",
                             options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    a, b = np.exp(best.x)
    return float(a), float(b)


def fit_rate_levels(rates: xr.DataArray) -> dict:
    """Fit the model (module docstring) to ``rates`` (region, year), per person per step,
    NaN where not observed.

    Returns a dict: ``regions``, ``steps`` (the observed steps), ``prior`` (a, b),
    ``shape`` and ``rate`` (region,: the posterior IG of λ²), ``scale`` (region,: the posterior
    mode of λ, per person per step), ``theta`` (logit ρ/ρ_max, log σ, log τ) and
    ``theta_cov``, ``rho``, ``sigma`` and ``tau`` (standardised units per step), ``level``
    and ``level_sd`` (region,: the filtered level of the last step, per person per step)."""
    values = rates.transpose("region", "year").values.astype(float)
    regions = [str(r) for r in rates["region"].values]
    empty = ~np.isfinite(values).any(1)
    if empty.any():
        raise ValueError("regions without an observed net migration rate: "
                         + ", ".join(np.array(regions)[empty]))
    changes = np.diff(values, axis=1)
    seen = np.isfinite(changes)
    count = seen.sum(1)
    k = np.maximum(count - 1, 0)
    centred = np.where(seen, changes - np.nansum(changes, 1, keepdims=True)
                       / np.maximum(count, 1)[:, None], 0.0)
    s2 = np.where(k > 0, (centred ** 2).sum(1) / np.maximum(k, 1), np.nan)
    a, b = scale_prior(s2, k)
    shape = a + k / 2
    rate = b + np.where(k > 0, k * np.nan_to_num(s2) / 2, 0.0)
    scale = np.sqrt(rate / (shape + 1))
    z = values / scale[:, None]

    def cost(theta):
        rho, sigma, tau = unpack(theta, PARAMETERS)
        prior = sum(np.log(sd) - SD_PRIOR_RATE * sd for sd in (sigma, tau))
        return -kalman_filter(z, rho, sigma, tau, diffuse=True)[0].sum() - prior

    theta, cov, _ = minimise(cost, np.array(START))
    rho, sigma, tau = unpack(theta, PARAMETERS)
    _, mean, var = kalman_filter(z, rho, sigma, tau, diffuse=True)
    return {"regions": regions, "steps": [int(y) for y in rates["year"].values],
            "prior": (a, b), "shape": shape, "rate": rate, "scale": scale,
            "theta": theta, "theta_cov": cov, "rho": float(rho), "sigma": float(sigma),
            "tau": float(tau), "level": mean * scale, "level_sd": np.sqrt(var) * scale}


def level_rate_paths(fit: dict, steps: int, draws: int, rng: np.random.Generator,
                     parameter_uncertainty: bool = True) -> np.ndarray:
    """Draws of the rates (region, step, draw) of the ``steps`` steps after the last
    observed one, per person per step: the filtered level drawn from its uncertainty, moved
    by the AR(1) towards zero, plus the transitory noise, the movement and noise scaled by
    each draw's λ_r (from its posterior) and with each draw's (ρ, σ, τ) (from their sampling
    distribution) unless ``parameter_uncertainty`` is false (then the fitted ρ, σ, τ and the
    posterior mode of λ)."""
    regions = len(fit["scale"])
    size = (regions, draws)
    if parameter_uncertainty:
        rho, sigma, tau = unpack(rng.multivariate_normal(fit["theta"], fit["theta_cov"],
                                                         size=draws).T, PARAMETERS)
        variance = fit["rate"][:, None] / rng.gamma(fit["shape"][:, None], 1.0, size)
        scale = np.sqrt(variance)
    else:
        rho, sigma, tau = (np.full(draws, fit[k]) for k in PARAMETERS)
        scale = np.repeat(fit["scale"][:, None], draws, axis=1)
    level = fit["level"][:, None] + fit["level_sd"][:, None] * rng.standard_normal(size)
    paths = np.empty((regions, steps, draws))
    for k in range(steps):
        level = rho * level + scale * sigma * rng.standard_normal(size)
        paths[:, k] = level + scale * tau * rng.standard_normal(size)
    return paths
