"""The UN WPP 2024 published projection variants for China (``wpp_variants``): the shipped
file reads, its variants keep WPP's published properties, and bad copies of it are refused
with an InputError naming the file, the column and the row."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from forecast.data.wpp import WPP_VARIANTS, wpp_variants
from forecast.core.errors import InputError
from forecast.core.paths import DATA_DIR

INDICATORS = ("births", "tfr", "population")


@pytest.fixture(scope="module")
def ds():
    return wpp_variants()


def test_reads_in_persons_with_units_and_source(ds):
    assert set(ds.data_vars) == set(INDICATORS)
    assert all(ds[v].dims == ("variant", "year") for v in INDICATORS)
    assert ds["births"].attrs["units"] == "persons per year"
    assert ds["tfr"].attrs["units"] == "children per woman"
    assert ds["population"].attrs["units"] == "persons"
    assert "World Population Prospects 2024" in ds.attrs["source"]
    assert ds.attrs["region"] == "CHN"
    years = ds["year"].values
    assert years[0] == 2024 and years[-1] >= 2050
    np.testing.assert_array_equal(np.diff(years), 1)
    for v in INDICATORS:  # the medium variant is complete for every indicator
        assert np.isfinite(ds[v].sel(variant="medium")).all()
    medium_2024 = ds.sel(variant="medium", year=2024)
    assert 8.5e6 < float(medium_2024["births"]) < 9.2e6  # WPP 2024: about 8.8 million
    assert 0.9 < float(medium_2024["tfr"]) < 1.1
    assert 1.40e9 < float(medium_2024["population"]) < 1.43e9


#: Indicators the file has every variant of (WPP's package has medium births only).
WITH_VARIANTS = ("tfr", "population")


@pytest.mark.parametrize("indicator", WITH_VARIANTS)
def test_low_medium_high_ordered(ds, indicator):
    da = ds[indicator]
    low, medium, high = (da.sel(variant=v).values for v in ("low", "medium", "high"))
    assert np.isfinite(low).all() and np.isfinite(high).all()
    assert (low <= medium).all() and (medium <= high).all()


def test_births_have_the_medium_variant_only(ds):
    births = ds["births"]
    assert bool(births.sel(variant="medium").notnull().all())
    others = [v for v in ds["variant"].values if v != "medium"]
    assert bool(births.sel(variant=others).isnull().all())


def test_tfr_variants_half_a_child_phased_in(ds):
    """WPP 2024: high/low = medium +/- 0.25 children in the first five projection years
    (2024-2028), +/- 0.40 in the next five (2029-2033), +/- 0.50 from the eleventh on."""
    tfr = ds["tfr"]
    up = tfr.sel(variant="high") - tfr.sel(variant="medium")
    down = tfr.sel(variant="medium") - tfr.sel(variant="low")
    np.testing.assert_allclose(up, down, atol=1e-6)
    step = ds["year"] - 2024
    margin = np.where(step < 5, 0.25, np.where(step < 10, 0.40, 0.50))
    np.testing.assert_allclose(up, margin, atol=1e-6)
    spread = tfr.sel(variant="high") - tfr.sel(variant="low")
    assert np.allclose(spread.sel(year=slice(2034, None)), 1.0, atol=1e-6)


@pytest.mark.parametrize("indicator", WITH_VARIANTS)
def test_80_inside_95_interval(ds, indicator):
    bounds = ("lower_95", "lower_80", "medium", "upper_80", "upper_95")
    da = ds[indicator]
    values = np.stack([da.sel(variant=b).values for b in bounds])
    assert np.isfinite(values).all()
    assert (np.diff(values, axis=0) >= 0).all()  # 95l <= 80l <= median <= 80u <= 95u


# --------------------------------------------------------------------------- bad input

def rows() -> list[list[str]]:
    with open(DATA_DIR / WPP_VARIANTS, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def write(path: Path, table: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, lineterminator="\n").writerows(table)
    return path


def find(table, **where) -> int:
    """Index in ``table`` (= line number - 1) of the one row matching ``where``."""
    header = table[0]
    hits = [i for i, r in enumerate(table[1:], start=1)
            if all(r[header.index(k)] == v for k, v in where.items())]
    assert len(hits) == 1
    return hits[0]


def refused(path: Path) -> str:
    with pytest.raises(InputError) as err:
        wpp_variants(path)
    return str(err.value)


def test_nan_value_names_file_column_row(tmp_path):
    table = rows()
    i = find(table, indicator="tfr", variant="high", year="2030")
    table[i][table[0].index("value")] = "NaN"
    path = write(tmp_path / "nan.csv", table)
    message = refused(path)
    assert f'{path}, column "value", row {i + 1}: got "NaN"' in message


def test_unknown_variant_names_file_column_row(tmp_path):
    table = rows()
    i = find(table, indicator="births", variant="medium", year="2040")
    table[i][table[0].index("variant")] = "instant_replacement"
    path = write(tmp_path / "variant.csv", table)
    message = refused(path)
    assert f'{path}, column "variant", row {i + 1}: got "instant_replacement"' in message


def test_duplicate_row_names_both_rows(tmp_path):
    table = rows()
    i = find(table, indicator="population", variant="low", year="2035")
    table.append(list(table[i]))
    path = write(tmp_path / "duplicate.csv", table)
    message = refused(path)
    assert f'{path}, column "indicator, variant, year", row {len(table)}' in message
    assert f"row {i + 1} has the same values" in message


def test_missing_column_named(tmp_path):
    table = rows()
    drop = table[0].index("unit")
    path = write(tmp_path / "no_unit.csv", [r[:drop] + r[drop + 1:] for r in table])
    message = refused(path)
    assert f'{path}, column "unit"' in message


def test_nonpositive_value_and_wrong_unit_named(tmp_path):
    table = rows()
    i = find(table, indicator="births", variant="medium", year="2025")
    j = find(table, indicator="population", variant="medium", year="2025")
    table[i][table[0].index("value")] = "0"
    table[j][table[0].index("unit")] = "persons"
    path = write(tmp_path / "units.csv", table)
    message = refused(path)
    assert f'{path}, column "value", row {i + 1}: got "0"; expected a number > 0' in message
    assert f'{path}, column "unit", row {j + 1}: got "persons"' in message
