"""Choropleth maps on the shipped boundaries: every unit with a boundary is drawn, the others
are listed under the map."""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PolyCollection

from forecast.data.boundaries import load_boundaries
from forecast.data.county_census import county_units, read_regions
from forecast.core.paths import DATA_DIR
from forecast.report import maps


def _polygons(fig) -> PolyCollection:
    (collection,) = [c for c in fig.axes[0].collections if isinstance(c, PolyCollection)]
    return collection


def test_every_census_unit_of_a_province_with_a_boundary_is_drawn():
    """Hebei's county-level units: each one with a boundary is drawn (as many polygons as
    its rings), the functional zones without one are named under the map."""
    boundaries = load_boundaries()
    units = county_units(read_regions(DATA_DIR / "china_census2020_regions.csv"))
    hebei = units[units["province_code"] == "130000"]
    names = dict(zip(hebei["region_code"], hebei["county"]))
    values = {code: float(i) for i, code in enumerate(hebei["region_code"])}
    fig = maps.choropleth(values, boundaries, names, title="t", unit_label="u")
    drawn = [c for c in values if c in boundaries]
    missing = [c for c in values if c not in boundaries]
    assert len(drawn) > 150 and missing  # the census lists Hebei's development zones
    assert len(_polygons(fig).get_paths()) == sum(len(boundaries[c]) for c in drawn)
    listed = " ".join(t.get_text() for t in fig.texts)
    assert all(code in listed for code in missing)
    assert not any(code in listed for code in drawn)


def test_provinces_map_draws_31_provinces_and_the_regions_outside_the_census_in_grey():
    boundaries = load_boundaries()
    codes = [f"{c}0000" for c in (11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37,
                                  41, 42, 43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64,
                                  65)]
    units, provinces = maps.map_units(["000000", *codes])
    assert units == codes and provinces
    fig = maps.unit_map({c: 1.0 + i for i, c in enumerate(codes)}, {}, True, title="t")
    colours = _polygons(fig).get_facecolors()
    rings = [len(boundaries[c]) for c in [*codes, *maps.OUTSIDE_CENSUS]]
    assert len(colours) == sum(rings)
    grey = np.all(np.isclose(colours[:, :3], np.array([0xd9, 0xd9, 0xd9]) / 255), axis=1)
    assert grey.sum() == sum(len(boundaries[c]) for c in maps.OUTSIDE_CENSUS)


def test_county_units_are_preferred_and_alert_levels_take_their_colours():
    units, provinces = maps.map_units(["000000", "500000", "500100", "500101", "500102"])
    assert units == ["500101", "500102"] and not provinces
    categories = {lv: (c, lv) for lv, c in maps.LEVEL_COLOURS.items()}
    fig = maps.choropleth({"500101": "red", "500102": None}, load_boundaries(), {},
                          title="t", categories=categories)
    colours = _polygons(fig).get_facecolors()
    assert np.allclose(colours[0, :3], np.array([0xc6, 0x28, 0x28]) / 255)
    assert np.allclose(colours[-1, :3], np.array([0xd9, 0xd9, 0xd9]) / 255)
