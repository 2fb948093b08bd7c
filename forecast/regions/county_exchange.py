r"""Draws of migration between the counties of a province.

Each prefecture's net migration differential against its province, from its census stock of
residents registered elsewhere and the prefectures' 2010-2020 growth
(:func:`forecast.demography.regional_migration.differential_draws`, inputs of
:mod:`forecast.data.county_migration`): f (county, draw) persons per step, summing to zero
over the province's counties in every draw. A county's flow is spread over sex and age by the
standard Rogers-Castro schedule times its own base population at each age (h, summing to 1),
so that no county sends people it does not have; what that leaves at each sex and age over
the province (H = Σ_c f_c h_c) is taken back from the counties in proportion to their share
of the province's people of that sex and age (q):

.. math:: X_{c,s,a} = f_c\, h_{c,s,a} - q_{c,s,a} \sum_{c'} f_{c'} h_{c',s,a}

X sums to zero over the counties at every sex, age and draw: it moves people between them
and leaves the province's flows as they were; the province's own net migrants are shared by
population on top of it.
"""

from __future__ import annotations

import numba
import numpy as np

from forecast.core.inputs import Inputs
from forecast.demography.regional_migration import differential_draws
from forecast.models.migration.net_migrants import WppMigration

#: Stream of ``np.random.default_rng([seed, RNG_STREAM, province code])``.
RNG_STREAM = 7
FIT = ("slope", "slope_se", "sigma")


def county_exchange_draws(inputs: Inputs, province: str, draws: int, seed: int
                          ) -> dict[str, np.ndarray] | None:
    """The parts of the migration between ``province``'s counties (module docstring):
    ``flows`` f (county, draw), persons per step; ``spread`` h and ``share`` q (county, sex,
    age); None where the inputs have no stocks. One draw takes the fit's central values."""
    if "county_migrant_excess" not in inputs:
        return None
    chosen = inputs["county_province"].values == province
    base = inputs["county_population"].values[chosen]  # (county, sex, age)
    members = inputs["county_prefecture"].values[chosen]
    counties = inputs["county"].values[chosen]
    groups = np.where(members == "", counties, members)  # units directly under the province
    fit = dict(zip(FIT, inputs["county_migration_fit"].sel(parameter_mig=list(FIT)).values))
    if draws <= 1:
        fit = {**fit, "slope_se": 0.0, "sigma": 0.0}
    rng = np.random.default_rng([int(seed), RNG_STREAM, int(province)])
    flows = differential_draws(inputs["county_migrant_excess"].values[chosen],
                               base.sum((1, 2)), groups, fit, max(int(draws), 1), rng)
    spread = WppMigration().age_pattern[None, None, :] * base
    spread = spread / np.maximum(spread.sum((1, 2), keepdims=True), 1e-300)
    share = base / np.maximum(base.sum(0, keepdims=True), 1e-300)
    return {"flows": flows, "spread": spread, "share": share}


def exchange_counts(parts: dict[str, np.ndarray], draws_last: bool = False) -> np.ndarray:
    """X (county, draw, sex, age), persons per step, of the parts of
    :func:`county_exchange_draws`; with ``draws_last``, the same numbers laid out (county,
    sex, age, draw), as the compiled step takes them."""
    flows, spread, share = parts["flows"], parts["spread"], parts["share"]
    taken = np.einsum("cd,csa->dsa", flows, spread)
    if draws_last:  # one pass, no state-sized temporaries
        out = np.empty(spread.shape + flows.shape[1:])
        _draws_last_counts(*(np.ascontiguousarray(x, dtype=float) for x in (
            flows, spread, share, taken.transpose(1, 2, 0))), out)
        return out
    return (flows[:, :, None, None] * spread[:, None]
            - share[:, None] * taken[None])


@numba.njit(cache=True, nogil=True)
def _draws_last_counts(flows, spread, share, taken, out):
    """out[c, s, a, d] = flows[c, d] x spread[c, s, a] - share[c, s, a] x taken[s, a, d]:
    the numbers of the whole-array form, operation for operation."""
    C, S, A, D = out.shape
    for c in range(C):
        for s in range(S):
            for a in range(A):
                h, q = spread[c, s, a], share[c, s, a]
                row, f_row, t_row = out[c, s, a], flows[c], taken[s, a]
                for d in range(D):
                    row[d] = f_row[d] * h - q * t_row[d]
