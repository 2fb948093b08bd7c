"""Bad input data: every corruption stops the loaders with one clear InputError.

Each test works on its own copy of ``data/*.csv`` (fixture ``data_dir``), corrupts it with a
plain CSV edit and checks that :class:`forecast.core.errors.InputError` names the file, the
column, the row (1-based line number in the file, the header being line 1) and the value
found. Row numbers are computed from the edit, never hard-coded.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from forecast.core.errors import InputError
from forecast.data import load_china_census, load_wpp
from forecast.data.census import CENSUS_POPULATION as CENSUS
from forecast.data.wpp import WPP_ASFR as ASFR
from forecast.data.wpp import WPP_MX as MX
from forecast.data.wpp import WPP_POPULATION as POP
from forecast.data.wpp import WPP_VITAL as VITAL
from forecast.core.run_files import FORECAST_CSV, PROJECTION_NC, RUN_JSON

OUTPUTS = (FORECAST_CSV, PROJECTION_NC, RUN_JSON)

# Rows used as edit targets (all present exactly once in the shipped data).
CENSUS_ROW = {"region_code": "440000", "sex": "female", "age_group": "15-19"}
POP_ROW = {"region": "JPN", "year": "2015", "sex": "male", "age_group": "50-54"}
ASFR_ROW = {"region": "JPN", "year": "2017", "age_group": "30-34"}
MX_ROW = {"region": "JPN", "period": "2010-2015", "sex": "female", "age": "5"}
VITAL_ROW = {"region": "JPN", "year": "2018", "indicator": "births", "sex": "both"}


# --------------------------------------------------------------------------- helpers

def read_rows(path: Path) -> list[list[str]]:
    """All records of a CSV file, header first; record i is on line i + 1 (no multi-line fields)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)


def line_of(rows: list[list[str]], **where: str) -> int:
    """1-based line number of the only record whose columns equal ``where``."""
    header = rows[0]
    idx = {k: header.index(k) for k in where}
    hits = [i for i, r in enumerate(rows) if i and len(r) == len(header)
            and all(r[idx[k]] == v for k, v in where.items())]
    assert len(hits) == 1, f"expected one row matching {where}, found {len(hits)}"
    return hits[0] + 1


def lines_of(rows: list[list[str]], **where: str) -> list[int]:
    header = rows[0]
    idx = {k: header.index(k) for k in where}
    return [i + 1 for i, r in enumerate(rows)
            if i and len(r) == len(header)
            and all(r[idx[k]] == v for k, v in where.items())]


def set_cell(path: Path, where: dict, column: str, value: str) -> int:
    """Set ``column`` of the row matching ``where`` to ``value``; return that row's line."""
    rows = read_rows(path)
    line = line_of(rows, **where)
    rows[line - 1][rows[0].index(column)] = value
    write_rows(path, rows)
    return line


def delete_lines(path: Path, lines: list[int]) -> None:
    drop = set(lines)
    rows = read_rows(path)
    write_rows(path, [r for i, r in enumerate(rows, start=1) if i not in drop])


def drop_column(path: Path, column: str) -> None:
    rows = read_rows(path)
    j = rows[0].index(column)
    write_rows(path, [r[:j] + r[j + 1:] for r in rows])


def problem_line(message: str, file: str, column: str | None = None, row: int | None = None,
                 got: str | None = None) -> str:
    """The one line of ``message`` naming all of file, column, row and value; fail otherwise."""
    wanted = [file]
    if column is not None:
        wanted.append(f'column "{column}"')
    if got is not None:
        wanted.append(f'got "{got}"')
    for line in message.splitlines():
        if all(w in line for w in wanted) and (row is None or re.search(rf"\brow {row}\b", line)):
            return line
    pytest.fail(f"no line of the InputError names {wanted}"
                + (f" and row {row}" if row is not None else "") + f":\n{message}")


def load_jpn(data_dir: Path, **kwargs):
    kwargs.setdefault("base_year", 2015)
    return load_wpp("JPN", data_dir=data_dir, **kwargs)


def load_census(data_dir: Path, **kwargs):
    return load_china_census(data_dir=data_dir, **kwargs)


LOADERS = {CENSUS: load_census, POP: load_jpn, ASFR: load_jpn, MX: load_jpn, VITAL: load_jpn}
TARGET_ROW = {CENSUS: CENSUS_ROW, POP: POP_ROW, ASFR: ASFR_ROW, MX: MX_ROW, VITAL: VITAL_ROW}
VALUE_COLUMN = {CENSUS: "value", POP: "value", ASFR: "asfr", MX: "mx", VITAL: "value"}


def raises_input_error(load, data_dir: Path, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        load(data_dir, **kwargs)
    return str(info.value)


# --------------------------------------------------------------------------- 1. missing file

@pytest.mark.parametrize("name, load", [
    (CENSUS, load_census), (POP, load_census), (POP, load_jpn), (ASFR, load_jpn),
    (MX, load_jpn), (VITAL, load_jpn), (VITAL, load_census)])
def test_missing_file(data_dir, name, load):
    (data_dir / name).unlink()
    message = raises_input_error(load, data_dir)
    line = problem_line(message, name)
    assert "not found" in line


@pytest.mark.parametrize("kind", ["folder", "looping link", "broken link"])
def test_a_folder_or_a_bad_link_given_as_a_file_is_named_as_such(data_dir, kind):
    path = data_dir / CENSUS
    path.unlink()
    if kind == "folder":
        path.mkdir()
    elif kind == "looping link":
        path.symlink_to(path)
    else:
        path.symlink_to(data_dir / "nowhere.csv")
    line = problem_line(raises_input_error(load_census, data_dir), CENSUS)
    assert {"folder": "a folder, not a file",
            "looping link": "a symbolic link that loops back on itself",
            "broken link": "a symbolic link to"}[kind] in line
    assert "not found" not in line or kind == "broken link"


def test_a_name_too_long_for_any_region_is_refused_and_shown_short(data_dir):
    """A province name of 140,000 characters (a lost quote or binary data): exit status 2
    naming file, column and row, and the message shows the start of the value only."""
    row = set_cell(data_dir / CENSUS, CENSUS_ROW, "province", "广" * 140_000)
    message = raises_input_error(load_census, data_dir)
    line = problem_line(message, CENSUS, column="province", row=row)
    assert "at most 1,000 characters" in line and "(140,000 characters)" in line
    assert len(message) < 5_000


def test_a_year_missing_inside_the_national_observed_series_is_refused(data_dir):
    """Every row of 2021 removed: 2021 must not silently reuse 2020's calibration."""
    from forecast.data.nbs import OBSERVED_FILE

    rows = read_rows(data_dir / OBSERVED_FILE)
    delete_lines(data_dir / OBSERVED_FILE, lines_of(rows, region="CHN", year="2021"))
    message = raises_input_error(load_census, data_dir)
    births = problem_line(message, OBSERVED_FILE, column="year",
                          got="no usable births for CHN in 2021")
    assert "every year from" in births
    problem_line(message, OBSERVED_FILE, column="year", got="no usable deaths for CHN in 2021")


# --------------------------------------------------------------------------- 2. missing column

@pytest.mark.parametrize("name, column", [
    (CENSUS, "value"), (CENSUS, "sex"), (CENSUS, "age_group"), (CENSUS, "region_code"),
    (POP, "value"), (POP, "age_group"), (ASFR, "asfr"), (MX, "mx"), (VITAL, "indicator")])
def test_missing_column(data_dir, name, column):
    drop_column(data_dir / name, column)
    message = raises_input_error(LOADERS[name], data_dir)
    line = problem_line(message, name, column=column)
    assert f"a column named {column}" in line


def test_missing_region_name_column_is_tolerated_or_reported(data_dir):
    """``region_name`` is not in the population file's declared schema, yet load_wpp reads it.

    Without it the loader must either work (falling back to the code) or raise an
    InputError naming the file and the column -- never a bare pandas error.
    """
    drop_column(data_dir / POP, "region_name")
    try:
        ds = load_jpn(data_dir)
    except InputError as err:
        problem_line(str(err), POP, column="region_name")
    else:
        assert ds["region_name"].values.tolist() == ["JPN"]


# --------------------------------------------------------------------------- 3-5. bad numbers

NOT_A_NUMBER, NEGATIVE, MISSING = "expected a number", ">= 0", "missing value"


@pytest.mark.parametrize("name, bad, phrase", [
    *[(n, b, NOT_A_NUMBER) for n, b in [(CENSUS, "abc"), (CENSUS, "1,234"), (CENSUS, "12 345"),
                                        (POP, "abc"), (ASFR, "x0.1"), (MX, "abc"),
                                        (VITAL, "n/a")]],
    *[(n, b, NEGATIVE) for n, b in [(CENSUS, "-5"), (CENSUS, "-0.0001"), (POP, "-1.5"),
                                    (ASFR, "-0.01"), (MX, "-0.001")]],
    *[(n, b, MISSING) for n, b in [(CENSUS, ""), (CENSUS, " "), (CENSUS, "NaN"), (CENSUS, "nan"),
                                   (CENSUS, "NA"), (POP, ""), (ASFR, "NaN"), (MX, ""),
                                   (VITAL, "")]],
])
def test_bad_number(data_dir, name, bad, phrase):
    """Non-numeric, negative and missing values: named with file, column, row and value."""
    column = VALUE_COLUMN[name]
    row = set_cell(data_dir / name, TARGET_ROW[name], column, bad)
    message = raises_input_error(LOADERS[name], data_dir)
    line = problem_line(message, name, column=column, row=row, got=bad)
    assert phrase in line


def test_non_numeric_year(data_dir):
    row = set_cell(data_dir / CENSUS, CENSUS_ROW, "year", "2020a")
    message = raises_input_error(load_census, data_dir)
    problem_line(message, CENSUS, column="year", row=row, got="2020a")


def test_all_bad_cells_of_a_file_are_reported_together(data_dir):
    path = data_dir / CENSUS
    row_value = set_cell(path, CENSUS_ROW, "value", "abc")
    row_sex = set_cell(path, {"region_code": "110000", "sex": "male", "age_group": "0"}, "sex", "M")
    message = raises_input_error(load_census, data_dir)
    problem_line(message, CENSUS, column="value", row=row_value, got="abc")
    problem_line(message, CENSUS, column="sex", row=row_sex, got="M")


# --------------------------------------------------------------------------- 6. duplicates

@pytest.mark.parametrize("name, where, at_end", [
    (CENSUS, {"region_code": "440000", "sex": "male", "age_group": "30-34"}, False),
    (CENSUS, {"region_code": "000000", "sex": "female", "age_group": "0"}, True),
    (POP, POP_ROW, False),
    (VITAL, {"region": "JPN", "year": "2018", "indicator": "sex_ratio_at_birth", "sex": "both"},
     True)])
def test_duplicate_rows(data_dir, name, where, at_end):
    path = data_dir / name
    rows = read_rows(path)
    original = line_of(rows, **where)
    copy = list(rows[original - 1])
    if at_end:
        rows.append(copy)
        duplicate = len(rows)
    else:
        rows.insert(original, copy)
        duplicate = original + 1
    write_rows(path, rows)

    message = raises_input_error(LOADERS[name], data_dir)
    line = problem_line(message, name, row=duplicate)
    assert re.search(rf"\brow {original}\b", line), f"first row {original} not named: {line}"
    for value in where.values():
        assert value in line


# --------------------------------------------------------------------------- 7. unknown sex

@pytest.mark.parametrize("name, bad", [
    (CENSUS, "F"), (CENSUS, "Female"), (CENSUS, ""), (POP, "F"), (MX, "f"), (VITAL, "all")])
def test_unknown_sex(data_dir, name, bad):
    row = set_cell(data_dir / name, TARGET_ROW[name], "sex", bad)
    message = raises_input_error(LOADERS[name], data_dir)
    line = problem_line(message, name, column="sex", row=row, got=bad)
    assert "female" in line and "male" in line


# --------------------------------------------------------------------------- 8. age groups

@pytest.mark.parametrize("name, where, deleted, following", [
    (CENSUS, {"region_code": "440000", "sex": "female"}, "5-9", "10-14"),
    (CENSUS, {"region_code": "000000", "sex": "male"}, "0", "1-4"),
    (POP, {"region": "JPN", "year": "2015", "sex": "male"}, "50-54", "55-59"),
    (ASFR, {"region": "JPN", "year": "2017"}, "20-24", "25-29")])
def test_age_group_gap(data_dir, name, where, deleted, following):
    path = data_dir / name
    rows = read_rows(path)
    gone = line_of(rows, **where, age_group=deleted)
    assert rows[gone][rows[0].index("age_group")] == following  # the next line in the file
    delete_lines(path, [gone])
    # After the deletion the following group sits on the deleted group's line.
    message = raises_input_error(LOADERS[name], data_dir)
    line = problem_line(message, name, column="age_group", row=gone, got=following)
    start, end = (deleted.split("-") + [deleted])[:2]
    assert f"ages {start}-{end} are missing" in line


def test_age_group_open_interval_missing(data_dir):
    path = data_dir / CENSUS
    rows = read_rows(path)
    gone = line_of(rows, region_code="440000", sex="male", age_group="85+")
    assert rows[gone - 2][rows[0].index("age_group")] == "80-84"
    delete_lines(path, [gone])
    message = raises_input_error(load_census, data_dir)
    line = problem_line(message, CENSUS, column="age_group", row=gone - 1, got="80-84")
    assert "open group" in line


@pytest.mark.parametrize("name, where, old, new", [
    # widened so it overlaps the next group (5-9)
    (CENSUS, {"region_code": "440000", "sex": "female"}, "1-4", "1-6"),
    # started early so it overlaps the previous group (5-9)
    (CENSUS, {"region_code": "440000", "sex": "male"}, "10-14", "8-14"),
    (POP, {"region": "JPN", "year": "2015", "sex": "male"}, "50-54", "48-54"),
    (ASFR, {"region": "JPN", "year": "2017"}, "20-24", "20-26")])
def test_age_group_overlap(data_dir, name, where, old, new):
    row = set_cell(data_dir / name, {**where, "age_group": old}, "age_group", new)
    message = raises_input_error(LOADERS[name], data_dir)
    line = problem_line(message, name, column="age_group", row=row, got=new)
    assert "overlap" in line


@pytest.mark.parametrize("bad", ["15-19y", "15_19", "19-15", "abc"])
def test_age_group_bad_label(data_dir, bad):
    row = set_cell(data_dir / CENSUS, CENSUS_ROW, "age_group", bad)
    message = raises_input_error(load_census, data_dir)
    problem_line(message, CENSUS, column="age_group", row=row, got=bad)


# --------------------------------------------------------------------------- 9. region codes

@pytest.mark.parametrize("regions", [["999999"], ["710000"], ["440000", "999999"]])
def test_unknown_census_region_requested(data_dir, regions):
    message = raises_input_error(load_census, data_dir, regions=regions)
    missing = [r for r in regions if r in ("999999", "710000")]
    problem_line(message, CENSUS, column="region_code", got=", ".join(missing))


@pytest.mark.parametrize("region", ["XYZ", "jpn", "JP"])
def test_unknown_wpp_region_requested(data_dir, region):
    with pytest.raises(InputError) as info:
        load_wpp(region=region, base_year=2015, data_dir=data_dir)
    line = problem_line(str(info.value), POP, column="region", got=region)
    assert "JPN" in line  # lists the codes the file has


def test_unknown_national_rates_region(data_dir):
    message = raises_input_error(load_census, data_dir, national_rates="XYZ")
    problem_line(message, ASFR, column="region", got="XYZ")


@pytest.mark.parametrize("bad", ["44000", "4400000", "44-000", "441000", "abcdef"])
def test_malformed_region_code_in_census(data_dir, bad):
    row = set_cell(data_dir / CENSUS, CENSUS_ROW, "region_code", bad)
    message = raises_input_error(load_census, data_dir)
    problem_line(message, CENSUS, column="region_code", row=row, got=bad)


# --------------------------------------------------------------------------- 10. years

def test_wpp_base_year_not_quinquennial(data_dir):
    message = raises_input_error(load_jpn, data_dir, base_year=2017)
    line = problem_line(message, POP, column="year", got="2017")
    assert "2015" in line and "2020" in line  # lists the years the file has


def test_wpp_base_year_before_data(data_dir):
    message = raises_input_error(load_jpn, data_dir, base_year=1945)
    problem_line(message, POP, column="year", got="1945")


def test_wpp_until_after_data(data_dir):
    message = raises_input_error(load_jpn, data_dir, base_year=2015, until=2030)
    line = problem_line(message, ASFR, column="year", got="2030")
    assert "2023" in line


def test_wpp_until_before_base_year(data_dir):
    message = raises_input_error(load_jpn, data_dir, base_year=2020, until=2018)
    problem_line(message, ASFR, column="year", got="2020")


def test_census_base_year_not_census_year(data_dir):
    message = raises_input_error(load_census, data_dir, base_year=2015)
    line = problem_line(message, CENSUS, column="year", got="2015")
    assert "2020" in line


def test_census_until_after_data(data_dir):
    message = raises_input_error(load_census, data_dir, until=2030)
    problem_line(message, ASFR, column="year", got="2030")


def test_census_row_with_other_year(data_dir):
    row = set_cell(data_dir / CENSUS, CENSUS_ROW, "year", "2019")
    message = raises_input_error(load_census, data_dir)
    line = problem_line(message, CENSUS, column="year", row=row, got="2019")
    assert "2020" in line


# --------------------------------------------------------------------------- 11. misaligned years

@pytest.mark.parametrize("name, load, where, year", [
    (ASFR, load_jpn, {"region": "JPN"}, 2015),
    (ASFR, load_jpn, {"region": "JPN"}, 2019),
    (ASFR, load_census, {"region": "CHN"}, 2021),
    (VITAL, load_jpn, {"region": "JPN", "indicator": "sex_ratio_at_birth"}, 2015),
    (VITAL, load_jpn, {"region": "JPN", "indicator": "sex_ratio_at_birth"}, 2019),
    (VITAL, load_jpn, {"region": "JPN", "indicator": "sex_ratio_at_birth"}, 2023),
    (VITAL, load_census, {"region": "CHN", "indicator": "sex_ratio_at_birth"}, 2021),
    (VITAL, load_jpn, {"region": "JPN", "indicator": "net_migration"}, 2020),
    (VITAL, load_jpn, {"region": "JPN", "indicator": "births"}, 2016)])
def test_missing_year(data_dir, name, load, where, year):
    path = data_dir / name
    gone = lines_of(read_rows(path), **where, year=str(year))
    assert gone
    delete_lines(path, gone)
    message = raises_input_error(load, data_dir)
    problem_line(message, name, column="year", got=str(year))


@pytest.mark.parametrize("name, where", [
    (ASFR, {"region": "JPN"}),
    (VITAL, {"region": "JPN", "indicator": "sex_ratio_at_birth"})])
def test_series_starting_after_base_year(data_dir, name, where):
    """A region whose series begins after the base year: the message names the missing years."""
    path = data_dir / name
    rows = read_rows(path)
    gone = [line for y in range(1950, 2017) for line in lines_of(rows, **where, year=str(y))]
    delete_lines(path, gone)
    message = raises_input_error(load_jpn, data_dir, base_year=2015)
    line = problem_line(message, name, column="year")
    assert "2015" in line.split("expected")[0] and "2016" in line.split("expected")[0], line


# --------------------------------------------------------------------------- command line


# --------------------------------------------------------------------------- row numbering

def test_row_number_is_the_line_number_after_a_blank_line(data_dir):
    """Rows are counted as lines of the file, so a stray blank line must not shift them."""
    path = data_dir / CENSUS
    rows = read_rows(path)
    rows.insert(100, [])  # an empty line 101
    write_rows(path, rows)
    row = set_cell(path, CENSUS_ROW, "value", "abc")
    assert row > 101
    message = raises_input_error(load_census, data_dir)
    problem_line(message, CENSUS, column="value", row=row, got="abc")


# --------------------------------------------------------------------------- 12. shapes the
# numerics rely on: fixed widths, open groups at 100, the same groups everywhere, plausible units

def test_mortality_open_group_must_start_at_100(data_dir):
    rows = read_rows(data_dir / MX)
    where = {"region": "JPN", "period": "2010-2015", "sex": "female"}
    delete_lines(data_dir / MX, [line_of(rows, **where, age="100+")])
    row = set_cell(data_dir / MX, {**where, "age": "95"}, "age", "95+")
    problem_line(raises_input_error(load_jpn, data_dir), MX, column="age", row=row, got="95+")


def test_mortality_period_must_be_five_years(data_dir):
    rows = read_rows(data_dir / MX)
    targets = lines_of(rows, region="JPN", period="2010-2015")
    j = rows[0].index("period")
    for line in targets:
        rows[line - 1][j] = "2010-2011"
    write_rows(data_dir / MX, rows)
    problem_line(raises_input_error(load_jpn, data_dir), MX, column="period", row=targets[0],
                 got="2010-2011")


def test_asfr_groups_must_be_five_years_wide(data_dir):
    row = set_cell(data_dir / ASFR, {**ASFR_ROW, "age_group": "15-19"}, "age_group", "15-17")
    rows = read_rows(data_dir / ASFR)
    extra = list(rows[row - 1])
    extra[rows[0].index("age_group")] = "18-19"
    write_rows(data_dir / ASFR, rows + [extra])
    problem_line(raises_input_error(load_jpn, data_dir), ASFR, column="age_group", row=row,
                 got="15-17")


def test_sex_ratio_per_100_is_refused(data_dir):
    where = {"region": "JPN", "year": "2018", "indicator": "sex_ratio_at_birth", "sex": "both"}
    row = set_cell(data_dir / VITAL, where, "value", "105.1")
    problem_line(raises_input_error(load_jpn, data_dir), VITAL, column="value", row=row,
                 got="105.1")


def test_census_groups_must_be_the_same_for_every_region(data_dir):
    """One province with 85-89 and 90+ instead of 85+: named, not a numpy shape error."""
    where = {"region_code": "440000", "sex": "female"}
    row = set_cell(data_dir / CENSUS, {**where, "age_group": "85+"}, "age_group", "85-89")
    rows = read_rows(data_dir / CENSUS)
    extra = list(rows[row - 1])
    extra[rows[0].index("age_group")] = "90+"
    write_rows(data_dir / CENSUS, rows + [extra])
    line = problem_line(raises_input_error(load_census, data_dir), CENSUS, column="age_group")
    assert "same age groups" in line and "440000" in line


def test_census_without_the_nation(data_dir):
    rows = read_rows(data_dir / CENSUS)
    delete_lines(data_dir / CENSUS, lines_of(rows, region_code="000000"))
    problem_line(raises_input_error(load_census, data_dir), CENSUS, column="region_code",
                 got="000000")


def test_repeated_region_codes_are_read_once(data_dir):
    ds = load_census(data_dir, regions=["110000", "110000"])
    assert list(ds.report_regions) == ["000000", "110000"]
