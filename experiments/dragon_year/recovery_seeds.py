"""Run the dragon-year tests' checks (tests/models/test_dragon_year.py) over many seeds, data and
sampler seeds both varying, and show that the recovery check can fail.

    nice -n 10 .venv/bin/python experiments/dragon_year/recovery_seeds.py --seeds 0-39
    nice -n 10 .venv/bin/python experiments/dragon_year/recovery_seeds.py --seeds 0-4 \\
        --mode no-effect

Seed i simulates the data with seed i and samples with seed 1000 + i (the tests' own pair
is ``--test-seeds``). Modes (the fit is always the tests'):

- ``ok``: the tests as they are;
- ``no-effect``: the data are simulated without the effect (δ = 0) and checked against 0.08;
- ``half-effect``: the data have δ = 0.04, checked against 0.08;
- ``term-off``: the term is fitted with a prior that holds it at zero
  (dragon_mean ~ N(0, 0.001), dragon_sd ~ HalfNormal(0.001)).

One row per seed with every check's margin (>= 0 passes). Fits use one core (cores=1, as
in the tests).
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np
import pandas as pd

from forecast.models.fertility.bayes import HierarchicalTFR
from forecast.testing import (DRAGON, SEEDS, SHORT, YEARS, dragon_forecast_checks, dragon_recovery_checks,
                              simulate_dragon_pool)


def seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=seeds, default=seeds("0-19"))
    p.add_argument("--test-seeds", action="store_true", help="the tests' own pair only")
    p.add_argument("--mode", default="ok", choices=["ok", "no-effect", "half-effect",
                                                    "term-off"])
    p.add_argument("--out", default=None, help="CSV of every seed's values and margins")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    pairs = ([(SEEDS["data"], SEEDS["sampler"])] if args.test_seeds
             else [(i, 1000 + i) for i in args.seeds])
    effect = {"no-effect": 0.0, "half-effect": DRAGON / 2}.get(args.mode, DRAGON)
    priors = ({"dragon_mean": ["Normal", {"mu": 0.0, "sigma": 0.001}],
               "dragon_sd": ["HalfNormal", {"sigma": 0.001}]} if args.mode == "term-off"
              else None)
    rows = []
    for data_seed, sampler_seed in pairs:
        pool, realised = simulate_dragon_pool(data_seed, dragon=effect)
        model = HierarchicalTFR(window=len(YEARS), random_seed=sampler_seed, dragon_year=True,
                                priors=priors, **SHORT)
        start = time.perf_counter()
        tfr = model.forecast_tfr(pool, np.arange(2023, 2027), ["TWN", "JPN"])
        seconds = time.perf_counter() - start
        values, margins = dragon_recovery_checks(model, realised)
        f_values, f_margins = dragon_forecast_checks(pool, model, tfr)
        margins |= f_margins
        row = {"data_seed": data_seed, "sampler_seed": sampler_seed,
               "passed": all(m >= 0 for m in margins.values()),
               **{f"value: {k}": v for k, v in (values | f_values).items()},
               **{f"margin: {k}": v for k, v in margins.items()},
               "rhat_max": model.diagnostics["rhat_max"],
               "divergences": model.diagnostics["divergences"], "seconds": round(seconds, 1)}
        rows.append(row)
        worst = min(margins, key=margins.get)
        verdict = "pass" if row["passed"] else "FAIL"
        print(f"data {data_seed:3d} sampler {sampler_seed:4d}: {verdict}  dragon_mean z "
              f"{values['dragon_mean z']:+.2f}, mean of dragon z {values['mean of dragon z']:+.2f},"
              f" lower 95 {values['dragon_mean lower 95']:.3f},"
              f" TWN bump {f_values['TWN bump']:.3f}, JPN bump {f_values['JPN bump']:+.3f};"
              f" worst margin {worst} {margins[worst]:.3f}; R-hat {row['rhat_max']:.3f},"
              f" {row['divergences']} div, {seconds:.0f} s", flush=True)
    table = pd.DataFrame(rows)
    if args.out:
        table.to_csv(args.out, index=False)
    margin_cols = [c for c in table if c.startswith("margin: ")]
    print(f"\n{int(table['passed'].sum())} of {len(table)} passed; smallest margin of each check:")
    for c in margin_cols:
        seed = table.loc[table[c].idxmin(), "data_seed"]
        print(f"  {c[8:]:<24} {table[c].min():.4f} (seed {seed})")
    for c in [c for c in table if c.startswith("value: ") and c.endswith(" z")]:
        print(f"  {c[7:]:<24} max |z| {table[c].abs().max():.2f}, mean {table[c].mean():+.2f},"
              f" sd {table[c].std():.2f}")
    print(f"  R-hat max {table['rhat_max'].max():.3f}, divergences {table['divergences'].sum()},"
          f" median {table['seconds'].median():.0f} s per fit")


if __name__ == "__main__":
    main()
