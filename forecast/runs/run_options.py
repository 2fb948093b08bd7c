"""The options of a run: the config's top level (``configs/config.yaml``) and the ``backtest``
group of an experiment, declared once; every group below them is declared by the code that
reads it (a model's or loader's ``OPTIONS``, found through its ``_target_``;
:data:`~forecast.projection.scenario.SCENARIO_OPTIONS`,
:data:`~forecast.regions.county_engine.COMPUTE_OPTIONS`,
:data:`~forecast.planning.demand.DEMAND_OPTIONS`, :data:`~forecast.runs.sweep.SWEEP_OPTIONS`).
"""

from __future__ import annotations

from typing import Mapping

from omegaconf import OmegaConf

from forecast.core.options import (MISSING, Choice, Flag, Group, Problems, Target, Where, Whole,
                                   as_whole, declared_options, seed_option)
from forecast.data.common import DATA_DIR_OPTION
from forecast.planning.demand import DEMAND_OPTIONS
from forecast.projection.scenario import SCENARIO_OPTIONS
from forecast.regions.county_engine import COMPUTE_OPTIONS
from forecast.runs.config_groups import group_node, group_options
from forecast.runs.sweep import SWEEP_OPTIONS

#: What a run does: the forecast, a rolling-origin backtest of the fertility models, or a
#: supply table for planners to fill (every unit of the data with its code and name).
TASKS = ("project", "backtest", "supply_template")
#: How projection.nc keeps the draws (``output.projection``).
STORED = ("quantiles", "draws")
#: Fertility models a backtest can score: those that forecast TFR.
NOT_BACKTESTED = ("constant",)


def _horizon_after_base(node: Mapping, name: str, problems: Problems, root: Mapping) -> None:
    base = as_whole((node.get("data") or {}).get("base_year"))
    horizon = as_whole(node.get("horizon"))
    if horizon is not None and base is not None and horizon <= base:
        problems.add("horizon", horizon, f"a year after the base year (data.base_year = {base})")


#: ``calibration``: years whose mean calibration factor the forecast keeps.
CALIBRATION_OPTIONS = Group({
    "fertility_level_years": Whole(1, default=1),
    "mortality_level_years": Whole(1, default=3),
})

#: The top level of a projection run.
PROJECTION_OPTIONS = Group({
    "task": Choice(TASKS, default="project"),
    "seed": seed_option(required=True),
    "data": Target(required=True),
    "horizon": Whole(what="a whole-number year", required=True),
    "scenario": SCENARIO_OPTIONS,
    "plots": Flag(default=True),
    "plot_units": Where(lambda v: v is None or (isinstance(v, list) and all(
        isinstance(c, (str, int)) and len(str(c)) == 6 for c in v)), default=[],
        what="a list of six-digit region codes, e.g. [500101, 500103]"),
    "precision": Choice(("float64", "float32"), default="float64"),
    "compute": COMPUTE_OPTIONS,
    "sweep": SWEEP_OPTIONS,
    "output": Group({"projection": Choice(STORED, required=True)}, required=True),
    "fertility": Target(required=True),
    "mortality": Target(),
    "calibration": CALIBRATION_OPTIONS,
    "migration": Target(),
    "demand": DEMAND_OPTIONS,
}, rules=(_horizon_after_base,))


def _first_before_last(node: Mapping, name: str, problems: Problems, root: Mapping) -> None:
    first, last = as_whole(node.get("first_origin")), as_whole(node.get("last_origin"))
    if first is not None and last is not None and last < first:
        problems.add(f"{name}.last_origin", last, f"a year no earlier than "
                     f"{name}.first_origin ({first})")


def _models(node: Mapping, name: str, problems: Problems, root: Mapping) -> None:
    """Rule: ``models`` names fertility options that forecast TFR; ``overrides.<model>``
    holds options of that model."""
    models = node.get("models", MISSING)
    if not (isinstance(models, list) and models):
        problems.add(f"{name}.models", models, "a list of fertility options, e.g. "
                     "[bayes, rw_drift]")
        models = []
    options = group_options("fertility")
    for model in models:
        if not isinstance(model, str) or model not in options:
            problems.add(f"{name}.models", model, "one of " + ", ".join(options))
        elif model in NOT_BACKTESTED:
            problems.add(f"{name}.models", model, "a model that forecasts TFR (not constant)")
    overrides = node.get("overrides")
    if overrides is None:
        return
    if not isinstance(overrides, Mapping):
        problems.add(f"{name}.overrides", overrides, "a group of options")
        return
    for model, values in overrides.items():
        where = f"{name}.overrides.{model}"
        if not isinstance(values, Mapping):
            problems.add(where, values, "a group of options")
            continue
        if model in options:
            target = OmegaConf.select(group_node("fertility", model), "_target_")
            declared = declared_options(target)
            if declared is not None:
                declared.validate(values, where, problems, root)


_models.keys = ("models", "overrides")

#: ``backtest``: the rolling-origin backtest of an experiment (configs/experiment/).
BACKTEST_OPTIONS = Group({
    "first_origin": Whole(what="a whole-number year", required=True),
    "last_origin": Whole(what="a whole-number year", required=True),
    "max_horizon": Whole(1, required=True),
    "draws": Whole(1, required=True),
    "births": Flag(default=True),
    "regions": Where(lambda r: isinstance(r, list) and bool(r)
                     and all(isinstance(x, str) and x for x in r), nullable=True, default=None,
                     what="null (every WPP region) or a list of WPP region codes, e.g. "
                     "[JPN, KOR]"),
    "data_dir": DATA_DIR_OPTION,
    # wpp: the 13 WPP populations, scored against WPP's estimates; nbs: China on the census
    # base, origins as data.until, scored against NBS (forecast/projection/census_backtest.py)
    "against": Choice(("wpp", "nbs"), default="wpp"),
}, rules=(_first_before_last, _models), required=True)

#: The top level of a backtest run (``data``, ``mortality`` and ``migration`` are used by
#: ``backtest.against: nbs``; the projection's other options may be present, unread).
BACKTEST_RUN_OPTIONS = Group({
    "task": Choice(TASKS),
    "seed": seed_option(required=True),
    "backtest": BACKTEST_OPTIONS,
    "data": Target(),
    "mortality": Target(),
    "migration": Target(),
}, rule_keys=tuple(k for k in PROJECTION_OPTIONS.options if k not in ("data", "mortality",
                                                                     "migration")))


def option(conf: Mapping, name: str):
    """Top-level option ``name`` of ``conf``, or its declared default."""
    return PROJECTION_OPTIONS.value(conf, name)


def run_options(conf: Mapping) -> Group:
    """The options of the run ``conf`` (by its task)."""
    return BACKTEST_RUN_OPTIONS if conf.get("task") == "backtest" else PROJECTION_OPTIONS
