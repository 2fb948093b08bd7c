"""Between calendar years and the projection's July-to-July steps.

WPP-style annual rates and counts refer to calendar years; populations refer to 1 July. A
projection step runs from 1 July of year t to 1 July of year t+1 and spans the second half
of calendar year t and the first half of t+1, so:

- the rate for step t is the mean of calendar years t and t+1 (with this convention WPP's own
  2015 population plus its births, deaths and migration reproduces its 2020 population);
- calendar-year births and deaths are computed directly from the year's rates and the
  population at 1 July (:mod:`forecast.demography.ccmpp`); averaging two steps instead would act as
  a (1, 2, 1)/4 smoother and blunt a one-year spike by about a sixth.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def step_rates(calendar: xr.DataArray, steps: np.ndarray, hold_after: int | None = None
               ) -> xr.DataArray:
    """Rates for steps starting 1 July of each of ``steps`` from calendar-year rates.

    Calendar years after the last one in ``calendar`` (or after ``hold_after``) take the last
    value (rates held constant). Raises ValueError when ``steps`` start before the data.
    """
    years = calendar["year"].values
    last = int(years.max()) if hold_after is None else int(hold_after)
    first_needed = int(steps[0])
    if first_needed < years.min():
        raise ValueError(f"rates start in {int(years.min())}, after the first step {first_needed}")
    wanted = np.arange(first_needed, int(steps[-1]) + 2)
    full = calendar.sel(year=np.minimum(wanted, last)).assign_coords(year=wanted)
    following = full.isel(year=slice(1, None)).assign_coords(year=wanted[:-1])
    mean = 0.5 * (full.isel(year=slice(0, -1)) + following)
    return mean.sel(year=steps).assign_attrs(calendar.attrs, time="projection step from 1 July "
                                             "of year (mean of calendar years year and year + 1)")


def calendar_rates(calendar: xr.DataArray, years: np.ndarray, hold_after: int | None = None
                   ) -> xr.DataArray:
    """Calendar-year rates for ``years``: as observed, and the value of the last observed
    year (or of ``hold_after``) for the years after it. Raises ValueError when ``years``
    start before the data."""
    observed = calendar["year"].values
    last = int(observed.max()) if hold_after is None else int(hold_after)
    years = np.asarray(years)
    if years[0] < observed.min():
        raise ValueError(f"rates start in {int(observed.min())}, after the first year {years[0]}")
    wanted = np.minimum(years, last)
    at = calendar.get_index("year").get_indexer(wanted)
    if len(at) and np.all(at >= 0) and np.all(np.diff(at) == 1):  # a run of the years: a view, no copy
        held = calendar.isel(year=slice(int(at[0]), int(at[-1]) + 1))
    else:
        held = calendar.sel(year=wanted)
    held = held.assign_coords(year=years)
    return held.assign_attrs(calendar.attrs, time="calendar year")
