"""The registry of what a run reports: the planner indicators (name, unit, meaning) and the
quantiles over draws that every summary gives (forecast.csv's value columns)."""

from __future__ import annotations

#: Indicator name -> (unit, meaning), in output order.
INDICATORS: dict[str, tuple[str, str]] = {
    "births": ("persons per year", "Live births in the calendar year"),
    "tfr": ("children per woman", "Total fertility rate of the calendar year the projection "
            "used (ASFR summed over age; a province's births are then raked to the nation's)"),
    "crude_birth_rate": ("births per 1,000 population",
                         "Live births in the calendar year per 1,000 persons at 1 July"),
    "population": ("persons", "Total population at 1 July"),
    "population_yearend": ("persons", "Total population at 31 December (as NBS publishes)"),
    "net_migration": ("persons per year", "Net migrants from 1 July of the year to 1 July of "
                      "the next (between provinces and from abroad)"),
    **{f"population_age_{a}": ("persons", f"Population aged {a} (completed years) at 1 July")
       for a in range(6)},
    "population_0_2": ("persons", "Population aged 0-2 at 1 July (under 3: childcare ages)"),
    "population_3_5": ("persons", "Population aged 3-5 at 1 July (kindergarten ages)"),
}
#: Output column -> quantile over draws: the median and the central 80 % and 95 % intervals.
QUANTILES: dict[str, float] = {"median": 0.5, "lower_80": 0.1, "upper_80": 0.9,
                               "lower_95": 0.025, "upper_95": 0.975}
#: The median and the central 80 % interval (the experiments' summaries).
QUANTILES_80: dict[str, float] = {k: QUANTILES[k] for k in ("median", "lower_80", "upper_80")}
#: Central interval level (percent) -> its (lower, upper) quantiles.
INTERVALS: dict[str, tuple[float, float]] = {"80": (QUANTILES["lower_80"], QUANTILES["upper_80"]),
                                              "95": (QUANTILES["lower_95"], QUANTILES["upper_95"])}
