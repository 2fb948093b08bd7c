"""Constant mortality: the WPP period rates of each calendar year, held after the last period.

A mortality model has ``rates(inputs, years) -> xr.DataArray`` giving ``mx`` (region, sex, age,
year[, draw]) in deaths per person-year for each calendar year in ``years`` (a projection step uses
the mean of the two calendar years it overlaps, :mod:`forecast.demography.ccmpp`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.core.errors import InputError
from forecast.core.options import Group


class ConstantMortality:
    """Death rates of the 5-year period containing 1 July of each calendar year (the WPP
    periods run from 1 July of their first year), the last period's afterwards."""

    OPTIONS = Group({})  # none

    @property
    def diagnostics(self) -> dict:
        """Nothing to report (no fit)."""
        return {}

    def rates(self, inputs: Inputs, years: np.ndarray) -> xr.DataArray:
        """mx (region, sex, age, year) for the calendar ``years``."""
        mx = inputs["mx"]
        periods = mx["period"].values
        if years[0] < periods.min():
            raise InputError(f"mortality: the first year ({int(years[0])}) comes before the first "
                             f"mortality period ({int(periods.min())}); expected a base year of "
                             f"{int(periods.min())} or later.")
        index = np.searchsorted(periods, years, side="right") - 1
        out = mx.isel(period=xr.DataArray(index, dims="year")).drop_vars("period")
        return out.assign_coords(year=np.asarray(years)).transpose("region", "sex", "age", "year")
