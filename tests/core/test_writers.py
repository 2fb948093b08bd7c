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
    assert list(safe["name"][:6]) == ["'" + text for text in INJECTIONS]
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
