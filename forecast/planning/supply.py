"""Supply of childcare places and kindergarten seats in every projection year.

A supply table gives counts for some reference years (:func:`forecast.data.planning.
load_supply`). In the years between two of them a count is interpolated linearly; after the
last one it is carried forward (``carry``) or follows the log-linear trend of its last
``supply_trend_years`` reference years (``trend``: places grew by about 16 % a year in
2022-2025 and kindergartens fell by 5 % a year, so a trend is a scenario, not a default);
before the first one there is no supply (no gap is computed). Every count keeps the basis
of the figures it comes from (``published`` / ``estimated: how``), with how the year was
filled.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.options import Choice, Whole

#: How a count continues after its last reference year (``demand.supply_after_last_year``).
AFTER_LAST_YEAR = ("carry", "trend")
#: ``demand`` options read here.
SUPPLY_OPTIONS = {
    "supply_after_last_year": Choice(AFTER_LAST_YEAR, default="carry"),
    "supply_trend_years": Whole(2, 20, default=3,
                                what="a whole number of reference years from 2 to 20"),
}


def supply_options(node) -> dict:
    """The :data:`SUPPLY_OPTIONS` of a ``demand`` config node (defaults where it leaves one
    out), as keyword arguments of :func:`supply_by_year`."""
    get = lambda key: node.get(key, SUPPLY_OPTIONS[key].default)  # noqa: E731
    return {"after": str(get("supply_after_last_year")),
            "trend_years": int(get("supply_trend_years"))}


def supply_by_year(table: xr.Dataset, years, after: str = "carry", trend_years: int = 3
                   ) -> xr.Dataset:
    """Counts of ``table`` (region, reference_year; NaN where a year is not given) in every
    one of ``years``.

    Returns a Dataset (region, year): each count (places or seats; NaN before its first
    reference year) and ``<count>_basis`` (text: the table's basis, and "interpolated
    between ...", "carried forward from ..." or "trend of ..." for years it does not give).
    """
    if after not in AFTER_LAST_YEAR:
        raise ValueError(f"after must be one of {AFTER_LAST_YEAR}, got {after!r}")
    years = np.asarray(years, dtype=int)
    reference = table["reference_year"].values.astype(int)
    counts = [name for name in table.data_vars if not name.endswith("_basis")]
    out = xr.Dataset(coords={"region": table["region"].values, "year": years})
    for name in counts:
        values = table[name].transpose("region", "reference_year").values.astype(float)
        bases = table[f"{name}_basis"].transpose("region", "reference_year").values
        filled = np.full((len(values), len(years)), np.nan)
        basis = np.full(filled.shape, "", dtype=object)
        for i in range(len(values)):
            given = np.isfinite(values[i])
            filled[i], basis[i] = _fill(reference[given], values[i, given], bases[i, given],
                                        years, after, trend_years)
        out[name] = (("region", "year"), filled, dict(table[name].attrs))
        out[f"{name}_basis"] = (("region", "year"), basis.astype(str))
    return out


def _fill(known: np.ndarray, values: np.ndarray, bases: np.ndarray, years: np.ndarray,
          after: str, trend_years: int) -> tuple[np.ndarray, np.ndarray]:
    """One count of one region in ``years`` from its ``known`` reference years."""
    filled = np.full(len(years), np.nan)
    basis = np.full(len(years), "", dtype=object)
    if not len(known):
        return filled, basis
    for j, year in enumerate(years):
        if year < known[0]:
            continue
        at = np.searchsorted(known, year)
        if at < len(known) and known[at] == year:
            filled[j], basis[j] = values[at], f"{bases[at]} ({year})"
        elif at < len(known):
            y0, y1 = known[at - 1], known[at]
            filled[j] = values[at - 1] + (values[at] - values[at - 1]) * (year - y0) / (y1 - y0)
            basis[j] = f"interpolated between {y0} ({bases[at - 1]}) and {y1} ({bases[at]})"
        elif after == "trend" and len(known) >= 2 and np.all(values[-trend_years:] > 0):
            span, level = known[-trend_years:], np.log(values[-trend_years:])
            slope = np.polyfit(span, level, 1)[0]
            filled[j] = values[-1] * np.exp(slope * (year - known[-1]))
            basis[j] = (f"trend of {span[0]}-{span[-1]} ({100 * np.expm1(slope):+.1f} % a "
                        f"year) from {bases[-1]} ({known[-1]})")
        else:
            filled[j] = values[-1]
            basis[j] = f"carried forward from {known[-1]} ({bases[-1]})"
    return filled, basis


#: The demand stage's name of each supply count (its ``<name>_basis`` column in demand.csv).
OUTPUT_NAMES = {"childcare_places": "childcare_supply",
                "childcare_places_affordable": "childcare_supply_affordable",
                "kindergarten_seats": "kindergarten_supply",
                "kindergarten_seats_public": "kindergarten_supply_public",
                "kindergarten_seats_affordable": "kindergarten_supply_affordable"}


def basis_table(supply: xr.Dataset) -> pd.DataFrame:
    """The basis of every supply count by region and year, for the demand table: columns
    ``region_code``, ``year`` and ``<supply indicator>_basis`` (:data:`OUTPUT_NAMES`)."""
    columns = {f"{OUTPUT_NAMES[name]}_basis": supply[f"{name}_basis"]
               for name in OUTPUT_NAMES if f"{name}_basis" in supply}
    frame = xr.Dataset(columns).to_dataframe().reset_index()
    return frame.rename(columns={"region": "region_code"}).astype({"region_code": str,
                                                                   "year": int})


def supply_template(units: list[tuple[str, str, str]], year: int) -> pd.DataFrame:
    """A supply table for planners to fill: one row per unit (code, Chinese name, level:
    nation, province, prefecture or county), ``reference_year`` ``year``, every count
    empty and every ``<count>_basis`` empty, in the columns
    :func:`forecast.data.planning.load_supply` reads."""
    counts = list(OUTPUT_NAMES)
    rows = [{"region_code": code, "region_name": name, "level": level,
             "reference_year": int(year), **dict.fromkeys(counts),
             **{f"{c}_basis": "" for c in counts}, "source": ""}
            for code, name, level in units]
    columns = ["region_code", "region_name", "level", "reference_year"]
    columns += [x for c in counts for x in (c, f"{c}_basis")] + ["source"]
    return pd.DataFrame(rows, columns=columns)
