"""The age pattern of fertility for projected years.

Projected TFR is turned into single-year ASFR with the last observed age pattern (the share
of the TFR at each age, ``p(x) = ASFR(x) / TFR``), shifted along age so that the mean age at
childbearing (MAC) continues its recent trend, damped and bounded:

.. math::

    \\mathrm{MAC}_{T+k} = \\mathrm{MAC}_T + b \\sum_{j=1}^{k} \\delta^{j}, \\qquad
    |\\mathrm{MAC}_{T+k} - \\mathrm{MAC}_T| \\le s_{\\max}, \\qquad
    \\mathrm{MAC}_{T+k} \\in [m_{\\min}, m_{\\max}]

    p_{T+k}(x) \\propto p_T(x - \\Delta_k), \\quad \\Delta_k = \\mathrm{MAC}_{T+k} - \\mathrm{MAC}_T,
    \\qquad \\mathrm{ASFR}_{T+k}(x) = \\mathrm{TFR}_{T+k}\\, p_{T+k}(x)

with b the least-squares slope of MAC over the last ``trend_years`` observed years, δ the
yearly damping, and the shifted pattern interpolated linearly between single ages, kept to
ages 10-54 and renormalised to sum to one. With δ = 0.9 the total further shift is at most
9 b; the postponement of births in East Asia (MAC rising about 0.15 years a year) thus adds
about 1.3 years before levelling off.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.options import Group, Number, Where, Whole, as_number
from forecast.demography.graduation import AGES

FERTILE = (AGES >= 10) & (AGES <= 54)
#: Plausible mean ages at childbearing (``mac_bounds``), years.
MAC_RANGE = (15.0, 50.0)


def _mac_bounds(bounds) -> bool:
    values = ([as_number(b) for b in bounds] if isinstance(bounds, (list, tuple))
              and len(bounds) == 2 else [None])
    return (None not in values and values[0] < values[1]
            and MAC_RANGE[0] <= values[0] and values[1] <= MAC_RANGE[1])


#: The ``schedule`` options of a fertility model (:class:`AgeSchedule`'s arguments).
SCHEDULE_OPTIONS = Group({
    "trend_years": Whole(2),
    "damping": Number(0, 1),
    "max_shift": Number(0),
    "mac_bounds": Where(_mac_bounds, what=f"two increasing ages between {MAC_RANGE[0]:g} and "
                        f"{MAC_RANGE[1]:g}, e.g. [24.0, 34.0]"),
})


def mean_age_at_childbearing(asfr: xr.DataArray) -> xr.DataArray:
    """MAC in years: the ASFR-weighted mean of exact age x + 0.5 (dims of ``asfr`` less age)."""
    return ((asfr * (asfr["age"] + 0.5)).sum("age") / asfr.sum("age")).assign_attrs(units="years")


def shifted_pattern(pattern: np.ndarray, shift: float) -> np.ndarray:
    """``pattern`` over single ages moved ``shift`` years older (or younger), renormalised."""
    moved = np.interp(AGES - shift, AGES, pattern, left=0.0, right=0.0)
    moved = np.where(FERTILE, moved, 0.0)
    return moved / moved.sum()


class AgeSchedule:
    """Project the fertility age pattern: last observed shape, MAC trend continued and damped.

    Parameters
    ----------
    trend_years : observed years the MAC slope is fitted on
    damping : yearly damping of the MAC trend, 0 (frozen pattern) to 1 (linear trend)
    max_shift : largest total change of MAC from the last observed year, years
    mac_bounds : lowest and highest MAC allowed, years
    """

    def __init__(self, trend_years: int = 10, damping: float = 0.9, max_shift: float = 2.0,
                 mac_bounds: tuple[float, float] = (24.0, 34.0)):
        self.trend_years = int(trend_years)
        self.damping = float(damping)
        self.max_shift = float(max_shift)
        self.mac_bounds = tuple(float(b) for b in mac_bounds)

    def pattern(self, asfr: xr.DataArray, years: np.ndarray) -> xr.DataArray:
        """Age pattern p(x) (age, year) for ``years`` after the last year of ``asfr`` (age, year).

        Each year's pattern sums to one over age; multiply by TFR to get ASFR.
        """
        asfr = asfr.transpose("age", "year")
        last = int(asfr["year"].max())
        recent = asfr.sel(year=slice(last - self.trend_years + 1, last))
        mac = mean_age_at_childbearing(recent)
        slope = np.polyfit(mac["year"].values, mac.values, 1)[0] if mac.size > 1 else 0.0
        base = asfr.sel(year=last).values
        base = base / base.sum()
        mac_last = float(mac.sel(year=last))
        ahead = np.asarray(years) - last
        if np.any(ahead < 1):
            raise ValueError("pattern years must come after the last observed year")
        cumulative_damping = np.array([np.sum(self.damping ** np.arange(1, k + 1)) for k in ahead])
        target = mac_last + np.clip(slope * cumulative_damping, -self.max_shift, self.max_shift)
        lo, hi = self.mac_bounds  # widened to the last observed MAC: no jump in the first year
        target = np.clip(target, min(lo, mac_last), max(hi, mac_last))
        shapes = np.stack([shifted_pattern(base, t - mac_last) for t in target], axis=-1)
        return xr.DataArray(shapes, dims=("age", "year"),
                            coords={"age": AGES, "year": np.asarray(years)},
                            attrs={"units": "1", "description": "share of TFR at each age",
                                   "mac_slope_per_year": float(slope)})
