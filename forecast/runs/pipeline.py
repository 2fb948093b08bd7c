"""One run: configuration in, files out. ``run(cfg, out_dir)`` is what the CLI calls."""

from __future__ import annotations

import logging
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import get_class, instantiate
from omegaconf import DictConfig, OmegaConf

from forecast.core.errors import InputError
from forecast.core.paths import DATA_DIR
from forecast.core.registry import QUANTILES
from forecast.core.run_files import SUPPLY_TEMPLATE_CSV, VERSION, run_header, utc_now
from forecast.data import load_new_residents, load_supply
from forecast.demography.population_stream import population_total, young_population
from forecast.models.fertility.trajectory import TfrTrajectoryFertility
from forecast.models.protocols import FertilityModel, MigrationModel, MortalityModel
from forecast.planning.county_demand import CountyDemand
from forecast.planning.demand import DEMAND_OPTIONS, demand_indicators
from forecast.planning.supply import (basis_table, supply_by_year, supply_options,
                                      supply_template)
from forecast.planning.indicators import (check_quantile_order, county_table,
                                          county_wide_table, ordered,
                                          planner_indicators, region_names, rounded_long,
                                          rounded_wide, summary_table, wide_table)
from forecast.projection.census_backtest import census_backtest
from forecast.projection.evaluate import backtest, summarise
from forecast.projection.observed_check import (life_expectancy_summary, observed_comparison,
                                                official_tfr_summary,
                                                provincial_comparison)
from forecast.projection.project import checked_horizon, project_inputs
from forecast.projection.scenario import Scenario
from forecast.regions.county_engine import Compute
from forecast.runs.config_check import check_config, estimate_memory
from forecast.runs.config_groups import group_node, group_options
from forecast.runs.run_options import BACKTEST_OPTIONS, CALIBRATION_OPTIONS, option
from forecast.runs.result import BacktestResult, Result, TableResult
from forecast.runs.run_folder import RunFolder

log = logging.getLogger(__name__)


def run(cfg: DictConfig, out_dir: Path, overrides: list[str] | None = None,
        sweep_member: bool = False) -> list[Path]:
    """Run ``cfg.task``: ``project`` (:func:`run_projection`) or ``backtest``
    (:func:`run_backtest`) and publish its files in ``out_dir``; a projection that is a
    member of a sweep also writes the draws of its key indicators (:mod:`forecast.runs.sweep`).

    The run folder is checked (and its staging folder created) before any work; nothing
    is written unless every stage succeeds (:class:`forecast.runs.run_folder.RunFolder`)."""
    check_config(cfg)  # every option (task, output.projection, ...) and the memory needed
    started = time.perf_counter()
    with RunFolder(out_dir, needed_bytes=output_bytes(cfg)) as folder:
        written = folder.publish(run_config(cfg, overrides, sweep_member=sweep_member).files())
    log.info("Wrote %s in %.1f s", ", ".join(str(p) for p in written),
             time.perf_counter() - started)
    return written


def run_config(cfg: DictConfig, overrides: list[str] | None = None,
               sweep_member: bool = False) -> Result | BacktestResult:
    """The run of a checked ``cfg`` in memory: :func:`run_projection` or
    :func:`run_backtest`, by ``cfg.task``."""
    if option(cfg, "task") == "backtest":
        return run_backtest(cfg, overrides)
    if option(cfg, "task") == "supply_template":
        return run_supply_template(cfg, overrides)
    return run_projection(cfg, overrides, sweep_member=sweep_member)


def run_supply_template(cfg: DictConfig, overrides: list[str] | None = None) -> TableResult:
    """``supply_template.csv``: every unit of the data (a county run: its provinces, their
    prefectures and county-level units; else the nation and the provinces) with its code,
    Chinese name and level, and the supply table's columns empty, for the base year."""
    started_at = utc_now()
    inputs = instantiate(cfg.data)
    names = dict(zip((str(r) for r in inputs["region"].values),
                     (str(n) for n in inputs["region_name"].values)))
    if inputs.has_counties:
        units = [(code, names[code], "province") for code in inputs.counties_of]
        units += [(str(c), str(n), "prefecture") for c, n in inputs.prefectures.items()]
        units += [(str(c), str(n), "county") for c, n in zip(inputs["county"].values,
                                                            inputs["county_name"].values)]
    else:
        units = [(code, name, "nation" if code == inputs.nation else "province")
                 for code, name in names.items()]
    table = supply_template(units, int(inputs.base_year))
    log.info("Supply template: %d units", len(table))
    return TableResult({SUPPLY_TEMPLATE_CSV: table}, {
        **run_header("supply_template", _plain(cfg), overrides, started_at),
        "units": int(len(table))})


def output_bytes(cfg: DictConfig) -> int:
    """A generous estimate of the size of a run's files (bytes), for the free-space check:
    projection.nc holds (region, sex, age, year) for every stored draw or quantile."""
    if option(cfg, "task") != "project":
        return 10 * 2**20
    size = estimate_memory(cfg)
    stored = size.draws if cfg.output.projection == "draws" else len(QUANTILES)
    return int(1.5 * size.array_bytes / size.draws * stored) + 20 * 2**20


def run_projection(cfg: DictConfig, overrides: list[str] | None = None,
                   sweep_member: bool = False) -> Result:
    """Load, project and summarise: the :class:`Result` whose files are ``forecast.csv``,
    ``demand.csv``, ``projection.nc``, ``posterior.nc`` (Bayesian fertility only),
    ``figures/`` (unless ``plots=false``), ``indicator_draws.nc`` (members of a sweep) and
    ``run.json``."""
    started = time.perf_counter()
    started_at = utc_now()
    log.info("Loading data (%s)", cfg.data._target_)
    inputs = instantiate(cfg.data)
    _log_provinces(inputs)
    horizon = checked_horizon(inputs, cfg.horizon)
    years = np.arange(int(inputs.base_year), horizon + 1)
    demand_inputs = _demand_inputs(cfg, _planning_units(inputs), years)
    fertility, mortality, migration = (_model(cfg, kind) for kind in MODELS)
    scenario = Scenario.from_config(cfg.get("scenario"))
    log.info("Scenario %s", scenario.describe())
    compute = Compute.from_config(cfg.get("compute"))
    county_demand = (CountyDemand(demand_inputs["standards"], demand_inputs["supply"], years)
                     if demand_inputs is not None and inputs.has_counties else None)
    projection = project_inputs(inputs, fertility, mortality, migration, cfg.horizon,
                                level_years=level_years(cfg), scenario=scenario,
                                dtype=str(option(cfg, "precision")), compute=compute,
                                county_extra=county_demand,
                                population_quantiles=_streamed_quantiles(cfg))
    counties = projection.get("county_summary")
    if counties is not None:  # counties in blocks: their quantiles only
        projection = _without_county_summary(projection)
    projection = projection.assign_attrs(scenario=scenario.name,
                                         source=inputs.description,
                                         data_sha256=inputs.data_sha256,
                                         forecast_version=VERSION)
    if not bool(projection["population"].notnull().all()):
        raise ValueError("the projection produced missing population values; nothing written")
    indicators = planner_indicators(projection)
    names = region_names(projection)
    demand_table = None
    if demand_inputs is not None:
        demand = demand_indicators(young_population(projection).sum("sex", skipna=False),
                                   total=population_total(projection), **demand_inputs)
        bounds = ("childcare_gap", "kindergarten_gap")
        demand_table = wide_table({k: indicators[k] for k in POPULATION_COLUMNS} | demand,
                                  names, bounds=bounds)
        if counties is not None:  # counties in blocks: from their summaries
            demand_table = pd.concat([demand_table, county_wide_table(
                counties, [*POPULATION_COLUMNS, *county_demand.names], bounds)],
                ignore_index=True)
        demand_table = rounded_wide(demand_table)
        if demand_inputs["supply"] is not None:
            demand_table = demand_table.merge(basis_table(demand_inputs["supply"]),
                                              on=["region_code", "year"], how="left")
        indicators |= demand
    table = summary_table(indicators, scenario.name, names)
    if counties is not None:
        table = ordered(pd.concat([table, county_table(counties, scenario.name)]),
                        list(indicators))
    check_quantile_order(table)
    unknown = [str(u) for u in option(cfg, "plot_units") or [] if str(u) not in
               set(table["region_code"])]
    if unknown:
        raise InputError(f"config, plot_units: got {', '.join(unknown)}; expected codes of "
                         "the run's regions, prefectures or county-level units (forecast.csv's "
                         "region_code)")
    metadata = {
        **run_header("project", _plain(cfg), overrides, started_at),
        "data": {"description": inputs.description,
                 "sha256": inputs.data_sha256,
                 "files": [_relative(p) for p in inputs.source_files],
                 "base_year": inputs.base_year,
                 "last_observed_year": inputs.last_observed_year,
                 "jump_off_year": projection.attrs["jump_off_year"]},
        "fertility_diagnostics": fertility.diagnostics,
        "mortality_diagnostics": mortality.diagnostics,
        "migration_diagnostics": migration.diagnostics,
        "observed_years": observed_comparison(projection, inputs, inputs.nation),
        "official_tfr": official_tfr_summary(inputs),
        "young_ages": list(inputs.young_ages_report),
        "sex_ratio_at_birth_census": _census_sex_ratio(inputs),
        "provinces": {"history": list(inputs.provincial_report),
                      "fertility_dynamics": dict(inputs.provincial_dynamics),
                      "observed_years": provincial_comparison(projection, inputs)},
        "life_expectancy_at_birth": life_expectancy_summary(
            projection, sorted({int(projection.attrs["jump_off_year"]), 2035, int(cfg.horizon)})),
        "counties": _counties_summary(inputs, counties, compute),
        "projection": {"regions": int(projection.sizes["region"]),
                       "draws": int(projection.sizes["draw"]),
                       "stored": cfg.output.projection,
                       # the population by sex and age taken over draws as it was projected
                       "population_streamed": "draw" not in projection["population"].dims,
                       "horizon": int(cfg.horizon),
                       "migration_clamped_persons": float(projection["migration_clamped"].sum())},
        "python": platform.python_version(),
    }
    return Result(projection=projection, forecast=rounded_long(table), demand=demand_table,
                  posterior=fertility.posterior, config=_plain(cfg), metadata=metadata,
                  indicators=indicators, inputs=inputs, sweep_member=sweep_member,
                  started=started)


#: The model each component's config group names, and the Protocol it must meet.
MODELS = {"fertility": FertilityModel, "mortality": MortalityModel, "migration": MigrationModel}


def _without_county_summary(projection):
    """``projection`` without ``county_summary`` and its dims (its ``quantile`` stays where
    a streamed population has it too)."""
    projection = projection.drop_vars("county_summary")
    used = {d for v in projection.data_vars.values() for d in v.dims}
    return projection.drop_dims([d for d in ("unit", "indicator", "quantile") if d not in used])


def _streamed_quantiles(cfg: DictConfig) -> list[float] | None:
    """The quantiles a projection keeps of the population by sex and age, streaming it
    (:func:`forecast.demography.ccmpp.project`): those of projection.nc, unless it keeps
    every draw (``output.projection=draws``)."""
    return None if cfg.output.projection == "draws" else list(QUANTILES.values())


def _model(cfg: DictConfig, kind: str):
    """The model of ``cfg[kind]``, checked against its Protocol."""
    model = instantiate(cfg[kind])
    if not isinstance(model, MODELS[kind]):
        raise InputError(f"config, {kind}._target_: got {cfg[kind]._target_!r}; expected a "
                         f"{kind} model ({MODELS[kind].__name__} in forecast/models/protocols.py).")
    return model


def _counties_summary(inputs, counties, compute: Compute) -> dict | None:
    """run.json's account of the county-level units (None when there are none)."""
    if "county_population" not in inputs:
        return None
    return {"units": int(inputs.sizes["county"]),
            "provinces": list(inputs.counties_of),
            "draws_kept": counties is None,
            "engine": "memory" if counties is None else compute.engine,
            "block_mib": None if counties is None else compute.block_mib,
            "address": compute.address if counties is not None else None,
            "fertility_level_weight_median": round(float(
                inputs["county_fertility_weight"].median()), 4)
            if "county_fertility_weight" in inputs else None,
            "migration_fit": {str(k): round(float(v), 6) for k, v in
                              inputs["county_migration_fit"].to_series().items()}
            if "county_migration_fit" in inputs else None}


def _log_provinces(inputs) -> None:
    """One line on where the provinces' fertility levels and migration history come from."""
    report = inputs.provincial_report
    if not report:
        return
    census = sum(r["fertility_method"].startswith("census") for r in report)
    steps = inputs["province_net_migration"]["migration_step"].values
    log.info("Provinces: fertility levels of %d from published births, %d from the census; "
             "net migration estimated for the steps %d-%d", len(report) - census, census,
             steps.min(), steps.max())


def level_years(cfg: DictConfig) -> dict[str, int]:
    """Years whose mean calibration factor the forecast keeps (config ``calibration``)."""
    node = cfg.get("calibration")
    return {kind: int(CALIBRATION_OPTIONS.value(node, f"{kind}_level_years"))
            for kind in ("fertility", "mortality")}


#: The population columns of demand.csv before the demand indicators.
POPULATION_COLUMNS = ("population", "population_0_2", "population_3_5")


def _planning_units(inputs) -> list[str]:
    """Codes a supply or plan table may name: the projection's regions, and in a county
    run its prefectures and county-level units."""
    codes = [str(r) for r in inputs["region"].values]
    if inputs.has_counties:
        codes += [str(c) for c in inputs.prefectures] + [str(c) for c in inputs["county"].values]
    return codes


def _census_sex_ratio(inputs) -> dict:
    """Region code -> the census's sex ratio of infants (boys per 100 girls) with its
    sampling sd and 95 % interval; empty where the data have none."""
    if "census_sex_ratio_at_birth" not in inputs:
        return {}
    ratio, sd = inputs["census_sex_ratio_at_birth"], inputs["census_sex_ratio_at_birth_sd"]
    return {str(code): {"ratio": round(float(r), 3), "sd": round(float(e), 3),
                        "lower_95": round(float(r - 1.96 * e), 3),
                        "upper_95": round(float(r + 1.96 * e), 3)}
            for code, r, e in zip(ratio["region"].values, ratio.values, sd.values)}


def _demand_inputs(cfg: DictConfig, regions: list[str], years: np.ndarray) -> dict | None:
    """Standards, supply in each of ``years`` and planned new residents for the demand stage
    (None if disabled); read before the projection so that bad tables stop the run early."""
    node = cfg.get("demand")
    if node is None or not DEMAND_OPTIONS.value(node, "enabled"):
        return None
    standards = OmegaConf.to_container(node, resolve=True)
    data_dir = cfg.data.get("data_dir")
    supply = None
    if node.get("supply_file"):
        table = load_supply(node.supply_file, regions, data_dir, last_year=int(years[-1]))
        supply = supply_by_year(table, years, **supply_options(node))
    plan = node.childcare.new_residential.get("new_residents_file")
    new_residents = load_new_residents(plan, regions, data_dir) if plan else None
    return {"standards": standards, "supply": supply, "new_residents": new_residents}


def _plain(cfg: DictConfig) -> dict:
    """The resolved configuration as plain containers."""
    return OmegaConf.to_container(cfg, resolve=True)


def run_backtest(cfg: DictConfig, overrides: list[str] | None = None) -> BacktestResult:
    """Rolling-origin backtest of the fertility models named in ``cfg.backtest.models``:
    every scored forecast, the summary table and ``run.json``'s content."""
    started = time.perf_counter()
    started_at = utc_now()
    spec = cfg.backtest
    models = {name: _model_factory(cfg, name) for name in spec.models}
    origins = list(range(int(spec.first_origin), int(spec.last_origin) + 1))
    if BACKTEST_OPTIONS.value(spec, "against") == "nbs":
        # mortality and migration draw as many paths as the fertility models
        conf = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
        OmegaConf.update(conf, "fertility.draws", int(spec.draws), force_add=True)
        scores, diagnostics = census_backtest(
            models, origins, int(spec.max_horizon),
            lambda until: instantiate(conf.data, until=until),
            lambda: _model(conf, "mortality"), lambda: _model(conf, "migration"))
    else:
        scores, diagnostics = backtest(models, origins, int(spec.max_horizon),
                                       regions=list(spec.regions) if spec.get("regions")
                                       else None, births=bool(spec.births),
                                       data_dir=spec.get("data_dir"))
    metadata = {**run_header("backtest", _plain(cfg), overrides, started_at),
                "fertility_diagnostics": diagnostics}
    return BacktestResult(scores=scores, summary=summarise(scores), config=_plain(cfg),
                          metadata=metadata, started=started)


def _model_factory(cfg: DictConfig, option: str):
    """A factory of fresh fertility models of option ``option`` of the ``fertility`` group
    (found through Hydra's search path) with the backtest's draws and per-model overrides,
    interpolations resolved against ``cfg``."""
    if option not in group_options("fertility"):
        raise InputError(f"config, backtest.models: got {option!r}; expected one of "
                         f"{group_options('fertility')}.")
    conf = OmegaConf.create(OmegaConf.to_container(cfg, resolve=False))
    OmegaConf.set_struct(conf, False)
    model_cfg = OmegaConf.merge(group_node("fertility", option), {"draws": cfg.backtest.draws},
                                cfg.backtest.get("overrides", {}).get(option, {}))
    OmegaConf.update(conf, "fertility", model_cfg, merge=False)
    target = get_class(conf.fertility._target_)
    if not issubclass(target, TfrTrajectoryFertility):
        raise InputError(f"config, backtest.models: got {option!r}; expected a model that "
                         "forecasts TFR (bayes, rw_drift, arima, ets, constant_tfr).")
    return lambda: instantiate(conf.fertility)

def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(DATA_DIR.parent))
    except ValueError:
        return str(path)
