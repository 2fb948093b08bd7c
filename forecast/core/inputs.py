"""The inputs of a projection: the labelled arrays a data source returns, and what they are.

A loader (``forecast.data``: :func:`~forecast.data.wpp.load_wpp`,
:func:`~forecast.data.census.load_china_census`,
:func:`~forecast.data.county_census.load_china_counties`) returns an :class:`Inputs`; the
models and the projection read its arrays by name (``inputs["population"]``,
``"observed_births" in inputs``) and its facts as typed fields (``inputs.base_year``,
``inputs.nation``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

import xarray as xr

#: The fields of :class:`Inputs` that a loader may leave out (with their defaults).
_FACTS = ("tfr_target", "jump_off_year", "national_region", "census_date", "report_regions",
          "counties_of", "prefectures", "provincial_report", "provincial_dynamics",
          "young_ages_report", "observed_births_derived", "observed_deaths_derived")


@dataclass(frozen=True)
class Inputs:
    """Labelled arrays (``arrays``: population (region, sex, age), persons at 1 July of
    ``base_year``; rates; observed series) and the facts about them.

    - ``base_year`` — year of the base population (1 July);
    - ``last_observed_year`` — last year with observed rates;
    - ``description``, ``data_sha256``, ``source_files`` — where the data come from;
    - ``tfr_target`` — the TFR pool's region whose TFR the models forecast (None: no pool);
    - ``jump_off_year`` — last year with observed rates or births (default
      ``last_observed_year``), after which the models' forecasts start;
    - ``national_region`` — the nation's code where the regions are the nation and its
      provinces (their births are raked to the nation's); None for a single region;
    - ``census_date`` — date of the census the base population comes from, if any;
    - ``report_regions`` — the regions the outputs keep, in order (None: all);
    - ``counties_of`` — provinces whose county-level units are projected within them;
    - ``prefectures`` — prefecture code -> Chinese name, for the county runs' sums;
    - ``provincial_report``, ``young_ages_report`` — per-region accounts of how the
      provinces' history and the young ages were estimated (``run.json``);
    - ``provincial_dynamics`` — the fitted dynamics of the provinces' fertility levels
      (:mod:`forecast.data.provincial_inputs`), empty where not fitted;
    - ``observed_births_derived``, ``observed_deaths_derived`` — observed years whose births
      or deaths were derived from a crude rate.
    """

    arrays: xr.Dataset
    base_year: int
    last_observed_year: int
    description: str = ""
    data_sha256: str = ""
    source_files: tuple[str, ...] = ()
    tfr_target: str | None = None
    jump_off_year: int | None = None
    national_region: str | None = None
    census_date: str | None = None
    report_regions: tuple[str, ...] | None = None
    counties_of: tuple[str, ...] = ()
    prefectures: Mapping[str, str] = field(default_factory=dict)
    provincial_report: tuple[dict, ...] = ()
    provincial_dynamics: Mapping[str, Any] = field(default_factory=dict)
    young_ages_report: tuple[dict, ...] = ()
    observed_births_derived: tuple[int, ...] = ()
    observed_deaths_derived: tuple[int, ...] = ()

    # --------------------------------------------------------------- derived facts

    @property
    def nation(self) -> str:
        """The national region's code, or the first region's where there is no nation."""
        return self.national_region or str(self.arrays["region"].values[0])

    @property
    def jump_off(self) -> int:
        """The last year with observed rates or births (``jump_off_year``, else
        ``last_observed_year``)."""
        return int(self.last_observed_year if self.jump_off_year is None
                   else self.jump_off_year)

    @property
    def has_counties(self) -> bool:
        """Whether county-level units are projected within their provinces."""
        return "county_population" in self.arrays

    # --------------------------------------------------------------- the arrays

    def __getitem__(self, name):
        return self.arrays[name]

    def __contains__(self, name) -> bool:
        return name in self.arrays

    def get(self, name: str, default: Any = None):
        """The array ``name``, or ``default`` where the inputs do not have it."""
        return self.arrays.get(name, default)

    @property
    def sizes(self) -> Mapping[str, int]:
        return self.arrays.sizes

    @property
    def data_vars(self):
        return self.arrays.data_vars

    # --------------------------------------------------------------- building

    def replace(self, **changes) -> "Inputs":
        """A copy with ``changes`` to its arrays (``arrays=``) or facts."""
        return dataclasses.replace(self, **_typed(changes))

    @classmethod
    def from_dataset(cls, ds: xr.Dataset, **facts) -> "Inputs":
        """The inputs of a Dataset whose ``attrs`` hold the facts (the loaders' form);
        ``facts`` add to or replace them. The arrays keep no facts in their ``attrs``."""
        attrs = {**ds.attrs, **facts}
        known = {f.name for f in dataclasses.fields(cls)} - {"arrays"}
        unknown = sorted(set(attrs) - known)
        if unknown:
            raise TypeError(f"Inputs has no field for {unknown}")
        return cls(arrays=_without_attrs(ds), **_typed(attrs))


def _without_attrs(ds: xr.Dataset) -> xr.Dataset:
    out = ds.copy()
    out.attrs = {}
    return out


def _typed(facts: dict) -> dict:
    """Facts with sequences as tuples and years as ints (as the fields declare)."""
    out = dict(facts)
    for name in ("source_files", "counties_of", "provincial_report", "young_ages_report",
                 "observed_births_derived", "observed_deaths_derived"):
        if name in out and out[name] is not None:
            out[name] = tuple(out[name])
    if out.get("report_regions") is not None:
        out["report_regions"] = tuple(out["report_regions"])
    for name in ("base_year", "last_observed_year", "jump_off_year"):
        if out.get(name) is not None:
            out[name] = int(out[name])
    if "prefectures" in out:
        out["prefectures"] = dict(out["prefectures"] or {})
    return out
