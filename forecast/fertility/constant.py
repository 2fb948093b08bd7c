"""Constant fertility: observed rates, held at the last observed year's level afterwards."""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.timing import step_rates


class ConstantFertility:
    """ASFR and sex ratio at birth as observed, then constant after the last observed year.

    The step starting 1 July of year t takes the mean of calendar years t and t+1
    (:func:`forecast.timing.step_rates`).
    """

    def rates(self, inputs: xr.Dataset, steps: np.ndarray) -> xr.Dataset:
        """ASFR (region, age, year) and SRB (region, year) for each step in ``steps``."""
        last = inputs.attrs["last_observed_year"]
        return xr.Dataset({"asfr": step_rates(inputs["asfr"], steps, last),
                           "srb": step_rates(inputs["srb"], steps, last)})
