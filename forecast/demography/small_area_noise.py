"""How much less than its count says a small area's census fertility level is known.

A census records each area's births twice: its children aged 0 (the 12 months before it) and
aged 1-4 (the four years before those). Their log fertility factors (each against its
province, indirectly standardised) differ by the level's true change over the 2.5 years
between them, ``change_var`` (the provinces' dynamics), by each count's Poisson noise (1 /
the children counted), by the census's own error common to every area (κ² twice), and by
what is left, which the county census shows to fall with the area's size:

.. math::

    d_c = \\log f^{0}_c - \\log f^{1-4}_c \\sim N\\big(\\mu,\\;
        V + 2\\kappa^2 + 1/n^{0}_c + 1/n^{1-4}_c + e(n^{0}_c)\\big), \\qquad
    e(n) = \\zeta\\, n^{-\\gamma}

with n⁰ the children aged 0 counted (about a year's births) and μ a shift common to all
areas. ζ and γ are estimated by maximum likelihood (μ profiled out). The excess e(n) is
whatever makes one year's births of a small area depart from its level more than counting
noise: errors of the age-0 count, a level that moves faster in small areas, or births that
vary from year to year; one census cannot tell them apart. What it does show
(``experiments/calibration``) is that the age-0 value is no worse a central estimate for it:
shrinking it more towards the prefecture makes the predictions worse, while widening the
interval around the same centre by e(n) holds the census's own check at every size.

The same records, summed over a prefecture's counties, tell how much of their change the
counties have in common (:func:`shared_change_fit`): a prefecture's age-0 births depart from
its ages 1-4 more than the sum of independent counties allows.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from forecast.demography.regional_levels import numerical_hessian, small_area_levels


def noise_variance(children: np.ndarray, scale: float, power: float) -> np.ndarray:
    """e(n) = ``scale`` × n^(-``power``): the excess variance (log scale) of the fertility
    level of an area whose census counted ``children`` aged 0 (n ≥ 1)."""
    return scale * np.maximum(np.asarray(children, dtype=float), 1.0) ** -power


def fit_noise(age0: np.ndarray, ages1_4: np.ndarray, counted0: np.ndarray,
              counted1_4: np.ndarray, change_var: float, kappa: float) -> dict[str, float]:
    """ζ (``scale``) and γ (``power``) of :func:`noise_variance` by maximum likelihood from
    areas' log factors of the census's age-0 and ages 1-4 children (``age0``, ``ages1_4``,
    (area,)) and the children counted in each (``counted0``, ``counted1_4``); ``change_var``
    the variance of the level's true change between the two, ``kappa`` the census's common
    error (module docstring). Areas with a count of zero or a non-finite factor are left out.
    Also returns the standard errors of log ζ and γ and their correlation (the inverse
    Hessian of the negative log-likelihood), ``shift`` (μ) and ``areas`` (how many were
    used)."""
    use = ((np.asarray(counted0) > 0) & (np.asarray(counted1_4) > 0)
           & np.isfinite(age0) & np.isfinite(ages1_4))
    d = (np.asarray(age0) - np.asarray(ages1_4))[use]
    n0, n14 = np.asarray(counted0, float)[use], np.asarray(counted1_4, float)[use]
    known = change_var + 2.0 * kappa ** 2 + 1.0 / n0 + 1.0 / n14

    def variance(theta):
        return known + noise_variance(n0, np.exp(theta[0]), theta[1])

    def shift(v):
        return np.sum(d / v) / np.sum(1.0 / v)

    def cost(theta):
        v = variance(theta)
        return 0.5 * np.sum((d - shift(v)) ** 2 / v + np.log(v))

    best = optimize.minimize(cost, x0=np.array([np.log(0.1), 0.5]), method="Nelder-Mead",
                             options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    if not best.success:
        raise RuntimeError(f"fit_noise did not converge: {best.message}")
    try:
        cov = np.linalg.inv(numerical_hessian(cost, best.x, step=1e-4))
    except np.linalg.LinAlgError:  # flat: no excess to speak of (ζ towards 0)
        cov = np.full((2, 2), np.nan)
    return {"scale": float(np.exp(best.x[0])), "power": float(best.x[1]),
            "log_scale_se": float(np.sqrt(cov[0, 0])), "power_se": float(np.sqrt(cov[1, 1])),
            "correlation": float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])),
            "shift": float(shift(variance(best.x))), "areas": int(use.sum())}


def shared_change_fit(age0: np.ndarray, ages1_4: np.ndarray, counted0: np.ndarray,
                      counted1_4: np.ndarray, groups: np.ndarray, provinces: np.ndarray,
                      change_var: float, kappa: float, scale: float, power: float
                      ) -> dict[str, float]:
    """q, the share of the level's change that the areas of a group (a prefecture's
    counties) draw in common, by maximum likelihood from the groups' own census records.

    Each area's level starts from its ages 1-4 value shrunk towards its group (as a run
    starts it from its age-0 value: :func:`forecast.demography.regional_levels.
    small_area_levels`, 1 / the children counted and κ²) with variance v_c = its sd² +
    e(n⁰_c) (:func:`noise_variance` with ``scale``, ``power``) + ``change_var``, of which
    q ``change_var`` is shared by the group. A group's log factor of its age-0 children,
    log Σ n⁰ / Σ E_c (E_c = n⁰_c / f⁰_c, the births its women would have at the province's
    level), is then about N(log Σ E_c exp(m_c) / Σ E_c, Σ w_c² (v_c + κ²) +
    q V (1 - Σ w_c²) + 1 / Σ n⁰) with w_c the areas' shares of the predicted births (each
    area's count with its own census error κ, their counting noise summed); q maximises
    the likelihood of every group's record. Groups labelled "" or by their province (areas
    under a province directly) are no group. Returns ``share`` (q), its standard error
    (``share_se``, from the likelihood's curvature; NaN at a bound) and ``groups``."""
    age0, ages1_4 = np.asarray(age0, float), np.asarray(ages1_4, float)
    counted0, counted1_4 = np.asarray(counted0, float), np.asarray(counted1_4, float)
    groups, provinces = np.asarray(groups), np.asarray(provinces)
    use = (counted0 > 0) & (counted1_4 > 0) & np.isfinite(age0) & np.isfinite(ages1_4)
    observed, centre, base, extra = [], [], [], []
    for province in np.unique(provinces[use]):
        at = np.flatnonzero(use & (provinces == province))
        label = np.where(groups[at] == "", province, groups[at])
        start = small_area_levels(ages1_4[at], 1.0 / counted1_4[at], label, kappa ** 2)
        variance = (start["sd"] ** 2 + noise_variance(counted0[at], scale, power)
                    + change_var)
        expected = counted0[at] / np.exp(age0[at])
        for group in np.unique(label):
            if group == province:
                continue
            part = label == group
            births = expected[part] * np.exp(start["mean"][part])
            weight = births / births.sum()
            observed.append(np.log(counted0[at][part].sum() / expected[part].sum()))
            centre.append(np.log(births.sum() / expected[part].sum()))
            base.append(np.sum(weight ** 2 * (variance[part] + kappa ** 2))
                        + 1.0 / counted0[at][part].sum())
            extra.append(change_var * (1.0 - np.sum(weight ** 2)))
    error2 = (np.array(observed) - np.array(centre)) ** 2
    base, extra = np.array(base), np.array(extra)

    def cost(q):
        v = base + q * extra
        return 0.5 * np.sum(error2 / v + np.log(v))

    best = optimize.minimize_scalar(cost, bounds=(0.0, 1.0), method="bounded",
                                    options={"xatol": 1e-8})
    q, step = float(best.x), 1e-4
    se = np.nan
    if step < q < 1.0 - step:
        curvature = (cost(q + step) - 2 * cost(q) + cost(q - step)) / step ** 2
        se = float(1.0 / np.sqrt(curvature)) if curvature > 0 else np.nan
    return {"share": q, "share_se": se, "groups": len(base)}
