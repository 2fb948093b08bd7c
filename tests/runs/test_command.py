"""Configuration errors of both commands: exit status 2 with the option named, whether Hydra
or the options' declarations find them (unknown keys, alert thresholds, text with control
characters, an unreachable Dask scheduler), and nothing written."""

from __future__ import annotations

import socket
import sys

import pytest

from forecast.core.errors import InputError
from forecast.runs.config_check import config_problems
from forecast.runs.config_groups import compose_config

HYDRA_ERRORS = [
    ("fertility.drawz=10", "fertility.drawz", "no such option"),
    ("fertility=bogus", "fertility", "expected one of arima, bayes"),
    ("scenario=bogus", "scenario", "expected one of constant, high"),
    ("scenario.name=@SUM(A1)", "scenario.name", "quote text"),
]


@pytest.mark.parametrize("command", ["cli", "report_cli"])
@pytest.mark.parametrize("override, option, words", HYDRA_ERRORS,
                         ids=[case[0] for case in HYDRA_ERRORS])
def test_an_override_hydra_cannot_apply_exits_2_naming_the_option(
        tmp_path, monkeypatch, capsys, command, override, option, words):
    """Hydra itself exits 1 for these (the status of a crash); a scheduler must see 2."""
    import importlib

    main = importlib.import_module(f"forecast.runs.{command}").main
    out = tmp_path / "out"
    place = (f"hydra.run.dir={out}" if command == "cli" else f"report.out_root={out}")
    monkeypatch.setattr(sys, "argv", [command, place, override])
    with pytest.raises(SystemExit) as stop:
        main()
    err = capsys.readouterr().err
    assert stop.value.code == 2, err
    assert f"InputError: config, {option}: " in err and words in err
    assert "Traceback" not in err and not out.exists()


@pytest.mark.parametrize("override, option", [("+foo=1", "foo"),
                                              ("+fertility.drawz=10", "fertility.drawz"),
                                              ("+data.observed_fiel=x.csv",
                                               "data.observed_fiel"),
                                              ("+demand.childcare.foo=1", "demand.childcare.foo"),
                                              ("+demand.kindergarten.class_size.note=x",
                                               "demand.kindergarten.class_size.note"),
                                              ("+demand.subsidy.eligible_age=[0]",
                                               "demand.subsidy.eligible_age")])
def test_an_added_key_that_nothing_reads_is_refused(override, option):
    problems = config_problems(compose_config([override]))
    assert len(problems) == 1
    assert problems[0].startswith(f"config, {option}: got ")
    assert "expected an option that exists" in problems[0]


@pytest.mark.parametrize("name", ["\r=1", "a\nb", "tab\there"])
def test_a_scenario_name_with_control_characters_is_refused(name):
    problems = config_problems(compose_config([f"scenario.name='{name}'"]))
    assert problems == [f"config, scenario.name: got {name!r}; expected a non-empty text "
                        "without control characters (line breaks, tabs) (quote a number: "
                        "scenario.name=\"'2030'\")."]


REPORT_CASES = [
    ("report.rules.tfr.levels.red=abc", "report.rules.tfr.levels.red", "a number"),
    ("report.rules.tfr.levels.red=1.6", "report.rules.tfr.levels.red",
     "a threshold below orange's (1.3)"),
    ("report.rules.kindergarten_idle_share.levels.orange=0.15",
     "report.rules.kindergarten_idle_share.levels.orange", "a threshold above yellow's (0.2)"),
    ("report.rules.sex_ratio_at_birth.levels.orange=[104,106]",
     "report.rules.sex_ratio_at_birth.levels.orange", "a range wider than yellow's"),
    ("+report.rules.tfr.levels.purple=0.5", "report.rules.tfr.levels.purple", "an alert level"),
    ("report.rules.tfr.direction=sideways", "report.rules.tfr.direction", "one of below"),
    ("report.births_drop.levels.red=0.3", "report.births_drop.levels.red",
     "a threshold above orange's (0.5)"),
    ("report.surprise.levels.orange=70", "report.surprise.levels.orange", "one of 80, 95"),
    ("+report.foo=1", "report.foo", "an option that exists"),
]


@pytest.mark.parametrize("override, option, words", REPORT_CASES,
                         ids=[case[0] for case in REPORT_CASES])
def test_bad_alert_rules_are_refused_before_any_work(override, option, words):
    from forecast.runs.report_run import _check

    with pytest.raises(InputError) as info:
        _check(compose_config([override], config_name="report").report)
    lines = str(info.value).splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"config, {option}: got ")
    assert words in lines[0]


def test_the_shipped_alert_rules_pass():
    from forecast.runs.report_run import _check

    _check(compose_config([], config_name="report").report)


def test_an_unreachable_dask_scheduler_is_refused_before_any_work():
    """A closed port on the loopback: refused by the configuration check at once, not by
    the Dask client after its 30-second wait."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # free, and nothing listens once closed
    problems = config_problems(compose_config(["compute=dask",
                                               f"compute.address=tcp://127.0.0.1:{port}"]))
    assert len(problems) == 1
    assert problems[0].startswith(f"config, compute.address: got 'tcp://127.0.0.1:{port}'; "
                                  f"nothing accepted a connection at 127.0.0.1:{port}")
