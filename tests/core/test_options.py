"""Declared options: the kinds of option and their messages, and every shipped config
group's code declaring the options it reads."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from hydra.utils import get_object
from omegaconf import OmegaConf

from forecast.core.options import (Choice, Flag, Group, Number, Target, Whole, check,
                                   declared_options)
from forecast.core.paths import CONFIG_DIR

TARGET_GROUPS = ("data", "fertility", "mortality", "migration")
SHIPPED = [(g, p) for g in TARGET_GROUPS for p in sorted((Path(CONFIG_DIR) / g).glob("*.yaml"))]


def test_whole_numbers_take_integral_floats_and_refuse_the_rest():
    options = Group({"n": Whole(1)})
    assert check({"n": 1e3}, options) == []
    for bad in (0, 2.5, True, "3", float("nan")):
        assert check({"n": bad}, options) == [
            f"config, n: got {bad!r}; expected a whole number >= 1."]


def test_numbers_flags_and_choices_name_what_they_expect():
    options = Group({"x": Number(0, 1, hi_open=True), "f": Flag(), "c": Choice(("a", "b"))})
    assert check({"x": 1, "f": "yes", "c": "z"}, options) == [
        "config, x: got 1; expected a number >= 0 and < 1.",
        "config, f: got 'yes'; expected true or false.",
        "config, c: got 'z'; expected one of a, b."]


def test_a_required_option_left_out_is_reported_and_a_nullable_one_may_be_null():
    options = Group({"g": Group({"y": Whole(what="a year", required=True),
                                 "z": Whole(nullable=True)})})
    assert check({"g": {"z": None}}, options) == ["config, g.y: got nothing; expected a year."]


def test_rules_see_the_whole_config():
    def after(node, name, problems, root):
        if node["end"] <= root["start"]:
            problems.add(f"{name}.end", node["end"], "a year after start")

    options = Group({"g": Group({"end": Whole()}, rules=(after,))}, rule_keys=("start",))
    assert check({"start": 2020, "g": {"end": 2019}}, options) == [
        "config, g.end: got 2019; expected a year after start."]


def test_unknown_keys_are_refused_at_every_level():
    def uses_mode(node, name, problems, root):
        pass

    uses_mode.keys = ("mode",)
    options = Group({"g": Group({"end": Whole()}, rules=(uses_mode,)), "h": Whole()},
                    rule_keys=("start",))
    config = {"start": 1, "h": 2, "hx": 3, "g": {"end": 4, "mode": "a", "ends": 5}}
    assert check(config, options) == [
        "config, hx: got 3; expected an option that exists: the top level has g, h, start.",
        "config, g.ends: got 5; expected an option that exists: g has end, mode."]


def test_every_shipped_configuration_has_only_known_keys():
    """Each option of every config group (and the experiments) composes to a configuration
    with no unknown key: a declared option missing from the code would refuse the shipped
    configs themselves."""
    from hydra import initialize_config_dir

    from forecast.core.paths import CONFIG_DIR
    from forecast.runs.config_check import config_problems
    from forecast.runs.config_groups import compose_config, group_options

    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):  # once for all
        variants = [[]] + [[f"{group}={choice}"] for group in (
            "fertility", "mortality", "migration", "demand", "scenario", "compute", "data",
            "experiment") for choice in group_options(group)]
        variants.append(["data=china_counties", "data.province=500000"])
        unknown = [(v, line) for v in variants for line in config_problems(compose_config(v))
                   if "an option that exists" in line]
    assert not unknown


def test_a_target_brings_the_options_its_code_declares():
    node = {"_target_": "forecast.models.fertility.baseline.RandomWalkDrift", "draws": 0}
    assert check({"fertility": node}, Group({"fertility": Target()})) == [
        "config, fertility.draws: got 0; expected a whole number >= 1."]


@pytest.mark.parametrize("group, path", SHIPPED, ids=[f"{g}={p.stem}" for g, p in SHIPPED])
def test_every_shipped_target_declares_options_that_it_takes(group, path):
    target = OmegaConf.load(path)["_target_"]
    options = declared_options(target)
    assert options is not None, f"{target} declares no OPTIONS"
    obj = get_object(target)
    parameters = inspect.signature(obj).parameters
    takes_more = any(p.kind == p.VAR_KEYWORD for p in parameters.values())
    for key in options.options:
        assert key in parameters or takes_more, f"{target} declares {key} but does not take it"
