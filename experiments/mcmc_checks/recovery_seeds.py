"""Run the parameter-recovery test's checks over many seeds (data and sampler seeds both
varying), and show that the checks can fail.

    .venv/bin/python experiments/mcmc_checks/recovery_seeds.py --seeds 0-29
    .venv/bin/python experiments/mcmc_checks/recovery_seeds.py --seeds 0-4 --mode other-data

Seed i simulates the data with seed i and samples with seed 1000 + i; the test's own pair
(data 11, sampler 5) is ``--test-seeds``. Modes (the fit is always the test's):

- ``ok``: the test as it is;
- ``shift-drift``: the realised drifts compared are shifted by +0.01 a year;
- ``shift-shock``: the realised shocks compared are scaled by 1.25;
- ``other-data``: the posterior is fitted to data from another seed (i + 500) and compared
  with seed i's realised values;
- ``pooled-prior``: the model's drift_sd prior is HalfNormal(0.0005), forcing the drifts
  together (a wrong model for these data).

One row per seed; margins >= 0 pass. Run alone: the fits use both cores.
"""

from __future__ import annotations

import argparse
import logging
import time

import numpy as np

from forecast.models.fertility.bayes import HierarchicalTFR
from forecast.testing import COVERED_MIN, Z_MAX, pool_recovery_checks, simulate_pool


def seeds(text: str) -> list[int]:
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out += list(range(int(a), int(b) + 1)) if b else [int(a)]
    return out


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=seeds, default=seeds("0-19"))
    p.add_argument("--test-seeds", action="store_true", help="the test's own pair only")
    p.add_argument("--out", default=None, help="CSV of each population's drift: realised, "
                   "posterior mean and sd, 95 % interval (for calibration beyond the test)")
    p.add_argument("--mode", default="ok", choices=["ok", "shift-drift", "shift-shock",
                                                    "other-data", "pooled-prior"])
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    pairs = [(11, 5)] if args.test_seeds else [(i, 1000 + i) for i in args.seeds]
    names, worst, passed, rows = None, {}, 0, []
    import pandas as pd
    for data_seed, sampler_seed in pairs:
        pool, realised = simulate_pool(data_seed)
        if args.mode == "other-data":
            pool, _ = simulate_pool(data_seed + 500)
        if args.mode == "shift-drift":
            realised = {**realised, "drift": realised["drift"] + 0.01}
        if args.mode == "shift-shock":
            realised = {**realised, "shocks": realised["shocks"] * 1.25}
        priors = ({"drift_sd": ["HalfNormal", {"sigma": 0.0005}]}
                  if args.mode == "pooled-prior" else None)
        model = HierarchicalTFR(draws=400, samples=400, tune=400, chains=2, cores=2,
                                window=pool.sizes["year"], progressbar=False,
                                random_seed=sampler_seed, priors=priors)
        start = time.perf_counter()
        post = model.fit(pool).posterior
        seconds = time.perf_counter() - start
        values, margins = pool_recovery_checks(post, realised)
        draws = post["drift"].stack(sample=("chain", "draw")).transpose("pool_region", "sample")
        lo, hi = np.quantile(draws.values, [0.025, 0.975], axis=1)
        rows.append(pd.DataFrame({"data_seed": data_seed, "sampler_seed": sampler_seed,
                                  "population": np.arange(len(lo)),
                                  "realised": realised["drift"],
                                  "post_mean": draws.values.mean(1),
                                  "post_sd": draws.values.std(1), "lo95": lo, "hi95": hi}))
        d = model.diagnostics
        ok = all(m >= 0 for m in margins.values()) and d["rhat_max"] < 1.05
        passed += ok
        if names is None:
            names = list(values)
            print("| data seed | sampler seed | " + " | ".join(names) + " | R-hat max | "
                  "divergences | min ESS | log sigma | fit s | pass |")
            print("|---:|---:|" + "---:|" * len(names) + "---:|---:|---:|---|---:|---|")
        for k in names:
            worst[k] = min(worst.get(k, np.inf), margins[k])
        worst["rhat"] = min(worst.get("rhat", np.inf), 1.05 - d["rhat_max"])
        cells = [f"{values[k]:+.2f}" if k.endswith(" z") else f"{values[k]}" for k in names]
        print(f"| {data_seed} | {sampler_seed} | " + " | ".join(cells) +
              f" | {d['rhat_max']:.3f} | {d['divergences']} | "
              f"{min(d['ess_bulk_min'], d['ess_tail_min']):.0f} | "
              f"{'centred' if model.log_sigma_centred else 'non-centred'} | {seconds:.1f} | "
              f"{'yes' if ok else 'NO'} |", flush=True)
    print(f"\nmode {args.mode}: passed {passed} of {len(pairs)}")
    if args.out:
        pd.concat(rows).to_csv(args.out, index=False)
    print(f"worst margins (>= 0 passes; z checks: {Z_MAX} - |z|, counts: covered - "
          f"{COVERED_MIN}, R-hat: 1.05 - max): "
          + ", ".join(f"{k} {v:.2f}" for k, v in worst.items()))


if __name__ == "__main__":
    main()
