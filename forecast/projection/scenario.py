"""Scenarios: what-if transformations of the models' projected rates, never of the projection.

A scenario (``configs/scenario/<name>.yaml``) changes the calibrated rates the projection
uses (:func:`apply_scenario`), from its first year ``start`` (default: the first year after
the last observed one, so every scenario reproduces the observed years):

- ``kind: none`` — the models as fitted (``medium``, and the migration variants);
- ``kind: shift`` — the national total fertility rate (TFR) of every draw plus ``shift``
  children per woman, phased in: in year ``start + k`` the change is ``shift × phase_in[k]``
  (the full shift after the list ends), or without ``phase_in`` linearly over
  ``ramp_years``, ``shift × min(1, (k + 1) / ramp_years)``. ``low`` / ``high``: ∓0.5 as the
  UN's WPP 2024 variants, half of it in the first five years, 0.8 of it in the next five;
  ``policy_effect``: a subsidy's effect;
- ``kind: constant`` — the TFR of the year before ``start`` held in every later year;
- ``kind: follow`` — the TFR follows the relative decline of a reference population
  (``reference``, e.g. KOR) from the most recent time its TFR fell through the level this
  region had in the year before ``start``: TFR(start − 1 + k) = TFR(start − 1) × R(τ + k) / R(τ),
  with R the reference's observed TFR (linear between years, held after its last year) and
  τ the (fractional) year R crossed that level; the same path in every draw.

Fertility: the national TFR path T'(year, draw) replaces T (the national ASFR summed over
age); every region's ASFR at every age is multiplied by T' / T, so the age pattern and the
regions' relative levels stay the model's (provincial births are then raked to the nation's
as always). A shift never takes a draw's TFR below :data:`TFR_FLOOR` (or below its own
value, if already lower). Migration: the net migrants (and rates) of every step from
``start`` on are multiplied by ``migration_scale`` (0: none; 0.5: half the trend).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
import xarray as xr

from forecast.core.by_year import computed
from forecast.core.inputs import Inputs
from forecast.core.errors import InputError
from forecast.core.options import (MISSING, Choice, Group, Number, Text, Where, Whole, as_number,
                                   as_whole)

#: What a scenario can do to fertility.
KINDS = ("none", "shift", "constant", "follow")
#: Lowest national TFR a shift may produce, children per woman (below every national TFR on
#: record; the lowest, the Republic of Korea's in 2023, was 0.72).
TFR_FLOOR = 0.3


def _kind_needs(node, name, problems, root) -> None:
    """Rule: the options each kind uses, and a start within the projected years."""
    kind = node.get("kind", "none")
    if kind == "shift" and "shift" not in node:
        problems.add(f"{name}.shift", MISSING, SHIFT.expected())
    if kind == "follow":
        Text(hint=REFERENCE.hint).check(node.get("reference", MISSING), f"{name}.reference",
                                        problems, root)
    start, base = node.get("start"), as_whole((root.get("data") or {}).get("base_year"))
    if start is not None and base is not None:
        last = as_whole(root.get("horizon"))
        last = 9999 if last is None else last
        Whole(base + 1, last, what=f"null or a year from {base + 1} to {last}").check(
            start, f"{name}.start", problems, root)


SHIFT = Number(-3, 3, what="a change of TFR in children per woman from -3 to 3", default=0.0)
REFERENCE = Text(hint=" (a population of the TFR pool, e.g. KOR)", nullable=True, default=None)
#: The ``scenario`` config group (``configs/scenario/``).
SCENARIO_OPTIONS = Group({
    "name": Text(hint=" (quote a number: scenario.name=\"'2030'\")", required=True,
                 default="medium"),
    "kind": Choice(KINDS, default="none"),
    "shift": SHIFT,
    "ramp_years": Whole(1, default=1),
    "phase_in": Where(lambda w: isinstance(w, (list, tuple)) and all(
        (v := as_number(x)) is not None and 0 <= v <= 1 for x in w), nullable=True,
        what="null or a list of shares from 0 to 1, one per year from scenario.start",
        default=None),
    "reference": REFERENCE,
    "start": Where(nullable=True, default=None),  # a year: checked by the rule
    "migration_scale": Number(0, 10, default=1.0),
}, rules=(_kind_needs,), required=True)


@dataclass(frozen=True)
class Scenario:
    """One scenario: its ``name`` (the ``scenario`` column of the tables) and what it changes.

    ``shift`` in children per woman; ``start`` a calendar year (None: the first year after
    the last observed one); ``ramp_years`` ≥ 1 or ``phase_in`` the share of the shift in
    each year from ``start``; ``reference`` a population of the inputs'
    TFR pool (``kind: follow``); ``migration_scale`` ≥ 0 multiplies net migration.
    """

    name: str = SCENARIO_OPTIONS.default_of("name")
    kind: str = SCENARIO_OPTIONS.default_of("kind")
    shift: float = SCENARIO_OPTIONS.default_of("shift")
    start: int | None = SCENARIO_OPTIONS.default_of("start")
    ramp_years: int = SCENARIO_OPTIONS.default_of("ramp_years")
    phase_in: tuple[float, ...] | None = SCENARIO_OPTIONS.default_of("phase_in")
    reference: str | None = SCENARIO_OPTIONS.default_of("reference")
    migration_scale: float = SCENARIO_OPTIONS.default_of("migration_scale")

    @classmethod
    def from_config(cls, node: Mapping | str | None) -> "Scenario":
        """From the ``scenario`` config node (or a bare name: the models as fitted)."""
        if node is None or isinstance(node, str):
            return cls(name=node or cls.name)
        get = lambda key: SCENARIO_OPTIONS.value(node, key)  # noqa: E731
        return cls(name=str(get("name")), kind=str(get("kind")),
                   shift=float(get("shift") or 0.0),
                   start=None if get("start") is None else int(get("start")),
                   ramp_years=int(get("ramp_years") or 1),
                   phase_in=(None if get("phase_in") is None
                             else tuple(float(w) for w in get("phase_in"))),
                   reference=get("reference"), migration_scale=float(get("migration_scale")))

    def describe(self) -> str:
        """One line for the log: what the scenario changes."""
        parts = {"none": [], "shift": [f"TFR {self.shift:+g} children per woman"],
                 "constant": ["TFR held at its last observed level"],
                 "follow": [f"TFR following {self.reference}'s relative decline"]}[self.kind]
        if self.migration_scale != 1.0:
            parts.append(f"net migration x {self.migration_scale:g}")
        start = "the first forecast year" if self.start is None else str(self.start)
        return (f"{self.name}: " + ", ".join(parts) + f" from {start}" if parts
                else f"{self.name}: the models as fitted")

    def first_year(self, inputs: Inputs) -> int:
        """The first calendar year (and migration step) the scenario changes."""
        return int(self.start) if self.start is not None else (
            inputs.last_observed_year + 1)


def apply_scenario(rates: dict[str, xr.DataArray], inputs: Inputs, scenario: Scenario,
                   national: str) -> dict[str, xr.DataArray]:
    """``rates`` (calibrated ``asfr`` (region, age, year[, draw]), ``net_migration``
    [and ``net_migration_rate``] (region, sex, age, year[, draw]), ...) under ``scenario``;
    ``national`` is the region whose TFR the scenario sets."""
    if scenario.kind not in KINDS:
        raise InputError(f"config, scenario.kind: got {scenario.kind!r}; expected one of "
                         f"{', '.join(KINDS)}.")
    out = dict(rates)
    start = scenario.first_year(inputs)
    if scenario.kind != "none":
        tfr = national_tfr(rates["asfr"], national)
        ratio = scenario_tfr(tfr, inputs, scenario, start) / tfr
        out["asfr"] = (rates["asfr"] * ratio).transpose(*rates["asfr"].dims)
    if scenario.migration_scale != 1.0:
        for name in ("net_migration", "net_migration_rate"):
            if name in rates:
                da = rates[name]
                factor = xr.where(da["year"] >= start, scenario.migration_scale, 1.0)
                out[name] = (da * factor).transpose(*da.dims).assign_attrs(da.attrs)
    return out


def national_tfr(asfr: xr.DataArray, national: str) -> xr.DataArray:
    """The national TFR (year[, draw]), children per woman: ASFR summed over single ages, in
    memory (small) where the ASFR is made a year at a time (:mod:`forecast.core.by_year`)."""
    if "region" in asfr.dims:
        asfr = asfr.sel(region=national, drop=True)
    return computed(asfr.sum("age"))


def scenario_tfr(tfr: xr.DataArray, inputs: Inputs, scenario: Scenario, start: int
                 ) -> xr.DataArray:
    """The scenario's national TFR (year[, draw]) given the models' ``tfr``; years before
    ``start`` unchanged."""
    years = tfr["year"]
    after = years >= start
    if scenario.kind == "shift":
        weight = xr.DataArray(phase_weights(scenario, years.values - start), dims="year",
                              coords={"year": years})
        shifted = tfr + scenario.shift * weight
        return np.maximum(shifted, np.minimum(tfr, TFR_FLOOR)).where(after, tfr)
    if start - 1 not in years.values:
        raise InputError(f"config, scenario.start: got {start}; expected a year after the base "
                         f"year {int(years[0])} and no later than {int(years[-1])}.")
    level = tfr.sel(year=start - 1, drop=True)
    if scenario.kind == "constant":
        relative = np.ones(len(years))
    else:  # follow
        relative = reference_decline(inputs, scenario.reference, float(level.median()),
                                     years.values - (start - 1))
    relative = xr.DataArray(relative, dims="year", coords={"year": years})
    return (level * relative).where(after, tfr).transpose(*tfr.dims)


def phase_weights(scenario: Scenario, offsets: np.ndarray) -> np.ndarray:
    """The share of ``scenario.shift`` applied ``offsets`` years after its start (0 before)."""
    if scenario.phase_in is not None:
        table = np.append(np.asarray(scenario.phase_in, dtype=float), 1.0)
        weights = table[np.clip(offsets, 0, len(table) - 1)]
    else:
        weights = np.minimum(1.0, (offsets + 1) / max(scenario.ramp_years, 1))
    return np.where(offsets >= 0, weights, 0.0)


def reference_decline(inputs: Inputs, reference: str | None, level: float,
                      offsets: np.ndarray) -> np.ndarray:
    """R(τ + k) / R(τ) for the years ``offsets`` k after the crossing (year), where R is the
    ``reference`` population's observed TFR and τ the most recent time it fell to ``level``."""
    pool = inputs.get("tfr_pool")
    if pool is None or reference not in pool["pool_region"].values:
        known = [] if pool is None else [str(r) for r in pool["pool_region"].values]
        raise InputError(f"config, scenario.reference: got {reference!r}; expected a "
                         f"population with an observed TFR series: {', '.join(known) or 'none'}.")
    series = pool.sel(pool_region=reference).dropna("year")
    years, values = series["year"].values.astype(float), series.values.astype(float)
    tau = crossing_time(years, values, level)
    if tau is None:
        raise InputError(f"config, scenario.reference: {reference}'s TFR ({values.min():.2f}-"
                         f"{values.max():.2f} in {int(years[0])}-{int(years[-1])}) never fell "
                         f"to {level:.2f}; expected a reference that has been as low.")
    return np.interp(tau + offsets, years, values) / level


def crossing_time(years: np.ndarray, values: np.ndarray, level: float) -> float | None:
    """The (fractional) year of the last downward crossing of ``level`` by ``values``
    (linear between years), or None if the series never fell to it."""
    for i in range(len(values) - 1, 0, -1):
        before, after = values[i - 1], values[i]
        if before > level >= after:
            return float(years[i - 1] + (before - level) / (before - after))
    return None
