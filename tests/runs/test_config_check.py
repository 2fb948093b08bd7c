"""The up-front config check: every bad option is refused at once with one InputError line
naming it, before any data are loaded or the MCMC starts; every shipped config passes; the
memory estimate is linear in the draws and refuses runs that cannot fit."""

from __future__ import annotations

import importlib.util
import re
import time
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import forecast.runs.memory as memory
from forecast.runs.config_check import check_config, config_problems, estimate_memory
from forecast.runs.memory import available_memory
from forecast.core.errors import InputError
from forecast.core.paths import CONFIG_DIR

GROUPS = ["data", "fertility", "mortality", "migration", "demand", "experiment"]
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((Path(CONFIG_DIR) / g).glob("*.yaml"))]
FERTILITY = sorted(p.stem for p in (Path(CONFIG_DIR) / "fertility").glob("*.yaml"))
GIB = 2**30
HAS_NUTPIE = importlib.util.find_spec("nutpie") is not None


def _compose(overrides=()):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


def _message(overrides) -> str:
    with pytest.raises(InputError) as info:
        check_config(_compose(overrides))
    return str(info.value)


def _line(message: str, option: str) -> str:
    """The line of ``message`` about ``option``; fail if there is none."""
    for line in message.splitlines():
        if line.startswith(f"config, {option}: got "):
            return line
    pytest.fail(f"no line names {option}:\n{message}")


@pytest.fixture
def plenty_of_memory(monkeypatch):
    """The rules alone, whatever the memory of the machine running the tests."""
    monkeypatch.setattr(memory, "available_memory", lambda: 1024 * GIB)


# --------------------------------------------------------------------------- bad values

PROBES = [
    # (overrides, option named, value shown)
    (["fertility.draws=0"], "fertility.draws", "0"),
    (["fertility.draws=-1"], "fertility.draws", "-1"),
    (["fertility.draws=2.5"], "fertility.draws", "2.5"),
    (["fertility.draws=abc"], "fertility.draws", "'abc'"),
    (["fertility.draws=true"], "fertility.draws", "True"),
    (["fertility.draws=nan"], "fertility.draws", "nan"),
    (["seed=-1"], "seed", "-1"),
    (["seed=1.5"], "seed", "1.5"),
    (["seed=4294967296"], "seed", "4294967296"),
    (["fertility.chains=0"], "fertility.chains", "0"),
    (["fertility.cores=0"], "fertility.cores", "0"),
    (["fertility.samples=0"], "fertility.samples", "0"),
    (["fertility.tune=-1"], "fertility.tune", "-1"),
    (["fertility.target_accept=1"], "fertility.target_accept", "1"),
    (["fertility.target_accept=0"], "fertility.target_accept", "0"),
    (["fertility.nuts_sampler=bogus"], "fertility.nuts_sampler", "'bogus'"),
    (["fertility.progressbar=maybe"], "fertility.progressbar", "'maybe'"),
    (["fertility.window=3"], "fertility.window", "3"),
    (["fertility.dragon_year=maybe"], "fertility.dragon_year", "'maybe'"),
    (["fertility.calendar_regions=TWN"], "fertility.calendar_regions", "'TWN'"),
    (["fertility.calendar_regions=[TWN,TWN]"], "fertility.calendar_regions", "['TWN', 'TWN']"),
    (["fertility.schedule.trend_years=1"], "fertility.schedule.trend_years", "1"),
    (["fertility.schedule.damping=1.5"], "fertility.schedule.damping", "1.5"),
    (["fertility.schedule.max_shift=-1"], "fertility.schedule.max_shift", "-1"),
    (["fertility.schedule.mac_bounds=[34,24]"], "fertility.schedule.mac_bounds", "[34, 24]"),
    (["fertility.schedule.mac_bounds=[5,80]"], "fertility.schedule.mac_bounds", "[5, 80]"),
    (["fertility.schedule.mac_bounds=[24]"], "fertility.schedule.mac_bounds", "[24]"),
    (["fertility.subnational.rho=1"], "fertility.subnational.rho", "1"),
    (["fertility.subnational.sigma=-0.1"], "fertility.subnational.sigma", "-0.1"),
    (["fertility=arima", "fertility.order=[1,1]"], "fertility.order", "[1, 1]"),
    (["fertility=ets", "fertility.draws=0"], "fertility.draws", "0"),
    (["task=bogus"], "task", "'bogus'"),
    (["horizon=abc"], "horizon", "'abc'"),
    (["horizon=2030.5"], "horizon", "2030.5"),
    (["horizon=2020"], "horizon", "2020"),
    (["scenario.name=''"], "scenario.name", "''"),
    (["plots=maybe"], "plots", "'maybe'"),
    (["precision=float16"], "precision", "'float16'"),
    (["compute.engine=spark"], "compute.engine", "'spark'"),
    (["compute.block_mib=0"], "compute.block_mib", "0"),
    (["compute.workers=0"], "compute.workers", "0"),
    (["compute.county_draws=some"], "compute.county_draws", "'some'"),
    (["compute=dask", "compute.county_draws=true"], "compute.county_draws", "True"),
    (["sweep.report=everything"], "sweep.report", "'everything'"),
    (["scenario.name=2030"], "scenario.name", "2030"),
    (["scenario=low", "scenario.shift=five"], "scenario.shift", "'five'"),
    (["scenario=low", "scenario.shift=4"], "scenario.shift", "4"),
    (["scenario=low", "scenario.ramp_years=0"], "scenario.ramp_years", "0"),
    (["scenario=low", "scenario.start=2020"], "scenario.start", "2020"),
    (["scenario=low", "scenario.kind=double"], "scenario.kind", "'double'"),
    (["scenario=korea_path", "scenario.reference=''"], "scenario.reference", "''"),
    (["scenario=migration_half", "scenario.migration_scale=-1"], "scenario.migration_scale",
     "-1"),
    (["output.projection=all"], "output.projection", "'all'"),
    (["data.regions=440000"], "data.regions", "440000"),
    (["data.regions=[4400]"], "data.regions", "4400"),
    (["data.regions=[990000]"], "data.regions", "990000"),
    (["data.base_year=2020.5"], "data.base_year", "2020.5"),
    (["data.until=abc"], "data.until", "'abc'"),
    (["data.data_dir=/no/such/folder"], "data.data_dir", "'/no/such/folder'"),
    (["data=wpp", "data.region=123"], "data.region", "123"),
    (["data=wpp", "data.base_year=null"], "data.base_year", "null"),
    (["migration=wpp", "migration.male_share=2"], "migration.male_share", "2"),
    (["migration.years=0"], "migration.years", "0"),
    (["migration.scale=-0.5"], "migration.scale", "-0.5"),
    (["migration.national=un"], "migration.national", "'un'"),
    (["migration.exchange_years=1"], "migration.exchange_years", "1"),
    (["data.province_migrants_file=none.csv"], "data.province_migrants_file", "'none.csv'"),
    (["migration.decay_years=-3"], "migration.decay_years", "-3"),
    (["migration=file"], "migration.path", "null"),
    (["migration=file", "migration.path=nowhere.csv"], "migration.path", "'nowhere.csv'"),
    (["data.province_observed_file=missing.csv"], "data.province_observed_file", "'missing.csv'"),
    (["data.provincial.factor_years=0"], "data.provincial.factor_years", "0"),
    (["data.provincial.factor_trend=maybe"], "data.provincial.factor_trend", "'maybe'"),
    (["data.provincial.migration_from=2010.5"], "data.provincial.migration_from", "2010.5"),
    (["demand.enabled=yes"], "demand.enabled", "'yes'"),
    (["demand.childcare_gap_basis=bogus"], "demand.childcare_gap_basis", "'bogus'"),
    (["demand.surplus_margin=-0.1"], "demand.surplus_margin", "-0.1"),
    (["demand.kindergarten.class_size.value=0"], "demand.kindergarten.class_size.value", "0"),
    (["demand.kindergarten.class_size.value=2.5"], "demand.kindergarten.class_size.value", "2.5"),
    (["demand.childcare.places_per_1000.value=-1"], "demand.childcare.places_per_1000.value", "-1"),
    (["demand.childcare.places_per_1000.value=inf"], "demand.childcare.places_per_1000.value",
     "inf"),
    (["demand.kindergarten.public_share.value=1.5"], "demand.kindergarten.public_share.value",
     "1.5"),
    (["demand=guangdong", "demand.kindergarten.affordable_share.value=-0.2"],
     "demand.kindergarten.affordable_share.value", "-0.2"),
    (["demand.childcare.affordable_share.value=2"], "demand.childcare.affordable_share.value",
     "2"),
    (["demand.kindergarten.enrolment_target.value=1.2"],
     "demand.kindergarten.enrolment_target.value", "1.2"),
    (["demand.kindergarten.toddler_conversion.value=-0.1"],
     "demand.kindergarten.toddler_conversion.value", "-0.1"),
    (["demand.kindergarten.teachers_per_class.value=-1"],
     "demand.kindergarten.teachers_per_class.value", "-1"),
    (["demand.kindergarten.care_staff_per_class.value=abc"],
     "demand.kindergarten.care_staff_per_class.value", "'abc'"),
    (["demand.subsidy.amount_per_child_per_year.value=-5"],
     "demand.subsidy.amount_per_child_per_year.value", "-5"),
    (["demand.childcare.new_residential.m2_per_place.value=-12"],
     "demand.childcare.new_residential.m2_per_place.value", "-12"),
    (["demand.kindergarten.class_size.applies_from=2016.5"],
     "demand.kindergarten.class_size.applies_from", "2016.5"),
    (["demand.subsidy.eligible_ages=[0,7]"], "demand.subsidy.eligible_ages", "[0, 7]"),
    (["demand.subsidy.eligible_ages=3"], "demand.subsidy.eligible_ages", "3"),
    (["demand.childcare.take_up.realised.rates={0: 1.5, 1: 0.06, 2: 0.06}"],
     "demand.childcare.take_up.realised.rates.0", "1.5"),
    (["demand.childcare.take_up.willingness.applies_from=soon"],
     "demand.childcare.take_up.willingness.applies_from", "'soon'"),
    (["~demand.kindergarten.class_size"], "demand.kindergarten.class_size", "nothing"),
    (["experiment=tfr_backtest", "backtest.draws=0"], "backtest.draws", "0"),
    (["experiment=tfr_backtest", "backtest.max_horizon=0"], "backtest.max_horizon", "0"),
    (["experiment=tfr_backtest", "backtest.last_origin=1999"], "backtest.last_origin", "1999"),
    (["experiment=tfr_backtest", "backtest.models=[bayes,foo]"], "backtest.models", "'foo'"),
    (["experiment=tfr_backtest", "backtest.models=[constant]"], "backtest.models", "'constant'"),
    (["experiment=tfr_backtest", "backtest.models=[]"], "backtest.models", "[]"),
    (["experiment=tfr_backtest", "backtest.births=1"], "backtest.births", "1"),
    (["experiment=tfr_backtest", "backtest.regions=JPN"], "backtest.regions", "'JPN'"),
    (["experiment=tfr_backtest_smoke", "backtest.overrides.bayes.chains=0"],
     "backtest.overrides.bayes.chains", "0"),
    (["experiment=tfr_backtest_smoke", "seed=-1"], "seed", "-1"),
]


@pytest.mark.parametrize("overrides, option, shown", PROBES,
                         ids=[" ".join(p[0]) for p in PROBES])
def test_a_bad_value_is_refused_naming_the_option(overrides, option, shown, plenty_of_memory):
    line = _line(_message(overrides), option)
    assert f"got {shown}; expected " in line and line.endswith(".")


def test_the_message_has_the_documented_form():
    message = _message(["fertility.draws=2.5"])
    assert message == "config, fertility.draws: got 2.5; expected a whole number >= 1."


def test_every_problem_is_listed_at_once(plenty_of_memory):
    message = _message(["fertility.draws=0", "seed=-1", "fertility.chains=0",
                        "fertility.nuts_sampler=bogus", "demand.childcare_gap_basis=bogus",
                        "data.regions=440000", "demand.kindergarten.class_size.value=0"])
    for option in ("fertility.draws", "seed", "fertility.chains", "fertility.nuts_sampler",
                   "demand.childcare_gap_basis", "data.regions",
                   "demand.kindergarten.class_size.value"):
        _line(message, option)
    assert len(message.splitlines()) == 7  # ${seed} in fertility.random_seed: reported once


def test_nutpie_only_when_it_is_installed(plenty_of_memory):
    problems = config_problems(_compose(["fertility.nuts_sampler=nutpie"]))
    if HAS_NUTPIE:
        assert problems == []
    else:
        assert "pip install nutpie" in _line("\n".join(problems), "fertility.nuts_sampler")


def test_whole_numbers_accept_integral_floats(plenty_of_memory):
    assert config_problems(_compose(["fertility.draws=1e3", "seed=4294967295",
                                     "horizon=2030.0"])) == []


def test_an_explicit_fertility_seed_is_checked(plenty_of_memory):
    _line(_message(["fertility.random_seed=-5"]), "fertility.random_seed")


def test_unknown_take_up_ages_and_required_standards(plenty_of_memory):
    cfg = _compose()
    OmegaConf.set_struct(cfg, False)
    cfg.demand.childcare.take_up.realised.rates = {0: 0.1, 9: 0.1}
    del cfg.demand.subsidy.amount_per_child_per_year
    message = str(pytest.raises(InputError, check_config, cfg).value)
    assert "ages 0-5" in _line(message, "demand.childcare.take_up.realised.rates")
    _line(message, "demand.subsidy.amount_per_child_per_year")


def test_a_disabled_demand_stage_is_not_checked(plenty_of_memory):
    cfg = _compose(["demand.enabled=false", "demand.kindergarten.class_size.value=0"])
    assert config_problems(cfg) == []


def test_the_check_runs_before_anything_else_in_the_pipeline(tmp_path):
    from forecast.runs.pipeline import run

    out = tmp_path / "out"
    with pytest.raises(InputError, match="fertility.draws"):
        run(_compose(["fertility.draws=0"]), out)
    assert not out.exists()


# --------------------------------------------------------------------------- shipped configs

@pytest.mark.parametrize("group, option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_shipped_option_passes(group, option, plenty_of_memory, tmp_path):
    extra = []
    if (group, option) == ("migration", "file"):  # a user's table: the option needs its path
        table = tmp_path / "net_migrants.csv"
        table.write_text("region_code,year,net_migrants\n110000,2020,-1000\n", encoding="utf-8")
        extra = [f"migration.path={table}"]
    check_config(_compose([f"{group}={option}", *extra]))


@pytest.mark.parametrize("fertility", FERTILITY)
@pytest.mark.parametrize("data", ["china_census", "wpp"])
def test_every_fertility_option_passes_with_every_data_option(data, fertility, plenty_of_memory):
    check_config(_compose([f"data={data}", f"fertility={fertility}"]))


def test_the_readme_examples_pass(plenty_of_memory):
    for overrides in (["horizon=2030"], ["migration=wpp"], ["data.regions=[440000,500000]"],
                      ["data=wpp", "data.region=JPN", "data.base_year=2015"],
                      ["data=wpp", "data.region=KOR", "data.base_year=2010", "data.until=2010",
                       "horizon=2020"],
                      ["fertility.draws=2000", "output.projection=draws"],
                      ["demand=guangdong"], ["demand.subsidy.amount_per_child_per_year.value=5000"],
                      ["scenario.name=plan_b"], ["scenario=high"],
                      ["scenario=policy_effect", "scenario.shift=0.1"]):
        assert config_problems(_compose(overrides)) == [], overrides


def test_the_default_run_fits_a_modest_machine():
    assert estimate_memory(_compose()).gib < 8


def test_the_check_is_fast():
    cfg = _compose()
    started = time.perf_counter()
    for _ in range(5):
        config_problems(cfg)
    assert (time.perf_counter() - started) / 5 < 0.25


# --------------------------------------------------------------------------- memory

def _estimate(*overrides):
    return estimate_memory(_compose(["fertility=rw_drift", *overrides]))


def test_the_memory_estimate_is_linear_in_draws():
    b1, b2, b3 = (_estimate(f"fertility.draws={d}").bytes for d in (1000, 2000, 3000))
    assert b2 > b1 and abs((b3 - b2) - (b2 - b1)) <= 1
    one = _estimate("fertility.draws=1000")
    assert one.array_bytes == 32 * 2 * 101 * 16 * 1000 * 8  # 2020-2035: 16 years
    assert (b2 - b1) == pytest.approx(one.arrays * one.array_bytes, abs=1)


def test_a_streamed_run_is_counted_below_one_keeping_every_draw():
    """The default streams the population and rates: counted as about one array, not the
    four a run keeping every draw (output.projection=draws) holds."""
    streamed, kept = _estimate(), _estimate("output.projection=draws")
    assert streamed.streamed and not kept.streamed
    assert kept.arrays == memory.ARRAYS_ALIVE
    assert memory.STREAMED_ARRAYS < streamed.arrays < 0.5 * memory.ARRAYS_ALIVE
    counties = _estimate("data=china_counties")
    assert counties.county_provinces == 32 and counties.arrays > streamed.arrays


def test_the_memory_estimate_counts_every_province_and_the_horizon():
    assert _estimate().regions == 32
    assert _estimate("data.regions=[440000]").bytes == _estimate().bytes
    assert _estimate("horizon=2050").years == 31
    assert estimate_memory(_compose(["data=wpp", "fertility=constant"])).regions == 1
    assert estimate_memory(_compose(["fertility=constant"])).draws == 1


def test_a_run_that_cannot_fit_is_refused_with_both_sizes():
    line = _line(_message(["fertility.draws=1e7"]), "fertility.draws")
    sizes = re.findall(r"(\d+(?:\.\d+)?) GiB", line)
    assert len(sizes) >= 2 and float(sizes[0]) > float(sizes[-1])
    assert "is available" in line and "data.regions does not help" in line
    assert "horizon" in line


def test_the_memory_problem_is_listed_with_the_others():
    message = _message(["fertility.draws=1e7", "seed=1.5", "data.regions=440000"])
    for option in ("fertility.draws", "seed", "data.regions"):
        _line(message, option)


def test_available_memory_is_known_here():
    available = available_memory()
    assert available is None or available > 0


def test_a_deterministic_run_too_large_names_the_horizon(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: GIB // 8)
    line = _line(_message(["fertility=constant", "horizon=2100"]), "horizon")
    assert "0.1 GiB is available" in line


def test_the_default_run_is_refused_on_a_small_machine(monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: GIB)
    line = _line(_message([]), "fertility.draws")
    assert "1.0 GiB is available" in line
