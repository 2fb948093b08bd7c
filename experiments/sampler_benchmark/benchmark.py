"""Benchmark: fit time and effective samples per second of the TFR model, PyMC's default NUTS
sampler against nutpie, on this machine. Reports ratios next to the raw numbers.

Run (nutpie is an optional extra): .venv/bin/pip install nutpie
                                   .venv/bin/python experiments/sampler_benchmark/benchmark.py
"""

from __future__ import annotations

import logging
import time

from forecast.models.fertility.bayes import HierarchicalTFR
from forecast.data import load_wpp

SETTINGS = {"draws": 1000, "samples": 1500, "tune": 1000, "chains": 2, "cores": 2,
            "progressbar": False, "random_seed": 20240601}


def main(repeats: int = 2):
    logging.basicConfig(level=logging.WARNING)
    pool = load_wpp("CHN", 2015)["tfr_pool"]
    rows = []
    for sampler in ("pymc", "nutpie"):
        for run in range(repeats):
            model = HierarchicalTFR(nuts_sampler=sampler, **SETTINGS)
            start = time.perf_counter()
            model.fit(pool)
            wall = time.perf_counter() - start
            d = model.diagnostics
            ess = min(d["ess_bulk_min"], d["ess_tail_min"])
            rows.append((sampler, run + 1, wall, ess, ess / wall, d["rhat_max"], d["divergences"]))
    print("| sampler | run | fit wall time (s) | min ESS (bulk, tail) | min ESS per second | max R-hat | divergences |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.1f} | {r[3]:.0f} | {r[4]:.1f} | {r[5]:.3f} | {r[6]} |")
    best = {s: max(r[4] for r in rows if r[0] == s) for s in ("pymc", "nutpie")}
    print(f"\nnutpie / pymc, best min-ESS per second: {best['nutpie'] / best['pymc']:.2f}")


if __name__ == "__main__":
    main()
