"""Demand indicators of county-level units projected in blocks, draw by draw.

The county blocks (:mod:`forecast.regions.county_engine`) keep, per unit (prefecture or
county), year and draw, the population at ages 0-5 and in total: all that
:func:`forecast.planning.demand.demand_indicators` needs. :class:`CountyDemand` is handed to
the engine, which calls it on each province's draws before summarising them, so that every
county and prefecture gets every demand indicator, its P(shortage) and its intervals from
the same draws as its population, without the engine knowing about planning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from forecast.core.draw_quantiles import quantiles
from forecast.core.registry import INDICATORS, QUANTILES
from forecast.planning.demand import demand_indicators

#: Values (unit x year x draw) of one indicator computed together: a bound on the memory
#: of one call (about 40 arrays of this many float64 values, 4 MB each).
CELLS_AT_ONCE = 500_000
_AGES = [f"population_age_{a}" for a in range(6)]


@dataclass
class CountyDemand:
    """The demand stage for the county blocks: ``standards`` (the ``demand`` config as a
    plain dict), ``supply`` ((region, year) counts of :func:`forecast.planning.supply.
    supply_by_year`, or None), ``years`` (the projection's calendar years). ``names`` and
    ``units`` are the indicators it adds and their units, fixed at construction."""

    standards: dict
    supply: xr.Dataset | None
    years: np.ndarray

    def __post_init__(self):
        probe_supply = (None if self.supply is None else
                        self.supply.isel(region=[0]).assign_coords(region=["?"]))
        probe = self._indicators(np.ones((1, len(INDICATORS), len(self.years), 2)), ["?"],
                                 probe_supply)
        self.names = list(probe)
        self.units = [str(probe[n].attrs.get("units", "")) for n in self.names]

    def __call__(self, draws: np.ndarray, units: list[str]) -> np.ndarray:
        """Quantiles (unit, demand indicator, year, quantile) of the demand indicators
        :attr:`names` from the indicator draws (unit, indicator of
        :data:`forecast.core.registry.INDICATORS`, year, draw) of ``units`` (codes); a
        probability fills all its quantiles."""
        out = np.empty((len(units), len(self.names), len(self.years), len(QUANTILES)))
        at_once = max(1, CELLS_AT_ONCE // (len(self.years) * draws.shape[-1]))
        for start in range(0, len(units), at_once):
            chunk = slice(start, start + at_once)
            found = self._indicators(draws[chunk], units[chunk])
            for i, name in enumerate(self.names):
                if name not in found:  # no unit of the chunk has supply
                    out[chunk, i] = np.nan
                    continue
                values = (found[name].reindex(region=units[chunk])
                          .transpose("region", "year", ...).values)
                if values.ndim == 2:  # a probability: no draws
                    out[chunk, i] = values[..., None]
                else:
                    out[chunk, i] = quantiles(values, list(QUANTILES.values()))
        return out

    def _indicators(self, draws: np.ndarray, units: list[str],
                    supply: xr.Dataset | None = None) -> dict[str, xr.DataArray]:
        """:func:`demand_indicators` of ``units`` from their indicator draws, with the
        supply of those that have one (or ``supply``)."""
        at = {name: i for i, name in enumerate(INDICATORS)}
        coords = {"region": list(units), "year": self.years,
                  "draw": np.arange(draws.shape[-1])}
        children = xr.DataArray(draws[:, [at[a] for a in _AGES]], dims=("region", "age", "year",
                                                                        "draw"),
                                coords={**coords, "age": np.arange(6)})
        total = xr.DataArray(draws[:, at["population"]], dims=("region", "year", "draw"),
                             coords=coords)
        if supply is None and self.supply is not None:
            given = [u for u in units if u in set(self.supply["region"].values)]
            supply = self.supply.sel(region=given) if given else None
        return demand_indicators(children, self.standards, supply, total=total)
