"""Between calendar years and the projection's July-to-July steps.

WPP-style annual rates and counts refer to calendar years; populations refer to 1 July. A
projection step runs from 1 July of year t to 1 July of year t+1 and spans the second half
of calendar year t and the first half of t+1, so:

- the rate for step t is the mean of calendar years t and t+1 (with this convention WPP's own
  2015 population plus its births, deaths and migration reproduces its 2020 population);
- a calendar-year flow (e.g. births in year Y) is the mean of steps Y-1 and Y: each step
  contributes the half of its events that fall inside Y, assuming events are spread evenly
  within a step. This smooths sharp one-year changes a little (China's 2016-17 birth peak by
  up to a few per cent).
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


def calendar_from_steps(flow: xr.DataArray) -> xr.DataArray:
    """Calendar-year totals from step totals: year Y = (step Y-1 + step Y) / 2.

    The result has the years whose two steps are both present.
    """
    earlier = flow.isel(year=slice(0, -1))
    later = flow.isel(year=slice(1, None))
    calendar = 0.5 * (earlier.values + later.values)
    return xr.DataArray(calendar, dims=flow.dims, coords={**{k: v for k, v in flow.coords.items()
                                                             if "year" not in v.dims},
                                                          "year": later["year"].values},
                        attrs={**flow.attrs, "time": "calendar year"})
