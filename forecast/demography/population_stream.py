"""A projection's population streamed over its years: what is kept of each year's state.

:func:`forecast.demography.ccmpp.project` with ``population_quantiles`` holds only two
years' state (region, draw, sex, age); as each year is complete, :class:`PopulationStream`
keeps its quantiles over draws by region, sex and age (what ``projection.nc`` stores), each
draw's total over sex and age and each draw's youngest ages (what the planner indicators
and the demand stage read). :func:`population_total` and :func:`young_population` read
those of a projection, streamed or kept draw by draw, the same numbers either way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import xarray as xr

from forecast.core.draw_quantiles import quantiles

#: What a streamed population keeps of every draw (besides its quantiles, ``population``).
STREAMED_BY_DRAW = ("population_total", "population_young")


class PopulationStream:
    """A streamed population's summary, year by year: quantiles over draws of every cell,
    each draw's persons summed over sex and age, and each draw's young ages; ``years`` years
    of a state (region, draw, sex, age) of ``dtype``."""

    def __init__(self, years: int, shape: tuple[int, ...], probs: Sequence[float],
                 young_ages: int, dtype):
        regions, draws, sexes, ages = shape
        self.probs = list(probs)
        self.quantiles = np.empty((years, regions, sexes, ages, len(self.probs)))
        self.total = np.empty((years, regions, draws), dtype=dtype)
        self.young = np.empty((years, regions, draws, sexes, young_ages), dtype=dtype)

    def add(self, year: int, state: np.ndarray) -> None:
        """Summarise the state (region, draw, sex, age) at 1 July of the ``year``-th year."""
        by_draw = np.ascontiguousarray(state.transpose(0, 2, 3, 1))  # draws last: the rows
        self.quantiles[year] = quantiles(by_draw, self.probs)
        # sexes added, then ages: as population_total sums a population kept by draw
        self.total[year] = state.sum(2).sum(-1)
        self.young[year] = state[..., :self.young.shape[-1]]

    def arrays(self, coords: dict, years: np.ndarray) -> dict[str, xr.DataArray]:
        """``population`` (year, region, sex, age, quantile), ``population_total`` (year,
        region, draw) and ``population_young`` (year, region, draw, sex, young_age; its own
        dim, as the Dataset's ``age`` holds every age)."""
        ages = coords["age"][:self.young.shape[-1]]
        return {
            "population": xr.DataArray(self.quantiles, dims=("year", "region", "sex", "age",
                                                             "quantile"),
                                       coords={**{k: v for k, v in coords.items()
                                                  if k != "draw"},
                                               "year": years, "quantile": self.probs}),
            "population_total": xr.DataArray(self.total, dims=("year", "region", "draw"),
                                             coords={k: coords[k] for k in ("region", "draw")}
                                             | {"year": years}),
            "population_young": xr.DataArray(self.young, dims=("year", "region", "draw", "sex",
                                                               "young_age"),
                                             coords={**{k: coords[k] for k in
                                                        ("region", "draw", "sex")},
                                                     "year": years, "young_age": ages})}


def population_total(projection: xr.Dataset) -> xr.DataArray:
    """Persons at 1 July (region, year, draw) summed over sex, then age, of a
    :func:`forecast.demography.ccmpp.project` result, streamed or not (the same numbers)."""
    if "population_total" in projection:
        return projection["population_total"]
    return projection["population"].sum("sex", skipna=False).sum("age", skipna=False)


def young_population(projection: xr.Dataset) -> xr.DataArray:
    """Persons at 1 July (region, sex, age, year, draw) of a
    :func:`forecast.demography.ccmpp.project` result, every draw: its youngest ages where
    the population is streamed, else every age."""
    if "population_young" in projection:
        return projection["population_young"].rename(young_age="age")
    return projection["population"]
