"""The planner indicators made of a year's counts: one definition for every projection.

:func:`count_indicators` turns a year's births, population and children aged 0-5 into the
indicators of :data:`forecast.core.registry.INDICATORS` other than the TFR and the step's
flows. It is written with arithmetic only, so it takes NumPy arrays (the county blocks,
:mod:`forecast.regions.county_blocks`) and DataArrays (the projections kept draw by draw,
:func:`forecast.planning.indicators.planner_indicators`) alike, and both give the same
numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

Values = TypeVar("Values")  # a NumPy array or an xarray DataArray

#: Ages (completed years) whose population is an indicator of its own.
YOUNG_AGES = range(6)


def count_indicators(births: Values, population: Values, young: Sequence[Values]
                     ) -> dict[str, Values]:
    """``births`` (persons per year, both sexes), ``population`` (persons at 1 July) and
    ``young`` (six arrays: persons aged 0 to 5 at 1 July, both sexes), all of one shape:
    births, population, crude_birth_rate (births per 1,000 population),
    population_age_0 ... population_age_5, population_0_2 and population_3_5 (persons)."""
    out = {"births": births, "population": population,
           "crude_birth_rate": 1000.0 * births / population}
    for a in YOUNG_AGES:
        out[f"population_age_{a}"] = young[a]
    out["population_0_2"] = young[0] + young[1] + young[2]
    out["population_3_5"] = young[3] + young[4] + young[5]
    return out
