"""Early-warning rules: indicators against thresholds, probabilities on draws, surprises.

Pure functions on tables and labelled arrays; the thresholds come from the ``report`` config
(``configs/report/default.yaml``), each rule with its ``source``. Alert levels, from least to
most severe: blue (蓝), yellow (黄), orange (橙), red (红). A rule raises the most severe level
whose threshold the value crosses:

- ``direction: below`` — value < threshold (e.g. TFR below 1.5: yellow);
- ``direction: above`` — value > threshold (e.g. idle kindergarten seats above 20 %);
- ``direction: outside`` — value outside [low, high] (sex ratio at birth outside 103–107);
- the probabilistic rule ``births_drop``: the share of draws in which next year's births
  fall below ``ratio`` × this year's, against probability thresholds;
- surprises: an observation outside the previous forecast's central 80 % (95 %) interval.

Every alert is one row of :data:`ALERT_COLUMNS`.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import xarray as xr

from forecast.core.options import MISSING, Number, Problems, as_number

#: Alert levels from least to most severe, with their Chinese names.
LEVELS = {"blue": "蓝", "yellow": "黄", "orange": "橙", "red": "红"}
SEVERITY = {level: i + 1 for i, level in enumerate(LEVELS)}
DIRECTIONS = ("below", "above", "outside")
ALERT_COLUMNS = ["region_code", "region_name", "year", "indicator", "level", "value",
                 "threshold", "probability", "rule", "message", "source"]


def threshold_level(value: float, direction: str, levels: Mapping[str, object]
                    ) -> tuple[str | None, object]:
    """The most severe level ``value`` reaches under ``levels`` (level -> threshold, or
    [low, high] for ``outside``) and its threshold; (None, None) when none is reached."""
    if value is None or not np.isfinite(value):
        return None, None
    reached = None, None
    for level in LEVELS:  # least to most severe: the last one reached wins
        if level not in levels:
            continue
        limit = levels[level]
        if direction == "below":
            hit = value < float(limit)
        elif direction == "above":
            hit = value > float(limit)
        elif direction == "outside":
            low, high = (float(v) for v in limit)
            hit = value < low or value > high
        else:
            raise ValueError(f"direction {direction!r}; expected one of {DIRECTIONS}")
        if hit:
            reached = level, limit
    return reached


def threshold_alerts(values: pd.DataFrame, rules: Mapping[str, Mapping]) -> pd.DataFrame:
    """Alerts of the threshold ``rules`` on ``values`` (columns region_code, region_name,
    year, indicator, value): one row per region, year and rule that raises a level."""
    rows = []
    for name, rule in rules.items():
        subset = values[values["indicator"] == rule["indicator"]]
        for row in subset.itertuples(index=False):
            level, limit = threshold_level(float(row.value), rule["direction"], rule["levels"])
            if level is None:
                continue
            rows.append({"region_code": row.region_code, "region_name": row.region_name,
                         "year": int(row.year), "indicator": row.indicator, "level": level,
                         "value": float(row.value), "threshold": _shown(limit),
                         "probability": np.nan, "rule": name,
                         "message": _threshold_message(row.indicator, rule["direction"],
                                                       float(row.value), limit, level),
                         "source": rule.get("source", "")})
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def births_drop_probability(births: xr.DataArray, year: int, ratio: float) -> xr.DataArray:
    """P(births in ``year`` + 1 < ``ratio`` × births in ``year``) per region: the share of
    draws (births: region, year, draw) in which it happens."""
    now, following = births.sel(year=year), births.sel(year=year + 1)
    return (following < ratio * now).mean("draw")


def probability_alerts(births: xr.DataArray, year: int, rule: Mapping,
                       names: Mapping[str, str]) -> pd.DataFrame:
    """Alerts of the ``births_drop`` rule for ``year`` (see :func:`births_drop_probability`)."""
    ratio = float(rule["ratio"])
    probability = births_drop_probability(births, year, ratio)
    rows = []
    for code, p in zip(probability["region"].values, probability.values):
        level, limit = threshold_level(float(p), "above", {k: float(v) - 1e-12 for k, v in
                                                           rule["levels"].items()})
        if level is None:
            continue
        rows.append({"region_code": str(code), "region_name": names.get(str(code), ""),
                     "year": year + 1, "indicator": "births", "level": level,
                     "value": float(births.sel(region=code, year=year + 1).median()),
                     "threshold": f"P >= {float(rule['levels'][level]):g}",
                     "probability": float(p), "rule": "births_drop",
                     "message": f"P(births {year + 1} < {ratio:g} × births {year}) = {float(p):.2f}",
                     "source": rule.get("source", "")})
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def surprise_alerts(observed: pd.DataFrame, previous: pd.DataFrame, forecast_name: str,
                    rule: Mapping) -> pd.DataFrame:
    """Alerts for observations outside the previous forecast's intervals.

    ``observed``: region_code, region_name, year, indicator, value; ``previous``: the
    previous forecast's planner table (forecast.csv: region_code, year, indicator, median,
    lower_80, upper_80, lower_95, upper_95); ``forecast_name`` names it in the message."""
    keep = [str(i) for i in rule.get("indicators", ["births"])]
    bounds = ["median", "lower_80", "upper_80", "lower_95", "upper_95"]
    merged = observed[observed["indicator"].isin(keep)].merge(
        previous[["region_code", "year", "indicator", *bounds]],
        on=["region_code", "year", "indicator"], how="inner")
    rows = []
    widths = {int(k): v for k, v in ((int(w), lvl) for lvl, w in rule["levels"].items())}
    for row in merged.itertuples(index=False):
        level = None
        for width in sorted(widths):
            low, high = getattr(row, f"lower_{width}"), getattr(row, f"upper_{width}")
            if not low <= row.value <= high:
                level, interval = widths[width], (width, low, high)
        if level is None:
            continue
        width, low, high = interval
        rows.append({"region_code": row.region_code, "region_name": row.region_name,
                     "year": int(row.year), "indicator": row.indicator, "level": level,
                     "value": float(row.value), "threshold": f"{width} %: [{low:g}, {high:g}]",
                     "probability": np.nan, "rule": "surprise",
                     "message": f"observed {row.value:g} outside the {width} % interval "
                                f"[{low:g}, {high:g}] of forecast {forecast_name} (median "
                                f"{row.median:g})",
                     "source": rule.get("source", "")})
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def sorted_alerts(alerts: pd.DataFrame) -> pd.DataFrame:
    """Alerts most severe first, then by region code, rule and year."""
    order = alerts["level"].map(SEVERITY)
    return (alerts.assign(_severity=order)
            .sort_values(["_severity", "region_code", "rule", "year"],
                         ascending=[False, True, True, True], kind="stable")
            .drop(columns="_severity").reset_index(drop=True))


def regions_by_level(alerts: pd.DataFrame, regions: Mapping[str, str]) -> pd.DataFrame:
    """Every region (code -> name) with its highest level (None: no alert) and the count of
    alerts at each level, most severe first."""
    rows = []
    for code, name in regions.items():
        own = alerts[alerts["region_code"] == code]
        counts = own["level"].value_counts()
        highest = max(own["level"], key=SEVERITY.get, default=None)
        rows.append({"region_code": code, "region_name": name, "highest_level": highest,
                     **{level: int(counts.get(level, 0)) for level in LEVELS}})
    table = pd.DataFrame(rows)
    severity = table["highest_level"].map(lambda lvl: SEVERITY.get(lvl, 0))
    return (table.assign(_s=severity).sort_values(["_s", *reversed(list(LEVELS)), "region_code"],
                                                   ascending=[False, False, False, False, False,
                                                              True], kind="stable")
            .drop(columns="_s").reset_index(drop=True))


def _shown(limit) -> float | str:
    """A threshold for the table: a number, or ``[low, high]`` as text."""
    if isinstance(limit, str) or not hasattr(limit, "__len__"):
        return float(limit)
    return f"[{', '.join(f'{float(v):g}' for v in limit)}]"


def _threshold_message(indicator: str, direction: str, value: float, limit, level: str) -> str:
    words = {"below": "below", "above": "above", "outside": "outside"}[direction]
    shown = _shown(limit)
    return f"{indicator} {value:.4g} {words} {shown if isinstance(shown, str) else f'{shown:g}'}" \
           f" ({level})"


#: How an alert differs from the previous report's (:func:`alert_changes`), in the order the
#: report lists them.
CHANGES = ("raised", "escalated", "eased", "cleared", "unchanged")


def alert_changes(current: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """Each alert of ``current`` or ``previous`` (both :data:`ALERT_COLUMNS`) matched by
    region, rule and indicator: ``change`` is one of :data:`CHANGES` (``raised`` also for
    every alert when there is no previous report), with ``level`` now and
    ``previous_level`` (None where absent); most important first (raised, escalated, ...,
    then severity)."""
    key = ["region_code", "rule", "indicator"]
    now = current[key + ["region_name", "level", "value", "message"]]
    if previous is None or not len(previous):
        before = pd.DataFrame(columns=key + ["region_name", "level"])
    else:
        before = previous[key + ["region_name", "level"]]
    merged = now.merge(before.rename(columns={"level": "previous_level",
                                              "region_name": "previous_name"}),
                       on=key, how="outer")
    merged["region_name"] = merged["region_name"].fillna(merged["previous_name"])
    now_s = merged["level"].map(SEVERITY).fillna(0)
    before_s = merged["previous_level"].map(SEVERITY).fillna(0)
    change = np.select([before_s == 0, now_s == 0, now_s > before_s, now_s < before_s],
                       ["raised", "cleared", "escalated", "eased"], "unchanged")
    merged = merged.assign(change=change).drop(columns="previous_name")
    merged = merged.astype({"level": object, "previous_level": object})
    merged = merged.where(merged.notna(), None)
    order = merged["change"].map({c: i for i, c in enumerate(CHANGES)})
    severity = np.maximum(now_s, before_s)
    return (merged.assign(_o=order, _s=severity)
            .sort_values(["_o", "_s", "region_code", "rule"], ascending=[True, False, True, True],
                         kind="stable").drop(columns=["_o", "_s"]).reset_index(drop=True))


def check_threshold_rules(rules, name: str, problems: Problems) -> None:
    """Report every bad threshold rule of ``rules`` (``report.rules``: name -> indicator,
    direction, levels, source): an unknown direction or level, a threshold that is not a
    number (a [low, high] pair with low < high for ``outside``), or levels out of order
    (``below``: a more severe level has a lower threshold; ``above``: a higher one;
    ``outside``: a wider range)."""
    if not isinstance(rules, Mapping):
        problems.add(name, rules, "a group of rules (configs/report/default.yaml)")
        return
    for rule_name, rule in rules.items():
        where = f"{name}.{rule_name}"
        if not isinstance(rule, Mapping):
            problems.add(where, rule, "a rule with indicator, direction, levels and source")
            continue
        indicator = rule.get("indicator", MISSING)
        if not (isinstance(indicator, str) and indicator.strip()):
            problems.add(f"{where}.indicator", indicator, "the name of an indicator")
        direction = rule.get("direction", MISSING)
        if direction not in DIRECTIONS:
            problems.add(f"{where}.direction", direction, "one of " + ", ".join(DIRECTIONS))
            continue
        limits = _levels(rule.get("levels", MISSING), f"{where}.levels", problems,
                         pairs=direction == "outside")
        ordered = [(level, limits[level]) for level in LEVELS if level in limits]
        for (weaker, a), (stronger, b) in zip(ordered, ordered[1:]):
            if direction == "outside":
                wrong = not (b[0] <= a[0] and b[1] >= a[1] and b != a)
            else:
                wrong = b >= a if direction == "below" else b <= a
            if wrong:
                problems.add(f"{where}.levels.{stronger}", rule["levels"][stronger],
                             _order_expected(direction, weaker, rule["levels"][weaker]))


def check_probability_rule(rule, name: str, problems: Problems) -> None:
    """Report a bad ``report.births_drop``: ``ratio`` a number above 0 and at most 1,
    ``levels`` probabilities from 0 to 1, higher for more severe levels."""
    if not isinstance(rule, Mapping):
        problems.add(name, rule, "a group with ratio, levels and source")
        return
    Number(0, 1, lo_open=True, what="a ratio above 0, at most 1").check(
        rule.get("ratio", MISSING), f"{name}.ratio", problems, rule)
    limits = _levels(rule.get("levels", MISSING), f"{name}.levels", problems, pairs=False,
                     within=(0.0, 1.0))
    _increasing(limits, rule, name, problems)


def check_surprise_rule(rule, name: str, problems: Problems) -> None:
    """Report a bad ``report.surprise``: ``levels`` the widths of the published intervals
    (80 or 95), wider for more severe levels; ``indicators`` a list of names."""
    if not isinstance(rule, Mapping):
        problems.add(name, rule, "a group with levels, indicators and source")
        return
    limits = _levels(rule.get("levels", MISSING), f"{name}.levels", problems, pairs=False,
                     allowed=(80.0, 95.0))
    _increasing(limits, rule, name, problems)
    indicators = rule.get("indicators", ["births"])
    if not (isinstance(indicators, list) and indicators
            and all(isinstance(i, str) and i for i in indicators)):
        problems.add(f"{name}.indicators", indicators, "a list of indicators, e.g. [births, tfr]")


def _levels(levels, name: str, problems: Problems, pairs: bool,
            within: tuple[float, float] | None = None, allowed: tuple[float, ...] = ()
            ) -> dict:
    """The valid thresholds of ``levels`` (level -> number, or (low, high) with ``pairs``);
    a problem line for each bad one."""
    if not (isinstance(levels, Mapping) and levels):
        problems.add(name, levels, "a mapping of alert levels (" + ", ".join(LEVELS)
                     + ") to thresholds")
        return {}
    out = {}
    for level, limit in levels.items():
        where = f"{name}.{level}"
        if level not in LEVELS:
            problems.add(where, limit, f"an alert level: {', '.join(LEVELS)} (not {level!r})")
            continue
        if pairs:
            pair = ([as_number(v) for v in limit] if isinstance(limit, (list, tuple))
                    else [None])
            if len(pair) != 2 or None in pair or not pair[0] < pair[1]:
                problems.add(where, limit, "a range [low, high] of two numbers, low < high")
                continue
            out[level] = tuple(pair)
            continue
        number = as_number(limit)
        if (number is None or (within and not within[0] <= number <= within[1])
                or (allowed and number not in allowed)):
            problems.add(where, limit, "one of " + ", ".join(f"{a:g}" for a in allowed)
                         if allowed else f"a number from {within[0]:g} to {within[1]:g}"
                         if within else "a number")
            continue
        out[level] = number
    return out


def _increasing(limits: dict, rule: Mapping, name: str, problems: Problems) -> None:
    """Report levels whose threshold is not above the less severe level's."""
    ordered = [(level, limits[level]) for level in LEVELS if level in limits]
    for (weaker, a), (stronger, b) in zip(ordered, ordered[1:]):
        if b <= a:
            problems.add(f"{name}.levels.{stronger}", rule["levels"][stronger],
                         _order_expected("above", weaker, rule["levels"][weaker]))


def _order_expected(direction: str, weaker: str, limit) -> str:
    """What a more severe level's threshold must be, against the less severe ``weaker``."""
    if direction == "outside":
        return (f"a range wider than {weaker}'s ({list(limit)}): more severe levels lie "
                "further outside")
    side = "below" if direction == "below" else "above"
    return f"a threshold {side} {weaker}'s ({limit}): more severe levels lie further {side}"


#: ``report.standing_share``: the share of regions from which a rule's alerts at one level
#: are one standing condition.
STANDING_SHARE = Number(0, 1, lo_open=True, default=0.5, what="a share above 0, at most 1")


def standing_conditions(alerts: pd.DataFrame, regions: int, share: float) -> pd.DataFrame:
    """Rules that hold almost everywhere: each (rule, indicator, level) raised in at least
    ``share`` of the ``regions`` (a count), with ``regions`` (how many), ``codes`` (their
    codes, comma-separated) and ``threshold``. The report states each once instead of
    listing every region's alert."""
    rows = []
    for (rule, indicator, level), group in alerts.groupby(["rule", "indicator", "level"],
                                                          sort=False):
        if rule == "surprise" or len(group) < share * regions:
            continue
        rows.append({"rule": rule, "indicator": indicator, "level": level,
                     "regions": int(len(group)), "of": int(regions),
                     "codes": ",".join(group["region_code"].astype(str)),
                     "threshold": group["threshold"].iloc[0],
                     "source": group["source"].iloc[0]})
    return pd.DataFrame(rows, columns=["rule", "indicator", "level", "regions", "of", "codes",
                                       "threshold", "source"])
