"""Choropleth maps of regions keyed by their GB/T 2260 codes (provinces, or one province's
county-level units), drawn with matplotlib alone: each unit's rings as polygons, a colour
scale (or the alert levels' colours), units without a value in grey, and the codes that
have no boundary listed under the map. Longitude is scaled by cos(mean latitude) so shapes
keep their proportions."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke

from forecast.data.boundaries import load_boundaries
from forecast.report import plots

NO_DATA = "#d9d9d9"
#: Alert levels' colours (as the report's badges).
LEVEL_COLOURS = {"blue": "#1f6fb4", "yellow": "#d4a900", "orange": "#e8700a", "red": "#c62828"}
#: Units labelled with their names on the map at most (more would overlap).
MAX_LABELS = 45
#: Units smaller than this (square degrees, their largest ring) carry no name.
MIN_LABEL_AREA = 0.02


def choropleth(values: Mapping[str, float], boundaries: Mapping[str, list], names:
               Mapping[str, str], *, title: str, unit_label: str = "",
               categories: Mapping[str, tuple[str, str]] | None = None,
               cmap: str = "YlOrRd", centre: float | None = None,
               limits: tuple[float, float] | None = None) -> Figure:
    """A map of ``values`` (code -> number, or code -> category with ``categories``:
    category -> (colour, legend label)); every code of ``values`` is drawn where
    ``boundaries`` has it, NaN or None in grey; codes without a boundary are listed under
    the map with their ``names``. With ``centre`` a diverging scale is centred on it; with
    ``limits`` the scale is fixed (e.g. 0 to 1 for a probability)."""
    drawn = [c for c in values if c in boundaries]
    missing = [c for c in values if c not in boundaries]
    with plots.style():
        fig = plots._new_figure(7.5, 7.0 if len(missing) < 10 else 7.8)
        ax = fig.add_subplot()
        lat = np.mean([ring[:, 1].mean() for c in drawn for ring in boundaries[c]]) \
            if drawn else 30.0
        scale = np.cos(np.radians(lat))
        polygons, colours = [], []
        numeric = categories is None
        finite = [float(values[c]) for c in drawn if numeric and values[c] is not None
                  and np.isfinite(float(values[c]))]
        norm = Normalize(min(finite), max(finite) if max(finite) > min(finite)
                         else min(finite) + 1) if finite else None
        if limits is not None:
            norm = Normalize(*limits)
        elif norm is not None and centre is not None:
            reach = max(abs(norm.vmin - centre), abs(norm.vmax - centre))
            norm = Normalize(centre - reach, centre + reach)
        colour_map = colormaps[cmap]
        for code in drawn:
            value = values[code]
            if numeric:
                ok = value is not None and np.isfinite(float(value))
                colour = colour_map(norm(float(value))) if ok else NO_DATA
            else:
                colour = categories[value][0] if value in categories else NO_DATA
            for ring in boundaries[code]:
                polygons.append(np.column_stack([ring[:, 0] * scale, ring[:, 1]]))
                colours.append(colour)
        ax.add_collection(PolyCollection(polygons, facecolors=colours, edgecolors="white",
                                         linewidths=0.4))
        ax.autoscale_view()
        ax.set_aspect("equal")
        ax.set_axis_off()
        if len(drawn) <= MAX_LABELS:
            for code in drawn:
                ring = max(boundaries[code], key=len)
                if _area(ring) < MIN_LABEL_AREA:
                    continue  # too small to carry a name (e.g. 澳门)
                ax.text(ring[:, 0].mean() * scale, ring[:, 1].mean(), names.get(code, code),
                        ha="center", va="center", fontsize=5.5,
                        fontfamily=plots.font_family(), color="#111111",
                        path_effects=[withStroke(linewidth=1.6, foreground="white")])
        if numeric and norm is not None:
            bar = fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.6,
                               pad=0.01)
            bar.set_label(unit_label, fontfamily=plots.font_family())
            if NO_DATA in colours:
                ax.legend(handles=[Patch(color=NO_DATA, label="无数据 no data")],
                          loc="lower left", frameon=False,
                          prop={"family": plots.font_family(), "size": 7})
        elif not numeric:
            handles = [Patch(color=c, label=label) for c, label in categories.values()]
            handles.append(Patch(color=NO_DATA, label="无预警 none"))
            ax.legend(handles=handles, loc="lower left", fontsize=7, frameon=False,
                      prop={"family": plots.font_family(), "size": 7})
        ax.set_title(title, fontfamily=plots.font_family())
        if missing:
            text = "无边界 no boundary: " + "、".join(f"{c} {names.get(c, '')}"
                                                     for c in missing)
            fig.text(0.01, 0.005, text, fontsize=6, wrap=True, va="bottom",
                     fontfamily=plots.font_family())
    return fig


#: Regions of China outside the census's 31 provinces, drawn in grey on province maps.
OUTSIDE_CENSUS = {"710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区"}


def map_units(codes: list[str], nation: str = "000000") -> tuple[list[str], bool]:
    """The units a map of a table with ``codes`` shows: its county-level units (codes not
    ending in 00) when it has any, else its provinces (ending in 0000, not the nation);
    and whether they are provinces."""
    counties = [c for c in codes if not c.endswith("00")]
    if counties:
        return counties, False
    return [c for c in codes if c.endswith("0000") and c != nation], True


def unit_map(values: Mapping[str, float], names: Mapping[str, str], provinces: bool,
             **kwargs) -> Figure:
    """:func:`choropleth` of ``values`` on the shipped boundaries; a province map also
    draws the regions outside the census in grey."""
    values = dict(values)
    names = dict(names)
    if provinces:
        values |= {code: None for code in OUTSIDE_CENSUS}
        names |= OUTSIDE_CENSUS
    return choropleth(values, load_boundaries(), names, **kwargs)


def _area(ring: np.ndarray) -> float:
    """Absolute shoelace area of a ring, square degrees."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))))
