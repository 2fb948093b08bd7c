"""Draws of the counties' fertility levels relative to their province.

Each county starts from its census level with its own error (``county_fertility_factor``
and ``county_fertility_sd`` of :func:`forecast.data.county_census.county_levels`) and moves
as the provinces' levels do relative to the nation: the dynamics fitted to the provinces'
series (``fertility_dynamics_*`` of the census inputs,
:func:`forecast.demography.regional_levels.level_paths`), with its parameter uncertainty,
:data:`SHARED_CHANGE` of each year's shock shared by the counties of a prefecture.
No county publishes births, so their own dynamics cannot be fitted; the provinces' are the
evidence there is. The counties' births are raked to their province's in every draw, so these
factors share the province's births out, draw by draw.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.demography.regional_levels import level_paths

#: Stream of ``np.random.default_rng([seed, RNG_STREAM, province code])``.
RNG_STREAM = 6
#: Share of a county's yearly level shock that the counties of its prefecture draw in
#: common (units under their province directly draw their own), fitted by maximum likelihood
#: to the prefectures' census records of births, age 0 against ages 1-4
#: (:func:`forecast.data.county_census.county_shared_fit`, standard error 0.05; a test holds
#: this to the fit): with it the prefectures' intervals hold their census check
#: (``experiments/calibration``)
SHARED_CHANGE = 0.353
DYNAMICS = ("theta", "theta_cov")


def county_factor_draws(inputs: Inputs, province: str, years: np.ndarray, draws: int,
                        seed: int) -> np.ndarray:
    """Fertility factors of ``province``'s counties against the province: (year, county,
    draw) for the calendar ``years`` (from the base year), dimensionless; (county,) point
    factors where there is one draw or the inputs carry no fitted dynamics."""
    chosen = inputs["county_province"].values == province
    point = inputs["county_fertility_factor"].values[chosen]
    names = [f"fertility_dynamics_{k}" for k in DYNAMICS]
    if draws <= 1 or any(n not in inputs for n in names) or "county_fertility_sd" not in inputs:
        return point
    start = xr.Dataset({"mean": ("region", np.log(point)),
                        "sd": ("region", inputs["county_fertility_sd"].values[chosen])},
                       coords={"region": inputs["county"].values[chosen]})
    dynamics = xr.Dataset({k: inputs.arrays[n] for k, n in zip(DYNAMICS, names)})
    rng = np.random.default_rng([int(seed), RNG_STREAM, int(province)])
    paths = level_paths(start, dynamics, inputs.base_year, np.asarray(years), draws, rng,
                        groups=inputs["county_prefecture"].values[chosen], shared=SHARED_CHANGE)
    return np.ascontiguousarray(paths.transpose("year", "region", "draw").values)
