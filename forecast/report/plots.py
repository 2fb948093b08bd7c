"""Figures for planners: fan charts, population pyramids, scenario lines and demand gaps.

Every function takes labelled data and returns a :class:`matplotlib.figure.Figure` built
directly (not through pyplot: no GUI backend, no global figure list); :func:`save_png` writes
it. Labels are Chinese first with a short English gloss; births and populations are shown in
万人 (10,000 persons). Uncertainty follows the project's convention: median line, 80 % band
(quantiles 0.1-0.9) and 95 % band (0.025-0.975) over ``draw``.

Chinese text is set in Noto Sans CJK SC (SIL Open Font License 1.1), a subset shipped in
``forecast/fonts`` (built by ``data/make_cjk_font.py``), so figures render the same on any
machine; DejaVu Sans (shipped with matplotlib) is the fallback for any other glyph. The font
is set while each figure is built; text a caller adds afterwards names it itself:
``ax.text(x, y, "广东省", fontfamily=font_family())``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from functools import lru_cache
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr
from cycler import cycler
from matplotlib import font_manager, ticker
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from forecast.core.registry import INTERVALS

FONT_PATH = Path(__file__).resolve().parent / "fonts" / "NotoSansCJKsc-Regular-subset.otf"

#: Persons per 万人 (10,000 persons): divide by this to show values in 万人.
PER_10K = 1e4
BAND_80 = INTERVALS["80"]
BAND_95 = INTERVALS["95"]

#: Okabe-Ito colours (colour-blind safe).
BLUE, ORANGE, VERMILLION, GREEN = "#0072B2", "#E69F00", "#D55E00", "#009E73"
SKY, PURPLE, YELLOW, GREY = "#56B4E9", "#CC79A7", "#F0E442", "#6E6E6E"
PALETTE = (BLUE, ORANGE, GREEN, VERMILLION, PURPLE, SKY, YELLOW, "#000000")

MALE, FEMALE = BLUE, VERMILLION
SHORTAGE, SURPLUS = VERMILLION, BLUE
INTERVAL_LINE = "#333333"
#: Most ticks on a gap chart's x axis (counts of places or seats).
GAP_TICKS = 6

LABEL_MEDIAN = "中位数 Median"
LABEL_80 = "80% 区间 interval"
LABEL_95 = "95% 区间 interval"
LABEL_OBSERVED = "观测 Observed"
LABEL_BIRTHS = "出生人口（万人）Births (10k)"
LABEL_TFR = "总和生育率（孩/妇女）TFR (children per woman)"
LABEL_POPULATION = "人口（万人）Population (10k)"
LABEL_AGE = "年龄（岁）Age (years)"
LABEL_YEAR = "年份 Year"
TFR_REFERENCES = ((2.1, "更替水平 2.1 replacement"), (1.5, "警戒线 1.5 warning line"))


# ---------------------------------------------------------------- style


@lru_cache(maxsize=1)
def _font() -> tuple[str, bool]:
    """Register the shipped CJK font once; its family name and whether it has U+2212 (−)."""
    font_manager.fontManager.addfont(str(FONT_PATH))
    family = font_manager.FontProperties(fname=str(FONT_PATH)).get_name()
    has_minus = 0x2212 in font_manager.get_font(str(FONT_PATH)).get_charmap()
    return family, has_minus


def font_family() -> str:
    """Family name of the shipped CJK font (``"Noto Sans CJK SC"``), registered with
    matplotlib's font manager on first use."""
    return _font()[0]


@contextlib.contextmanager
def _style() -> Iterator[None]:
    """rcParams of the project's figures, for the duration of the block: the CJK font first
    (DejaVu Sans as fallback), light grid, no top/right spines, Okabe-Ito colours.

    Text takes its font when it is created, so build every artist inside the block."""
    family, has_minus = _font()
    rc = {
        "font.family": [family, "DejaVu Sans"],
        "font.size": 9.5,
        "axes.titlesize": 10.5,
        "axes.labelsize": 9.5,
        "legend.fontsize": 8.5,
        "figure.titlesize": 12,
        "axes.unicode_minus": has_minus,
        "axes.prop_cycle": cycler(color=PALETTE),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.grid": True,
        "axes.axisbelow": True,
        "grid.color": "#E3E3E3",
        "grid.linewidth": 0.6,
        "legend.frameon": False,
        "figure.facecolor": "white",
        "savefig.facecolor": "white",
    }
    with matplotlib.rc_context(rc):
        yield


def style() -> contextlib.AbstractContextManager:
    """The context of :func:`_style`, for callers that add text or legends to a returned
    figure (``with plots.style(): ax.legend(...)``) so that Chinese renders there too."""
    return _style()


def _families() -> list[str]:
    """Font families of every text: the shipped CJK font, then DejaVu Sans."""
    return [font_family(), "DejaVu Sans"]


def _tidy(ax: Axes) -> None:
    """The project's look on one Axes, also when the caller made it outside :func:`_style`
    (its title and axis-label Text objects then predate the style: give them the font)."""
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(True, color="#E3E3E3", linewidth=0.6)
    ax.set_axisbelow(True)
    ax.tick_params(labelfontfamily=_families())
    for text in (ax.title, ax.xaxis.label, ax.yaxis.label):
        text.set_fontfamily(_families())


def _new_figure(width: float, height: float) -> Figure:
    """A Figure with constrained layout, size in inches (no pyplot, so no GUI backend)."""
    return Figure(figsize=(width, height), layout="constrained")


class _PlainFormatter(ticker.Formatter):
    """Tick labels as plain numbers with thousands separators and as many decimals as the
    tick step needs; ``absolute`` drops the sign (pyramids)."""

    def __init__(self, absolute: bool = False):
        self.absolute = absolute
        self._ticks = np.array([])

    def set_locs(self, locs) -> None:
        """Keep the tick positions (their step sets the decimals)."""
        self._ticks = np.asarray(locs, float)

    def __call__(self, x: float, pos: int | None = None) -> str:
        decimals = self._decimals()
        if self.absolute:
            x = abs(x)
        if abs(x) < 0.5 * 10.0 ** -decimals:
            x = 0.0
        return f"{x:,.{decimals}f}".replace("-", "\u2212")

    def _decimals(self) -> int:
        steps = np.abs(np.diff(self._ticks))
        step = steps[steps > 0].min() if (steps > 0).any() else 1.0
        for decimals in range(7):
            if abs(round(step, decimals) - step) <= 1e-9 * max(step, 1.0):
                return decimals
        return 7


# ---------------------------------------------------------------- checks


def _require_dims(da, required: tuple[str, ...], name: str) -> None:
    """Raise ValueError unless ``da`` is a DataArray whose dims are exactly ``required``
    (in any order)."""
    if not isinstance(da, xr.DataArray):
        raise ValueError(f"{name}: expected an xarray DataArray with dims {required}; "
                         f"got {type(da).__name__}")
    missing = [d for d in required if d not in da.dims]
    extra = [d for d in da.dims if d not in required]
    if missing:
        raise ValueError(f"{name}: missing dim(s) {missing}; got dims {da.dims}, "
                         f"expected {required}")
    if extra:
        raise ValueError(f"{name}: unexpected dim(s) {extra}; got dims {da.dims}, expected "
                         f"{required} (select one value of the others first, e.g. .sel(...))")


def _as_year_series(observed, name: str) -> xr.DataArray:
    """``observed`` as a DataArray on ``year``; a pandas Series indexed by year is accepted."""
    if isinstance(observed, pd.Series):
        observed = xr.DataArray(observed.to_numpy(float), dims="year",
                                coords={"year": observed.index.to_numpy()})
    _require_dims(observed, ("year",), name)
    return observed


def _require_columns(table, columns: tuple[str, ...], name: str) -> None:
    """Raise ValueError unless ``table`` is a DataFrame with all of ``columns``."""
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"{name}: expected a pandas DataFrame with columns {list(columns)}; "
                         f"got {type(table).__name__}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; got {list(table.columns)}, "
                         f"expected {list(columns)}")


# ---------------------------------------------------------------- summaries


def _quantiles(draws: xr.DataArray, probs: tuple[float, ...]) -> xr.DataArray:
    """Quantiles over ``draw`` (dim ``quantile``), NaN where every draw is NaN; an array
    already summarised (dim ``quantile`` holding ``probs``, e.g. the county blocks') gives
    its own."""
    if "quantile" in draws.dims:
        return draws.sel(quantile=list(probs))
    return draws.quantile(list(probs), dim="draw", skipna=True)


def _require_draws(da, dims: tuple[str, ...], name: str) -> None:
    """:func:`_require_dims` with ``draw``, or ``quantile`` for an array already summarised
    over its draws (:data:`forecast.core.registry.QUANTILES`)."""
    if isinstance(da, xr.DataArray) and "quantile" in da.dims:
        dims = tuple("quantile" if d == "draw" else d for d in dims)
    _require_dims(da, dims, name)


def _step_outline(values: np.ndarray, ages: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vertices (x, y) of a step outline of one bar per age (bar from age-0.5 to age+0.5)."""
    x = np.repeat(np.asarray(values, float), 2)
    y = np.column_stack([ages - 0.5, ages + 0.5]).ravel()
    return x, y


# ---------------------------------------------------------------- fan chart


def fan_chart(draws: xr.DataArray, observed: xr.DataArray | pd.Series | None = None, *,
              title: str, ylabel: str, scale: float = 1.0, ax: Axes | None = None,
              observed_label: str = LABEL_OBSERVED) -> Figure:
    """Fan chart of one series: median line, 80 % band (darker) and 95 % band (lighter).

    Parameters
    ----------
    draws : DataArray (year, draw), or (year, quantile) already summarised
        Forecast draws, in the series' units (e.g. persons per year); years whose draws are
        all NaN (e.g. the base year of calendar births) are left out.
    observed : DataArray (year) or Series indexed by year, optional
        Observed values in the same units; NaN allowed. Drawn as black dots and line.
    title, ylabel : str
        Axes title and y-axis label (the label states the shown unit, e.g. 万人).
    scale : float
        Divisor of every value: 1e4 (:data:`PER_10K`) shows persons in 万人.
    ax : Axes, optional
        Draw into this Axes and return its figure; else a new Figure.
    observed_label : str
        Legend label of ``observed``.

    Returns
    -------
    Figure
    """
    _require_draws(draws, ("year", "draw"), "fan_chart draws")
    if observed is not None:
        observed = _as_year_series(observed, "fan_chart observed")
    with _style():
        if ax is None:
            ax = _new_figure(6.4, 4.0).add_subplot()
        _tidy(ax)
        _draw_fan(ax, draws.dropna("year", how="all") / scale)
        if observed is not None:
            _draw_observed(ax, observed / scale, observed_label)
        ax.set_title(title, loc="left", fontfamily=_families())
        ax.set_ylabel(ylabel)
        ax.set_xlabel(LABEL_YEAR)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(_PlainFormatter())
        ax.legend(loc="best")
    return ax.figure


def _draw_fan(ax: Axes, draws: xr.DataArray, color: str = BLUE) -> None:
    """95 % band, 80 % band and median of ``draws`` (year, draw) on ``ax``."""
    q = _quantiles(draws, (BAND_95[0], BAND_80[0], 0.5, BAND_80[1], BAND_95[1]))
    years = draws["year"].values
    band = {p: q.sel(quantile=p).transpose("year").values for p in q["quantile"].values}
    ax.fill_between(years, band[BAND_95[0]], band[BAND_95[1]], color=color, alpha=0.18,
                    linewidth=0, label=LABEL_95, gid="band95")
    ax.fill_between(years, band[BAND_80[0]], band[BAND_80[1]], color=color, alpha=0.38,
                    linewidth=0, label=LABEL_80, gid="band80")
    ax.plot(years, band[0.5], color=color, linewidth=2.0, label=LABEL_MEDIAN)


def _draw_observed(ax: Axes, observed: xr.DataArray, label: str = LABEL_OBSERVED) -> None:
    """Observed series (year) as black dots joined by a thin line; NaN years skipped."""
    kept = observed.dropna("year")
    ax.plot(kept["year"].values, kept.values, color="black", linewidth=0.9, marker="o",
            markersize=3.5, label=label, zorder=3)


# ---------------------------------------------------------------- births and TFR


def births_tfr_fan(births: xr.DataArray, tfr: xr.DataArray,
                   observed_births: xr.DataArray | pd.Series | None = None,
                   observed_tfr: xr.DataArray | pd.Series | None = None, *,
                   region_label: str, observed_tfr_label: str = LABEL_OBSERVED) -> Figure:
    """Two fan charts side by side: births (万人) and the total fertility rate.

    The TFR panel has dashed reference lines at 2.1 (更替水平, replacement) and 1.5 (警戒线).

    Parameters
    ----------
    births : DataArray (year, draw)
        Births in persons per year (one region, both sexes).
    tfr : DataArray (year, draw)
        Total fertility rate, children per woman.
    observed_births, observed_tfr : DataArray (year) or Series, optional
        Observed values in the same units (persons per year; children per woman).
    region_label : str
        E.g. ``"440000 广东省"`` (see :func:`region_label`).
    observed_tfr_label : str
        Legend label of ``observed_tfr`` (e.g. whose estimates they are).

    Returns
    -------
    Figure with two Axes.
    """
    _require_draws(births, ("year", "draw"), "births_tfr_fan births")
    _require_draws(tfr, ("year", "draw"), "births_tfr_fan tfr")
    with _style():
        fig = _new_figure(11.0, 4.2)
        left, right = fig.subplots(1, 2)
        fan_chart(births, observed_births, title="出生人口 Births", ylabel=LABEL_BIRTHS,
                  scale=PER_10K, ax=left)
        fan_chart(tfr, observed_tfr, title="总和生育率 Total fertility rate",
                  ylabel=LABEL_TFR, ax=right, observed_label=observed_tfr_label)
        _tfr_references(right)
        fig.suptitle(f"{region_label}  出生人口与总和生育率 Births and TFR")
    return fig


def _tfr_references(ax: Axes) -> None:
    """Dashed lines at TFR 2.1 and 1.5, each labelled at its left end."""
    for level, text in TFR_REFERENCES:
        ax.axhline(level, color=GREY, linestyle="--", linewidth=1.0, zorder=1)
        # below the line: an official series at 1.5-1.6 runs just above it
        ax.text(0.01, level, text, transform=ax.get_yaxis_transform(), color=GREY,
                fontsize=8.5, ha="left", va="top")


# ---------------------------------------------------------------- pyramid


def population_pyramid(population: xr.DataArray, base_year: int, target_year: int, *,
                       region_label: str) -> Figure:
    """Population pyramid by single year of age: males left, females right, in 万人.

    The target year's median is drawn as filled bars with its 80 % interval shaded darker
    over the bar ends; the base year (whose draws are usually identical) as a black step
    outline of its median.

    Parameters
    ----------
    population : DataArray (sex, age, year, draw) or (sex, age, year, quantile)
        Persons at 1 July, every draw or their quantiles (holding the median and the 80 %
        bounds); sex in {"female", "male"}, age 0..100 (100 = 100+).
    base_year, target_year : int
        Years of ``population`` to compare.
    region_label : str
        E.g. ``"440000 广东省"``.

    Returns
    -------
    Figure with one Axes.
    """
    _require_draws(population, ("sex", "age", "year", "draw"), "population_pyramid population")
    for year in (base_year, target_year):
        if year not in population["year"].values:
            raise ValueError(f"population_pyramid: year {year} not in population years "
                             f"{population['year'].values.tolist()}")
    pop = population.transpose("sex", "age", "year", ...) / PER_10K
    with _style():
        fig = _new_figure(7.2, 7.6)
        ax = fig.add_subplot()
        _tidy(ax)
        for sex, sign, color in (("male", -1.0, MALE), ("female", 1.0, FEMALE)):
            _pyramid_side(ax, pop.sel(sex=sex), base_year, target_year, sign, color)
        _pyramid_axes(ax, pop, region_label, base_year, target_year)
    return fig


def _pyramid_side(ax: Axes, pop: xr.DataArray, base_year: int, target_year: int,
                  sign: float, color: str) -> None:
    """One sex's bars (target median), 80 % shading and base-year outline; ``pop`` (age,
    year, draw or quantile) in 万人, ``sign`` -1 for the left side."""
    ages = pop["age"].values.astype(float)
    target = _quantiles(pop.sel(year=target_year), (BAND_80[0], 0.5, BAND_80[1]))
    lo, mid, hi = (sign * target.sel(quantile=p).values for p in (BAND_80[0], 0.5, BAND_80[1]))
    ax.barh(ages, mid, height=1.0, color=color, alpha=0.45, linewidth=0)
    x_lo, y = _step_outline(lo, ages)
    x_hi, _ = _step_outline(hi, ages)
    ax.fill_betweenx(y, x_lo, x_hi, color=color, alpha=0.85, linewidth=0)
    base = sign * _quantiles(pop.sel(year=base_year), (0.5,)).isel(quantile=0).values
    ax.plot(*_step_outline(base, ages), color="black", linewidth=0.8)


def _pyramid_axes(ax: Axes, pop: xr.DataArray, region_label: str, base_year: int,
                  target_year: int) -> None:
    """Symmetric x limits, absolute tick labels, sides named in the x label, legend below
    the axes, title."""
    widest = float(pop.sel(year=[base_year, target_year]).max()) * 1.08
    ax.set_xlim(-widest, widest)
    ax.set_ylim(-0.5, float(pop["age"].max()) + 0.5)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.xaxis.set_major_formatter(_PlainFormatter(absolute=True))
    ax.yaxis.set_major_locator(ticker.MultipleLocator(10))
    ax.set_xlabel(f"\u2190 男 Male    {LABEL_POPULATION}    女 Female \u2192")
    ax.set_ylabel(LABEL_AGE)
    handles = [
        Patch(facecolor=MALE, alpha=0.6, label="男 Male"),
        Patch(facecolor=FEMALE, alpha=0.6, label="女 Female"),
        Patch(facecolor=GREY, alpha=0.45, label=f"{target_year} 中位数 median"),
        Patch(facecolor=GREY, alpha=0.85, label=f"{target_year} {LABEL_80}"),
        Line2D([], [], color="black", linewidth=0.8, label=f"{base_year} 基年 base year"),
    ]  # filled column by column
    ax.figure.legend(handles=handles, loc="outside lower center", ncols=3)
    ax.set_title(f"{region_label}  人口金字塔 Population pyramid, {base_year} 与 "
                 f"{target_year}", loc="left")


# ---------------------------------------------------------------- scenarios

SCENARIO_COLUMNS = ("scenario", "year", "median", "lower_80", "upper_80")


def scenario_lines(table: pd.DataFrame, *, indicator_label: str, region_label: str,
                   reference: str = "medium", scale: float = 1.0) -> Figure:
    """One median line per scenario; the reference scenario thicker, with its 80 % band.

    Parameters
    ----------
    table : DataFrame with columns scenario, year, median, lower_80, upper_80
        One region and one indicator: one row per scenario and year, in the indicator's
        units (e.g. persons per year).
    indicator_label : str
        Y-axis label stating the shown unit, e.g. ``"出生人口（万人）Births (10k)"``.
    region_label : str
        E.g. ``"440000 广东省"``.
    reference : str
        Scenario drawn thicker with its band; must be in ``table``.
    scale : float
        Divisor of every value (1e4 for 万人).

    Returns
    -------
    Figure with one Axes.
    """
    _require_columns(table, SCENARIO_COLUMNS, "scenario_lines table")
    if table.duplicated(["scenario", "year"]).any():
        raise ValueError("scenario_lines table: more than one row per scenario and year; "
                         "pass one region and one indicator")
    scenarios = list(dict.fromkeys(table["scenario"]))
    if reference not in scenarios:
        raise ValueError(f"scenario_lines: reference scenario {reference!r} not in the "
                         f"table's scenarios {scenarios}")
    ordered = [reference] + [s for s in scenarios if s != reference]
    with _style():
        fig = _new_figure(6.8, 4.2)
        ax = fig.add_subplot()
        _tidy(ax)
        for name, color in zip(ordered, _cycle(PALETTE, len(ordered))):
            rows = table[table["scenario"] == name].sort_values("year")
            _scenario_line(ax, rows, name, color, scale, name == reference)
        ax.set_title(f"{region_label}  情景比较 Scenarios", loc="left")
        ax.set_ylabel(indicator_label)
        ax.set_xlabel(LABEL_YEAR)
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter(_PlainFormatter())
        ax.legend(title="情景 Scenario", loc="best")
    return fig


def _cycle(colors: tuple[str, ...], n: int) -> list[str]:
    """``n`` colours, repeating ``colors`` if needed."""
    return [colors[i % len(colors)] for i in range(n)]


def _scenario_line(ax: Axes, rows: pd.DataFrame, name: str, color: str, scale: float,
                   is_reference: bool) -> None:
    """One scenario's median line; the reference also gets its 80 % band."""
    years = rows["year"].to_numpy()
    if is_reference:
        ax.fill_between(years, rows["lower_80"] / scale, rows["upper_80"] / scale,
                        color=color, alpha=0.2, linewidth=0, label=f"{name} {LABEL_80}")
    ax.plot(years, rows["median"] / scale, color=color, linewidth=2.6 if is_reference else 1.4,
            label=name, zorder=3 if is_reference else 2)


# ---------------------------------------------------------------- demand gaps


def demand_gap_bars(gap: xr.DataArray, region_names: Mapping[str, str], *, year: int,
                    title: str, unit_label: str, scale: float = 1.0,
                    sign_labels: tuple[str, str] = ("缺口 Shortage", "富余 Surplus")) -> Figure:
    """Median gap by region as horizontal bars, largest shortage at the top, largest surplus
    at the bottom, with 80 % (thick) and 95 % (thin) intervals.

    Parameters
    ----------
    gap : DataArray (region, draw), or (region, quantile) already summarised
        Need minus supply in one year, in places or seats (shortage > 0, surplus < 0).
    region_names : mapping region code -> Chinese name
        Labels read "code name"; a code without a name is shown alone.
    year : int
        Year of ``gap``, shown in the title.
    title : str
        What the gap is, e.g. ``"幼儿园学位缺口 Kindergarten seat gap"``.
    unit_label : str
        X-axis label stating the shown unit, e.g. ``"学位（万个）Seats (10k)"``.
    scale : float
        Divisor of every value (1e4 for 万).
    sign_labels : (str, str)
        Legend labels of positive and negative bars (for a change rather than a gap, e.g.
        ``("增加 Increase", "减少 Decrease")``).

    Returns
    -------
    Figure with one Axes; its height grows with the number of regions.
    """
    _require_draws(gap, ("region", "draw"), "demand_gap_bars gap")
    q = _quantiles(gap / scale,
                   (BAND_95[0], BAND_80[0], 0.5, BAND_80[1], BAND_95[1]))
    order = np.argsort(-q.sel(quantile=0.5).values, kind="stable")
    q = q.isel(region=order)
    labels = [region_label(code, region_names) for code in q["region"].values]
    with _style():
        fig = _new_figure(7.2, 1.3 + 0.26 * len(labels))
        ax = fig.add_subplot()
        _tidy(ax)
        _gap_bars(ax, q)
        _gap_axes(ax, labels, f"{title}（{year}年）", unit_label, sign_labels)
        _gap_xlim(ax, q)
    return fig


def _gap_bars(ax: Axes, q: xr.DataArray) -> None:
    """Bars of the median (row i at y = i) and interval lines; ``q`` (quantile, region)."""
    mid = q.sel(quantile=0.5).values
    y = np.arange(mid.size)
    colors = np.where(mid > 0, SHORTAGE, SURPLUS)
    ax.barh(y, mid, height=0.62, color=colors, alpha=0.8, linewidth=0, gid="gap_bars")
    ax.hlines(y, q.sel(quantile=BAND_95[0]).values, q.sel(quantile=BAND_95[1]).values,
              color=INTERVAL_LINE, linewidth=0.8)
    ax.hlines(y, q.sel(quantile=BAND_80[0]).values, q.sel(quantile=BAND_80[1]).values,
              color=INTERVAL_LINE, linewidth=2.2)
    ax.axvline(0, color="black", linewidth=0.8)


def _gap_axes(ax: Axes, labels: list[str], title: str, unit_label: str,
              sign_labels: tuple[str, str]) -> None:
    """Region tick labels (first row at the top), x label, legend and title."""
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_ylim(len(labels) - 0.5, -0.5)
    ax.grid(False, axis="y")
    ax.tick_params(axis="y", length=0)
    # at most GAP_TICKS labels: a count such as "−200,000" is wide, and more would touch
    ax.xaxis.set_major_locator(ticker.MaxNLocator(nbins=GAP_TICKS))
    ax.xaxis.set_major_formatter(_PlainFormatter())
    ax.set_xlabel(unit_label)
    handles = [
        Patch(facecolor=SHORTAGE, alpha=0.8, label=sign_labels[0]),
        Patch(facecolor=SURPLUS, alpha=0.8, label=sign_labels[1]),
        Line2D([], [], color=INTERVAL_LINE, linewidth=2.2, label=LABEL_80),
        Line2D([], [], color=INTERVAL_LINE, linewidth=0.8, label=LABEL_95),
    ]
    ax.figure.legend(handles=handles, loc="outside lower center", ncols=len(handles))
    ax.set_title(title, loc="left")


def _gap_xlim(ax: Axes, q: xr.DataArray) -> None:
    """X limits spanning every interval and zero, with 5 % padding on both sides."""
    lo = min(float(q.min()), 0.0)
    hi = max(float(q.max()), 0.0)
    pad = 0.05 * (hi - lo) if hi > lo else 1.0
    ax.set_xlim(lo - pad, hi + pad)


# ---------------------------------------------------------------- helpers


def region_label(code, region_names: Mapping[str, str]) -> str:
    """``"440000 广东省"`` from a GB/T 2260 code and a mapping code -> Chinese name; the code
    alone when the mapping has no name for it."""
    code = str(code)
    name = region_names.get(code)
    return f"{code} {name}" if name else code


def save_png(fig: Figure, path: str | Path, dpi: int = 150) -> Path:
    """Write ``fig`` as a PNG at ``dpi`` dots per inch to ``path`` (whose folder must exist);
    return the path. Nothing global is touched or closed."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"save_png: folder {path.parent} does not exist")
    fig.savefig(path, dpi=dpi, format="png")
    return path
