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

from forecast.core.draw_quantiles import OrderStatistics, quantiles
from forecast.core.registry import INDICATORS, QUANTILES
from forecast.planning.demand import (DECREASING, DRIVEN_GROUPS, demand_drivers,
                                      demand_indicators, joint_indicators)

#: Values (unit x year x draw) of one indicator computed together: a bound on the memory
#: of one call (about 20 arrays of this many float64 values, 8 MB each).
CELLS_AT_ONCE = 1_000_000
_AGES = [f"population_age_{a}" for a in range(6)]
assert list(INDICATORS).index(_AGES[-1]) - list(INDICATORS).index(_AGES[0]) == len(_AGES) - 1


@dataclass
class CountyDemand:
    """The demand stage for the county blocks: ``standards`` (the ``demand`` config as a
    plain dict), ``supply`` ((region, year) counts of :func:`forecast.planning.supply.
    supply_by_year`, or None), ``years`` (the projection's calendar years). ``names`` and
    ``units`` are the indicators it adds and their units, fixed at construction.

    The quantiles are those of :func:`demand_indicators` bit for bit, found with one sort
    per driver (:func:`forecast.planning.demand.demand_drivers`): every indicator of one
    driver is evaluated at the driver's order statistics only
    (:class:`forecast.core.draw_quantiles.OrderStatistics`); the indicators of two drivers
    are computed from every draw and sorted."""

    standards: dict
    supply: xr.Dataset | None
    years: np.ndarray

    def __post_init__(self):
        probe_supply = (None if self.supply is None else
                        self.supply.isel(region=[0]).assign_coords(region=["?"]))
        children, total = self._labelled(np.ones((1, len(INDICATORS), len(self.years), 2)),
                                         ["?"])
        probe = demand_indicators(children, self.standards, probe_supply, total=total)
        self.names = list(probe)
        self.units = [str(probe[n].attrs.get("units", "")) for n in self.names]
        self._supplied = (set() if self.supply is None
                          else set(self.supply["region"].values.tolist()))

    def __call__(self, draws: np.ndarray, units: list[str]) -> np.ndarray:
        """Quantiles (unit, demand indicator, year, quantile) of the demand indicators
        :attr:`names` from the indicator draws (unit, indicator of
        :data:`forecast.core.registry.INDICATORS`, year, draw) of ``units`` (codes); a
        probability fills all its quantiles."""
        out = np.empty((len(units), len(self.names), len(self.years), len(QUANTILES)))
        order = OrderStatistics(list(QUANTILES.values()), draws.shape[-1])
        at_once = max(1, CELLS_AT_ONCE // (len(self.years) * draws.shape[-1]))
        for start in range(0, len(units), at_once):
            chunk = slice(start, start + at_once)
            out[chunk] = np.nan  # the indicators of supply where a unit has none
            row = {unit: i for i, unit in enumerate(units[chunk])}
            found = self._quantiles(draws[chunk], units[chunk], order)
            for i, name in enumerate(self.names):
                if name in found:
                    regions, values = found[name]
                    out[start + np.array([row[r] for r in regions]), i] = values
        return out

    def _quantiles(self, draws: np.ndarray, units: list[str], order: OrderStatistics
                   ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Quantiles of :func:`demand_indicators` of ``units`` from their indicator draws:
        name -> (its regions, (region, year, quantile)); a probability in every quantile."""
        children, total = self._labelled(draws, units)
        given = [u for u in units if u in self._supplied]
        supply = self.supply.sel(region=given) if given else None
        drivers = demand_drivers(children, self.standards, total=total)
        found = {}
        for driver, group in DRIVEN_GROUPS:
            x = drivers[driver].transpose("region", "year", "draw")
            at = x.isel(draw=slice(0, len(order.positions))).copy(data=order.of(x.values))
            for name, value in group(at, self.standards, supply).items():
                value = value.transpose("region", "year", "draw")
                found[name] = (value["region"].values,
                               order.quantiles(value.values, name in DECREASING))
        for name, value in joint_indicators(drivers, self.standards, supply).items():
            if "draw" in value.dims:  # sorted
                value = value.transpose("region", "year", "draw")
                found[name] = (value["region"].values,
                               quantiles(value.values, list(QUANTILES.values())))
            else:  # a probability: in every quantile
                found[name] = (value["region"].values,
                               value.transpose("region", "year").values[..., None])
        return found

    def _labelled(self, draws: np.ndarray, units: list[str]
                  ) -> tuple[xr.DataArray, xr.DataArray]:
        """Children (region, age 0-5, year, draw) and all residents (region, year, draw) of
        ``units`` from their indicator draws."""
        at = {name: i for i, name in enumerate(INDICATORS)}
        coords = {"region": list(units), "year": self.years,
                  "draw": np.arange(draws.shape[-1])}
        first = at[_AGES[0]]  # the ages are consecutive: a view, not a copy
        children = xr.DataArray(draws[:, first:first + len(_AGES)],
                                dims=("region", "age", "year", "draw"),
                                coords={**coords, "age": np.arange(6)})
        total = xr.DataArray(draws[:, at["population"]], dims=("region", "year", "draw"),
                             coords=coords)
        return children, total
