"""Sweeps (``forecast -m scenario=low,medium,high``): the members' outputs combined.

When every member of a Hydra multirun has finished, :class:`SweepCallback` writes into the
sweep folder (``multirun/<date>/<time>/`` unless ``hydra.sweep.dir`` says otherwise):

- ``forecast.csv`` — the members' planner tables one after another (``scenario`` column =
  the member's label);
- ``comparison.csv`` — the key indicators by scenario × region × year with the difference
  from the reference scenario and its interval (:mod:`forecast.planning.comparison`);
- ``figures/`` — scenario lines of the nation's key indicators (unless ``plots=false``);
- ``results/`` — an experiment's summary tables and figures, where ``sweep.report`` names
  one of :data:`forecast.report.sweep_summaries.REPORTS`;
- ``run.json`` — the members (folder, label, overrides), the reference and the sweep's
  resolved configuration.

A member's label is its scenario name (``scenario.name``); where two members share a name
(a sweep over ``scenario.shift`` of a scenario whose name does not include it, or over a
model option), the label adds the overrides that tell them apart. If a member fails, Hydra
stops the sweep with that member's error and exit status 1; the folders of the members
that finished keep their outputs, and nothing is combined. Each file is written whole or not
at all (a temporary name, then a rename).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import xarray as xr
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from forecast.planning.comparison import DIFF_COLUMNS, comparison_table
from forecast.core.registry import QUANTILES
from forecast.report.plots import save_png
from forecast.report.sweep_summaries import REPORTS
from forecast.core.run_files import (COMPARISON_CSV, FIGURES, FORECAST_CSV, INDICATOR_DRAWS_NC,
                                     RESULTS, RUN_JSON, run_header)
from forecast.core.options import Choice, Group, Text
from forecast.core.writers import csv_writer, json_writer

log = logging.getLogger(__name__)

#: The ``sweep`` config group: the reference scenario of comparison.csv and an experiment's
#: summary (results/).
SWEEP_OPTIONS = Group({
    "reference": Text(hint=" (a member's scenario.name)", nullable=True, default="medium"),
    "report": Choice(tuple(REPORTS), nullable=True, default=None),
})


class SweepCallback(Callback):
    """Combines a finished multirun's members (configured in ``configs/config.yaml``)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep_dir = Path(str(config.hydra.sweep.dir)).absolute()
        node = config.get("sweep") or {}
        try:
            combine_sweep(sweep_dir, reference=SWEEP_OPTIONS.value(node, "reference"),
                          plots=bool(config["plots"]), config=_without_hydra(config),
                          report=SWEEP_OPTIONS.value(node, "report"))
        except Exception as err:  # Hydra would only warn: the sweep must fail visibly
            log.error("Sweep %s: the members finished but combining them failed: %s: %s",
                      sweep_dir, type(err).__name__, err)
            raise SystemExit(1) from err


def _without_hydra(config: DictConfig) -> dict:
    """The sweep's configuration, resolved, without Hydra's own settings."""
    plain = OmegaConf.to_container(config, resolve=False)
    plain.pop("hydra", None)
    return OmegaConf.to_container(OmegaConf.create(plain), resolve=True)


def combine_sweep(sweep_dir: Path, reference: str | None = "medium", plots: bool = True,
                  config: dict | None = None, report: str | None = None) -> list[Path]:
    """Write the combined files of the members in ``sweep_dir`` (see the module docstring);
    returns their paths (none when the members are not projections)."""
    members = sweep_members(sweep_dir)
    if not members:
        log.info("Sweep %s: no projection members to combine", sweep_dir)
        return []
    draws = {m["label"]: xr.load_dataset(Path(m["path"]) / INDICATOR_DRAWS_NC) for m in members}
    if reference not in draws:
        log.warning("Sweep %s: no member is the reference scenario %r; comparison.csv has no "
                    "differences", sweep_dir, reference)
        reference = None
    comparison = comparison_table(draws, reference)
    combined = pd.concat([_member_table(m) for m in members], ignore_index=True)
    writers = {FORECAST_CSV: csv_writer(combined, decimals=None),
               COMPARISON_CSV: csv_writer(_rounded(comparison), decimals=None)}
    if plots:
        from forecast.report.figure_sets import sweep_figures_writer
        writers[FIGURES] = sweep_figures_writer(comparison)
    if report:
        writers[RESULTS] = _results_writer(REPORTS[report](draws, reference))
    writers[RUN_JSON] = json_writer({
        **run_header("sweep", config), "reference": reference, "report": report,
        "members": [{k: m[k] for k in ("folder", "label", "scenario", "overrides")}
                    for m in members],
        "outputs": list(writers)})
    written = [_write_atomically(sweep_dir / name, write) for name, write in writers.items()]
    log.info("Sweep of %d members: wrote %s", len(members), ", ".join(map(str, written)))
    return written


def sweep_members(sweep_dir: Path) -> list[dict]:
    """The projection members of a sweep, in job order: folder, path, scenario, overrides
    and label (see the module docstring)."""
    found = []
    for folder in sorted((p for p in Path(sweep_dir).iterdir() if p.is_dir()),
                         key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit()
                                        else 0, p.name)):
        run_json = folder / RUN_JSON
        if not (run_json.is_file() and (folder / INDICATOR_DRAWS_NC).is_file()):
            continue
        meta = json.loads(run_json.read_text(encoding="utf-8"))
        scenario = (meta.get("config", {}).get("scenario") or {}).get("name", "")
        found.append({"folder": folder.name, "path": str(folder), "scenario": scenario,
                      "overrides": list(meta.get("overrides", []))})
    return _labelled(found)


def _labelled(members: list[dict]) -> list[dict]:
    """Each member's label: its scenario name, plus the overrides that differ between the
    members sharing that name."""
    for member in members:
        twins = [m for m in members if m["scenario"] == member["scenario"]]
        if len(twins) == 1:
            member["label"] = member["scenario"]
            continue
        shared = set.intersection(*(set(m["overrides"]) for m in twins))
        own = [o for o in member["overrides"] if o not in shared]
        member["label"] = f"{member['scenario']} [{' '.join(own) or member['folder']}]"
    return members


def _member_table(member: dict) -> pd.DataFrame:
    table = pd.read_csv(Path(member["path"]) / FORECAST_CSV, dtype={"region_code": str},
                        encoding="utf-8-sig", keep_default_na=False, na_values=[""])
    return table.assign(scenario=member["label"])


def _results_writer(files: dict[str, object]):
    """A writer of a folder of tables (DataFrame -> CSV, 4 significant decimals) and
    figures (PNG)."""
    def write(folder: Path) -> None:
        folder.mkdir()
        for name, item in files.items():
            if isinstance(item, pd.DataFrame):
                csv_writer(item, decimals=4)(folder / name)
            else:
                save_png(item, folder / name)
    return write


def _rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Values to 0.1 (rates per woman to 0.001), as in forecast.csv."""
    values = [*QUANTILES, *DIFF_COLUMNS]
    fine = table["unit"] == "children per woman"
    out = table.copy()
    out.loc[~fine, values] = table.loc[~fine, values].round(1)
    out.loc[fine, values] = table.loc[fine, values].round(3)
    return out


def _write_atomically(path: Path, write) -> Path:
    """``write(tmp)`` then rename ``tmp`` to ``path`` (a file or a folder)."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    if tmp.is_dir():
        shutil.rmtree(tmp)
    write(tmp)
    if path.is_dir() and tmp.is_dir():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.rename(path, old)
        os.rename(tmp, path)
        shutil.rmtree(old)
    else:
        os.replace(tmp, path)
    return path

