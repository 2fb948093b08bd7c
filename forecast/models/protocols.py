"""What the projection asks of a model of each component, one Protocol per kind.

A model is configured in ``configs/<kind>/<option>.yaml`` (its ``_target_``) and called once
per run with the :class:`forecast.core.inputs.Inputs` and the years it must cover. Each kind
returns one type:

- :class:`FertilityModel` — an ``xr.Dataset`` with ``asfr`` (region, age, year[, draw]),
  births per woman per year, and ``srb`` (region, year[, draw]), male births per female
  birth, by calendar year;
- :class:`MortalityModel` — an ``xr.DataArray`` ``mx`` (region, sex, age, year[, draw]),
  deaths per person-year, by calendar year;
- :class:`MigrationModel` — an ``xr.Dataset`` with ``net_migration`` (region, sex, age,
  year[, draw]), persons per step from 1 July of ``year``, and optionally
  ``net_migration_by_age`` of the provinces' exchange.

Every model has ``diagnostics`` (a dict written to ``run.json``; empty where there is
nothing to report) and fertility models ``posterior`` (ArviZ InferenceData, or None for
models without MCMC).
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import numpy as np
import xarray as xr

from forecast.core.inputs import Inputs


@runtime_checkable
class FertilityModel(Protocol):
    diagnostics: dict

    @property
    def posterior(self) -> Any:
        """The fitted posterior (ArviZ InferenceData), or None."""

    def rates(self, inputs: Inputs, years: np.ndarray) -> xr.Dataset:
        """``asfr`` and ``srb`` for the calendar ``years``."""


@runtime_checkable
class MortalityModel(Protocol):
    diagnostics: dict

    def rates(self, inputs: Inputs, years: np.ndarray) -> xr.DataArray:
        """``mx`` for the calendar ``years``."""


@runtime_checkable
class MigrationModel(Protocol):
    diagnostics: dict

    def rates(self, inputs: Inputs, steps: np.ndarray) -> xr.Dataset:
        """``net_migration`` for the projection steps starting 1 July of ``steps``."""
