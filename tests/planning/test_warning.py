"""Early-warning rules (forecast/planning/warning.py) on hand-made data: each rule raises exactly the
level its thresholds say, the probabilistic rule agrees with the share of draws, surprises
name the forecast they came from; the observed-figures reader checks its files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from omegaconf import OmegaConf

from forecast.data.observed_figures import read_observed
from forecast.core.errors import InputError
from forecast.core.paths import CONFIG_DIR
from forecast.planning.warning import (ALERT_COLUMNS, LEVELS, alert_changes,
                                       births_drop_probability, probability_alerts,
                                       regions_by_level, standing_conditions, surprise_alerts,
                                       threshold_alerts, threshold_level)

RULES = OmegaConf.to_container(OmegaConf.load(Path(CONFIG_DIR) / "report" / "default.yaml"))

#: (indicator, value, expected level or None) under configs/report/default.yaml.
CASES = [
    ("tfr", 2.2, None), ("tfr", 2.0, "blue"), ("tfr", 1.4, "yellow"), ("tfr", 1.2, "orange"),
    ("tfr", 0.9, "red"), ("tfr", 1.5, "blue"),  # at the line: not below it
    ("births_change", -0.03, None), ("births_change", -0.06, "yellow"),
    ("births_change", -0.12, "orange"), ("births_change", -0.2, "red"),
    ("sex_ratio_at_birth", 105, None), ("sex_ratio_at_birth", 107, None),
    ("sex_ratio_at_birth", 108, "yellow"), ("sex_ratio_at_birth", 102, "yellow"),
    ("sex_ratio_at_birth", 111, "orange"), ("sex_ratio_at_birth", 99, "orange"),
    ("childcare_places_per_1000", 4.6, None), ("childcare_places_per_1000", 4.0, "yellow"),
    ("childcare_places_per_1000", 3.0, "orange"), ("childcare_places_per_1000", 2.0, "red"),
    ("childcare_affordable_share", 0.65, None), ("childcare_affordable_share", 0.5, "yellow"),
    ("childcare_affordable_share", 0.4, "orange"),
    ("kindergarten_idle_share", 0.05, None), ("kindergarten_idle_share", 0.15, "blue"),
    ("kindergarten_idle_share", 0.25, "yellow"), ("kindergarten_idle_share", 0.35, "orange"),
]


def _values(cases):
    return pd.DataFrame([{"region_code": f"{i:02d}0000", "region_name": f"地区{i}",
                          "year": 2026, "indicator": ind, "value": v}
                         for i, (ind, v, _) in enumerate(cases, start=11)])


@pytest.mark.parametrize("indicator,value,expected", CASES)
def test_each_rule_raises_exactly_the_expected_level(indicator, value, expected):
    alerts = threshold_alerts(_values([(indicator, value, expected)]), RULES["rules"])
    if expected is None:
        assert alerts.empty
    else:
        assert alerts["level"].tolist() == [expected]
        assert alerts["source"].iloc[0] and alerts["value"].iloc[0] == value


def test_every_rule_has_a_source_and_known_levels():
    for name, rule in RULES["rules"].items():
        assert rule["source"] and set(rule["levels"]) <= set(LEVELS), name
    for name in ("births_drop", "surprise"):
        assert RULES[name]["source"] and set(RULES[name]["levels"]) <= set(LEVELS)


def test_threshold_level_ignores_missing_values():
    assert threshold_level(float("nan"), "below", {"red": 1.0}) == (None, None)


def test_probabilistic_rule_agrees_with_the_share_of_draws():
    """Three regions whose next-year births fall below 0.9 × this year's in 85 %, 60 % and
    30 % of 200 draws: red, orange, none; the probability is exactly that share."""
    rng = np.random.default_rng(7)
    draws = 200
    shares = {"110000": 0.85, "120000": 0.60, "130000": 0.30}
    now = rng.uniform(9e4, 1.1e5, size=(3, draws))
    falls = np.stack([rng.permutation(draws) < share * draws for share in shares.values()])
    following = np.where(falls, now * 0.8, now * 1.0)
    births = xr.DataArray(np.stack([now, following], axis=1), dims=("region", "year", "draw"),
                          coords={"region": list(shares), "year": [2026, 2027]})
    probability = births_drop_probability(births, 2026, 0.9)
    np.testing.assert_allclose(probability, list(shares.values()))
    alerts = probability_alerts(births, 2026, RULES["births_drop"], {k: k for k in shares})
    assert dict(zip(alerts["region_code"], alerts["level"])) == {"110000": "red",
                                                                 "120000": "orange"}
    np.testing.assert_allclose(alerts["probability"], [0.85, 0.60])


def test_surprise_outside_the_80_and_95_percent_intervals():
    previous = pd.DataFrame({"region_code": ["000000"] * 3, "year": [2023, 2024, 2025],
                             "indicator": ["births"] * 3, "median": [9.0e6] * 3,
                             "lower_80": [8.6e6] * 3, "upper_80": [9.4e6] * 3,
                             "lower_95": [8.3e6] * 3, "upper_95": [9.7e6] * 3})
    observed = pd.DataFrame({"region_code": ["000000"] * 3, "region_name": ["全国"] * 3,
                             "year": [2023, 2024, 2025], "indicator": ["births"] * 3,
                             "value": [9.1e6, 9.5e6, 8.0e6]})
    alerts = surprise_alerts(observed, previous, "2026-11/forecast", RULES["surprise"])
    assert dict(zip(alerts["year"], alerts["level"])) == {2024: "yellow", 2025: "orange"}
    assert alerts["message"].str.contains("2026-11/forecast").all()


def test_regions_by_highest_level():
    alerts = pd.DataFrame({"region_code": ["a", "a", "b", "c"], "level": ["yellow", "red",
                                                                          "orange", "yellow"]})
    table = regions_by_level(alerts, {"a": "A", "b": "B", "c": "C", "d": "D"})
    assert table["region_code"].tolist() == ["a", "b", "c", "d"]
    assert table["highest_level"].tolist()[:3] == ["red", "orange", "yellow"]
    assert pd.isna(table["highest_level"].iloc[3]) and table["red"].tolist() == [1, 0, 0, 0]


def _alerts(rows):
    """Alerts from (region, indicator, level) triples of the tfr rule."""
    return pd.DataFrame([{**dict.fromkeys(ALERT_COLUMNS), "region_code": r,
                          "region_name": r.upper(), "year": 2026, "indicator": ind,
                          "level": lv, "rule": ind, "threshold": 1.0, "source": "s"}
                         for r, ind, lv in rows], columns=ALERT_COLUMNS)


def test_alert_changes_against_the_previous_report():
    before = _alerts([("a", "tfr", "yellow"), ("b", "tfr", "red"), ("c", "tfr", "orange"),
                      ("d", "tfr", "yellow")])
    now = _alerts([("a", "tfr", "red"), ("b", "tfr", "orange"), ("d", "tfr", "yellow"),
                   ("e", "tfr", "blue")])
    changes = alert_changes(now, before).set_index("region_code")
    assert changes["change"].to_dict() == {"a": "escalated", "b": "eased", "c": "cleared",
                                           "d": "unchanged", "e": "raised"}
    assert changes.loc["c", "level"] is None and changes.loc["c", "previous_level"] == "orange"
    assert changes.loc["c", "region_name"] == "C"
    # listed raised, escalated, eased, cleared, unchanged
    assert alert_changes(now, before)["change"].tolist() == ["raised", "escalated", "eased",
                                                             "cleared", "unchanged"]
    assert set(alert_changes(now, None)["change"]) == {"raised"}


def test_a_rule_on_in_most_regions_is_one_standing_condition():
    alerts = _alerts([(r, "tfr", "red") for r in "abcde"] + [("f", "tfr", "orange"),
                                                            ("a", "births_change", "yellow")])
    standing = standing_conditions(alerts, regions=8, share=0.5)
    assert standing[["indicator", "level", "regions", "of"]].values.tolist() == [
        ["tfr", "red", 5, 8]]
    assert standing["codes"].item() == "a,b,c,d,e"
    assert standing_conditions(alerts, regions=11, share=0.5).empty


# ------------------------------------------------------------------ observed figures

REGIONS = ["000000", "110000"]


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_observed_figures_read_and_a_later_file_replaces_a_row(tmp_path):
    folder = tmp_path / "observed"
    _write(folder, "2026-01.csv", "region_code,year,indicator,value\n"
           "000000,2025,births,8700000\n110000,2025,sex_ratio_at_birth,106.1\n")
    _write(folder, "2026-02.csv", "region_code,year,indicator,value,source\n"
           "000000,2025,births,8650000,revised\n")
    table = read_observed(folder, REGIONS)
    births = table[table["indicator"] == "births"]
    assert births["value"].tolist() == [8650000.0] and len(table) == 2


@pytest.mark.parametrize("row,column,expected", [
    ("000000,2025,births,NaN", "value", "a number (missing value found)"),
    ("990000,2025,births,100", "region_code", "a region code of the forecast"),
    ("000000,2025,deaths,100", "indicator", "one of"),
    ("000000,2025,sex_ratio_at_birth,1.06", "value", "from 80 to 150"),
    ("000000,2025,births,-5", "value", "from 0 to"),
    ("000000,twenty,births,100", "year", "a number"),
])
def test_bad_observed_figures_name_file_column_row(tmp_path, row, column, expected):
    path = _write(tmp_path / "observed", "bad.csv",
                  f"region_code,year,indicator,value\n000000,2024,births,9000000\n{row}\n")
    with pytest.raises(InputError) as err:
        read_observed(path.parent, REGIONS)
    message = str(err.value)
    assert str(path) in message and f'column "{column}", row 3' in message
    assert expected in message


def test_observed_folder_must_exist(tmp_path):
    with pytest.raises(InputError, match="report.observed_dir"):
        read_observed(tmp_path / "missing", REGIONS)
