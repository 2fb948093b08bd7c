"""China's official annual TFR for the TFR models' pool (``data.tfr_series``).

The pool the national models learn from holds WPP 2024's TFR estimates of 13 populations.
With ``tfr_series: official`` (the default), China's row is replaced, for the years NBS
published births, by the official series on the census base
(:mod:`forecast.demography.official_tfr`), and extended to the last observed year (a year
the user adds to the observed file enters the pool); before those years WPP's series is kept,
scaled to meet the official one without a step (:func:`forecast.demography.official_tfr.splice`).
``wpp`` keeps WPP's estimates throughout.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from forecast.core.options import Choice
from forecast.data.wpp import wpp_region_rates
from forecast.demography.official_tfr import census_women, official_tfr, splice

#: ``data.tfr_series``: China's series in the TFR pool.
TFR_SERIES = Choice(("official", "wpp"))


def official_inputs(population: xr.DataArray, births: xr.DataArray, national_rates: str,
                    base_year: int, pool: xr.DataArray, data_dir: Path
                    ) -> tuple[xr.DataArray, xr.Dataset]:
    """The pool with ``national_rates``' row spliced to the official series, and that series.

    Parameters
    ----------
    population : (sex, age), the nation's persons at 1 July of ``base_year`` (census)
    births : (year), NBS births per calendar year (persons), NaN where not published
    national_rates : the WPP code of China's row in ``pool`` and of the age schedule
    pool : (pool_region, year), TFR of the pool (children per woman)

    Returns
    -------
    (pool, Dataset (year) of :func:`forecast.demography.official_tfr.official_tfr`); the
    pool's coordinate ``measurement_error`` (pool_region, year) marks the official values
    NBS revised after the census, which the Bayesian model gives a measurement error, and
    ``unsmoothed`` every official value (annual figures, not smoothed estimates): a forecast
    continuing them is widened by the scale learned from the model's record on them
    (:mod:`forecast.models.fertility.bayes`)
    """
    births = births.dropna("year")
    first, last = int(births["year"].min()), int(births["year"].max())
    schedule_until = min(last, int(pool["year"].max()))
    rates = wpp_region_rates(national_rates, schedule_until, first, data_dir)
    women = census_women(population, rates["mx"].isel(period=-1), base_year,
                         births["year"].values)
    official = official_tfr(births, women, rates["asfr"])
    china = splice(pool.sel(pool_region=national_rates, drop=True), official["tfr"])
    years = np.union1d(pool["year"].values, china["year"].values)
    pool = pool.reindex(year=years)
    pool.loc[{"pool_region": national_rates}] = china.reindex(year=years)
    revised = official["year"].values[official["kind"].values == "revised"]
    flags = ((pool["pool_region"] == national_rates) & pool["year"].isin(revised)).transpose(
        *pool.dims)
    unsmoothed = ((pool["pool_region"] == national_rates)
                  & pool["year"].isin(official["year"].values)).transpose(*pool.dims)
    pool = pool.assign_coords(measurement_error=flags, unsmoothed=unsmoothed)
    pool.attrs["description"] = (f"WPP 2024 total fertility rate of the regions the fertility "
                                 f"models learn from, calendar year; {national_rates} "
                                 f"{int(official['year'].min())}-{last} the official series "
                                 "(NBS births on the 2020 census base)")
    return pool, official
