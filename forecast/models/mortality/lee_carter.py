r"""Lee-Carter mortality with the Lee-Miller second stage; uncertainty as draws of k.

Fitted for each sex separately on the WPP 5-year periods :math:`t` starting in ``fit_from`` or
later (single ages :math:`x = 0, \dots, 100+`, :math:`m` in deaths per person-year):

.. math::

    \ln m_{x,t} = a_x + b_x k_t + \varepsilon_{x,t}, \qquad
    \textstyle\sum_x b_x = 1, \quad \sum_t k_t = 0,

with :math:`a_x` the mean of :math:`\ln m_{x,t}` over the periods and :math:`b_x, k_t` from the
first singular vectors of the centred matrix (Lee & Carter 1992). Second stage (Lee & Miller
2001): each :math:`k_t` is replaced by the root of
:math:`e_0(\exp(a + b\,k_t)) = e_0^{\mathrm{data}}(t)` (bisection, single-year life table of
:mod:`forecast.demography.lifetable`); then :math:`a_x \leftarrow a_x + b_x \bar k` and
:math:`k_t \leftarrow k_t - \bar k`, which leaves the fitted rates unchanged.

Time: period :math:`p` (1 July :math:`p` to 1 July :math:`p+5`) is centred at
:math:`\tau_p = p + 3`; calendar year :math:`Y` at :math:`\tau_Y = Y + 0.5`. With :math:`n`
periods, :math:`k` is a random walk with drift per year

.. math::

    d = \frac{k_{\mathrm{last}} - k_{\mathrm{first}}}{\tau_{\mathrm{last}} - \tau_{\mathrm{first}}},
    \quad
    \sigma^2 = \frac{1}{5(n-2)} \sum_{i=1}^{n-1} (k_{i+1} - k_i - 5d)^2,
    \quad
    \operatorname{sd}(\hat d) = \frac{\sigma}{\sqrt{\tau_{\mathrm{last}} - \tau_{\mathrm{first}}}}

(a 5-year change has variance :math:`5\sigma^2`; :math:`\hat d` is the mean of the changes).
Central path: linear between period midpoints, :math:`k_{\mathrm{first}}` before the first,
:math:`k_{\mathrm{last}} + d(\tau - \tau_{\mathrm{last}})` after the last. Up to the jump-off
year :math:`J` every draw follows it; for :math:`Y > J` draw :math:`j` is

.. math::

    k_j(Y) = k(J) + d_j\,(Y - J) + \sigma \sum_{s=J+1}^{Y} z_{j,s}, \qquad
    d_j = d + \operatorname{sd}(\hat d)\, z_j, \qquad z \sim N(0, 1),

so that :math:`\operatorname{Var} k_j(J+h) = h\sigma^2 + h^2 \operatorname{sd}(\hat d)^2`. The
sexes share their standard normals with correlation ``sex_correlation``; regions with
distinct rates get independent draws, regions with identical rates share one fit and its draws.

References: Lee, R. D. & Carter, L. R. (1992), Modeling and forecasting U.S. mortality, *JASA*
87(419), 659-671; Lee, R. & Miller, T. (2001), Evaluating the performance of the Lee-Carter
method for forecasting mortality, *Demography* 38(4), 537-549; Booth, H., Maindonald, J. &
Smith, L. (2002), Applying Lee-Carter under conditions of variable mortality decline,
*Population Studies* 56(3), 325-336.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.options import (Flag, Group, Number, Where, as_whole,
                                   draws_of_fertility, explicit_seed)
from forecast.core.inputs import Inputs
from forecast.demography.lifetable import life_table_arrays
from forecast.core.variables import SEXES

#: Stream id in ``np.random.default_rng([random_seed, RNG_STREAM])``; 1-3 are fertility's
#: (trailing zeros do not change a seed sequence, so [seed, 2] would equal [seed, 2, 0]).
RNG_STREAM = 4


def fit_svd(log_mx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-stage Lee-Carter fit of ``log_mx`` (..., age, period), log deaths per person-year.

    Returns ``a`` (..., age), ``b`` (..., age) with sum 1 and ``k`` (..., period) with sum 0.
    """
    a = log_mx.mean(axis=-1)
    u, s, vt = np.linalg.svd(log_mx - a[..., None], full_matrices=False)
    scale = u[..., :, 0].sum(axis=-1)
    return a, u[..., :, 0] / scale[..., None], (s[..., :1] * vt[..., 0, :]) * scale[..., None]


def e0(a: np.ndarray, b: np.ndarray, k: np.ndarray, sex: str) -> np.ndarray:
    """Life expectancy at birth (years) of exp(a + b k); a, b (..., age), k (..., time)."""
    with np.errstate(over="ignore"):
        mx = np.exp(a[..., None, :] + b[..., None, :] * k[..., None])
    return life_table_arrays(mx, sex)["ex"][..., 0]


def match_e0(a: np.ndarray, b: np.ndarray, k: np.ndarray, target: np.ndarray, sex: str,
             tol: float = 1e-11) -> np.ndarray:
    """Second stage: k (..., time) with e0(exp(a + b k)) = ``target`` (years), by bisection."""
    width = np.maximum(np.ptp(k, axis=-1, keepdims=True), 1.0) + np.zeros_like(k)
    lo, hi = k - width, k + width
    for _ in range(30):  # widen until e0(lo) >= target >= e0(hi) (e0 falls as k rises)
        low_short, high_short = e0(a, b, lo, sex) < target, e0(a, b, hi, sex) > target
        if not (low_short.any() or high_short.any()):
            break
        lo, hi = lo - width * low_short, hi + width * high_short
        width = 2 * width
    else:
        raise ValueError(f"Lee-Carter second stage ({sex}): cannot bracket e0 = {target}")
    while np.max(hi - lo) > tol:
        mid = (lo + hi) / 2
        above = e0(a, b, mid, sex) > target
        lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
    return (lo + hi) / 2


def drift_sigma(k: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Annual drift, annual sigma and sd of the drift of k (..., period) at times ``tau``."""
    span = tau[-1] - tau[0]
    drift = (k[..., -1] - k[..., 0]) / span
    step = np.diff(tau)
    resid = np.diff(k, axis=-1) - drift[..., None] * step
    sigma = np.sqrt((resid ** 2 / step).sum(axis=-1) / (len(tau) - 2))
    return drift, sigma, sigma / np.sqrt(span)


def central_k(k: np.ndarray, tau: np.ndarray, drift: np.ndarray, at: np.ndarray) -> np.ndarray:
    """k (..., time) at times ``at``: interpolated, held before tau[0], drift after tau[-1]."""
    inside = np.stack([np.interp(at, tau, row) for row in k.reshape(-1, k.shape[-1])])
    inside = inside.reshape(k.shape[:-1] + (len(at),))
    after = k[..., -1:] + drift[..., None] * (at - tau[-1])
    return np.where(at > tau[-1], after, inside)


def _check_mx(mx: xr.DataArray) -> None:
    """Raise ValueError naming the first cells where mx is not finite and positive."""
    bad = ~(np.isfinite(mx.values) & (mx.values > 0))
    if bad.any():
        where = [", ".join(f"{d}={mx[d].values[i]}" for d, i in zip(mx.dims, idx))
                 for idx in np.argwhere(bad)[:5]]
        raise ValueError(f"Lee-Carter: inputs['mx'] must be finite and > 0 (deaths per "
                         f"person-year); {bad.sum()} cells are not, first: " + "; ".join(where))


class LeeCarterMortality:
    """Lee-Carter death rates by calendar year with a ``draw`` dim; equations in the module doc.

    Parameters
    ----------
    draws : int
        Number of draws (k paths); the output's ``draw`` coordinate is ``arange(draws)``.
    random_seed : int
        Seed; the generator is ``np.random.default_rng([random_seed, RNG_STREAM])``.
    fit_from : int
        First WPP period (start year) fitted. 1980 leaves out the 1959-61 famine and the fast
        gains of the 1960s-70s. Booth et al. (2002) fit from where k turns linear: for China
        (WPP 2024) the female drift is -3.02 per year fitted from 1970, -2.88 from 1975 and
        stable from 1980 on (-2.74, -2.69, -2.68 from 1980, 1985, 1990; male -2.44, -2.34,
        -2.26, -2.26, -2.27), with a straight line explaining 99.8 % of the variance of k. 1980
        keeps eight periods (seven 5-year changes) to estimate sigma.
    sex_correlation : float
        Correlation of the standard normals of the two sexes (drift error and shocks). 1: one
        mortality shock moves both sexes, so the sexes do not diverge at random.
    drift_uncertainty : bool
        Whether draws include the estimation error of the drift (Lee & Carter 1992, app. B).
    """

    OPTIONS = Group({
        "fit_from": Where(lambda y: as_whole(y) is not None and 1950 <= as_whole(y) <= 2010
                          and as_whole(y) % 5 == 0,
                          what="a WPP period start year 1950, 1955, ..., 2010"),
        "sex_correlation": Number(-1, 1),
        "drift_uncertainty": Flag(),
    }, rules=(explicit_seed, draws_of_fertility))

    def __init__(self, draws: int = 1000, random_seed: int = 20240601, fit_from: int = 1980,
                 sex_correlation: float = 1.0, drift_uncertainty: bool = True):
        if int(draws) < 1 or not -1.0 <= float(sex_correlation) <= 1.0:
            raise ValueError(f"Lee-Carter: need draws >= 1 and -1 <= sex_correlation <= 1; got "
                             f"draws={draws}, sex_correlation={sex_correlation}")
        self.draws, self.random_seed, self.fit_from = int(draws), int(random_seed), int(fit_from)
        self.sex_correlation, self.drift_uncertainty = float(sex_correlation), drift_uncertainty
        self.fit_: dict | None = None
        self.diagnostics: dict = {}

    def fit(self, inputs: Inputs) -> dict:
        """Fit each distinct region's mx; sets ``fit_`` and ``diagnostics`` and returns ``fit_``.

        ``fit_`` holds a, b (group, sex, age), k (group, sex, period; log-rate index), tau
        (period midpoints, decimal years), drift, sigma, drift_sd (group, sex; per year), and
        ``group`` (region,), the fit each region uses.
        """
        mx = inputs["mx"].transpose("region", "sex", "age", "period").sel(sex=list(SEXES))
        mx = mx.sel(period=mx["period"] >= self.fit_from)
        if mx.sizes["period"] < 3:
            raise ValueError(f"Lee-Carter: need >= 3 periods from fit_from={self.fit_from}; "
                             f"inputs['mx'] has periods {inputs['mx']['period'].values}")
        _check_mx(mx)
        values, group = np.unique(mx.values, axis=0, return_inverse=True)
        tau = mx["period"].values + 3.0
        a, b, k = fit_svd(np.log(values))
        target = np.stack([life_table_arrays(values[:, s].swapaxes(-1, -2), sex)["ex"][..., 0]
                           for s, sex in enumerate(SEXES)], axis=1)
        k = np.stack([match_e0(a[:, s], b[:, s], k[:, s], target[:, s], sex)
                      for s, sex in enumerate(SEXES)], axis=1)
        a, k = a + b * k.mean(-1, keepdims=True), k - k.mean(-1, keepdims=True)
        drift, sigma, drift_sd = drift_sigma(k, tau)
        fitted = np.stack([e0(a[:, s], b[:, s], k[:, s], sex) for s, sex in enumerate(SEXES)], 1)
        regions = mx["region"].values
        self.fit_ = dict(a=a, b=b, k=k, tau=tau, drift=drift, sigma=sigma, drift_sd=drift_sd,
                         group=group.ravel(), regions=regions)
        self.diagnostics = {
            "fit_periods": [int(p) for p in mx["period"].values],
            "jump_off_year": inputs.jump_off,
            "fits": [{"regions": [str(r) for r in regions[group.ravel() == g]], "sex": sex,
                      "drift_per_year": float(drift[g, s]), "sigma_per_year": float(sigma[g, s]),
                      "drift_sd_per_year": float(drift_sd[g, s]),
                      "e0_data": [float(v) for v in target[g, s]],
                      "e0_fitted": [float(v) for v in fitted[g, s]],
                      "e0_max_abs_diff": float(np.abs(fitted[g, s] - target[g, s]).max())}
                     for g in range(len(values)) for s, sex in enumerate(SEXES)]}
        return self.fit_

    def k_draws(self, inputs: Inputs, years: np.ndarray) -> np.ndarray:
        """Fit, then k (group, sex, year, draw) for calendar ``years``; central path up to J."""
        fit = self.fit(inputs)
        years = np.asarray(years, dtype=int)
        jump = inputs.jump_off
        central = central_k(fit["k"], fit["tau"], fit["drift"], years + 0.5)
        k_jump = central_k(fit["k"], fit["tau"], fit["drift"], np.array([jump + 0.5]))[..., None]
        out = np.repeat(central[..., None], self.draws, axis=-1)
        horizon = max(int(years.max()) - jump, 0)
        rng = np.random.default_rng([self.random_seed, RNG_STREAM])
        groups = fit["k"].shape[0]
        z_drift = self._sexes(rng.standard_normal((groups, 2, self.draws)))
        z_steps = self._sexes(rng.standard_normal((horizon, groups, 2, self.draws)))
        walk = np.cumsum(z_steps, axis=0).transpose(1, 2, 0, 3)  # group, sex, h, draw
        h = np.arange(1, horizon + 1)[:, None]
        drift = fit["drift"][..., None, None] + self.drift_uncertainty * (
            fit["drift_sd"][..., None, None] * z_drift[:, :, None, :])
        paths = k_jump + drift * h + fit["sigma"][..., None, None] * walk
        later = years > jump
        out[:, :, later] = paths[:, :, years[later] - jump - 1]
        return out

    def _sexes(self, z: np.ndarray) -> np.ndarray:
        """Correlate standard normals (..., sex, draw) between the sexes (female first)."""
        rho = self.sex_correlation
        male = rho * z[..., 0, :] + np.sqrt(1.0 - rho ** 2) * z[..., 1, :]
        return np.stack([z[..., 0, :], male], axis=-2)

    def rates(self, inputs: Inputs, years: np.ndarray) -> xr.DataArray:
        """Calendar-year central death rates mx ([region,] sex, age, year, draw).

        Deaths per person-year. ``years`` are calendar years, each centred at 1 July; every
        draw equals the central path up to ``inputs.jump_off_year`` (else
        ``last_observed_year``). When all regions share one fit (China's provinces take the
        national schedule) the result has no ``region`` dim and applies to every region,
        which keeps 1,000 draws of 32 regions from taking 0.9 GB.
        """
        k = self.k_draws(inputs, years)
        fit = self.fit_
        log_mx = fit["a"][..., None, None] + fit["b"][..., None, None] * k[:, :, None]
        with np.errstate(over="ignore", under="ignore"):
            mx = np.exp(log_mx)
        if not np.all(np.isfinite(mx) & (mx > 0)):
            raise ValueError("Lee-Carter: projected mx overflowed or underflowed; check the "
                             "fit (diagnostics) and the horizon")
        coords = {"region": fit["regions"], "sex": list(SEXES), "age": inputs["mx"]["age"].values,
                  "year": np.asarray(years), "draw": np.arange(self.draws)}
        dims = ("region", "sex", "age", "year", "draw")
        if len(mx) == 1 and len(fit["regions"]) > 1:
            mx, dims = mx[0], dims[1:]
            coords.pop("region")
        else:
            mx = mx[fit["group"]]  # regions with identical inputs share one fit
        return xr.DataArray(mx, dims=dims, coords=coords,
                            name="mx", attrs={"units": "deaths per person-year",
                                              "description": "Central death rate by calendar "
                                              "year (Lee-Carter); age 100 is 100+"})

