"""A sweep's members told apart, and the comparison without its reference scenario."""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.planning.comparison import comparison_table
from forecast.runs.sweep import _labelled


def test_members_sharing_a_name_are_told_apart_by_their_overrides():
    members = _labelled([
        {"folder": "0", "scenario": "low", "overrides": ["scenario=low", "seed=1"]},
        {"folder": "1", "scenario": "low", "overrides": ["scenario=low", "seed=2"]},
        {"folder": "2", "scenario": "medium", "overrides": ["scenario=medium", "seed=1"]}])
    assert [m["label"] for m in members] == ["low [seed=1]", "low [seed=2]", "medium"]


def test_comparison_without_the_reference_leaves_differences_empty():
    draws = xr.DataArray(np.arange(12.0).reshape(1, 3, 4), dims=("region", "year", "draw"),
                         coords={"region": ["000000"], "year": [2024, 2025, 2026],
                                 "region_name": ("region", ["全国"])},
                         attrs={"units": "persons per year"})
    table = comparison_table({"low": xr.Dataset({"births": draws})}, None)
    assert len(table) == 3 and table["diff_median"].isna().all()
    assert table["median"].tolist() == [1.5, 5.5, 9.5]
