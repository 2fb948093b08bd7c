"""The early-warning report: a forecast folder and observed figures in, alerts and pages out.

:func:`build_report` reads a forecast run folder (``forecast.csv``, ``projection.nc`` and,
where the run kept them, ``indicator_draws.nc``), the observed figures
(:func:`forecast.data.observed_figures.read_observed`) and, optionally, a previous forecast folder;
it evaluates the rules of :mod:`forecast.planning.warning` for the report year and returns the
report's content: the alerts, the regions by their highest level, the values the rules saw
and the figures. Writing (HTML, CSV, JSON) is :mod:`forecast.report.early_warning_html` and
:mod:`forecast.runs.report_cli`.

Values for the report year Y (medians of the forecast; an observed figure replaces the
forecast's for the same region, year and indicator):

- ``births_change`` = births(Y) / births(Y − 1) − 1;
- ``tfr``; ``sex_ratio_at_birth`` = boys per 100 girls born in Y;
- ``childcare_places_per_1000`` = childcare places / population × 1,000;
- ``childcare_affordable_share`` = affordable places / places;
- ``kindergarten_idle_share`` = max(seats − need, 0) / seats.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from forecast.report import maps, plots
from forecast.core.errors import InputError
from forecast.core.run_files import (FORECAST_CSV, INDICATOR_DRAWS_NC, PROJECTION_NC, RUN_JSON,
                                     is_run_metadata)
from forecast.planning.warning import (ALERT_COLUMNS, LEVELS, alert_changes, probability_alerts,
                                       regions_by_level, sorted_alerts, STANDING_SHARE,
                                       standing_conditions,
                                       surprise_alerts, threshold_alerts)


#: Decimals of the rule values: the planner table's counts are written to 0.1, so a share
#: or ratio of them is known to about 1e-6.
DIGITS = 4


@dataclass
class Report:
    """What the report shows (see :func:`build_report`)."""

    year: int
    forecast: dict
    alerts: pd.DataFrame
    regions: pd.DataFrame
    values: pd.DataFrame
    rules: dict
    figures: dict = field(default_factory=dict)
    previous: str | None = None
    observed_files: list = field(default_factory=list)
    #: every alert now or in the previous report with its change (:func:`alert_changes`)
    changes: pd.DataFrame | None = None
    #: rules that hold almost everywhere (:func:`standing_conditions`)
    standing: pd.DataFrame | None = None
    #: the name of the previous report whose alerts ``changes`` compares with (None: none)
    previous_report: str | None = None
    #: the first region's (the nation's) values, with their origin and census sex ratio
    key_figures: pd.DataFrame | None = None


#: Columns of a forecast table the report reads.
FORECAST_TABLE_COLUMNS = ("region_code", "region_name", "year", "indicator", "median",
                          "lower_80", "upper_80", "lower_95", "upper_95")


def read_forecast(folder: Path, shown_as: str | None = None,
                  option: str = "report.forecast_dir", whole: bool = True) -> dict:
    """A forecast run folder: its planner table, run metadata, projection (quantiles) and
    key draws (None where the run did not keep them); ``shown_as`` names the folder in the
    report (default: its last two path parts). ``whole=False`` reads the table and the
    metadata only (what a previous forecast is read for). A folder that is not a complete,
    readable forecast run raises :class:`InputError` naming ``option`` and the file."""
    folder = Path(folder)
    needed = [FORECAST_CSV, RUN_JSON] + ([PROJECTION_NC] if whole else [])
    missing = [n for n in needed if not (folder / n).is_file()]
    if missing:
        raise InputError(f"config, {option}: got {str(folder)!r}; it lacks "
                         f"{', '.join(missing)}; expected the folder of a forecast run.")

    def read(name: str, reader):
        try:
            return reader(folder / name)
        except (OSError, ValueError, KeyError, pd.errors.ParserError) as err:
            raise InputError(f"config, {option}: got {str(folder)!r}; its {name} cannot be "
                             f"read ({type(err).__name__}: {str(err)[:200]}); expected the "
                             "complete files of a forecast run.") from err

    table = read(FORECAST_CSV, _forecast_table)
    meta = read(RUN_JSON, _run_metadata)
    draws = folder / INDICATOR_DRAWS_NC
    return {"folder": str(folder), "shown_as": shown_as or f"{folder.parent.name}/{folder.name}",
            "table": table, "meta": meta,
            "projection": read(PROJECTION_NC, xr.load_dataset) if whole else None,
            "draws": (read(INDICATOR_DRAWS_NC, xr.load_dataset)
                      if whole and draws.is_file() else None)}


def _forecast_table(path: Path) -> pd.DataFrame:
    table = pd.read_csv(path, dtype={"region_code": str}, encoding="utf-8-sig",
                        keep_default_na=False, na_values=[""])
    lacking = [c for c in FORECAST_TABLE_COLUMNS if c not in table.columns]
    if lacking:
        raise ValueError(f"no column {', '.join(lacking)}")
    return table


def _run_metadata(path: Path) -> dict:
    meta = json.loads(path.read_text(encoding="utf-8"))
    if not is_run_metadata(meta):
        raise ValueError("not the run.json of a forecast run")
    return meta


def report_year(forecast: dict, year: int | None, today_year: int) -> int:
    """The year the rules look at: ``year``, or this calendar year kept within the
    forecast's years (after its jump-off, before its horizon, so next year exists)."""
    first = int(forecast["meta"]["data"]["jump_off_year"]) + 1
    last = int(forecast["meta"]["projection"]["horizon"]) - 1
    chosen = today_year if year is None else int(year)
    if year is not None and not first <= chosen <= last:
        raise InputError(f"config, report.year: got {chosen}; expected a year from {first} to "
                         f"{last} (the forecast's years after its jump-off, before its "
                         "horizon).")
    return min(max(chosen, first), last)


def rule_values(forecast: dict, observed: pd.DataFrame, year: int) -> pd.DataFrame:
    """The values the threshold rules look at (region_code, region_name, year, indicator,
    value, origin: forecast or observed), for ``year``."""
    table = forecast["table"]
    median = table.pivot_table(index=["region_code", "region_name", "year"],
                               columns="indicator", values="median", aggfunc="first")
    obs = observed.pivot_table(index=["region_code", "year"], columns="indicator",
                               values="value", aggfunc="last") if len(observed) else None
    names = dict(zip(table["region_code"], table["region_name"]))
    srb = _sex_ratio(forecast["projection"], year)
    rows = []
    for code, name in names.items():
        def get(indicator, y=year, _code=code):
            if obs is not None and (_code, y) in obs.index and indicator in obs.columns:
                value = obs.loc[(_code, y), indicator]
                if np.isfinite(value):
                    return float(value), "observed"
            key = (_code, name, y)
            if key in median.index and indicator in median.columns:
                return float(median.loc[key, indicator]), "forecast"
            return np.nan, None

        def add(indicator, value, origin):
            if origin is not None and np.isfinite(value):  # to the precision of the tables
                rows.append({"region_code": code, "region_name": name, "year": year,
                             "indicator": indicator, "value": round(float(value), DIGITS),
                             "origin": origin})

        births, b_origin = get("births")
        before, p_origin = get("births", year - 1)
        change_origin = ("observed" if b_origin == p_origin == "observed"
                         else "forecast" if b_origin and p_origin else None)
        add("births_change", births / before - 1, change_origin)
        add("tfr", *get("tfr"))
        observed_srb = get("sex_ratio_at_birth")
        add("sex_ratio_at_birth", *(observed_srb if observed_srb[1] == "observed"
                                    else (srb.get(code, np.nan), "forecast")))
        places, origin = _supply(get, "childcare_places", "childcare_supply")
        population, _ = get("population")
        published = get("childcare_places_per_1000")
        add("childcare_places_per_1000", *(published if published[1] == "observed" else
                                           (places / population * 1000, origin)))
        affordable, a_origin = _supply(get, "childcare_places_affordable",
                                       "childcare_supply_affordable")
        add("childcare_affordable_share", affordable / places, a_origin and origin)
        seats, s_origin = _supply(get, "kindergarten_seats", "kindergarten_supply")
        need, _ = get("kindergarten_seats_need")
        add("kindergarten_idle_share", max(seats - need, 0.0) / seats, s_origin)
    return pd.DataFrame(rows, columns=["region_code", "region_name", "year", "indicator",
                                       "value", "origin"])


def build_report(forecast: dict, observed: pd.DataFrame, rules_cfg: Mapping,
                 year: int, previous: dict | None = None, plots_wanted: bool = True,
                 previous_alerts: tuple[str, pd.DataFrame] | None = None) -> Report:
    """Evaluate every rule for ``year``; see the module docstring. ``previous_alerts`` =
    (name, alerts) of the previous report: what changed since is listed first. Rules raised
    in at least ``rules_cfg["standing_share"]`` of the regions are standing conditions."""
    names = dict(zip(forecast["table"]["region_code"], forecast["table"]["region_name"]))
    observed = _named(observed, names)
    values = rule_values(forecast, observed, year)
    parts = [threshold_alerts(values, rules_cfg["rules"])]
    draws = forecast["draws"]
    if draws is not None and "births" in draws:
        parts.append(probability_alerts(draws["births"], year, rules_cfg["births_drop"], names))
    previous_name = None
    if previous is not None:
        previous_name = _forecast_name(previous)
        parts.append(surprise_alerts(observed, previous["table"], previous_name,
                                     rules_cfg["surprise"]))
    alerts = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else pd.DataFrame(columns=ALERT_COLUMNS)
    alerts = sorted_alerts(alerts)
    figures = report_figures(forecast, year, observed) if plots_wanted else {}
    if plots_wanted:
        figures.update(_alert_map(regions_by_level(alerts, names), year))
    changes = alert_changes(alerts, previous_alerts[1] if previous_alerts else None)
    share = rules_cfg.get("standing_share", STANDING_SHARE.default)
    standing = standing_conditions(alerts, len(names), float(share))
    return Report(year=year, forecast={"folder": forecast["folder"],
                                       "name": _forecast_name(forecast),
                                       "meta": forecast["meta"],
                                       "probabilistic": draws is not None},
                  alerts=alerts, regions=_ranked_by_change(
                      alerts, changes if previous_alerts else changes.iloc[:0], names),
                  values=values, rules=dict(rules_cfg), figures=figures,
                  previous=previous_name, changes=changes, standing=standing,
                  previous_report=previous_alerts[0] if previous_alerts else None,
                  key_figures=_key_figures(values, forecast, next(iter(names))))


def _alert_map(regions: pd.DataFrame, year: int) -> dict:
    """``map_alert_levels_<year>.png``: the highest alert level of the provinces, or of
    the county-level units in a county report (:func:`forecast.report.maps.map_units`)."""
    names = dict(zip(regions["region_code"], regions["region_name"]))
    levels = dict(zip(regions["region_code"], regions["highest_level"]))
    units, provinces = maps.map_units(list(levels))
    if not units:
        return {}
    colours = {level: (colour, f"{LEVELS[level]}色 {level}")
               for level, colour in maps.LEVEL_COLOURS.items()}
    values = {code: levels[code] if isinstance(levels[code], str) else None for code in units}
    return {f"map_alert_levels_{year}.png": maps.unit_map(
        values, names, provinces, title=f"最高预警等级 highest alert level {year}",
        categories=colours)}


def _ranked_by_change(alerts: pd.DataFrame, changes: pd.DataFrame,
                      names: Mapping[str, str]) -> pd.DataFrame:
    """:func:`regions_by_level` with ``changed`` (alerts raised or escalated, eased or
    cleared since the previous report), regions with the most changes first."""
    table = regions_by_level(alerts, names)
    moved = changes[changes["change"] != "unchanged"].groupby("region_code").size()
    table["changed"] = table["region_code"].map(moved).fillna(0).astype(int)
    return table.sort_values("changed", ascending=False, kind="stable").reset_index(drop=True)


def _key_figures(values: pd.DataFrame, forecast: dict, code: str) -> pd.DataFrame:
    """The first region's rule values (region_code, indicator, value, origin), with the
    census's sex ratio of infants (boys per 100 girls, 95 % interval) where the run has it."""
    table = values[values["region_code"] == code][["indicator", "value", "origin"]].copy()
    census = forecast["meta"].get("sex_ratio_at_birth_census", {}).get(code)
    if census:
        table.loc[len(table)] = {"indicator": "sex_ratio_at_birth_census_2020",
                                 "value": census["ratio"],
                                 "origin": f"census 2020, 95 %: [{census['lower_95']:.1f}, "
                                           f"{census['upper_95']:.1f}]"}
    return table.reset_index(drop=True)


def report_figures(forecast: dict, year: int, observed: pd.DataFrame | None = None) -> dict:
    """Figures of the report (file name -> Figure): the nation's births and TFR fan (with
    the observed births) and the provinces' childcare and kindergarten gaps in the report
    year (where draws exist)."""
    draws = forecast["draws"]
    if draws is None:
        return {}
    names = dict(zip(forecast["table"]["region_code"], forecast["table"]["region_name"]))
    nation = str(draws["region"].values[0])
    seen = None
    if observed is not None and len(observed):
        rows = observed[(observed["region_code"] == nation) & (observed["indicator"] == "births")]
        if len(rows):
            seen = xr.DataArray(rows["value"].to_numpy(float), dims="year",
                                coords={"year": rows["year"].to_numpy(int)}).sortby("year")
    figures = {f"births_tfr_{nation}.png": plots.births_tfr_fan(
        draws["births"].sel(region=nation), draws["tfr"].sel(region=nation), seen,
        region_label=plots.region_label(nation, names))}
    for name, title, unit in (("childcare_gap", "托位缺口 childcare places gap", "托位 places"),
                              ("kindergarten_gap", "幼儿园学位缺口 kindergarten seats gap",
                               "学位 seats")):
        if name in draws:
            gap = draws[name].sel(year=year).drop_sel(region=nation, errors="ignore")
            if gap.sizes["region"] and bool(gap.notnull().all()):
                figures[f"{name}_{year}.png"] = plots.demand_gap_bars(
                    gap, names, year=year, title=title, unit_label=unit)
    return figures


def _supply(get, observed_name: str, forecast_name: str) -> tuple[float, str | None]:
    """An observed supply figure where given, else the forecast's supply table's."""
    value, origin = get(observed_name)
    return (value, origin) if origin == "observed" else get(forecast_name)


def _sex_ratio(projection: xr.Dataset, year: int) -> dict[str, float]:
    """Boys per 100 girls born in ``year`` in the projection (median births by sex)."""
    births = projection["births_calendar"]
    if "quantile" in births.dims:
        births = births.sel(quantile=0.5)
    elif "draw" in births.dims:
        births = births.median("draw")
    births = births.sel(year=year)
    ratio = 100 * births.sel(sex="male") / births.sel(sex="female")
    return {str(r): float(v) for r, v in zip(ratio["region"].values, ratio.values)}


def _named(observed: pd.DataFrame, names: Mapping[str, str]) -> pd.DataFrame:
    observed = observed.copy()
    observed["region_name"] = observed["region_code"].map(names).fillna("")
    return observed


def _forecast_name(forecast: dict) -> str:
    """A forecast's name in messages: its folder (with the one above it), data year, scenario
    and seed; no clock time, so that the same inputs give the same report."""
    meta = forecast["meta"]
    scenario = (meta.get("config", {}).get("scenario") or {}).get("name", "")
    return (f"{forecast['shown_as']} (data to "
            f"{meta.get('data', {}).get('jump_off_year', '?')}, {scenario}, seed "
            f"{meta.get('seed', '?')})")
