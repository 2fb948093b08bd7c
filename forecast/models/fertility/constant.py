"""Constant fertility: observed rates, held at the last observed year's level afterwards."""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.core.options import Group
from forecast.demography.timing import calendar_rates


class ConstantFertility:
    """ASFR and sex ratio at birth as observed, then constant after the last observed year.

    Rates are by calendar year (:func:`forecast.demography.timing.calendar_rates`).
    """

    OPTIONS = Group({})  # none
    posterior = None  # no MCMC
    @property
    def diagnostics(self) -> dict:
        """Nothing to report (no fit)."""
        return {}

    def rates(self, inputs: Inputs, years: np.ndarray) -> xr.Dataset:
        """ASFR (region, age, year) and SRB (region, year) for the calendar ``years``."""
        last = inputs.last_observed_year
        return xr.Dataset({"asfr": calendar_rates(inputs["asfr"], years, last),
                           "srb": calendar_rates(inputs["srb"], years, last)})
