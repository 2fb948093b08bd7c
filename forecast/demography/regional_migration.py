"""Migration between the areas of a province from their census migrant stocks.

An area that holds more residents registered elsewhere (户口在外: in another county of the
province or in another province) than its province on average is one people have been
moving to. Over 2010-2020 a prefecture's population grew faster than its province's by

.. math:: g_p - g_P = b\\, (s_p - \\bar s_P) + u_p, \\qquad u_p \\sim N(0, \\sigma^2)

per year, with g the annual log growth (census bulletins, 2010 and 2020), s the 2020 census
share of residents registered elsewhere and s̄_P the province's (population-weighted). b is
fitted by weighted least squares over the prefectures (weights: their 2020 population), and σ
is its residual sd: the growth differences the stock does not explain. Natural increase also
differs between prefectures; it is left in u (fertility differences are modelled separately).

A prefecture's net migration differential against its province is then b times its excess
share (:func:`differential_draws`), per draw with b's estimation error and its residual u,
shared by its counties by population; the differentials are balanced within the province so
that they move people between its counties only.
"""

from __future__ import annotations

import numpy as np


def excess_share(stock: np.ndarray, population: np.ndarray, groups: np.ndarray
                 ) -> np.ndarray:
    """Each area's share of residents registered elsewhere less its group's (population-
    weighted) share: arrays (area,) of persons and group labels; returns (area,)."""
    stock, population = np.asarray(stock, float), np.asarray(population, float)
    share = stock / population
    out = np.empty_like(share)
    for group in np.unique(groups):
        at = np.asarray(groups) == group
        out[at] = share[at] - stock[at].sum() / population[at].sum()
    return out


def fit_differential(excess: np.ndarray, growth: np.ndarray, weight: np.ndarray) -> dict:
    """Weighted least squares of the annual growth differential on the excess share, through
    the origin (both are differences from the province's): ``slope`` b (per year per unit
    share), its standard error ``slope_se``, the residual sd ``sigma`` (per year; weighted,
    degrees of freedom n - 1) and ``n``."""
    x, y, w = (np.asarray(v, float) for v in (excess, growth, weight))
    ok = np.isfinite(x) & np.isfinite(y) & np.isfinite(w) & (w > 0)
    x, y, w = x[ok], y[ok], w[ok] / w[ok].mean()
    slope = float(np.sum(w * x * y) / np.sum(w * x * x))
    residual = y - slope * x
    sigma = float(np.sqrt(np.sum(w * residual ** 2) / (len(x) - 1)))
    se = float(sigma / np.sqrt(np.sum(w * x * x)))
    return {"slope": slope, "slope_se": se, "sigma": sigma, "n": int(len(x))}


def leave_one_group_out(excess: np.ndarray, growth: np.ndarray, weight: np.ndarray,
                        groups: np.ndarray) -> dict[str, np.ndarray]:
    """Each area's growth differential predicted by the fit without its group (province):
    ``predicted`` and ``sd`` (sqrt(σ² + (x se)²) of that fit), per year (area,)."""
    x = np.asarray(excess, float)
    predicted, sd = np.full(len(x), np.nan), np.full(len(x), np.nan)
    for group in np.unique(groups):
        out = np.asarray(groups) == group
        fit = fit_differential(x[~out], np.asarray(growth)[~out], np.asarray(weight)[~out])
        predicted[out] = fit["slope"] * x[out]
        sd[out] = np.sqrt(fit["sigma"] ** 2 + (x[out] * fit["slope_se"]) ** 2)
    return {"predicted": predicted, "sd": sd}


def differential_draws(excess: np.ndarray, population: np.ndarray, members: np.ndarray,
                       fit: dict, draws: int, rng: np.random.Generator) -> np.ndarray:
    """Net migrants per year between the counties of one province (county, draw), persons.

    The fit is of prefectures, and holds there: a city's central districts hold many
    migrants and still lose people to its suburbs. So each prefecture (``members``: the
    counties' prefecture labels) takes the differential rate b·x + u of its excess share x
    (its counties' population-weighted), b drawn per draw from N(slope, se²) and u per draw
    and prefecture from N(0, σ²); its counties share it by population. Less the province's
    population-weighted mean rate, so that every draw sums to zero."""
    excess, population = np.asarray(excess, float), np.asarray(population, float)
    labels, index = np.unique(np.asarray(members), return_inverse=True)
    people = np.bincount(index, weights=population)
    grouped = np.bincount(index, weights=population * excess) / people
    slope = fit["slope"] + fit["slope_se"] * rng.standard_normal(draws)
    shock = fit["sigma"] * rng.standard_normal((len(labels), draws))
    rate = (grouped[:, None] * slope[None] + shock)[index]
    mean = (population[:, None] * rate).sum(0) / population.sum()
    return population[:, None] * (rate - mean[None])
