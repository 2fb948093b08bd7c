"""Mortality models: each turns the inputs into single-year death rates per projection step.

A model has ``rates(inputs, steps) -> xr.DataArray`` giving ``mx`` (region, sex, age, year[,
draw]) in deaths per person-year for the steps starting 1 July of each year in ``steps``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.errors import InputError


class ConstantMortality:
    """Death rates of the 5-year period containing each step, the last period's afterwards.

    The WPP mortality periods run from 1 July of their first year, so each annual step lies
    inside exactly one period and takes its rates unchanged.
    """

    def rates(self, inputs: xr.Dataset, steps: np.ndarray) -> xr.DataArray:
        mx = inputs["mx"]
        periods = mx["period"].values
        if steps[0] < periods.min():
            raise InputError(f"mortality: the first step ({int(steps[0])}) comes before the first "
                             f"mortality period ({int(periods.min())}); expected a base year of "
                             f"{int(periods.min())} or later.")
        index = np.searchsorted(periods, steps, side="right") - 1
        out = mx.isel(period=xr.DataArray(index, dims="year")).drop_vars("period")
        return out.assign_coords(year=np.asarray(steps)).transpose("region", "sex", "age", "year")
