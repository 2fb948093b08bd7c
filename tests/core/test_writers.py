"""Run-file writers: CSV cells that cannot become formulas; third-party notices silenced."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.core.writers import neutralise_formulas

#: Text that a spreadsheet would run as a formula (OWASP's CSV injection examples).
INJECTIONS = ['=HYPERLINK("http://x","y")', "@SUM(1)", "+1+1", "-1+1", "\tTAB", "=1+1"]


def test_neutralise_formulas_quotes_text_and_keeps_numbers():
    table = pd.DataFrame({"name": INJECTIONS + ["北京市", None], "code": ["-01"] * 8,
                          "value": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
                          "count": list(range(-4, 4))})
    safe = neutralise_formulas(table)
    # quoted; a control character inside a cell (the tab) becomes a space
    assert list(safe["name"][:6]) == ["'" + text.replace("\t", " ") for text in INJECTIONS]
    assert safe["name"][6] == "北京市" and pd.isna(safe["name"][7])
    assert set(safe["code"]) == {"'-01"}
    pd.testing.assert_frame_equal(safe[["value", "count"]], table[["value", "count"]])
    assert list(table["name"][:6]) == INJECTIONS  # the input is not changed


def test_only_the_named_third_party_notices_are_silenced(caplog):
    import logging
    import warnings

    import forecast.core.quiet

    forecast.core.quiet.quiet_third_party()
    fonts = logging.getLogger("matplotlib.font_manager")
    with caplog.at_level(logging.INFO):
        fonts.warning("Matplotlib is building the font cache; this may take a moment.")
        logging.getLogger("arviz.preview").info("arviz_base not installed")
        fonts.warning("findfont: Font family 'Noto Sans CJK SC' not found.")
    assert [r.getMessage() for r in caplog.records] == [
        "findfont: Font family 'Noto Sans CJK SC' not found."]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        forecast.core.quiet.quiet_third_party()
        warnings.warn_explicit("\n  ArviZ is undergoing a major refactor ...", FutureWarning,
                               "arviz/__init__.py", 50, module="arviz")
        warnings.warn_explicit("a real deprecation", FutureWarning, "arviz/__init__.py", 51,
                               module="arviz")
    assert [str(w.message) for w in caught] == ["a real deprecation"]


def test_a_line_break_in_a_text_cell_cannot_split_its_row_nor_start_a_formula(tmp_path):
    """A carriage return (or line feed) in a name, e.g. a scenario named "\\r=1": each CSV
    record stays one row of the table and no row starts with a formula."""
    import csv

    from forecast.core.writers import csv_writer

    names = ["\r=1", "a\nb", "x\r\n=2", "plain"]
    table = pd.DataFrame({"scenario": names, "value": [1.0, 2.0, 3.0, 4.0]})
    csv_writer(table)(tmp_path / "t.csv")
    text = (tmp_path / "t.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(text.splitlines()))
    assert len(rows) == 1 + len(names)
    assert all(not row[0].startswith(("=", "+", "-", "@")) for row in rows[1:])
    assert [row[0] for row in rows[1:]] == ["' =1", "a b", "x  =2", "plain"]



EDGE_NUMBERS = [0.0, -0.0, 0.05, -0.05, 0.15, 0.25, 2.675, 1e20, 1e-20, -1e-20, float("inf"),
                float("-inf"), float("nan"), 123456789.123456, 5e-324, 1.7976931348623157e308,
                1e16, 1e15, 1e-5, 1e-4, 0.1 + 0.2]


def _edge_table(rows: int = len(EDGE_NUMBERS)) -> pd.DataFrame:
    """Text that needs quoting or is missing, numbers at the edges of their formats,
    whole numbers, flags and a column of mixed objects."""
    import numpy as np
    pick = np.arange(rows) % len(EDGE_NUMBERS)
    texts = np.array(["a,b", 'say "x"', "", None, "中文", "x\ny", "=1+1", " lead", "plain"],
                     dtype=object)
    mixed = np.array([1.5, None, "t", 3, float("nan"), True], dtype=object)
    return pd.DataFrame({"code": texts[np.arange(rows) % len(texts)],
                         "year": 2020 + np.arange(rows), "value": np.array(EDGE_NUMBERS)[pick],
                         "flag": np.arange(rows) % 3 == 0, "mixed": mixed[np.arange(rows) % 6],
                         "name": pd.array(texts[(np.arange(rows) + 1) % len(texts)],
                                          dtype="string")})


@pytest.mark.parametrize("decimals", [None, 1, 4, 6])
@pytest.mark.parametrize("rows_at_once", [7, 100_000])
def test_csv_files_hold_the_bytes_pandas_writes(tmp_path, monkeypatch, decimals, rows_at_once):
    """The CSV writer's text of every kind of cell equals DataFrame.to_csv's (after the
    formula neutralisation), written in one piece or in pieces of a few rows."""
    from forecast.core import writers
    monkeypatch.setattr(writers, "ROWS_AT_ONCE", rows_at_once)
    fmt = None if decimals is None else f"%.{decimals}f"
    tables = [_edge_table(), _edge_table(50), _edge_table().iloc[:0],  # also no rows
              _edge_table()[["value"]],  # one column: written by pandas itself
              _edge_table().astype({"code": "category"})]  # a kind it leaves to pandas
    for i, table in enumerate(tables):
        path = tmp_path / f"{i}.csv"
        writers.csv_writer(table, decimals=decimals)(path)
        expected = neutralise_formulas(table).to_csv(index=False, float_format=fmt,
                                                     lineterminator="\n")
        assert path.read_bytes() == ("\ufeff" + expected).encode("utf-8"), i
