"""Rolling-origin backtest of the Bayesian TFR model with and without the dragon-year term,
scored on the regions that follow the Chinese calendar.

    nice -n 10 .venv/bin/python experiments/dragon_year/backtest.py         # about 13 minutes
    nice -n 10 .venv/bin/python experiments/dragon_year/backtest.py --samples 1000 --out /tmp/x
    .venv/bin/python experiments/dragon_year/backtest.py --smoke    # a minute, to a temp folder

Both variants are configs/fertility/bayes.yaml with the same sampler settings (the file's
own: 2 chains x (1,000 tuning + 2,000 kept draws); 500 draws per forecast) and seed;
``bayes_dragon`` has ``dragon_year: true``. Each is fitted once per origin on the whole
WPP pool (13 populations, last 30 years up to the origin) by
:func:`forecast.projection.evaluate.backtest`, which also projects births for every scored region.
Writes to ``--out``: ``backtest_scores.csv`` (one row per model, quantity, region, origin and
year), ``diagnostics.csv`` (R-hat, ESS, divergences and the posterior dragon effect of every
fit) and ``run.json`` (settings, versions, wall time). ``summarise.py`` makes the tables.
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import tempfile
import time
from pathlib import Path

import forecast.core.quiet  # noqa: F401  (before arviz and pymc)

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from forecast.runs.config_check import config_problems
from forecast.projection.evaluate import backtest
from forecast.core.paths import CONFIG_DIR

HERE = Path(__file__).resolve().parent
MODELS = {"bayes": False, "bayes_dragon": True}


def factory(settings: list[str], dragon: bool):
    """A factory of fresh models: bayes.yaml with ``settings`` and the term on or off."""
    overrides = ["fertility=bayes", *settings, f"fertility.dragon_year={str(dragon).lower()}"]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides)
    problems = config_problems(cfg)
    if problems:
        raise SystemExit("\n".join(problems))
    return lambda: instantiate(cfg.fertility)


def flatten(diag: dict) -> dict:
    """One row of diagnostics: the dragon effect's nested summary as columns."""
    row = {k: v for k, v in diag.items() if k not in ("warnings", "dragon_effect")}
    row["warnings"] = "; ".join(diag.get("warnings", []))
    effect = diag.get("dragon_effect") or {}
    for name in ("dragon_mean", "dragon_sd"):
        for stat, value in (effect.get(name) or {}).items():
            row[f"{name}_{stat}"] = value
    for region, stats in (effect.get("dragon") or {}).items():
        for stat, value in stats.items():
            row[f"dragon_{region}_{stat}"] = value
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--first-origin", type=int, default=1995)
    p.add_argument("--last-origin", type=int, default=2011)
    p.add_argument("--max-horizon", type=int, default=10)
    p.add_argument("--regions", nargs="+", default=["CHN", "HKG", "MAC", "TWN"])
    p.add_argument("--draws", type=int, default=500, help="draws per forecast")
    p.add_argument("--samples", type=int, default=2000, help="posterior draws per chain")
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--chains", type=int, default=2)
    p.add_argument("--cores", type=int, default=2)
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--no-births", action="store_true")
    p.add_argument("--smoke", action="store_true", help="two origins, short MCMC, 3 years")
    p.add_argument("--out", type=Path, default=HERE / "results")
    args = p.parse_args()
    if args.smoke:
        if args.out == HERE / "results":  # never overwrite the recorded results
            args.out = Path(tempfile.gettempdir()) / "dragon_year_smoke"
        args.first_origin, args.last_origin, args.max_horizon = 1999, 2000, 3
        args.draws, args.samples, args.tune, args.chains, args.cores = 40, 40, 40, 1, 1
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    for name in ("pymc", "pytensor", "arviz"):
        logging.getLogger(name).setLevel(logging.ERROR)
    settings = [f"seed={args.seed}", f"fertility.draws={args.draws}",
                f"fertility.samples={args.samples}", f"fertility.tune={args.tune}",
                f"fertility.chains={args.chains}", f"fertility.cores={args.cores}",
                "fertility.progressbar=false"]
    models = {name: factory(settings, dragon) for name, dragon in MODELS.items()}
    origins = list(range(args.first_origin, args.last_origin + 1))
    started = time.perf_counter()
    scores, diagnostics = backtest(models, origins, args.max_horizon, regions=args.regions,
                                   births=not args.no_births)
    seconds = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    numbers = scores.select_dtypes("float").columns
    scores[numbers] = scores[numbers].round(6)
    scores.to_csv(args.out / "backtest_scores.csv", index=False)
    pd.DataFrame([flatten(d) for d in diagnostics]).to_csv(args.out / "diagnostics.csv",
                                                           index=False)
    run = {"command": "experiments/dragon_year/backtest.py", "arguments": {
               k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
           "overrides": settings, "models": MODELS, "origins": origins,
           "wall_time_seconds": round(seconds, 1), "python": platform.python_version(),
           "versions": {"pymc": pm.__version__, "arviz": az.__version__,
                        "numpy": np.__version__, "pandas": pd.__version__}}
    (args.out / "run.json").write_text(json.dumps(run, indent=2) + "\n")
    logging.info("Backtest done in %.0f s: %s", seconds, args.out)


if __name__ == "__main__":
    main()
