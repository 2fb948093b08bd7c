"""Check the whole resolved configuration before any work, and estimate the run's memory.

:func:`check_config` is the first thing a run does. It reads the composed config (every
group: data, fertility, mortality, migration, demand, and the backtest of an experiment),
checks every option it knows against the rule below and raises one
:class:`forecast.core.errors.InputError` listing every problem, one line each::

    config, fertility.draws: got 2.5; expected a whole number >= 1.

so a bad value stops the run in well under a second, before the data are loaded or the
MCMC starts, instead of a traceback (or a silently truncated value, or ``inf`` in a table)
minutes later. Options are checked only where the chosen config has them (``fertility=
constant`` has no ``draws``); options this module does not know are left to the code that
uses them.

Whole numbers accept ints and integral floats (``1e7``) and refuse fractions, text and
booleans; numbers refuse booleans, text, NaN and infinities.

Memory (:func:`estimate_memory`): the projection and its summaries keep a few arrays
(region, sex, age, year, draw) of float64 alive at once; the estimate is

    overhead + posterior + ARRAYS_ALIVE x regions x 2 sexes x 101 ages x years x draws x 8 bytes

with regions 32 for the census (the nation and every province are projected whatever
``data.regions`` reports; the count is read from the census table's first column), 1 for a
WPP region; years = horizon - base year + 1; draws = ``fertility.draws`` (1 without, as for
``fertility=constant``); the overhead larger and the posterior draws counted for the MCMC.
A backtest projects one WPP region at a time (``backtest.draws``, ``max_horizon`` + 5
years). The constants were calibrated on real runs (see :data:`ARRAYS_ALIVE`). A run whose
estimate exceeds the memory available (:func:`available_memory`) is refused, naming both in
GiB and the option to lower.

API: :func:`check_config` (raises), :func:`config_problems` (the list),
:func:`estimate_memory` (a :class:`MemoryEstimate`), :func:`available_memory`.
"""

from __future__ import annotations

import csv
import importlib.util
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from omegaconf import DictConfig, OmegaConf

from forecast.core.errors import InputError
from forecast.core.paths import CONFIG_DIR, DATA_DIR

log = logging.getLogger(__name__)

#: Top-level choices.
TASKS = ("project", "backtest")
STORED = ("quantiles", "draws")  # output.projection: how projection.nc keeps the draws
GAP_BASES = ("standard", "need_realised", "need_willingness")
NUTS_SAMPLERS = ("pymc", "nutpie")
SEED_MAX = 2**32 - 1

#: Fewest observed years a TFR model may learn from: the models estimate a drift, momentum
#: and the size of shocks from the annual changes of log TFR.
MIN_WINDOW = 10
#: Plausible mean ages at childbearing (``schedule.mac_bounds``), years.
MAC_RANGE = (15.0, 50.0)
#: Ages of children the demand stage knows (childcare 0-2, kindergarten 3-5).
CHILD_AGES = range(0, 6)

#: Census file the region count and codes are read from (as forecast.data.census).
CENSUS_FILE = "china_census2020_pop_age_sex_province.csv"
#: The nation and 31 provinces: used when the census table cannot be read cheaply.
CENSUS_REGIONS = 32
SEXES, AGES, FLOAT_BYTES = 2, 101, 8
#: County-level units and prefectures of the largest province (an upper bound for the memory
#: estimate of data=china_counties).
MAX_COUNTY_UNITS = 210
#: Full-size (region, sex, age, year, draw) float64 arrays alive at the peak of a projection
#: run: measured from the peak resident memory of real runs as (peak - fixed part) / one
#: array: 3.9 for the census (200 and 400 draws to 2035, 200 draws to 2050), 3.5 for one WPP
#: region (4000 and 8000 draws); rounded up so the estimate is an upper bound.
ARRAYS_ALIVE = 4.5
#: Memory of the process besides those arrays (Python, libraries, data, tables), bytes:
#: measured 160-175 MiB; with the Bayesian model (PyMC, the compiled model and the chain
#: processes) 370 MiB proportional set size, 825 MiB resident summed over the processes.
OVERHEAD_BYTES = 256 * 2**20
OVERHEAD_MCMC_BYTES = 1024 * 2**20
#: Bytes per posterior draw of the MCMC: 820 in posterior.nc (85 parameters of 13
#: populations and the sampler statistics), about four copies while the chains are collected.
POSTERIOR_DRAW_BYTES = 4096
GIB = 2**30

_MISSING = object()


# --------------------------------------------------------------------------- public API

def check_config(cfg: DictConfig | Mapping) -> None:
    """Raise one :class:`InputError` listing every problem of ``cfg``; log the memory
    estimate when there is none."""
    problems, estimate, available = _check(cfg)
    if problems:
        raise InputError("\n".join(problems))
    if estimate is not None:
        log.info("Memory: about %.2f GiB needed (estimate), %s available", estimate.gib,
                 "unknown" if available is None else f"{available / GIB:.1f} GiB")


def config_problems(cfg: DictConfig | Mapping) -> list[str]:
    """Every problem of ``cfg``, one line each (empty when the config is fine)."""
    return _check(cfg)[0]


@dataclass(frozen=True)
class MemoryEstimate:
    """The memory a run needs, from the config and the data's size."""

    regions: int
    years: int
    draws: int
    overhead_bytes: int
    other_bytes: int = 0  # e.g. the MCMC's posterior draws

    @property
    def array_bytes(self) -> int:
        """One (region, sex, age, year, draw) float64 array."""
        return self.regions * SEXES * AGES * self.years * self.draws * FLOAT_BYTES

    @property
    def bytes(self) -> int:
        return int(self.overhead_bytes + self.other_bytes + ARRAYS_ALIVE * self.array_bytes)

    @property
    def gib(self) -> float:
        return self.bytes / GIB

    def __str__(self) -> str:
        return (f"about {self.gib:.1f} GiB ({ARRAYS_ALIVE:g} arrays of {self.regions} regions x "
                f"{SEXES} sexes x {AGES} ages x {self.years} years x {self.draws} draws x "
                f"{FLOAT_BYTES} bytes = {self.array_bytes / GIB:.2f} GiB each, plus "
                f"{(self.overhead_bytes + self.other_bytes) / GIB:.1f} GiB for the program"
                f"{' and the MCMC' if self.other_bytes else ''})")


def estimate_memory(cfg: DictConfig | Mapping) -> MemoryEstimate:
    """The memory the run of ``cfg`` needs (an upper bound; see the module docstring).

    Raises :class:`InputError` when the options it needs are not valid."""
    conf = _plain(cfg)
    try:
        return _estimate(conf)
    except (KeyError, TypeError, ValueError) as err:
        raise InputError("\n".join(_check(cfg)[0]) or f"config: cannot estimate memory ({err})"
                         ) from None


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation: MemAvailable from /proc/meminfo
    (lowered to a cgroup's limit where one is set), else physical memory; None if unknown."""
    available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        available = None
    if available is None:
        try:
            available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            available = None
    limit = _cgroup_room()
    if limit is not None:
        available = limit if available is None else min(available, limit)
    return available


# --------------------------------------------------------------------------- the checks

def _plain(cfg) -> dict:
    if isinstance(cfg, DictConfig):
        return OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    return dict(cfg)


def _check(cfg) -> tuple[list[str], MemoryEstimate | None, int | None]:
    try:
        conf = _plain(cfg)
    except Exception as err:  # noqa: BLE001 - an interpolation that does not resolve
        return [f"config: cannot resolve the configuration ({err}); expected every ${{...}} "
                "to name an existing option."], None, None
    c = _Checker()
    task = conf.get("task", "project")
    c.choice("task", task, TASKS)
    seed = conf.get("seed", _MISSING)
    c.whole("seed", seed, 0, SEED_MAX)
    if task == "backtest":
        _check_backtest(c, conf, seed)
    else:
        _check_projection(c, conf, seed)
    if task not in TASKS:
        return c.problems, None, None
    try:  # also beside other problems, where the options it needs are whole numbers
        estimate = _estimate(conf)
    except (KeyError, TypeError, ValueError, ArithmeticError, AttributeError):
        return c.problems, None, None
    available = available_memory()
    if available is not None and estimate.bytes > available:
        c.add(*_memory_problem(conf, estimate, available))
    return c.problems, estimate, available


def _check_projection(c: "_Checker", conf: dict, seed) -> None:
    data = c.mapping("data", conf.get("data", _MISSING))
    base = _check_data(c, data) if data is not None else None
    horizon = c.whole("horizon", conf.get("horizon", _MISSING), what="a whole-number year")
    if horizon is not None and base is not None and horizon <= base:
        c.add("horizon", horizon, f"a year after the base year (data.base_year = {base})")
    scenario = c.mapping("scenario", conf.get("scenario", _MISSING))
    if scenario is not None:
        _check_scenario(c, scenario, base, horizon)
    if "plots" in conf:
        c.boolean("plots", conf["plots"])
    if "precision" in conf:
        c.choice("precision", conf["precision"], ["float64", "float32"])
    compute = _optional_mapping(c, "compute", conf.get("compute"))
    if compute is not None:
        _check_compute(c, compute)
    sweep = _optional_mapping(c, "sweep", conf.get("sweep"))
    if sweep is not None:
        _check_sweep(c, sweep)
    output = c.mapping("output", conf.get("output", _MISSING))
    if output is not None:
        c.choice("output.projection", output.get("projection", _MISSING), STORED)
    fertility = c.mapping("fertility", conf.get("fertility", _MISSING))
    if fertility is not None:
        _check_fertility(c, "fertility", fertility, seed)
    mortality = conf.get("mortality")
    if isinstance(mortality, Mapping):
        _check_mortality(c, mortality, fertility)
    calibration = conf.get("calibration")
    if calibration is not None:
        calibration = c.mapping("calibration", calibration)
        for key in ("fertility_level_years", "mortality_level_years"):
            if calibration is not None and key in calibration:
                c.whole(f"calibration.{key}", calibration[key], 1)
    migration = conf.get("migration")
    if isinstance(migration, Mapping):
        _check_migration(c, migration)
    demand = conf.get("demand")
    if demand is not None:
        demand = c.mapping("demand", demand)
        if demand is not None:
            _check_demand(c, demand)


def _check_data(c: "_Checker", data: Mapping) -> int | None:
    target = str(data.get("_target_", ""))
    base = c.whole("data.base_year", data.get("base_year", _MISSING), what="a whole-number year")
    until = data.get("until")
    if until is not None:
        until = c.whole("data.until", until, what="a whole-number year or null")
        if until is not None and base is not None and until < base:
            c.add("data.until", until, f"null or a year no earlier than data.base_year ({base})")
    data_dir = _check_folder(c, "data.data_dir", data.get("data_dir"))
    if target.endswith(("load_china_census", "load_china_counties")):
        c.text("data.national_rates", data.get("national_rates", "CHN"))
        _check_regions(c, data.get("regions"), data_dir)
        _check_observed(c, data, data_dir)
        _check_provincial(c, data, data_dir)
    elif target.endswith("load_wpp"):
        c.text("data.region", data.get("region", _MISSING),
               hint=" (a WPP region code such as JPN)")
    return base


def _optional_mapping(c: "_Checker", name: str, value) -> Mapping | None:
    """``value`` when it is a mapping; None when absent (and when not a mapping, reported)."""
    return None if value is None else c.mapping(name, value)


def _check_optional_file(c: "_Checker", name: str, value, data_dir: Path | None) -> None:
    """``value``: null, or a CSV file relative to the data folder or absolute."""
    if value is None:
        return
    c.text(name, value)
    if isinstance(value, str) and value.strip():
        path = Path(value) if Path(value).is_absolute() else (data_dir or DATA_DIR) / value
        if not path.is_file():
            c.add(name, value, f"null or an existing CSV file ({path} not found; relative "
                  "paths are read from the data folder)")


def _check_observed(c: "_Checker", data: Mapping, data_dir: Path | None) -> None:
    """data.observed_file (null, or a file relative to the data folder or absolute) and the
    data.young_ages options."""
    _check_optional_file(c, "data.observed_file", data.get("observed_file"), data_dir)
    young = _optional_mapping(c, "data.young_ages", data.get("young_ages"))
    if young is None:
        return
    if "from_births" in young:
        c.boolean("data.young_ages.from_births", young["from_births"])
    if "max_age" in young:
        age = c.whole("data.young_ages.max_age", young["max_age"], 4, 9)
        if age is not None and age not in (4, 9):
            c.add("data.young_ages.max_age", age, "4 (census groups 0 and 1-4) or 9 (to 5-9)")
    if "undercount_threshold" in young:
        c.number("data.young_ages.undercount_threshold", young["undercount_threshold"], 0, 1,
                 hi_open=True)


def _check_provincial(c: "_Checker", data: Mapping, data_dir: Path | None) -> None:
    """data.province_observed_file and the data.provincial options."""
    for key in ("province_observed_file", "province_migrants_file"):
        _check_optional_file(c, f"data.{key}", data.get(key), data_dir)
    node = _optional_mapping(c, "data.provincial", data.get("provincial"))
    if node is None:
        return
    if "factor_years" in node:
        c.whole("data.provincial.factor_years", node["factor_years"], 1, 15)
    if "factor_trend" in node:
        c.boolean("data.provincial.factor_trend", node["factor_trend"])
    if "migration_from" in node:
        c.whole("data.provincial.migration_from", node["migration_from"],
                what="a whole-number year")


def _check_mortality(c: "_Checker", node: Mapping, fertility: Mapping | None) -> None:
    """Rules for the options a mortality config has (Lee-Carter's; only those present)."""
    if "draws" in node and node["draws"] != (fertility or {}).get("draws", 1):
        # the default interpolates fertility.draws, whose own rule reports a bad value
        draws = c.whole("mortality.draws", node["draws"], 1)
        wanted = _as_whole((fertility or {}).get("draws", 1))
        if draws is not None and wanted is not None and draws != wanted:
            c.add("mortality.draws", draws, f"the fertility model's draws ({wanted}); leave it "
                  "at its default ${oc.select:fertility.draws,1}")
    if "fit_from" in node:
        year = c.whole("mortality.fit_from", node["fit_from"], 1950, 2010,
                       what="a WPP period start year 1950, 1955, ..., 2010")
        if year is not None and year % 5:
            c.add("mortality.fit_from", year, "a WPP period start year 1950, 1955, ..., 2010")
    if "sex_correlation" in node:
        c.number("mortality.sex_correlation", node["sex_correlation"], -1, 1)
    if "drift_uncertainty" in node:
        c.boolean("mortality.drift_uncertainty", node["drift_uncertainty"])


def _check_regions(c: "_Checker", regions, data_dir: Path | None) -> None:
    expected = "null (every province) or a list of 6-digit region codes, e.g. [440000,500000]"
    if regions is None:
        return
    if not isinstance(regions, list):
        c.add("data.regions", regions, expected)
        return
    known = _census_codes(data_dir)
    for code in regions:
        text = _region_code(code)
        if text is None:
            c.add("data.regions", code, "a 6-digit region code such as 440000")
        elif known and text not in known:
            c.add("data.regions", code, f"a region code of the census table ({min(known)} ... "
                  f"{max(known)})")


def _check_fertility(c: "_Checker", prefix: str, node: Mapping, seed) -> None:
    """Rules for the options a fertility config has (only those present are checked);
    ``seed`` is the top-level seed (``random_seed: ${seed}`` is reported as ``seed``)."""
    def has(key):
        return key in node

    def at(key):
        return f"{prefix}.{key}"

    for key, lo in (("draws", 1), ("samples", 1), ("tune", 0), ("chains", 1), ("cores", 1)):
        if has(key):
            c.whole(at(key), node[key], lo)
    if has("target_accept"):
        c.number(at("target_accept"), node["target_accept"], 0, 1, lo_open=True, hi_open=True)
    if has("nuts_sampler"):
        sampler = node["nuts_sampler"]
        if sampler not in NUTS_SAMPLERS:
            c.choice(at("nuts_sampler"), sampler, NUTS_SAMPLERS)
        elif sampler == "nutpie" and importlib.util.find_spec("nutpie") is None:
            c.add(at("nuts_sampler"), sampler, "pymc, or nutpie once it is installed "
                  "(.venv/bin/pip install nutpie)")
    if has("progressbar"):
        c.boolean(at("progressbar"), node["progressbar"])
    if has("window"):
        c.whole(at("window"), node["window"], MIN_WINDOW,
                what=f"a whole number of observed years >= {MIN_WINDOW}")
    if has("dragon_year"):
        c.boolean(at("dragon_year"), node["dragon_year"])
    if has("calendar_regions"):
        regions = node["calendar_regions"]
        if not (isinstance(regions, list) and regions
                and all(isinstance(r, str) and r.strip() for r in regions)
                and len(set(regions)) == len(regions)):
            c.add(at("calendar_regions"), regions, "a non-empty list of distinct WPP region "
                  "codes, e.g. [CHN, HKG, MAC, TWN]")
    if has("random_seed") and node["random_seed"] != seed:  # ${seed} is checked as seed
        c.whole(at("random_seed"), node["random_seed"], 0, SEED_MAX)
    if has("order"):
        order = node["order"]
        if not (isinstance(order, list) and len(order) == 3
                and all(_as_whole(o) is not None and _as_whole(o) >= 0 for o in order)):
            c.add(at("order"), order, "three whole numbers >= 0 (p, d, q), e.g. [1, 1, 0]")
    if has("priors") and node["priors"] is not None and not isinstance(node["priors"], Mapping):
        c.add(at("priors"), node["priors"], "null or a mapping of parameter -> [distribution, "
              "{arguments}]")
    if has("schedule"):
        schedule = c.mapping(at("schedule"), node["schedule"])
        if schedule is not None:
            _check_schedule(c, at("schedule"), schedule)
    if has("subnational"):
        sub = c.mapping(at("subnational"), node["subnational"])
        if sub is not None:
            if "rho" in sub:
                c.number(f"{at('subnational')}.rho", sub["rho"], 0, 1, hi_open=True)
            if "sigma" in sub:
                c.number(f"{at('subnational')}.sigma", sub["sigma"], 0)


def _check_schedule(c: "_Checker", prefix: str, node: Mapping) -> None:
    if "trend_years" in node:
        c.whole(f"{prefix}.trend_years", node["trend_years"], 2)
    if "damping" in node:
        c.number(f"{prefix}.damping", node["damping"], 0, 1)
    if "max_shift" in node:
        c.number(f"{prefix}.max_shift", node["max_shift"], 0)
    if "mac_bounds" in node:
        bounds = node["mac_bounds"]
        lo, hi = MAC_RANGE
        values = ([_as_number(b) for b in bounds] if isinstance(bounds, list) and len(bounds) == 2
                  else [None])
        if (None in values or not values[0] < values[1]
                or not (lo <= values[0] and values[1] <= hi)):
            c.add(f"{prefix}.mac_bounds", bounds, f"two increasing ages between {lo:g} and "
                  f"{hi:g}, e.g. [24.0, 34.0]")


def _check_scenario(c: "_Checker", node: Mapping, base: int | None, horizon: int | None
                    ) -> None:
    """configs/scenario/ (forecast.projection.scenario): name, kind and the sizes each kind uses."""
    from forecast.projection.scenario import KINDS

    c.text("scenario.name", node.get("name", _MISSING),
           hint=" (quote a number: scenario.name=\"'2030'\")")
    kind = node.get("kind", "none")
    c.choice("scenario.kind", kind, KINDS)
    if kind == "shift":
        c.number("scenario.shift", node.get("shift", _MISSING), -3, 3,
                 what="a change of TFR in children per woman from -3 to 3")
        c.whole("scenario.ramp_years", node.get("ramp_years", 1), 1)
        phase = node.get("phase_in")
        if phase is not None and not (isinstance(phase, (list, tuple)) and all(
                (v := _as_number(w)) is not None and 0 <= v <= 1 for w in phase)):
            c.add("scenario.phase_in", phase, "null or a list of shares from 0 to 1, one per "
                  "year from scenario.start")
    if kind == "follow":
        c.text("scenario.reference", node.get("reference", _MISSING),
               hint=" (a population of the TFR pool, e.g. KOR)")
    start = node.get("start")
    if start is not None and base is not None:
        last = horizon if horizon is not None else 9999
        c.whole("scenario.start", start, base + 1, last,
                what=f"null or a year from {base + 1} to {last}")
    c.number("scenario.migration_scale", node.get("migration_scale", 1.0), 0, 10)


def _check_sweep(c: "_Checker", node: Mapping) -> None:
    """sweep.reference (a scenario name or null) and sweep.report (forecast.report.sweep_summaries)."""
    from forecast.report.sweep_summaries import REPORTS

    if node.get("reference") is not None:
        c.text("sweep.reference", node["reference"], hint=" (a member's scenario.name)")
    if node.get("report") is not None:
        c.choice("sweep.report", node["report"], list(REPORTS))


def _check_migration(c: "_Checker", node: Mapping) -> None:
    for key in ("a1", "alpha1", "a2", "alpha2", "mu2", "lambda2", "c"):
        if key in node:
            c.number(f"migration.{key}", node[key], 0)
    if "male_share" in node:
        c.number("migration.male_share", node["male_share"], 0, 1)
    if "years" in node:
        c.whole("migration.years", node["years"], 1)
    if "scale" in node:
        c.number("migration.scale", node["scale"], 0)
    if "national" in node and str(node.get("_target_", "")).endswith("ProvincialTrendMigration"):
        c.choice("migration.national", node["national"], ["zero", "wpp"])
    if node.get("exchange_years") is not None:
        c.number("migration.exchange_years", node["exchange_years"], 1, lo_open=True,
                 what="null or a number of years > 1")
    if node.get("decay_years") is not None:
        c.whole("migration.decay_years", node["decay_years"], 1, what="null or a whole number "
                "of steps >= 1")
    if str(node.get("_target_", "")).endswith("FileMigration"):
        path = node.get("path")
        if path is None or not str(path).strip():
            c.add("migration.path", path, "a CSV of net migrants (region_code, year, "
                  "net_migrants), e.g. migration.path=/plans/net_migrants.csv")
        else:
            _check_optional_file(c, "migration.path", path, None)  # project's data/ folder


#: Standards the demand stage reads (forecast.planning.demand.demand_indicators).
DEMAND_STANDARDS = [
    "childcare.places_per_1000", "childcare.affordable_share",
    "childcare.new_residential.places_per_1000", "childcare.new_residential.m2_per_place",
    "kindergarten.enrolment_target", "kindergarten.public_share",
    "kindergarten.affordable_share", "kindergarten.class_size",
    "kindergarten.teachers_per_class", "kindergarten.care_staff_per_class",
    "kindergarten.toddler_conversion", "subsidy.amount_per_child_per_year"]
DEMAND_TAKE_UP = ["childcare.take_up.realised", "childcare.take_up.willingness"]
#: Standards that are shares, targets or conversion rates: between 0 and 1.
SHARE_NAMES = ("enrolment_target", "toddler_conversion")


def _is_share(name: str) -> bool:
    return name.endswith("_share") or name in SHARE_NAMES


def _check_demand(c: "_Checker", node: Mapping) -> None:
    enabled = c.boolean("demand.enabled", node.get("enabled", False))
    if not enabled:
        return  # the demand stage does not run; its other options are not read
    c.choice("demand.childcare_gap_basis", node.get("childcare_gap_basis", _MISSING), GAP_BASES)
    c.number("demand.surplus_margin", node.get("surplus_margin", _MISSING), 0)
    for key in ("supply_file",):
        if node.get(key) is not None:
            c.text(f"demand.{key}", node[key])
    for path in DEMAND_STANDARDS + DEMAND_TAKE_UP:
        if _get(node, path) is _MISSING:
            c.add(f"demand.{path}", _MISSING, "a standard with value and applies_from (see "
                  "configs/demand/national.yaml)")
    _walk_standards(c, "demand", node)
    plan = _get(node, "childcare.new_residential.new_residents_file")
    if plan is not _MISSING and plan is not None:
        c.text("demand.childcare.new_residential.new_residents_file", plan)
    ages = _get(node, "subsidy.eligible_ages")
    if not (isinstance(ages, list) and ages
            and all(_as_whole(a) is not None and _as_whole(a) in CHILD_AGES for a in ages)):
        c.add("demand.subsidy.eligible_ages", ages, "a list of ages 0-5, e.g. [0, 1, 2]")


def _walk_standards(c: "_Checker", prefix: str, node: Mapping) -> None:
    """Every node with a ``value`` (a standard) or ``rates`` (take-up) under ``node``."""
    for key, child in node.items():
        path = f"{prefix}.{key}"
        if not isinstance(child, Mapping):
            continue
        if "value" in child:
            _check_standard(c, path, str(key), child)
        elif "rates" in child:
            _check_take_up(c, path, child)
        else:
            _walk_standards(c, path, child)


def _check_standard(c: "_Checker", path: str, name: str, node: Mapping) -> None:
    value = node["value"]
    if name == "class_size":
        c.whole(f"{path}.value", value, 1, what="a whole number of children >= 1")
    elif _is_share(name):
        c.number(f"{path}.value", value, 0, 1, what="a share from 0 to 1")
    elif name.endswith("per_1000"):
        c.number(f"{path}.value", value, 0, 1000)
    else:
        c.number(f"{path}.value", value, 0)
    c.whole(f"{path}.applies_from", node.get("applies_from", _MISSING),
            what="a whole-number year")


def _check_take_up(c: "_Checker", path: str, node: Mapping) -> None:
    rates = node["rates"]
    if not isinstance(rates, Mapping) or not rates:
        c.add(f"{path}.rates", rates, "a mapping of age (0-5) -> take-up rate from 0 to 1, "
              "e.g. {0: 0.06, 1: 0.06, 2: 0.06}")
    else:
        for age, rate in rates.items():
            whole_age = _as_whole(age)
            if whole_age is None or whole_age not in CHILD_AGES:
                c.add(f"{path}.rates", age, "ages 0-5 as keys")
            c.number(f"{path}.rates.{age}", rate, 0, 1, what="a take-up rate from 0 to 1")
    c.whole(f"{path}.applies_from", node.get("applies_from", _MISSING),
            what="a whole-number year")


def _check_backtest(c: "_Checker", conf: dict, seed) -> None:
    spec = c.mapping("backtest", conf.get("backtest", _MISSING))
    if spec is None:
        return
    first = c.whole("backtest.first_origin", spec.get("first_origin", _MISSING),
                    what="a whole-number year")
    last = c.whole("backtest.last_origin", spec.get("last_origin", _MISSING),
                   what="a whole-number year")
    if first is not None and last is not None and last < first:
        c.add("backtest.last_origin", last, f"a year no earlier than backtest.first_origin "
              f"({first})")
    c.whole("backtest.max_horizon", spec.get("max_horizon", _MISSING), 1)
    c.whole("backtest.draws", spec.get("draws", _MISSING), 1)
    c.boolean("backtest.births", spec.get("births", True))
    regions = spec.get("regions")
    if regions is not None and not (isinstance(regions, list) and regions
                                    and all(isinstance(r, str) and r for r in regions)):
        c.add("backtest.regions", regions, "null (every WPP region) or a list of WPP region "
              "codes, e.g. [JPN, KOR]")
    _check_folder(c, "backtest.data_dir", spec.get("data_dir"))
    options = {p.stem: p for p in (Path(CONFIG_DIR) / "fertility").glob("*.yaml")}
    models = spec.get("models", _MISSING)
    if not (isinstance(models, list) and models):
        c.add("backtest.models", models, "a list of fertility options, e.g. [bayes, rw_drift]")
        models = []
    for name in models:
        if not isinstance(name, str) or name not in options:
            c.add("backtest.models", name, "one of " + ", ".join(sorted(options)))
        elif _target_of(options[name]).endswith("ConstantFertility"):
            c.add("backtest.models", name, "a model that forecasts TFR (not constant)")
    overrides = spec.get("overrides")
    if overrides is not None:
        overrides = c.mapping("backtest.overrides", overrides)
        for name, node in (overrides or {}).items():
            node = c.mapping(f"backtest.overrides.{name}", node)
            if node is not None:
                _check_fertility(c, f"backtest.overrides.{name}", node, seed)


# --------------------------------------------------------------------------- memory

def _check_compute(c: "_Checker", compute: Mapping) -> None:
    """configs/compute/*.yaml: how county-level units are run."""
    c.choice("compute.engine", compute.get("engine", "memory"), ["memory", "dask"])
    draws = compute.get("county_draws", "auto")
    if draws not in ("auto", True, False):
        c.add("compute.county_draws", draws, "auto, true or false")
    elif draws is True and compute.get("engine") == "dask":
        c.add("compute.county_draws", draws, "auto or false with engine dask (Dask runs the "
              "county blocks)")
    c.number("compute.block_mib", compute.get("block_mib", 24), lo=0, lo_open=True)
    c.whole("compute.workers", compute.get("workers", 2), lo=1)
    address = compute.get("address")
    if address is not None:
        c.text("compute.address", address, " such as tcp://10.0.0.5:8786, or null for a "
               "LocalCluster")


def _estimate(conf: dict) -> MemoryEstimate:
    if conf.get("task", "project") == "backtest":
        spec = conf["backtest"]
        # one WPP region per projection, from the quinquennial year before the origin
        years = _as_whole(spec["max_horizon"]) + 5
        draws = _as_whole(spec["draws"])
        return MemoryEstimate(1, years, draws, OVERHEAD_MCMC_BYTES,
                              _posterior_bytes(spec.get("overrides", {}).get("bayes") or {},
                                               draws) if "bayes" in spec["models"] else 0)
    data, fertility = conf["data"], conf["fertility"]
    regions = _regions(data, conf.get("compute") or {})
    base = _as_whole(data["base_year"])
    years = _as_whole(conf["horizon"]) - base + 1
    draws = _as_whole(fertility.get("draws", 1))
    mcmc = "samples" in fertility or "nuts_sampler" in fertility
    return MemoryEstimate(regions, years, draws, OVERHEAD_MCMC_BYTES if mcmc else OVERHEAD_BYTES,
                          _posterior_bytes(fertility, draws) if mcmc else 0)


def _posterior_bytes(node: Mapping, draws: int) -> int:
    """The MCMC's posterior: chains x draws per chain (as HierarchicalTFR.fit)."""
    chains = max(_as_whole(node.get("chains", 2)) or 1, 1)
    per_chain = max(_as_whole(node.get("samples", 2000)) or 0, -(-draws // chains))
    return chains * per_chain * POSTERIOR_DRAW_BYTES


def _regions(data: Mapping, compute: Mapping) -> int:
    target = str(data.get("_target_", ""))
    if target.endswith("load_wpp"):
        return 1
    codes = _census_codes(_folder(data.get("data_dir")))
    provinces = 1 + len(codes - {"000000"}) if codes else CENSUS_REGIONS
    if not target.endswith("load_china_counties"):
        return provinces
    one = data.get("province") is not None or data.get("prefecture") is not None
    kept = compute.get("county_draws", "auto")
    if kept is True or (kept == "auto" and one and compute.get("engine", "memory") == "memory"):
        # a county run keeping every draw adds one province's units and prefectures
        return provinces + _county_units(data)
    # counties projected in blocks: a block's state (compute.block_mib) and the largest
    # province's indicator draws (14 of the 202 values of a region's population)
    return provinces + -(-MAX_COUNTY_UNITS * 14 // 202)


def _county_units(data: Mapping) -> int:
    """County-level and prefecture rows of the county run's province in the census region
    table (:data:`MAX_COUNTY_UNITS` when they cannot be counted cheaply)."""
    code = data.get("province") or (str(data.get("prefecture") or "")[:2] + "0000")
    path = (_folder(data.get("data_dir")) or DATA_DIR) / str(data.get("regions_file", ""))
    try:
        with open(path, encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
    except (OSError, ValueError, csv.Error):
        return MAX_COUNTY_UNITS
    name = next((r.get("province") for r in rows if r.get("region_code") == str(code)), None)
    count = sum(1 for r in rows if r.get("province") == name
                and r.get("level") in ("county", "prefecture"))
    return count or MAX_COUNTY_UNITS


def _memory_problem(conf: dict, estimate: MemoryEstimate, available: int
                    ) -> tuple[str, Any, str]:
    if conf.get("task", "project") == "backtest":
        option, other = "backtest.draws", "backtest.max_horizon"
        value = conf["backtest"]["draws"]
    elif estimate.draws > 1:
        option, other, value = "fertility.draws", "horizon", conf["fertility"]["draws"]
    else:
        option, other, value = "horizon", None, conf["horizon"]
    tail = (" (data.regions does not help: the nation and every province are projected)"
            if estimate.regions > 1 else "")
    lower = f"lower {option}" + (f" or {other}" if other else "")
    return (option, value, f"a run that fits in memory: it needs {estimate} but "
            f"{available / GIB:.1f} GiB is available; {lower}{tail}")


def _cgroup_room() -> int | None:
    """Room left under a cgroup v2 memory limit, if one is set."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        return max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


# --------------------------------------------------------------------------- helpers

_census_cache: dict[Path, frozenset[str]] = {}


def _census_codes(data_dir: Path | None) -> frozenset[str]:
    """Region codes of the census table (first column), or empty if it cannot be read."""
    path = (data_dir or DATA_DIR) / CENSUS_FILE
    if path not in _census_cache:
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                reader = csv.reader(fh)
                column = next(reader).index("region_code")
                codes = {row[column].strip() for row in reader if len(row) > column}
            _census_cache[path] = frozenset(c for c in codes if _region_code(c) is not None)
        except (OSError, ValueError, StopIteration, UnicodeDecodeError):
            return frozenset()
    return _census_cache[path]


def _region_code(code) -> str | None:
    """``code`` as 6 digits, or None."""
    if isinstance(code, bool):
        return None
    if isinstance(code, int) and 100000 <= code <= 999999:
        return str(code)
    if isinstance(code, str) and len(code) == 6 and code.isdigit():
        return code
    return None


def _folder(value) -> Path | None:
    return Path(value) if isinstance(value, str) and value else None


def _check_folder(c: "_Checker", name: str, value) -> Path | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        c.add(name, value, "null or the path of a folder")
        return None
    if not Path(value).is_dir():
        c.add(name, value, "null or an existing folder")
        return None
    return Path(value)


def _target_of(path: Path) -> str:
    try:
        return str(OmegaConf.load(path).get("_target_", ""))
    except Exception:  # noqa: BLE001 - reported by the backtest itself
        return ""


def _get(node: Mapping, dotted: str):
    for key in dotted.split("."):
        if not isinstance(node, Mapping) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _as_whole(value) -> int | None:
    """``value`` as an int if it is a whole number (int or integral float), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


def _as_number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _shown(value) -> str:
    if value is _MISSING:
        return "nothing"
    if value is None:
        return "null"
    return repr(value)


class _Checker:
    """Collects problems, one line each."""

    def __init__(self):
        self.problems: list[str] = []

    def add(self, name: str, got, expected: str) -> None:
        self.problems.append(f"config, {name}: got {_shown(got)}; expected {expected}.")

    def whole(self, name, value, lo=None, hi=None, what=None) -> int | None:
        number = _as_whole(value)
        if number is None or (lo is not None and number < lo) or (hi is not None and number > hi):
            if what is None:
                what = "a whole number"
                if lo is not None and hi is not None:
                    what += f" from {lo} to {hi}"
                elif lo is not None:
                    what += f" >= {lo}"
            self.add(name, value, what)
            return None
        return number

    def number(self, name, value, lo=None, hi=None, lo_open=False, hi_open=False,
               what=None) -> float | None:
        number = _as_number(value)
        bad = (number is None
               or (lo is not None and (number < lo or (lo_open and number == lo)))
               or (hi is not None and (number > hi or (hi_open and number == hi))))
        if bad:
            if what is None:
                parts = []
                if lo is not None:
                    parts.append(f"{'>' if lo_open else '>='} {lo:g}")
                if hi is not None:
                    parts.append(f"{'<' if hi_open else '<='} {hi:g}")
                what = "a number" + (" " + " and ".join(parts) if parts else "")
            self.add(name, value, what)
            return None
        return number

    def choice(self, name, value, options) -> None:
        if not (isinstance(value, str) and value in options):
            self.add(name, value, "one of " + ", ".join(options))

    def text(self, name, value, hint="") -> None:
        if not (isinstance(value, str) and value.strip()):
            self.add(name, value, "a non-empty text" + hint)

    def boolean(self, name, value) -> bool | None:
        if not isinstance(value, bool):
            self.add(name, value, "true or false")
            return None
        return value

    def mapping(self, name, value) -> Mapping | None:
        if not isinstance(value, Mapping):
            self.add(name, value, "a group of options")
            return None
        return value
