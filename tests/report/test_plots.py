"""Planner figures: each function returns a Figure with the expected axes, labels and
ordering; uncertainty bands nest; the shipped CJK font covers every region name."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from fontTools.ttLib import TTFont
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

from forecast.report import plots
from forecast.demography.graduation import AGES
from forecast.core.draw_quantiles import quantiles_of
from forecast.core.paths import DATA_DIR
from forecast.core.registry import QUANTILES
from forecast.core.variables import SEXES

YEARS = np.arange(2020, 2031)
DRAWS = 400
#: Region names with characters of county names that are rare in fonts (亳, 涪, 儋).
NAMES = {"000000": "全国", "341600": "亳州市", "500102": "涪陵区", "460400": "儋州市",
         "440000": "广东省"}
NAME_COLUMNS = {"region_name", "province", "prefecture", "county", "city"}
SHARED_REGIONS = DATA_DIR.parent.parent / "shared" / "data" / "china_census2020_regions.csv"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


def series_draws(rng, level=900e4, spread=0.04) -> xr.DataArray:
    """(year, draw): a level that spreads out with the horizon, persons per year."""
    steps = rng.normal(0.0, spread, (len(YEARS), DRAWS)).cumsum(axis=0)
    return xr.DataArray(level * np.exp(steps), dims=("year", "draw"),
                        coords={"year": YEARS, "draw": np.arange(DRAWS)})


def population_draws(rng) -> xr.DataArray:
    """(sex, age, year, draw): 1 million persons per age, ±2 % noise after the base year."""
    noise = rng.normal(1.0, 0.02, (len(SEXES), len(AGES), len(YEARS), DRAWS))
    noise[:, :, 0, :] = 1.0
    return xr.DataArray(1e6 * noise, dims=("sex", "age", "year", "draw"),
                        coords={"sex": list(SEXES), "age": AGES, "year": YEARS,
                                "draw": np.arange(DRAWS)})


def gap_draws(rng) -> xr.DataArray:
    """(region, draw): shortages and surpluses around distinct medians, places."""
    medians = np.array([-3e4, 5e4, 1e4, -8e4, 2e4])
    values = medians[:, None] + rng.normal(0.0, 1e4, (len(medians), DRAWS))
    return xr.DataArray(values, dims=("region", "draw"),
                        coords={"region": list(NAMES), "draw": np.arange(DRAWS)})


def texts(fig: Figure) -> str:
    """Every title, axis label, suptitle and legend text of ``fig``, joined."""
    parts = [fig.get_suptitle()]
    for ax in fig.axes:
        parts += [ax.get_title("left"), ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            parts += [t.get_text() for t in legend.get_texts()]
    for legend in fig.legends:
        parts += [t.get_text() for t in legend.get_texts()]
    return " | ".join(parts)


def band(ax, gid: str) -> dict[float, tuple[float, float]]:
    """Lower and upper edge of a filled band per x, from its polygon's vertices."""
    (coll,) = [c for c in ax.collections if isinstance(c, PolyCollection) and c.get_gid() == gid]
    vertices = coll.get_paths()[0].vertices
    out = {}
    for x in np.unique(vertices[:, 0]):
        ys = vertices[vertices[:, 0] == x, 1]
        out[float(x)] = (ys.min(), ys.max())
    return out


def render_quietly(fig: Figure) -> list[str]:
    """Save ``fig`` as PNG to memory; the messages of the warnings raised meanwhile."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png", dpi=72)
    return [str(w.message) for w in caught]


# ---------------------------------------------------------------- fan charts


def test_fan_chart_bands_nest_and_match_the_quantiles(rng):
    draws = series_draws(rng)
    observed = xr.DataArray([1200e4, 1062e4, np.nan], dims="year",
                            coords={"year": [2020, 2021, 2022]})
    fig = plots.fan_chart(draws, observed, title="出生人口 Births", ylabel=plots.LABEL_BIRTHS,
                          scale=plots.PER_10K)
    assert isinstance(fig, Figure) and len(fig.axes) == 1
    ax = fig.axes[0]
    assert "出生人口" in ax.get_title("left") and "万人" in ax.get_ylabel()
    assert "观测 Observed" in texts(fig) and "中位数" in texts(fig)
    b80, b95 = band(ax, "band80"), band(ax, "band95")
    assert set(b80) == set(b95) == set(map(float, YEARS))
    for year, (lo80, hi80) in b80.items():
        lo95, hi95 = b95[year]
        assert lo95 <= lo80 <= hi80 <= hi95
        expected = np.quantile(draws.sel(year=int(year)).values / 1e4, [0.1, 0.9])
        np.testing.assert_allclose([lo80, hi80], expected, rtol=1e-9)
    observed_line = [ln for ln in ax.lines if ln.get_label() == "观测 Observed"][0]
    assert list(observed_line.get_xdata()) == [2020, 2021]  # the NaN year is skipped


def test_fan_chart_draws_into_a_given_axes(rng):
    fig = Figure()  # made outside the module's style: its texts still get the CJK font
    ax = fig.add_subplot()
    out = plots.fan_chart(series_draws(rng), title="儋州市 出生人口", ylabel="出生人口（万人）",
                          ax=ax)
    assert out is fig and len(fig.axes) == 1 and ax.get_ylabel() == "出生人口（万人）"
    caught = render_quietly(fig)
    assert not [m for m in caught if "missing from font" in m], caught


def test_births_tfr_fan_has_two_panels_and_reference_lines(rng):
    tfr = series_draws(rng, level=1.1, spread=0.03)
    fig = plots.births_tfr_fan(series_draws(rng), tfr, region_label="341600 亳州市")
    assert len(fig.axes) == 2
    births_ax, tfr_ax = fig.axes
    assert "万人" in births_ax.get_ylabel() and "TFR" in tfr_ax.get_ylabel()
    assert "341600 亳州市" in fig.get_suptitle()
    levels = {ln.get_ydata()[0] for ln in tfr_ax.lines if ln.get_linestyle() == "--"}
    assert levels == {2.1, 1.5}
    notes = " ".join(t.get_text() for t in tfr_ax.texts)
    assert "更替水平" in notes and "警戒线" in notes


# ---------------------------------------------------------------- pyramid


def test_population_pyramid_males_left_females_right(rng):
    fig = plots.population_pyramid(population_draws(rng), 2020, 2030,
                                   region_label="500102 涪陵区")
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    title = ax.get_title("left")
    assert "2020" in title and "2030" in title and "涪陵区" in title
    assert "万人" in ax.get_xlabel() and "年龄" in ax.get_ylabel()
    widths = np.array([p.get_width() for p in ax.patches])
    assert (widths < 0).sum() == (widths > 0).sum() == len(AGES)
    np.testing.assert_allclose(np.abs(widths), 100.0, rtol=0.01)  # 1e6 persons = 100 万
    fig.draw_without_rendering()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and not any(s.startswith(("-", "\u2212")) for s in labels)


def test_population_pyramid_of_quantiles_draws_what_the_draws_draw(rng):
    """A streamed population (quantiles over draws, not the draws) gives the same bars
    and shading as its draws: the median and the 80 % bounds."""
    draws = population_draws(rng)
    summary = quantiles_of(draws, list(QUANTILES.values()))
    figures = [plots.population_pyramid(p, 2020, 2030, region_label="x")
               for p in (draws, summary)]
    bars = [np.array([p.get_width() for p in f.axes[0].patches]) for f in figures]
    np.testing.assert_allclose(bars[1], bars[0], rtol=1e-12)
    shades = [np.concatenate([c.get_paths()[0].vertices for c in f.axes[0].collections])
              for f in figures]
    np.testing.assert_allclose(shades[1], shades[0], rtol=1e-12)


def test_population_pyramid_rejects_a_missing_year(rng):
    with pytest.raises(ValueError, match="year 2040"):
        plots.population_pyramid(population_draws(rng), 2020, 2040, region_label="x")


# ---------------------------------------------------------------- scenarios


def scenario_table() -> pd.DataFrame:
    rows = []
    for k, name in enumerate(["low", "medium", "high"]):
        for year in YEARS:
            median = (800 + 50 * k) * 1e4
            rows.append({"scenario": name, "year": year, "median": median,
                         "lower_80": 0.9 * median, "upper_80": 1.1 * median})
    return pd.DataFrame(rows)


def test_scenario_lines_draws_each_scenario_and_the_reference_band():
    fig = plots.scenario_lines(scenario_table(), indicator_label=plots.LABEL_BIRTHS,
                               region_label="460400 儋州市", scale=plots.PER_10K)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert ax.get_ylabel() == plots.LABEL_BIRTHS and "儋州市" in ax.get_title("left")
    lines = {ln.get_label(): ln for ln in ax.lines}
    assert set(lines) == {"low", "medium", "high"}
    assert lines["medium"].get_linewidth() > lines["low"].get_linewidth()
    np.testing.assert_allclose(lines["high"].get_ydata(), 900.0)
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 1


def test_scenario_lines_rejects_an_unknown_reference_and_missing_columns():
    with pytest.raises(ValueError, match="reference scenario 'central'"):
        plots.scenario_lines(scenario_table(), indicator_label="x", region_label="y",
                             reference="central")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['upper_80'\]"):
        plots.scenario_lines(scenario_table().drop(columns="upper_80"), indicator_label="x",
                             region_label="y")


# ---------------------------------------------------------------- demand gaps


def test_demand_gap_bars_sorted_from_shortage_to_surplus(rng):
    gap = gap_draws(rng)
    fig = plots.demand_gap_bars(gap, NAMES, year=2030, title="托位缺口 Childcare gap",
                                unit_label="托位（万个）Places (10k)", scale=plots.PER_10K)
    assert len(fig.axes) == 1
    ax = fig.axes[0]
    assert "2030" in ax.get_title("left") and "万个" in ax.get_xlabel()
    bars = sorted(ax.patches, key=lambda p: p.get_y())
    widths = [p.get_width() for p in bars]
    assert widths == sorted(widths, reverse=True)
    assert ax.get_ylim()[0] > ax.get_ylim()[1]  # first row (largest shortage) on top
    colors = {p.get_facecolor()[:3] for p in bars}
    assert len(colors) == 2  # shortage and surplus
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "341600 亳州市" and labels[-1] == "460400 儋州市"
    assert all(t.get_fontname() == plots.font_family() for t in ax.get_yticklabels())


def test_demand_gap_bars_figure_grows_with_regions(rng):
    small = plots.demand_gap_bars(gap_draws(rng), NAMES, year=2030, title="t", unit_label="u")
    many = xr.DataArray(rng.normal(0, 1, (31, 50)), dims=("region", "draw"),
                        coords={"region": [f"{i:02d}0000" for i in range(11, 42)]})
    large = plots.demand_gap_bars(many, {}, year=2030, title="t", unit_label="u")
    assert large.get_figheight() > 2.5 * small.get_figheight()


# ---------------------------------------------------------------- inputs and output


@pytest.mark.parametrize("call, message", [
    (lambda d: plots.fan_chart(d.isel(draw=0), title="t", ylabel="y"), r"missing dim\(s\) \['draw'\]"),
    (lambda d: plots.fan_chart(d.expand_dims(region=["a"]), title="t", ylabel="y"),
     r"unexpected dim\(s\) \['region'\]"),
    (lambda d: plots.births_tfr_fan(d, d.rename(year="time"), region_label="r"),
     r"tfr: missing dim\(s\) \['year'\]"),
    (lambda d: plots.population_pyramid(d, 2020, 2030, region_label="r"),
     r"missing dim\(s\) \['sex', 'age'\]"),
    (lambda d: plots.demand_gap_bars(d, {}, year=2030, title="t", unit_label="u"),
     r"missing dim\(s\) \['region'\]"),
])
def test_missing_dims_raise_value_error(rng, call, message):
    with pytest.raises(ValueError, match=message):
        call(series_draws(rng))


def test_save_png_writes_a_png(tmp_path, rng):
    fig = plots.fan_chart(series_draws(rng), title="出生人口 Births", ylabel="y")
    path = plots.save_png(fig, tmp_path / "fan.png")
    data = path.read_bytes()
    assert path == tmp_path / "fan.png" and len(data) > 1000
    assert data[:8] == PNG_SIGNATURE
    with pytest.raises(FileNotFoundError):
        plots.save_png(fig, tmp_path / "missing" / "fan.png")


# ---------------------------------------------------------------- font


def region_names_in_tables() -> set[str]:
    """Every name in the name columns of data/*.csv (and the shared county list if present)."""
    paths = sorted(DATA_DIR.glob("*.csv")) + [SHARED_REGIONS] * SHARED_REGIONS.exists()
    names = set()
    for path in paths:
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
        for column in NAME_COLUMNS & set(table.columns):
            names |= set(table[column].dropna())
    return names


def test_shipped_font_covers_every_region_name():
    cmap = TTFont(plots.FONT_PATH).getBestCmap()
    names = region_names_in_tables() | set(NAMES.values())
    assert len(names) > 30
    missing = sorted({c for name in names for c in name if ord(c) not in cmap})
    assert not missing, f"characters missing from {plots.FONT_PATH.name}: {missing}"
    for sign in "−×÷±≤≥‰°·…（）":
        assert ord(sign) in cmap


def test_chinese_text_renders_without_missing_glyphs(rng):
    assert plots.font_family() == "Noto Sans CJK SC"
    title = "亳州市 涪陵区 儋州市 出生人口（万人）−1.5‰ ≤ 2.1"
    fig = plots.fan_chart(series_draws(rng), title=title, ylabel=plots.LABEL_TFR)
    # text added by the caller afterwards names the family itself
    fig.axes[0].text(0.5, 0.5, "新疆维吾尔自治区 广西壮族自治区", transform=fig.axes[0].transAxes,
                     fontfamily=plots.font_family())
    caught = render_quietly(fig)
    assert not [m for m in caught if "missing from font" in m], caught
