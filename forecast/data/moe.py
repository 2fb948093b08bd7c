"""The Ministry of Education's national kindergarten statistics (validation data)."""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from forecast.data.common import TEN_THOUSAND, select, year_column
from forecast.core.errors import InputError, problem
from forecast.core.paths import DATA_DIR
from forecast.data.tables import Column, read_table

MOE_KINDERGARTENS = "china_moe_kindergartens_national.csv"


def load_moe_kindergartens(data_dir: str | Path | None = None) -> xr.Dataset:
    """National kindergarten statistics from the Ministry of Education's bulletins (year).

    ``enrolled`` — children in kindergartens (在园幼儿, persons; NaN where a bulletin does not
    report it); ``gross_enrolment_rate`` — published 学前三年毛入园率 (percent of the
    population aged 3-5).
    """
    path = (Path(data_dir) if data_dir else DATA_DIR) / MOE_KINDERGARTENS
    table = read_table(path, [Column("region"), year_column(), Column("indicator"),
                              Column("value", "nonnegative")], key=["region", "year", "indicator"])
    table = select(table, path, "region", "CHN", "the national rows (CHN)")
    wide = table.pivot(index="year", columns="indicator", values="value").sort_index()
    for needed in ("preschool_enrolled_children", "preschool_gross_enrolment_rate"):
        if needed not in wide.columns:
            raise InputError(problem(path, "indicator", None, "none", f"rows of {needed}"))
    return xr.Dataset({
        "enrolled": ("year", wide["preschool_enrolled_children"].to_numpy() * TEN_THOUSAND,
                     {"units": "persons", "description": "children in kindergartens (在园幼儿)"}),
        "gross_enrolment_rate": ("year", wide["preschool_gross_enrolment_rate"].to_numpy(),
                                 {"units": "percent", "description": "published 毛入园率"}),
    }, coords={"year": wide.index.to_numpy(int)}).assign_attrs(source_file=str(path))
