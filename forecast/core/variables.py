"""Every variable that flows between stages, declared once: name, dims, units, meaning.

Stages check what they receive against this table (:func:`check`) and label what they
return with it (:func:`annotate`). ``year`` means 1 July of that year for populations, the
calendar year for fertility, mortality and the sex ratio at birth, and, for net migration and
the step flows, the projection step from 1 July of ``year`` to 1 July of ``year + 1``, unless
a variable says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import xarray as xr

SEXES = ("female", "male")


@dataclass(frozen=True)
class Variable:
    dims: tuple[str, ...]
    units: str
    description: str
    optional_dims: tuple[str, ...] = ()


VARIABLES: dict[str, Variable] = {
    # Inputs (native time basis of the sources)
    "population": Variable(("region", "sex", "age"), "persons",
                           "Population by completed age at 1 July of the base year; age 100 is 100+",
                           ("draw",)),
    "asfr": Variable(("region", "age", "year"), "births per woman per year",
                     "Age-specific fertility rate by age of mother, calendar year", ("draw",)),
    "tfr": Variable(("region", "year"), "children per woman",
                    "Total fertility rate (sum of single-year ASFR)", ("draw",)),
    "srb": Variable(("region", "year"), "male births per female birth", "Sex ratio at birth",
                    ("draw",)),
    "mx": Variable(("region", "sex", "age", "year"), "deaths per person-year",
                   "Central death rate by completed age, calendar year; age 100 is 100+",
                   ("draw",)),
    "net_migration": Variable(("region", "sex", "age", "year"), "persons per year",
                              "Net international migration by age (immigrants minus emigrants)",
                              ("draw",)),
    # Projection outputs
    "births": Variable(("region", "sex", "year"), "persons per year",
                       "Live births from 1 July of year to 1 July of year + 1", ("draw",)),
    "deaths": Variable(("region", "sex", "year"), "persons per year",
                       "Deaths from 1 July of year to 1 July of year + 1 (all ages, incl. "
                       "infants born in the step)", ("draw",)),
    "births_calendar": Variable(("region", "sex", "year"), "persons per year",
                                "Live births in calendar year `year` (that year's ASFR times "
                                "the women at 1 July)", ("draw",)),
    "deaths_calendar": Variable(("region", "sex", "year"), "persons per year",
                                "Deaths in calendar year `year` (that year's death rates times "
                                "the population at 1 July)", ("draw",)),
    "population_total": Variable(("region", "year"), "persons",
                                 "Population at 1 July of `year`, summed over sex and age "
                                 "(kept by draw where the population is streamed)", ("draw",)),
    "population_young": Variable(("region", "sex", "young_age", "year"), "persons",
                                 "Population at 1 July of `year` of the youngest ages (kept "
                                 "by draw where the population is streamed)", ("draw",)),
    "migration_clamped": Variable(("region", "sex", "year"), "persons per year",
                                  "Net emigration not applied because it exceeded the persons "
                                  "present (the projection never goes below zero)", ("draw",)),
}


def check(da: xr.DataArray, name: str) -> None:
    """Raise ValueError when ``da`` has a dim not declared for ``name``.

    Declared dims may be absent (a rate without ``region`` applies to every region)."""
    spec = VARIABLES[name]
    allowed = set(spec.dims) | set(spec.optional_dims)
    extra = [d for d in da.dims if d not in allowed]
    if extra:
        raise ValueError(f"{name}: unexpected dims {extra}; declared {spec.dims} "
                         f"(optional {spec.optional_dims})")


def annotate(da: xr.DataArray, name: str) -> xr.DataArray:
    """Return ``da`` named ``name`` with the declared units and description in attrs."""
    spec = VARIABLES[name]
    return da.rename(name).assign_attrs(units=spec.units, description=spec.description)
