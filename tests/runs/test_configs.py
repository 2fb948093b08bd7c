"""Every config in configs/ composes, and every `_target_` instantiates."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from forecast.core.paths import CONFIG_DIR

GROUPS = ["data", "fertility", "mortality", "migration", "scenario", "experiment"]
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((Path(CONFIG_DIR) / g).glob("*.yaml"))]


def _compose(overrides):
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        return compose(config_name="config", overrides=overrides, return_hydra_config=False)


def test_default_config_composes():
    cfg = _compose([])
    assert cfg.horizon == 2035
    assert cfg.data._target_.endswith("load_china_census")
    assert cfg.fertility._target_.endswith("HierarchicalTFR") and cfg.task == "project"
    assert cfg.migration._target_.endswith("ProvincialTrendMigration")
    assert _compose(["migration=zero"]).migration._target_.endswith("ZeroMigration")


@pytest.mark.parametrize("group,option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes_and_instantiates(group, option):
    cfg = _compose([f"{group}={option}"])
    if group == "experiment":  # a backtest, or a sweep of scenarios with a summary
        assert (cfg.task == "backtest" and cfg.backtest.models) or cfg.sweep.report
        return
    if group == "scenario":
        assert cfg.scenario.name.startswith(option)
        return
    assert "_target_" in cfg[group]
    if group != "data":  # models are cheap to build; data loaders are exercised elsewhere
        model = instantiate(cfg[group])
        assert hasattr(model, "rates")


def test_wpp_data_brings_wpp_migration_unless_overridden():
    assert _compose(["data=wpp"]).migration._target_.endswith("WppMigration")
    assert _compose(["data=wpp", "migration=zero"]).migration._target_.endswith("ZeroMigration")


def test_options_the_readme_documents():
    cfg = _compose(["data=wpp", "data.region=JPN", "data.base_year=2015", "data.until=2015",
                    "horizon=2025"])
    assert (cfg.data.region, cfg.data.base_year, cfg.data.until, cfg.horizon) == ("JPN", 2015, 2015, 2025)
