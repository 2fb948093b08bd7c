"""Experiment summaries computed from a finished sweep (``sweep.report`` in an experiment).

Each report takes the members' key draws (label -> Dataset (region, year, draw), see
:mod:`forecast.planning.comparison`), the reference label and the comparison table, and returns the
files of the sweep folder's ``results/``: tables (DataFrames, written as CSV) and figures.
Sums over years and differences between scenarios are taken draw by draw, then summarised
(median and 80 % interval), so an interval of a sum is the interval of that sum.

- ``subsidy_effect`` — a policy's TFR effect of several sizes against none: extra births,
  children under 3, childcare places wanted and subsidy budget, 2026-2035, by province;
- ``kindergarten_surplus`` — kindergarten seats against need in a target year under each
  scenario: which provinces have idle seats and how many toddler places they could supply;
- ``wpp_variants`` — the nation's low/medium/high against the UN's WPP 2024 variants.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd
import xarray as xr

from forecast.core.draw_quantiles import quantiles_of
from forecast.core.registry import QUANTILES_80
from forecast.report import plots
from forecast.data.wpp import wpp_variants as read_wpp_variants
from forecast.planning.indicators import region_names

Report = Callable[..., dict[str, object]]
#: Summary columns of a quantity over draws.
SUMMARY = QUANTILES_80
NATION = "000000"
#: A province with at least this share of its kindergarten seats idle (median) is counted.
IDLE_SHARE = 0.25


def summarise(draws: xr.DataArray) -> pd.DataFrame:
    """Median and 80 % interval over ``draw`` as columns (one row per remaining cell)."""
    q = quantiles_of(draws, list(SUMMARY.values())).assign_coords(quantile=list(SUMMARY))
    q = q.drop_vars("region_name", errors="ignore")
    return q.to_dataset("quantile").to_dataframe()[list(SUMMARY)]


# ------------------------------------------------------------------ subsidy effect

def subsidy_effect(members: dict[str, xr.Dataset], reference: str, first: int = 2026,
                   last: int = 2035, shown_year: int = 2030) -> dict[str, object]:
    """Differences of every member from ``reference`` (no effect), by region.

    Returns ``subsidy_effect.csv`` (scenario × region × measure: extra births and subsidy
    budget summed over ``first``-``last``; extra children 0-2 and childcare places wanted
    in ``shown_year`` and ``last``), the national births by effect size and, for every
    member, the extra places wanted by province in ``shown_year``."""
    base = members[reference]
    years = slice(first, last)
    rows = []
    for label, ds in members.items():
        if label == reference:
            continue
        diff = ds - base
        measures = {
            f"extra_births_{first}_{last}": diff["births"].sel(year=years).sum("year"),
            f"extra_subsidy_budget_{first}_{last}": diff["subsidy_budget"].sel(year=years)
            .sum("year"),
            f"subsidy_budget_{first}_{last}": ds["subsidy_budget"].sel(year=years).sum("year"),
        }
        for year in sorted({shown_year, last}):
            measures[f"extra_population_0_2_{year}"] = diff["population_0_2"].sel(year=year)
            measures[f"extra_childcare_places_wanted_{year}"] = diff[
                "childcare_places_need_willingness"].sel(year=year)
        for measure, da in measures.items():
            frame = summarise(da).reset_index()
            frame["scenario"], frame["measure"] = label, measure
            frame["unit"] = "CNY" if "budget" in measure else "persons" if "births" in measure \
                or "population" in measure else "places"
            rows.append(frame)
    table = _with_names(pd.concat(rows, ignore_index=True), base)
    table = table[["scenario", "region_code", "region_name", "measure", "unit", *SUMMARY]]
    names = region_names(base)
    figures = {"births_by_effect_size.png": plots.scenario_lines(
        _national_lines(members, "births"), indicator_label="出生人口（万人）Births (10k)",
        region_label=f"{NATION} {names.get(NATION, '')}", reference=reference, scale=1e4)}
    for label in members:
        if label == reference:
            continue
        places = (members[label] - base)["childcare_places_need_willingness"].sel(
            year=shown_year).drop_sel(region=NATION, errors="ignore")
        figures[f"extra_places_{shown_year}_{label}.png"] = plots.demand_gap_bars(
            places, names, year=shown_year, unit_label="托位 places",
            title=f"{label}: 新增托位需求（意愿）extra childcare places wanted",
            sign_labels=("增加 Increase", "减少 Decrease"))
    return {"subsidy_effect.csv": table, **figures}


# ------------------------------------------------------------------ kindergarten surplus

def kindergarten_surplus(members: dict[str, xr.Dataset], reference: str,
                         year: int = 2030) -> dict[str, object]:
    """Kindergarten seats against need in ``year`` under each scenario, by region.

    Returns ``kindergarten_surplus_<year>.csv`` (scenario × region: the gap, need − supply
    (negative = idle seats), the idle share of the seats, the probability of idle seats, and
    the toddler places those seats could supply) and ``kindergarten_surplus_counts.csv``
    (per scenario, the provinces with idle seats in at least half of the draws, those with a
    median idle share of at least :data:`IDLE_SHARE`, and their totals), and the gap figure
    of the reference scenario."""
    rows = []
    for label, ds in members.items():
        gap = ds["kindergarten_gap"].sel(year=year)
        idle_share = (-gap).clip(min=0) / ds["kindergarten_supply"].sel(year=year)
        frame = summarise(gap).add_prefix("gap_")
        frame = frame.join(summarise(idle_share).add_prefix("idle_share_"))
        frame["probability_idle"] = (gap < 0).mean("draw").to_series()
        frame = frame.join(summarise(ds["toddler_places_from_idle_seats"].sel(year=year))
                           .add_prefix("toddler_places_"))
        frame = frame.reset_index()
        frame["scenario"] = label
        rows.append(frame)
    table = _with_names(pd.concat(rows, ignore_index=True), members[reference])
    table = table[["scenario", "region_code", "region_name", *[c for c in table.columns if
                   c.startswith(("gap_", "idle_share", "probability", "toddler"))]]]
    provinces = table[table["region_code"] != NATION]
    idle = provinces[provinces["probability_idle"] >= 0.5]
    counts = (idle.groupby("scenario", sort=False)
              .agg(provinces_with_idle_seats=("region_code", "size"),
                   provinces_idle_share_over_quarter=("idle_share_median",
                                                      lambda v: int((v >= IDLE_SHARE).sum())),
                   idle_seats_median_sum=("gap_median", lambda g: float(-g.sum())),
                   toddler_places_median_sum=("toddler_places_median", "sum"))
              .reindex(list(members), fill_value=0).reset_index())
    names = region_names(members[reference])
    gap = members[reference]["kindergarten_gap"].sel(year=year).drop_sel(region=NATION,
                                                                         errors="ignore")
    figure = plots.demand_gap_bars(gap, names, year=year,
                                   title=f"{reference}: 幼儿园学位缺口（负为富余）kindergarten "
                                   "seats gap", unit_label="学位 seats")
    return {f"kindergarten_surplus_{year}.csv": table,
            "kindergarten_surplus_counts.csv": counts,
            f"kindergarten_gap_{year}.png": figure,
            "population_3_5_by_scenario.png": plots.scenario_lines(
                _national_lines(members, "population_3_5"),
                indicator_label="3-5岁人口（万人）Population 3-5 (10k)",
                region_label=f"{NATION} {names.get(NATION, '')}", reference=reference,
                scale=1e4)}


# ------------------------------------------------------------------ WPP variants

def wpp_variants(members: dict[str, xr.Dataset], reference: str,
                 variants: tuple[str, ...] = ("low", "medium", "high")) -> dict[str, object]:
    """The nation's TFR, births and population under ``variants`` against the UN's WPP 2024
    published variants (:func:`forecast.data.wpp.wpp_variants`).

    Returns ``wpp_comparison.csv`` (year × indicator × variant: this forecast's median and
    80 % interval, WPP's value, and the difference in percent) and one figure per
    indicator: this forecast's medium fan with its low/high medians against WPP's lines."""
    wpp = read_wpp_variants()
    rows, figures = [], {}
    for indicator in ("tfr", "births", "population"):
        for variant in variants:
            if variant not in members:
                continue
            ours = summarise(members[variant][indicator].sel(region=NATION)).reset_index()
            published = wpp[indicator].sel(variant=variant).to_series().rename("wpp")
            ours = ours.merge(published, left_on="year", right_index=True, how="inner")
            ours["difference_percent"] = 100 * (ours["median"] / ours["wpp"] - 1)
            ours["indicator"], ours["variant"] = indicator, variant
            ours["unit"] = wpp[indicator].attrs.get("units", "")
            rows.append(ours)
        figures[f"wpp_{indicator}.png"] = _wpp_figure(members, wpp, indicator, reference)
    table = pd.concat(rows, ignore_index=True).dropna(subset=["wpp"])
    table = table[["indicator", "variant", "year", "unit", *SUMMARY, "wpp",
                   "difference_percent"]]
    return {"wpp_comparison.csv": table, **figures}


WPP_LABELS = {"tfr": ("总和生育率 TFR (children per woman)", 1.0),
              "births": ("出生人口（万人）Births (10k)", 1e4),
              "population": ("总人口（亿人）Population (100 million)", 1e8)}


def _wpp_figure(members, wpp, indicator, reference):
    """This forecast's fan (reference) with its other variants' medians and WPP's lines."""
    label, scale = WPP_LABELS[indicator]
    draws = members[reference][indicator].sel(region=NATION)
    fig = plots.fan_chart(draws, None, title=f"{NATION} 全国 — 本预测 vs UN WPP 2024",
                          ylabel=label, scale=scale)
    fig.set_size_inches(8.6, 4.2)
    ax = fig.axes[0]
    styles = {"low": ":", "medium": "-", "high": "--"}
    first, last = int(draws["year"].min()), int(draws["year"].max())
    with plots.style():
        for variant, ds in members.items():
            if variant != reference and variant in styles:
                median = ds[indicator].sel(region=NATION).median("draw")
                ax.plot(median["year"], median / scale, color="#0072B2",
                        linestyle=styles[variant], linewidth=1.2, label=f"本预测 {variant}")
        for variant, style in styles.items():
            series = wpp[indicator].sel(variant=variant).sel(year=slice(first, last))
            if bool(series.notnull().any()):
                ax.plot(series["year"], series / scale, color="#D55E00", linestyle=style,
                        linewidth=1.4, label=f"WPP 2024 {variant}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return fig


# ------------------------------------------------------------------ shared

def _national_lines(members: dict[str, xr.Dataset], indicator: str) -> pd.DataFrame:
    """The nation's median and 80 % interval of ``indicator`` by scenario and year."""
    frames = []
    for label, ds in members.items():
        frame = summarise(ds[indicator].sel(region=NATION)).reset_index()
        frame["scenario"] = label
        frames.append(frame.dropna(subset=["median"]))
    return pd.concat(frames, ignore_index=True)


def _with_names(table: pd.DataFrame, ds: xr.Dataset) -> pd.DataFrame:
    names = region_names(ds)
    table = table.rename(columns={"region": "region_code"})
    table["region_name"] = table["region_code"].map(names)
    return table


REPORTS: dict[str, Report] = {"subsidy_effect": subsidy_effect,
                              "kindergarten_surplus": kindergarten_surplus,
                              "wpp_variants": wpp_variants}

