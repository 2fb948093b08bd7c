"""Convergence of the TFR model on the real pool: per-parameter bulk/tail ESS, R-hat,
divergences and sampling time, over several seeds, for given sampler settings.

Run one configuration at a time (the machine has 2 cores; fits must not overlap):

    .venv/bin/python experiments/mcmc_checks/ess_defaults.py --seeds 0 1 2 3 4
    .venv/bin/python experiments/mcmc_checks/ess_defaults.py --samples 2000 --tune 1500
    .venv/bin/python experiments/mcmc_checks/ess_defaults.py --centred --samples 1500
    .venv/bin/python experiments/mcmc_checks/ess_defaults.py --centred sigma --target-accept 0.9
    .venv/bin/python experiments/mcmc_checks/ess_defaults.py --until 2000     # a backtest origin

Without ``--centred`` the module's model is fitted as it is. ``--centred`` followed by
blocks (drift, ar, sigma) fits the same model with those blocks centred and the others
non-centred; ``--centred`` alone is the model before log sigma was centred (all three
non-centred), i.e. with ``--samples 1500`` the old defaults.

Prints one line per seed (the worst parameter for bulk and tail ESS, leapfrog steps of the
kept draws, the chains' CPU time) and writes every parameter's ESS to ``--out`` (CSV).
"""

from __future__ import annotations

import argparse
import logging
import resource
import time

import arviz as az
import numpy as np
import pandas as pd
import pymc as pm

from forecast.models.fertility.bayes import HYPER, PER_REGION, HierarchicalTFR
from forecast.data import load_china_census


class Variant(HierarchicalTFR):
    """The model with a choice of parameterisation per block (same distribution): each of
    ``drift``, ``ar``, ``sigma`` non-centred (z ~ N(0, 1) scaled) or centred."""

    centred: tuple[str, ...] = ()

    def build(self, log_tfr, regions):
        change = np.diff(log_tfr, axis=1)
        with pm.Model(coords={"pool_region": regions}) as model:
            drift_mean, drift_sd = self._prior("drift_mean"), self._prior("drift_sd")
            ar_mean, ar_sd = self._prior("ar_mean"), self._prior("ar_sd")
            ls_mean, ls_sd = self._prior("log_sigma_mean"), self._prior("log_sigma_sd")
            nu = self._prior("nu")
            raw = {}
            for k, (m, s) in {"drift": (drift_mean, drift_sd), "ar": (ar_mean, ar_sd),
                              "sigma": (ls_mean, ls_sd)}.items():
                if k in self.centred:
                    raw[k] = pm.Normal(f"c_{k}", m, s, dims="pool_region")
                else:
                    raw[k] = m + s * pm.Normal(f"z_{k}", 0.0, 1.0, dims="pool_region")
            drift = pm.Deterministic("drift", raw["drift"], dims="pool_region")
            ar = pm.Deterministic("ar", pm.math.tanh(raw["ar"]), dims="pool_region")
            sigma = pm.Deterministic("sigma", pm.math.exp(raw["sigma"]), dims="pool_region")
            expected = drift[:, None] + ar[:, None] * (change[:, :-1] - drift[:, None])
            pm.StudentT("change", nu=nu, mu=expected, sigma=sigma[:, None],
                        observed=change[:, 1:])
        return model


def per_parameter(idata) -> pd.DataFrame:
    """Bulk/tail ESS and R-hat of every reported scalar (hyper-parameters, per-region ones)."""
    rows = []
    stats = {"bulk": az.ess(idata, var_names=HYPER + PER_REGION, method="bulk"),
             "tail": az.ess(idata, var_names=HYPER + PER_REGION, method="tail"),
             "rhat": az.rhat(idata, var_names=HYPER + PER_REGION)}
    for name in HYPER + PER_REGION:
        da = stats["bulk"][name]
        labels = ([name] if da.ndim == 0 else
                  [f"{name}[{r}]" for r in da["pool_region"].values])
        for i, label in enumerate(labels):
            pick = (lambda s: float(s[name].values)) if da.ndim == 0 else \
                   (lambda s, i=i: float(s[name].values[i]))
            rows.append({"parameter": label, "ess_bulk": pick(stats["bulk"]),
                         "ess_tail": pick(stats["tail"]), "rhat": pick(stats["rhat"])})
    return pd.DataFrame(rows)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    p.add_argument("--samples", type=int, default=None)
    p.add_argument("--tune", type=int, default=None)
    p.add_argument("--chains", type=int, default=None)
    p.add_argument("--target-accept", type=float, default=None)
    p.add_argument("--label", default="")
    p.add_argument("--until", type=int, default=None,
                   help="last observed year of the pool (a backtest origin); default all")
    p.add_argument("--init", default=None, help="pm.sample init, e.g. jitter+adapt_full")
    p.add_argument("--centred", nargs="*", default=None,
                   help="blocks to centre (drift, ar, sigma); omit to use the module's model")
    p.add_argument("--out", default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    pool = load_china_census()["tfr_pool"]
    if args.until:
        pool = pool.sel(year=slice(None, args.until))
    if args.init:  # the module's fit() passes no init: wrap pm.sample for this experiment
        sample = pm.sample
        pm.sample = lambda *a, **k: sample(*a, init=args.init, **k)
    settings = {k: v for k, v in {"samples": args.samples, "tune": args.tune,
                                  "chains": args.chains,
                                  "target_accept": args.target_accept}.items() if v is not None}
    everything = []
    print(f"settings: {settings or 'class defaults'}", flush=True)
    print("| seed | min bulk ESS (param) | min tail ESS (param) | max R-hat | div | sampling s "
          "| chains' CPU s | leapfrog steps (kept draws) | min ESS per 1000 steps |")
    print("|---:|---|---|---:|---:|---:|---:|---:|---:|", flush=True)
    for seed in args.seeds:
        if args.centred is None:
            model = HierarchicalTFR(progressbar=False, random_seed=seed, **settings)
        else:
            model = Variant(progressbar=False, random_seed=seed, **settings)
            model.centred = tuple(args.centred)
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
        start = time.perf_counter()
        idata = model.fit(pool)
        wall = time.perf_counter() - start
        cpu = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime - cpu0
        steps = int(idata.sample_stats["n_steps"].sum())
        table = per_parameter(idata).assign(seed=seed, label=args.label)
        everything.append(table)
        b = table.loc[table["ess_bulk"].idxmin()]
        t = table.loc[table["ess_tail"].idxmin()]
        d = model.diagnostics
        print(f"| {seed} | {b['ess_bulk']:.0f} ({b['parameter']}) | {t['ess_tail']:.0f} "
              f"({t['parameter']}) | {table['rhat'].max():.4f} | {d['divergences']} | "
              f"{d['sampling_seconds']:.1f} | {cpu:.1f} | {steps} | "
              f"{1000 * min(b['ess_bulk'], t['ess_tail']) / steps:.1f} |", flush=True)
    if args.out:
        pd.concat(everything).to_csv(args.out, index=False)
        all_ = pd.concat(everything)
        worst = all_.groupby("parameter")[["ess_bulk", "ess_tail"]].min().sort_values("ess_bulk")
        print(worst.head(8).round(0).to_string())


if __name__ == "__main__":
    main()
