"""WPP 2024's annual TFR of every country or area (``wpp2024_tfr_annual_countries.csv``).

The evidence on how often and how far low fertility falls, beyond the 13 populations the
models learn from (``experiments/regime_change/``). Countries are labelled by their UN
location code (ISO 3166-1 numeric: 156 is China).
"""

from __future__ import annotations

from pathlib import Path

import xarray as xr

from forecast.core.paths import DATA_DIR
from forecast.data.common import cached, year_column
from forecast.data.tables import Column, read_table

TFR_COUNTRIES = "wpp2024_tfr_annual_countries.csv"
#: Plausible TFR of a country-year (children per woman): WPP 2024's range is 0.6-8.9.
COUNTRY_TFR_RANGE = (0.1, 10.0)


@cached
def _read(path: Path):
    return read_table(path, [
        Column("country_code", "integer", meaning="UN location code", limits=(1, 999)),
        Column("country_name"), year_column(),
        Column("tfr", "number", meaning="children per woman", limits=COUNTRY_TFR_RANGE)],
        key=["country_code", "year"])


def tfr_countries(data_dir: str | Path | None = None) -> xr.DataArray:
    """Annual TFR (country, year), children per woman, with coordinate ``country_name``;
    NaN where a country's series has no estimate."""
    path = Path(data_dir or DATA_DIR) / TFR_COUNTRIES
    table = _read(path)
    wide = table.pivot(index="country_code", columns="year", values="tfr").sort_index()
    names = table.drop_duplicates("country_code").set_index("country_code")["country_name"]
    return xr.DataArray(wide.to_numpy(), dims=("country", "year"),
                        coords={"country": wide.index.to_numpy(int),
                                "year": wide.columns.to_numpy(int),
                                "country_name": ("country", names.reindex(wide.index).to_numpy(
                                    str))},
                        name="tfr", attrs={"units": "children per woman",
                                           "source": "UN WPP 2024 (PPgp/wpp2024)"})
