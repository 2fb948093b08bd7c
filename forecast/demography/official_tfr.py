"""China's annual total fertility rate from the official series, on the 2020 census base.

WPP's estimates of China's TFR are smoothed: they remove the calendar effects the official
annual births show (2012, a year of the dragon: +10 % births on 2011). The official series
is rebuilt here from NBS's births and the census's women:

.. math::

    \\mathrm{TFR}_t = \\mathrm{TFR}^{WPP}_t \\,
        \\frac{B^{NBS}_t}{\\sum_x f^{WPP}_x(t)\\, W_x(t)}

i.e. WPP's age schedule of year t, scaled so that the women W_x(t) at 1 July of t have the
births NBS published. This is the calibration factor of the observed years
(:mod:`forecast.demography.calibration`) carried back before the census: W_x(t) are the
census's women (1 July 2020) survived backwards (before 2020) or forwards (after) along
their cohorts with the national female death rates, without migration (China's
international net migration, about 0.02 % of the population a year, moves W by less than
0.3 % over 15 years; deaths at ages 15-49 about 0.1 % a year). The NBS births of 2004-2019
are those NBS revised after the census (crude birth rate times the mean population,
:mod:`forecast.data.nbs`), so every year of the series is on the census's base.

Where the census under-counts young women, or NBS's pre-census births carry the sampling
error of its annual 1 % and 1 per mille surveys, the series carries it too: its years before
the census are marked ``revised`` (see :data:`REVISED_UNTIL`), those from the census on
``census``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.demography.provincial_history import survive_back, survive_forward

#: Last year of the series whose births NBS estimated between censuses (from its annual
#: sample surveys) and revised after the 2020 census; later years are census-based or
#: registered births.
REVISED_UNTIL = 2019


def census_women(population: xr.DataArray, mx: xr.DataArray, base_year: int,
                 years: np.ndarray) -> xr.DataArray:
    """Women (age, year) at 1 July of each of ``years``: the base population's female
    cohorts survived backwards (years before ``base_year``) or forwards (after) with ``mx``,
    no migration (:func:`forecast.demography.provincial_history.survive_back` and
    :func:`~forecast.demography.provincial_history.survive_forward`).

    ``population`` is (sex, age), persons at 1 July of ``base_year``; ``mx`` (sex, age),
    deaths per person-year. Returns persons; NaN at ages born after the base year."""
    years = np.asarray(years, dtype=int)
    one = population.expand_dims(region=["_"])
    parts = [survive(one, mx, base_year, chosen) for survive, chosen in (
        (survive_back, years[years <= base_year]), (survive_forward, years[years > base_year]))
        if len(chosen)]
    women = xr.concat(parts, dim="year").sel(region="_", sex="female", drop=True)
    return women.transpose("age", "year").assign_attrs(units="persons")


def official_tfr(births: xr.DataArray, women: xr.DataArray, asfr: xr.DataArray
                 ) -> xr.Dataset:
    """The official TFR series (module docstring).

    Parameters
    ----------
    births : (year), persons per calendar year (NBS)
    women : (age, year), persons at 1 July (:func:`census_women`)
    asfr : (age, year), the schedule's births per woman per year (WPP); a year after its
        last takes its last year's schedule

    Returns
    -------
    Dataset (year) over the years with births: ``tfr`` (children per woman), ``factor``
    (official over the schedule's TFR, dimensionless) and ``kind`` (``revised`` up to
    :data:`REVISED_UNTIL`, ``census`` after).
    """
    years = births.dropna("year")["year"].values
    schedule = asfr.reindex(year=years, method="ffill")
    if bool(schedule.isnull().all("age").any()):
        first = int(asfr["year"].min())
        raise ValueError(f"official TFR: the age schedule starts in {first}; births of "
                         f"{[int(y) for y in years if y < first]} have none")
    expected = (schedule * women.sel(year=years).fillna(0.0)).sum("age")
    factor = births.sel(year=years) / expected
    tfr = schedule.sum("age") * factor
    kind = np.where(years <= REVISED_UNTIL, "revised", "census")
    return xr.Dataset({
        "tfr": tfr.assign_attrs(units="children per woman", description=(
            "NBS births over the births of the census's women at WPP's schedule, times "
            "the schedule's TFR")),
        "factor": factor.assign_attrs(units="1"),
        "kind": ("year", kind),
    }, coords={"year": years})


def splice(pool: xr.DataArray, official: xr.DataArray, overlap: int = 3) -> xr.DataArray:
    """One region's pool series (year) with ``official`` (year) in its years and, before
    them, the pool's values scaled by the mean ratio of the first ``overlap`` official years
    to the pool's: the series has no step where the sources meet. Years after the pool's
    last are appended."""
    official = official.dropna("year")
    first = official["year"].values[:overlap]
    ratio = float((official.sel(year=first) / pool.sel(year=first)).mean())
    years = np.union1d(pool["year"].values, official["year"].values)
    before = pool.reindex(year=years) * ratio
    return official.reindex(year=years).fillna(before).assign_attrs(pool.attrs)
