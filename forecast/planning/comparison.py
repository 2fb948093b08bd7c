"""Scenario comparison: the key indicators of every member of a sweep against a reference.

Every member of a sweep writes the draws of the key indicators (:data:`COMPARED`) in
``indicator_draws.nc`` (region, year, draw). The comparison takes, per scenario, region,
year and indicator, the median and 80 %/95 % intervals over draws of the value and of its
difference from the reference scenario (``medium``), draw by draw: members share the seed,
so draw d of every member has the same model draws (TFR path, provincial factors, death
rates), and the difference's interval is the interval of the scenario's effect, not of two
independent forecasts.
"""

from __future__ import annotations


import pandas as pd
import xarray as xr

from forecast.core.draw_quantiles import quantiles_of
from forecast.core.registry import QUANTILES
from forecast.planning.indicators import region_names

#: Indicators compared across scenarios (those a run has: the gaps need a supply table).
COMPARED = ("births", "tfr", "population", "population_0_2", "population_3_5",
            "childcare_places_need_willingness", "childcare_gap", "kindergarten_supply",
            "kindergarten_gap",
            "toddler_places_from_idle_seats", "subsidy_budget")
#: The comparison table's columns (see README → Outputs → Sweeps).
DIFF_COLUMNS = [f"diff_{q}" for q in QUANTILES]
COLUMNS = ["region_code", "region_name", "scenario", "reference", "year", "indicator", "unit",
           *QUANTILES, *DIFF_COLUMNS]


def key_draws(indicators: dict[str, xr.DataArray], projection: xr.Dataset) -> xr.Dataset:
    """The indicators of :data:`COMPARED` the run has, as one Dataset (region, year, draw)
    with their units, the region names and the scenario name."""
    present = {k: indicators[k].drop_vars("region_name", errors="ignore")
               for k in COMPARED if k in indicators and "draw" in indicators[k].dims}
    ds = xr.Dataset(present).assign_coords(region_name=projection["region_name"])
    return ds.assign_attrs(scenario=projection.attrs.get("scenario", ""))


def comparison_table(members: dict[str, xr.Dataset], reference: str | None) -> pd.DataFrame:
    """The comparison (see :data:`COLUMNS`) of ``members`` (scenario label -> key draws).

    ``reference`` is the label the differences are taken from; None (no such member): the
    ``diff_*`` columns are empty. Members must have the same draws for differences."""
    base = members.get(reference) if reference is not None else None
    frames = []
    for label, ds in members.items():
        names = region_names(ds)
        for name, da in ds.data_vars.items():
            frame = _quantiles(da)
            if base is not None and name in base:
                diff = _quantiles(da - base[name].reindex_like(da))
                frame = frame.join(diff.add_prefix("diff_"))
            frame = frame.reset_index().dropna(subset=["median"])
            frame["indicator"], frame["unit"] = name, da.attrs.get("units", "")
            frame["scenario"], frame["reference"] = label, reference or ""
            frame["region_name"] = frame["region"].map(names)
            frames.append(frame.rename(columns={"region": "region_code"}))
    table = pd.concat(frames, ignore_index=True).reindex(columns=COLUMNS)
    table["year"] = table["year"].astype(int)
    order = {name: i for i, name in enumerate(COMPARED)}
    labels = {label: i for i, label in enumerate(members)}
    return table.sort_values(["region_code", "indicator", "scenario", "year"],
                             key=lambda s: s.map(order) if s.name == "indicator" else
                             s.map(labels) if s.name == "scenario" else s
                             ).reset_index(drop=True)


def _quantiles(da: xr.DataArray) -> pd.DataFrame:
    """Median and 80 %/95 % bounds over ``draw`` (region, year rows; QUANTILES columns)."""
    q = quantiles_of(da, list(QUANTILES.values()))  # years before a standard: NaN
    q = q.assign_coords(quantile=list(QUANTILES)).drop_vars("region_name", errors="ignore")
    return q.to_dataset("quantile").to_dataframe()[list(QUANTILES)]
