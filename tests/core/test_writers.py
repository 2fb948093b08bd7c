"""Run-file writers: CSV cells that cannot become formulas; third-party notices silenced."""

from __future__ import annotations

import pandas as pd

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

