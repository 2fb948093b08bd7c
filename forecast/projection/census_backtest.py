"""Rolling-origin backtest on the census base, scored against NBS (``backtest.against: nbs``).

For each origin o the run's data (the 2020 census with the observed NBS series) are read with
``data.until = o``: the projection is calibrated to the births and deaths published up to o,
the fertility model learns from the series up to o, and the nation is projected to the last
year NBS has published. Each later year's births (persons, calendar year) are scored against
NBS's, and its TFR (children per woman) against the official series rebuilt from them
(:mod:`forecast.demography.official_tfr`), in the rows and scores of
:func:`forecast.projection.evaluate.backtest` (region ``000000``, the nation).
"""

from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import pandas as pd

from forecast.core.inputs import Inputs
from forecast.projection.evaluate import score_rows
from forecast.projection.project import project_inputs

log = logging.getLogger(__name__)


def census_backtest(models: dict[str, Callable], origins: list[int], max_horizon: int,
                    load: Callable[[int | None], Inputs], mortality: Callable,
                    migration: Callable) -> tuple[pd.DataFrame, list[dict]]:
    """One row per model, quantity (``births``, ``tfr``), origin and scored year, and the
    fertility models' diagnostics per origin.

    ``models`` maps a name to a factory of a fresh fertility model; ``load(until)`` reads the
    inputs up to ``until`` (None: everything); ``mortality()`` and ``migration()`` make the
    other two models. Origins after the last published year are skipped."""
    everything = load(None)
    nation = everything.nation
    births = everything["observed_births"].rename(observed_year="year").dropna("year")
    official = (everything["tfr_official"].rename(observed_year="year").dropna("year")
                if "tfr_official" in everything else None)
    last = int(births["year"].max())
    frames, diagnostics = [], []
    for origin in origins:
        years = np.arange(origin + 1, min(origin + max_horizon, last) + 1)
        if not len(years):
            log.info("Census backtest: origin %d has no published year after it; skipped",
                        origin)
            continue
        inputs = load(origin)
        for name, factory in models.items():
            log.info("Census backtest: origin %d, model %s", origin, name)
            model = factory()
            result = project_inputs(inputs, model, mortality(), migration(), int(years[-1]))
            national = result.sel(region=nation, year=years)
            if model.diagnostics:
                diagnostics.append({"model": name, "origin": origin, **model.diagnostics})
            frames.append(score_rows(name, "births", nation, origin, years,
                                national["births_calendar"].sum("sex")
                                .transpose("year", "draw").values,
                                births.sel(year=years).values))
            if official is not None:
                frames.append(score_rows(name, "tfr", nation, origin, years,
                                    national["tfr"].transpose("year", "draw").values,
                                    official.sel(year=years).values))
    if not frames:
        raise ValueError(f"backtest: no origin in {origins[0]}-{origins[-1]} has a published "
                         f"year after it (the observed series end in {last})")
    return pd.concat(frames, ignore_index=True), diagnostics
