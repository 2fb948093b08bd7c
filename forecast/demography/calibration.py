"""Calibration to the observed years: the projection reproduces the published births and
deaths of every year it has them for.

For each calendar year Y with an observed figure, one factor scales that year's fertility
(all ages) and one its death rates (all ages and both sexes):

.. math::

    f_x(Y) \\leftarrow g_Y\\, f_x(Y), \\qquad m_x(Y) \\leftarrow c_Y\\, m_x(Y), \\qquad
    g_Y = \\frac{B^{obs}_Y}{\\sum_x f_x(Y) W_x(Y)}, \\quad
    c_Y = \\frac{D^{obs}_Y}{\\sum_x m_x(Y) P_x(Y)}

with W and P the women and the population at 1 July of Y (:mod:`forecast.demography.ccmpp`). Births
of Y do not change the women of Y, so g_Y is exact at once; deaths of Y change P(Y) a little
through the step before it (whose rates are the mean of Y-1 and Y), so the factors are
found by fixed-point iteration, which converges to machine precision in a few rounds. The
nation's projection is calibrated and its factors apply to every region (provincial births
are then raked to the nation's).

Years between observed ones take the previous year's factor, years before the first observed
one the first's, and every later year the mean factor of the last ``level_years`` observed
years: the forecast starts from the calibrated level, so it does not jump. Fertility holds
the last year's factor (by default): with WPP's rates it mostly measures the census's
shortfall of young women against the population those rates were estimated on, which
persists (with the official TFR series the observed years' rates are already on the census
base and the factor is about 1). Mortality holds
the mean of the last three (by default), so that one exceptional year does not set the
level of every forecast year: China's 2023 deaths, after the end of the zero-COVID policy,
needed a factor of 0.99 where 2020-2022 needed 0.94-0.95. Scaling death rates uniformly
moves the whole schedule, as a shift of the Lee-Carter level a_x by log c would. Where the
rates have draws (forecast years of a model), each draw gets its own factors, so every draw
passes through the observed figures.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.errors import problem, raise_if
from forecast.demography.ccmpp import project

#: Largest relative miss of an observed figure after calibration.
TOLERANCE = 1e-9
MAX_ROUNDS = 50
#: Range of a first-round factor (observed / projected) that calibration corrects; outside
#: it the inputs disagree (a unit off by 10 or 10,000, a figure of the wrong region), which
#: no scaling of the rates should hide. Observed factors: 0.91-1.0 (China 2020-2023).
PLAUSIBLE_FACTOR = (1 / 3, 3.0)


def calibration_factors(population: xr.DataArray, rates: dict[str, xr.DataArray],
                        observed: xr.Dataset, level_years: dict[str, int] | None = None
                        ) -> xr.Dataset:
    """Fertility and mortality factors that make one region's projection reproduce the
    observed births and deaths.

    Parameters
    ----------
    population : (region, sex, age[, draw]) with one region, persons at 1 July of the base year
    rates : ``asfr``, ``mx``, ``srb`` (calendar years) and ``net_migration`` (steps) of that
        region, as for :func:`forecast.demography.ccmpp.project`
    observed : ``observed_births`` and ``observed_deaths`` (observed_year), persons per year;
        NaN where not observed (``observed_births.attrs["source_file"]``, where given, names
        the file in messages)
    level_years : ``fertility`` and ``mortality``: the number of last observed years whose
        mean factor the later years keep (default 1 and 3)

    Returns
    -------
    Dataset (year, draw) over the calendar years of ``rates["asfr"]``: ``fertility`` and
    ``mortality`` factors (dimensionless), and ``births_before`` / ``deaths_before``
    (persons per year) projected without calibration in the observed years. Raises
    :class:`InputError` when an observed figure is not positive or lies beyond
    :data:`PLAUSIBLE_FACTOR` of what the inputs give.
    """
    years = rates["asfr"]["year"].values
    targets = {flow: _targets(observed[f"observed_{flow}"], years) for flow in ("births", "deaths")}
    observed_years = [y for t in targets.values() for y in t["year"].values]
    last = min(max(observed_years, default=int(years[0])), int(years[-1]))
    end = max(last, int(years[0]) + 1)  # the projection needs one step at least
    window = {"year": slice(None, end)}
    step_window = {"year": slice(None, end - 1)}
    part = {k: (v.sel(step_window) if k.startswith("net_migration") else v.sel(window))
            for k, v in rates.items()}
    level_years = {"fertility": 1, "mortality": 3, **(level_years or {})}
    flows = {"fertility": "births", "mortality": "deaths"}
    factors = {"fertility": xr.ones_like(part["asfr"].isel(age=0, drop=True)),
               "mortality": xr.ones_like(part["mx"].isel(sex=0, age=0, drop=True))}

    def extended(name, wanted):
        # unobserved years follow the observed ones in every round, as they will in the run
        return _extend(factors[name], targets[flows[name]]["year"].values, wanted,
                       int(level_years[name]))

    before = None
    for _ in range(MAX_ROUNDS):
        window_years = part["asfr"]["year"].values
        result = project(population, **{**part,
                                        "asfr": part["asfr"] * extended("fertility", window_years),
                                        "mx": part["mx"] * extended("mortality", window_years)})
        projected = {flow: result[f"{flow}_calendar"].sum(("region", "sex"))
                     for flow in ("births", "deaths")}
        if before is None:
            _check_targets(targets, projected, observed["observed_births"].attrs.get(
                "source_file", "the observed series"))
        before = before or projected
        worst = 0.0
        for name, flow in flows.items():
            ratio = (targets[flow] / projected[flow].sel(year=targets[flow]["year"]))
            factors[name] = _drop_region(extended(name, window_years)
                                         * ratio.reindex(year=window_years, fill_value=1.0))
            worst = max(worst, float(np.abs(ratio - 1.0).max()) if ratio.size else 0.0)
        if worst < TOLERANCE:
            break
    else:
        raise RuntimeError(f"calibration did not converge in {MAX_ROUNDS} rounds "
                           f"(largest miss {worst:.2e})")
    out = {name: extended(name, years) for name in flows}
    for flow in ("births", "deaths"):
        out[f"{flow}_before"] = before[flow].reindex(year=years)
    return xr.Dataset(out).assign_attrs(method="uniform factors per observed year "
                                        "(forecast.demography.calibration)")


def _check_targets(targets: dict[str, xr.DataArray], projected: dict[str, xr.DataArray],
                   source: str) -> None:
    """Raise :class:`InputError` naming every observed figure calibration cannot reproduce
    by a plausible factor (:data:`PLAUSIBLE_FACTOR`): not positive, or too far from what
    the population and rates give (``projected``, persons per year)."""
    lo, hi = PLAUSIBLE_FACTOR
    problems = []
    for flow, target in targets.items():
        for year, value in zip(target["year"].values, target.values):
            model = float(projected[flow].sel(year=year).median())
            if not np.isfinite(value) or value <= 0:
                problems.append(problem(source, flow, None, f"{value:,.0f} in {int(year)}", (
                    f"a positive number of {flow} (the calibration scales {int(year)}'s rates "
                    "to it)")))
            elif not (model > 0 and lo <= value / model <= hi):
                problems.append(problem(source, flow, None, f"{value:,.0f} in {int(year)}", (
                    f"within a factor of {hi:g} of the {model:,.0f} {flow} that the base "
                    f"population and the rates give for {int(year)}; the inputs disagree "
                    "(check the units: census counts and observed figures in persons)")))
    raise_if(problems)


def _targets(series: xr.DataArray, years: np.ndarray) -> xr.DataArray:
    """Observed values (year) inside the projection's calendar years."""
    series = series.rename(observed_year="year").dropna("year")
    return series.sel(year=series["year"].isin(years))


def _drop_region(da: xr.DataArray) -> xr.DataArray:
    return da.isel(region=0, drop=True) if "region" in da.dims else da


def _extend(factor: xr.DataArray, observed: np.ndarray, years: np.ndarray, level_years: int
            ) -> xr.DataArray:
    """Factors for every year: observed years as calibrated, others from the observed year
    before them (or the first observed year, before it), years after the last observed one
    the mean of the last ``level_years``; 1 where nothing was observed."""
    factor = _drop_region(factor)
    if len(observed) == 0:
        return xr.ones_like(factor.isel(year=0, drop=True)).expand_dims(year=years).copy()
    kept = factor.sel(year=observed)
    source = np.array([observed[max(np.searchsorted(observed, y, side="right") - 1, 0)]
                       for y in years])
    out = kept.sel(year=source).assign_coords(year=years)
    later = years > observed[-1]
    if later.any():
        level = kept.isel(year=slice(-max(level_years, 1), None)).mean("year")
        out = out.where(~xr.DataArray(later, dims="year", coords={"year": years}), level)
    return out.transpose("year", ...)


def apply_factors(rates: dict[str, xr.DataArray], factors: xr.Dataset) -> dict[str, xr.DataArray]:
    """``rates`` with calendar-year fertility and death rates scaled by ``factors``."""
    return {**rates, "asfr": rates["asfr"] * factors["fertility"],
            "mx": rates["mx"] * factors["mortality"]}
