r"""Life expectancy at birth of both sexes, learned from a pool of populations: fit and draws.

**Women.** The annual gain :math:`g_{c,t} = e^f_{c,t} - e^f_{c,t-1}` (years per year) of
population :math:`c` falls with the level reached (Raftery et al. 2013, bayesLife's idea, here
linear over the fitted range) and has a lasting offset of its own:

.. math::

    g_{c,t} = \alpha + \beta\,(e^f_{c,t-1} - 80) + a_c + \varepsilon_{c,t}, \qquad
    a_c \sim N(0, \tau^2), \quad \varepsilon_{c,t} \sim N(0, \sigma^2),

fitted on the last ``window`` gains of every population in the pool: :math:`(\alpha, \beta)`
by pooled least squares with a covariance that allows for the offsets (random-effects
sandwich); :math:`\sigma^2` the within-population variance of the residuals; :math:`\tau^2`
the between-population variance of their means less its sampling part (moments, floored at
0); :math:`a_c` each mean shrunk by :math:`\tau^2 / (\tau^2 + \sigma^2 / n_c)`, with
conditional variance :math:`(1/\tau^2 + n_c/\sigma^2)^{-1}`. The shocks' variance is the
pool's, so the years of real shocks in it (2020-22) count; China's WPP series alone is smoothed
(sd of gains 0.12 against 0.15-0.25 in the vital-registration populations).

**Men, coherent with women** (Raftery, Lalic & Gerland 2014, without their 1953 term): the gap
:math:`G = e^f - e^m` is autoregressive and narrows once women pass 75 years,

.. math::

    G_{c,t} = \gamma_0 + \gamma_1 G_{c,t-1} + \gamma_2 (e^f_{c,t} - 75)_+ + \nu_{c,t},
    \qquad \nu \sim N(0, s^2),

pooled least squares on the same years; a draw's men follow its women, so the sexes cannot
drift apart.

**Draws.** Each draw takes its own parameters (:math:`\alpha, \beta` and :math:`\gamma` from
their normal approximations, :math:`a_c` from its conditional distribution): the parameter
uncertainty of the pooled fit, on top of the annual shocks.

References: Raftery, A. E., Chunn, J. L., Gerland, P. & Ševčíková, H. (2013), Bayesian
probabilistic projections of life expectancy for all countries, *Demography* 50(3), 777-801;
Raftery, A. E., Lalic, N. & Gerland, P. (2014), Joint probabilistic projection of female and
male life expectancy, *Demographic Research* 30(27), 795-822.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Level (years) the women's gain is centred on: the intercept is the gain at 80 years.
GAIN_PIVOT = 80.0
#: Women's life expectancy (years) above which the gap between the sexes narrows.
GAP_KNOT = 75.0


@dataclass(frozen=True)
class GainFit:
    """Women's gain model; gains and sd in years per year, ``regions`` (pool_region,)."""

    theta: np.ndarray          # (2,) alpha, beta
    theta_cov: np.ndarray      # (2, 2)
    sigma: float               # sd of the annual shocks
    tau: float                 # sd of the populations' offsets
    offset: np.ndarray         # (pool_region,) shrunk offsets a_c
    offset_sd: np.ndarray      # (pool_region,) their conditional sd
    regions: np.ndarray        # (pool_region,)
    years: np.ndarray          # the gains' years (each from the year before)


@dataclass(frozen=True)
class GapFit:
    """Gap model: ``coef`` (3,) gamma_0..2, ``cov`` (3, 3), ``sigma`` (years)."""

    coef: np.ndarray
    cov: np.ndarray
    sigma: float


def _window(series: np.ndarray, years: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """The last ``window`` + 1 years of ``series`` (region, year); raise if too short or NaN."""
    if window < 5 or len(years) < window + 1:
        raise ValueError(f"e0 model: need at least window + 1 = {window + 1} years (window >= "
                         f"5); the pool has {len(years)} ({years.min()}-{years.max()})")
    part = series[:, -(window + 1):]
    if not np.isfinite(part).all():
        raise ValueError("e0 model: the pool's life expectancies have gaps in the fitted years")
    return part, years[-(window + 1):]


def fit_gains(female: np.ndarray, years: np.ndarray, regions: np.ndarray,
              window: int) -> GainFit:
    """Fit the women's gain model on the last ``window`` gains of ``female`` (region, year)."""
    part, used = _window(female, years, window)
    gain, level = np.diff(part, axis=1), part[:, :-1] - GAIN_PIVOT
    n_region, n_year = gain.shape
    x = np.stack([np.ones(gain.size), level.ravel()], axis=1)
    xtx_inv = np.linalg.inv(x.T @ x)
    theta = xtx_inv @ x.T @ gain.ravel()
    resid = (gain.ravel() - x @ theta).reshape(n_region, n_year)
    means = resid.mean(axis=1)
    sigma2 = ((resid - means[:, None]) ** 2).sum() / (gain.size - n_region - 1)
    tau2 = max(0.0, (means ** 2).sum() / (n_region - 2) - sigma2 / n_year)
    shrink = tau2 / (tau2 + sigma2 / n_year)
    offset_var = 1.0 / (1.0 / tau2 + n_year / sigma2) if tau2 > 0 else 0.0
    # sandwich: Cov(gain) = sigma2 I + tau2 (one block of ones per population)
    xs = x.reshape(n_region, n_year, 2).sum(axis=1)
    meat = sigma2 * (x.T @ x) + tau2 * xs.T @ xs
    return GainFit(theta=theta, theta_cov=xtx_inv @ meat @ xtx_inv, sigma=float(np.sqrt(sigma2)),
                   tau=float(np.sqrt(tau2)), offset=means * shrink,
                   offset_sd=np.full(n_region, np.sqrt(offset_var)), regions=np.asarray(regions),
                   years=used[1:])


def gap_design(gap_before: np.ndarray, female: np.ndarray) -> np.ndarray:
    """Regressors (..., 3) of the gap model: 1, the gap a year before, (e0f - 75)+."""
    return np.stack([np.ones_like(female), gap_before, np.maximum(female - GAP_KNOT, 0.0)],
                    axis=-1)


def fit_gap(female: np.ndarray, male: np.ndarray, years: np.ndarray, window: int) -> GapFit:
    """Fit the gap model on the last ``window`` years of ``female``, ``male`` (region, year)."""
    f, _ = _window(female, years, window)
    gap, _ = _window(female - male, years, window)
    x = gap_design(gap[:, :-1], f[:, 1:]).reshape(-1, 3)
    y = gap[:, 1:].ravel()
    xtx_inv = np.linalg.inv(x.T @ x)
    coef = xtx_inv @ x.T @ y
    sigma2 = ((y - x @ coef) ** 2).sum() / (len(y) - 3)
    return GapFit(coef=coef, cov=sigma2 * xtx_inv, sigma=float(np.sqrt(sigma2)))


def simulate(gains: GainFit, gap: GapFit, region: str, female0: float, gap0: float,
             horizon: int, draws: int, rng: np.random.Generator | None) -> np.ndarray:
    """e0 (sex, h, draw) of ``region`` for h = 1..``horizon`` years after the last data year.

    Sex order female, male; ``female0`` and ``gap0`` (years) are the last data year's. With
    ``rng`` None every draw is the central path: point estimates and no shocks.
    """
    where = np.flatnonzero(gains.regions == region)
    if where.size == 0:
        raise ValueError(f"e0 model: {region!r} is not in the pool "
                         f"({', '.join(map(str, gains.regions))})")
    c = int(where[0])
    if rng is None:
        theta = np.repeat(gains.theta[None], draws, 0)
        offset = np.full(draws, gains.offset[c])
        coef = np.repeat(gap.coef[None], draws, 0)
        shocks = np.zeros((horizon, 2, draws))
    else:
        theta = rng.multivariate_normal(gains.theta, gains.theta_cov, size=draws)
        offset = gains.offset[c] + gains.offset_sd[c] * rng.standard_normal(draws)
        coef = rng.multivariate_normal(gap.coef, gap.cov, size=draws)
        shocks = rng.standard_normal((horizon, 2, draws)) * np.array([gains.sigma, gap.sigma])[
            None, :, None]
    female, gap_now = np.full(draws, float(female0)), np.full(draws, float(gap0))
    out = np.empty((2, horizon, draws))
    for h in range(horizon):
        female = (female + theta[:, 0] + theta[:, 1] * (female - GAIN_PIVOT) + offset
                  + shocks[h, 0])
        gap_now = (gap_design(gap_now, female) * coef).sum(-1) + shocks[h, 1]
        out[0, h], out[1, h] = female, female - gap_now
    return out
