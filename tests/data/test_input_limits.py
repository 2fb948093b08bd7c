"""Implausible input values, tables without data rows and an incomplete census table.

Like ``tests/data/test_bad_inputs.py`` (whose helpers these tests share), every test corrupts its
own copy of ``data/*.csv`` and checks that :class:`forecast.core.errors.InputError` names the
file, the column, the row (1-based line number, header = line 1) and the value found.
Before these checks, each of these inputs ran to the end (exit 0) or ended in a traceback.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from forecast.core.errors import InputError
from forecast.data import PROVINCES, load_china_census, load_wpp
from forecast.data.census import CENSUS_COUNT_RANGE
from forecast.data.wpp import ASFR_RANGE, MX_RANGE, VITAL_RANGES, WPP_POPULATION_RANGE
from tests.data.test_bad_inputs import (ASFR, ASFR_ROW, CENSUS, CENSUS_ROW, LOADERS, MX, POP,
                                   POP_ROW, TARGET_ROW, VALUE_COLUMN, VITAL, delete_lines,
                                   line_of, lines_of, load_census, load_jpn, problem_line,
                                   raises_input_error, read_rows, set_cell, write_rows)

WPP_REGIONS = "CHN HKG MAC TWN JPN KOR DEU ITA FRA USA IND THA GBR".split()
NATION = "000000"


def vital_row(indicator: str, region: str = "JPN", year: str = "2018") -> dict:
    sex = "female" if indicator == "tfr" else "both"  # WPP labels the TFR female
    return {"region": region, "year": year, "indicator": indicator, "sex": sex}


# --------------------------------------------------------------------------- the real data pass

@pytest.mark.parametrize("base_year", [1950, 2020])
def test_shipped_wpp_data_pass_the_limits(base_year):
    for region in WPP_REGIONS:
        ds = load_wpp(region, base_year=base_year)
        assert np.isfinite(ds["population"]).all()


def test_shipped_census_passes_the_checks():
    ds = load_china_census()
    assert ds.sizes["region"] == 32
    national = ds["population"].sel(region=NATION).sum()
    provinces = ds["population"].drop_sel(region=NATION).sum()
    assert float(national) == pytest.approx(float(provinces), rel=1e-12)


def test_limits_leave_a_wide_margin_around_the_shipped_data():
    """Every range is at least 1.3 times wider than the data's extremes (on its open side)."""
    import pandas as pd

    from forecast.data import DATA_DIR
    census = pd.read_csv(DATA_DIR / CENSUS)["value"]
    assert census.max() * 3 <= CENSUS_COUNT_RANGE[1]
    assert pd.read_csv(DATA_DIR / POP)["value"].max() * 3 <= WPP_POPULATION_RANGE[1]
    assert pd.read_csv(DATA_DIR / ASFR)["asfr"].max() * 1.4 <= ASFR_RANGE[1]
    assert pd.read_csv(DATA_DIR / MX)["mx"].max() * 2 <= MX_RANGE[1]
    vital = pd.read_csv(DATA_DIR / VITAL)
    for indicator, (lo, hi, _) in VITAL_RANGES.items():
        values = vital.loc[vital["indicator"] == indicator, "value"]
        assert len(values), indicator
        low, high = values.min(), values.max()
        assert lo <= low and high <= hi, indicator
        if indicator == "sex_ratio_at_birth":  # the existing range: narrow by nature
            continue
        assert high * 1.3 <= hi, indicator
        assert (low * 1.3 >= lo) if low < 0 else (low >= 1.3 * lo), indicator


# --------------------------------------------------------------------------- 1. plausible ranges

@pytest.mark.parametrize("name, bad, expected", [
    (CENSUS, "1e30", "between 0 and 200,000,000 (persons)"),
    (CENSUS, "1e308", "between 0 and 200,000,000 (persons)"),
    (CENSUS, "inf", "between 0 and 200,000,000 (persons)"),
    (CENSUS, "1e309", "between 0 and 200,000,000 (persons)"),  # overflows to inf
    (POP, "1e30", "between 0 and 500,000 (thousands of persons)"),
    (POP, "4000000", "between 0 and 500,000 (thousands of persons)"),  # persons, not thousands
    (ASFR, "5", "between 0 and 0.5 (births per woman per year)"),
    (ASFR, "0.75", "between 0 and 0.5 (births per woman per year)"),
    (ASFR, "1e308", "between 0 and 0.5 (births per woman per year)"),
    (MX, "5", "between 0 and 2 (deaths per person-year)"),
    (MX, "1e30", "between 0 and 2 (deaths per person-year)"),
    (MX, "inf", "between 0 and 2 (deaths per person-year)"),
])
def test_implausible_value(data_dir, name, bad, expected):
    column = VALUE_COLUMN[name]
    row = set_cell(data_dir / name, TARGET_ROW[name], column, bad)
    message = raises_input_error(LOADERS[name], data_dir)
    line = problem_line(message, name, column=column, row=row, got=bad)
    assert expected in line, line


@pytest.mark.parametrize("indicator, bad, expected", [
    ("net_migration", "-1e30", "between -100,000 and 100,000 (thousands of persons per year)"),
    ("net_migration", "1e308", "between -100,000 and 100,000"),
    ("net_migration", "-inf", "a finite number"),  # caught before the indicator's range
    ("births", "1e30", "between 0 and 100,000 (thousands of births per year)"),
    ("births", "-5", "between 0 and 100,000"),
    ("tfr", "0", "between 0.1 and 10 (children per woman)"),
    ("tfr", "150", "between 0.1 and 10 (children per woman)"),
    ("sex_ratio_at_birth", "105.1", "between 0.9 and 1.3 (male births per female birth)"),
    ("deaths", "1e30", "between 0 and 100,000"),
    ("life_expectancy_at_birth", "840", "between 1 and 120 (years)"),
])
def test_implausible_vital_value(data_dir, indicator, bad, expected):
    row = set_cell(data_dir / VITAL, vital_row(indicator), "value", bad)
    message = raises_input_error(load_jpn, data_dir)
    line = problem_line(message, VITAL, column="value", row=row)
    assert expected in line, line
    assert "finite" in expected or f"for indicator {indicator}" in line, line
    assert re.search(r'got "[-+0-9.e inf]+"', line), line


def test_vital_limits_apply_to_the_census_loader_too(data_dir):
    row = set_cell(data_dir / VITAL, vital_row("net_migration", "CHN", "2010"), "value", "-1e30")
    problem_line(raises_input_error(load_census, data_dir), VITAL, column="value", row=row)


def test_all_implausible_values_of_a_file_are_reported_together(data_dir):
    path = data_dir / VITAL
    rows = [set_cell(path, vital_row("net_migration", year=str(y)), "value", "-1e30")
            for y in (2016, 2017)]
    rows.append(set_cell(path, vital_row("tfr", "KOR"), "value", "12"))
    message = raises_input_error(load_jpn, data_dir)
    for row in rows:
        problem_line(message, VITAL, column="value", row=row)


def test_net_migration_larger_than_the_population(data_dir):
    """Macao's net migration in persons instead of thousands: 5 million a year for a
    population of about 680 thousand. Within the absolute range, beyond the population."""
    row = set_cell(data_dir / VITAL, vital_row("net_migration", "MAC"), "value", "-5000")
    message = raises_input_error(lambda d: load_wpp("MAC", base_year=2015, data_dir=d), data_dir)
    line = problem_line(message, VITAL, column="value", row=row, got="-5000")
    assert "population" in line and "MAC in 2018" in line, line


def test_net_migration_of_a_third_of_the_population_passes(data_dir):
    """Hong Kong 1967 lost a third of its population to net emigration in WPP's estimates;
    the relative limit leaves room for such real flows."""
    ds = load_wpp("HKG", base_year=1965, data_dir=data_dir)
    assert float(ds["net_migration_total"].sel(region="HKG", year=1967)) < -1e6


@pytest.mark.parametrize("name, where", [(ASFR, ASFR_ROW), (POP, POP_ROW)])
def test_overflowing_year(data_dir, name, where):
    row = set_cell(data_dir / name, where, "year", "1e308")
    line = problem_line(raises_input_error(load_jpn, data_dir), name, column="year", row=row,
                        got="1e308")
    assert "calendar year" in line


# --------------------------------------------------------------------------- 2. no data rows

@pytest.mark.parametrize("name, load", [(CENSUS, load_census), (POP, load_jpn), (ASFR, load_jpn),
                                        (MX, load_jpn), (VITAL, load_jpn), (ASFR, load_census)])
@pytest.mark.parametrize("blank_lines", [0, 2])
def test_header_only_file(data_dir, name, load, blank_lines):
    path = data_dir / name
    write_rows(path, read_rows(path)[:1] + [[]] * blank_lines)
    line = problem_line(raises_input_error(load, data_dir), name, got="no data rows")
    assert "at least one data row" in line, line


def test_header_only_supply_table(data_dir):
    from forecast.data import load_supply
    path = data_dir / "china_supply_provinces.csv"
    write_rows(path, read_rows(path)[:1])
    with pytest.raises(InputError) as info:
        load_supply(path, ["440000"])
    assert "at least one data row" in problem_line(str(info.value), path.name)


# --------------------------------------------------------------------------- 3. census regions

def census_rows(data_dir):
    return read_rows(data_dir / CENSUS)


def test_census_missing_province(data_dir):
    delete_lines(data_dir / CENSUS, lines_of(census_rows(data_dir), region_code="620000"))
    for regions in (None, ["440000"]):  # data.regions selects what is reported, not the file
        line = problem_line(raises_input_error(load_census, data_dir, regions=regions), CENSUS,
                            column="region_code", got="620000")
        assert "620000 甘肃省" in line and "31" in line, line


def test_census_missing_provinces_are_listed_together(data_dir):
    rows = census_rows(data_dir)
    delete_lines(data_dir / CENSUS, lines_of(rows, region_code="540000")
                 + lines_of(rows, region_code="650000"))
    line = problem_line(raises_input_error(load_census, data_dir), CENSUS, column="region_code",
                        got="540000, 650000")
    assert "西藏自治区" in line and "新疆维吾尔自治区" in line, line


def test_census_with_only_the_requested_provinces_is_refused(data_dir):
    rows = census_rows(data_dir)
    keep = {1} | set(lines_of(rows, region_code=NATION)) | set(lines_of(rows, region_code="440000"))
    delete_lines(data_dir / CENSUS, [i for i in range(1, len(rows) + 1) if i not in keep])
    line = problem_line(raises_input_error(load_census, data_dir, regions=["440000"]), CENSUS,
                        column="region_code")
    assert "110000" in line and "650000" in line, line


@pytest.mark.parametrize("code, phrase", [("990000", "31 provincial-level divisions"),
                                          ("810000", "Hong Kong"), ("820000", "Macao"),
                                          ("710000", "Taiwan")])
def test_census_rows_under_a_code_that_is_no_province(data_dir, code, phrase):
    """A copy of Qinghai's rows under another code: named at its first row."""
    path = data_dir / CENSUS
    rows = read_rows(path)
    copies = [[code] + r[1:] for r in rows[1:] if r and r[0] == "630000"]
    first = len(rows) + 1
    write_rows(path, rows + copies)
    line = problem_line(raises_input_error(load_census, data_dir), CENSUS, column="region_code",
                        row=first, got=code)
    assert phrase in line and f"{len(copies)} rows" in line, line


def test_census_province_duplicated_under_another_code(data_dir):
    """Guangxi's rows replaced by Guangdong's under Guangxi's code (names included): the
    national rows no longer equal the provinces' sum."""
    path = data_dir / CENSUS
    rows = read_rows(path)
    gx = lines_of(rows, region_code="450000")
    gd = [rows[i - 1] for i in lines_of(rows, region_code="440000")]
    for line, src in zip(gx, gd):
        rows[line - 1] = ["450000"] + src[1:]
    write_rows(path, rows)
    message = raises_input_error(load_census, data_dir)
    nation_line = line_of(rows, region_code=NATION, sex="female", age_group="15-19")
    line = problem_line(message, CENSUS, column="value", row=nation_line)
    assert "sex=female, age_group=15-19" in line and "sum of the 31 provinces" in line, line


def test_census_names_are_the_tables_own_but_one_per_code(data_dir):
    """Names are written as given (English, or anything a user's table has); a code whose
    rows carry two names is an error."""
    path = data_dir / CENSUS
    rows = read_rows(path)
    j = rows[0].index("province")
    gd = lines_of(rows, region_code="440000")
    for i in gd:
        rows[i - 1][j] = "Guangdong"
    write_rows(path, rows)
    names = load_census(data_dir)["region_name"].to_series()
    assert names["440000"] == "Guangdong"
    rows[gd[3] - 1][j] = "Canton"
    write_rows(path, rows)
    line = problem_line(raises_input_error(load_census, data_dir), CENSUS, column="province",
                        row=gd[3], got="Canton")
    assert "one name for region_code 440000" in line and "Guangdong" in line, line


def test_census_nation_differs_from_the_sum_of_provinces(data_dir):
    path = data_dir / CENSUS
    rows = read_rows(path)
    j = rows[0].index("value")
    target = line_of(rows, **CENSUS_ROW)
    set_cell(path, CENSUS_ROW, "value", str(float(rows[target - 1][j]) * 1.5))
    nation_line = line_of(rows, region_code=NATION, sex="female", age_group="15-19")
    line = problem_line(raises_input_error(load_census, data_dir), CENSUS, column="value",
                        row=nation_line, got=str(int(float(rows[nation_line - 1][j]))))
    assert "sex=female, age_group=15-19" in line and "0.1 %" in line, line


def test_census_sum_within_tolerance_passes(data_dir):
    """Rounding differences (here 5 persons in a group of millions) are accepted."""
    rows = read_rows(data_dir / CENSUS)
    j = rows[0].index("value")
    value = float(rows[line_of(rows, **CENSUS_ROW) - 1][j])
    set_cell(data_dir / CENSUS, CENSUS_ROW, "value", str(value + 5))
    ds = load_census(data_dir)
    assert ds.sizes["region"] == 32


def test_census_level_must_match_the_code(data_dir):
    row = set_cell(data_dir / CENSUS, CENSUS_ROW, "level", "nation")
    line = problem_line(raises_input_error(load_census, data_dir), CENSUS, column="level",
                        row=row, got="nation")
    assert "province for region_code 440000" in line, line


def test_official_province_list():
    assert len(PROVINCES) == 31
    assert all(re.fullmatch(r"[1-6]\d0000", c) for c in PROVINCES)
    assert not {"710000", "810000", "820000"} & set(PROVINCES)
