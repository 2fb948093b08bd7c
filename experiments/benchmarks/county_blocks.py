"""Benchmark of the county engine (forecast.regions.county_blocks and county_engine, the
compiled step of forecast.demography.compiled_step):
the compiled block step against the memory bandwidth, scaling in regions x draws, the full
county run (2,988 units x 1,000 draws, 2020 -> 2035) in memory and on a Dask LocalCluster.
Every finding is a ratio measured within one run on one machine.

Run:   .venv/bin/python experiments/benchmarks/county_blocks.py           (about 7 minutes)
       .venv/bin/python experiments/benchmarks/county_blocks.py --quick   (about 2 minutes)

Writes results/county_blocks/*.csv (``--quick``: results/quick/county_blocks/) and prints a
summary. Heavy measurements run in child processes, each with its own peak memory.

Parts:
1. block throughput: :func:`forecast.regions.county_blocks.project_block` on a synthetic province
   (186 counties, Sichuan's number, x 1,000 draws x 15 steps) in float64 and float32 with 1
   and 2 threads, in cell-years per second (cell = county x draw x sex x age); the fraction
   of the streaming limit is (2 x bytes per value) x cell-years per second / the bandwidth
   of ``np.copyto`` of one year's state with as many threads (bytes read + written).
2. scaling: the whole county stage (blocks, prefecture sums, quantiles;
   ``county_engine._in_memory``) over regions (10 ... 3,000, in provinces of at most 100
   counties) x draws (100 ... 1,000), wall time and peak memory; fit log time = a + b log
   cells.
3. the full county run: ``forecast data=china_counties fertility=rw_drift
   fertility.draws=1000 plots=false`` (every stage: loading, the provinces, the counties,
   the tables), float64 and ``precision=float32``: wall time, peak resident memory, the
   stage times from its log, against the goals (30 s, 4 GiB), and the milliseconds per
   region and trajectory beside bayesPop's (4.7 ms); ``--before REV`` also runs commit
   REV's package (a temporary checkout) for the before/after table.
4. the county demand stage alone (``demand.csv``): 300 county-level units of the default
   county run (its standards and supply table), synthetic draws, milliseconds per unit.
5. in memory against Dask: the same run with ``compute=dask`` (a LocalCluster of two
   worker processes), its wall time and county stage, and whether its forecast.csv is
   byte-identical to the in-memory run's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import benchmark as core  # noqa: E402  (the projection-core benchmark: shared helpers)

ROOT, PYTHON, FORECAST, GIB = core.ROOT, core.PYTHON, core.FORECAST, core.GIB
SEXES, AGES, STEPS = core.SEXES, core.AGES, core.STEPS
#: The goals of the one-engine change: the full county run in 30 s and 4 GiB on 2 cores
#: (the projection-core benchmark's were 60 s and 8 GiB).
GOAL_SECONDS, GOAL_BYTES = 30.0, 4 * GIB
PROVINCE_COUNTIES = 100
#: bayesPop (R, pop.predict) on a 2-core machine of this kind: milliseconds per region and
#: trajectory, the figure the county run is set beside (R is not part of this project, so
#: it is not rerun here).
BAYESPOP_MS_PER_REGION_TRAJECTORY = 4.7
UNITS = 2989

FULL = {"block": (186, 1000), "repeats": 3, "regions": (10, 100, 300, 1000, 3000),
        "draws": (100, 300, 1000), "run_draws": 1000}
QUICK = {"block": (186, 200), "repeats": 2, "regions": (10, 100, 300), "draws": (100, 300),
         "run_draws": 100}


def synthetic_part(counties: int, draws: int, seed: int = 1, dtype: str = "float64",
                   block_mib: float = 24.0) -> dict:
    """A province's block inputs (as ``county_engine.province_part``) of the county run's
    shapes: mx by draw, SRB without draws, births and migration totals by draw."""
    from forecast.regions.county_blocks import step_survival
    from forecast.regions.county_engine import draw_blocks

    rng = np.random.default_rng(seed)
    years = STEPS + 1
    profile = np.exp(-np.arange(AGES) / 45.0)
    sizes = rng.lognormal(np.log(3e5), 0.8, counties)
    population = sizes[:, None, None] * profile[None, None] / profile.sum() / SEXES
    population = np.broadcast_to(population, (counties, SEXES, AGES)).copy()
    asfr = np.zeros((years, draws, AGES))
    schedule = np.exp(-0.5 * ((np.arange(AGES) - 29.0) / 5.5) ** 2)
    tfr = rng.uniform(0.8, 1.2, (years, draws))
    asfr[:] = (tfr[..., None] * schedule / schedule.sum())
    mx = 1e-4 * np.exp(0.09 * np.arange(AGES))
    mx = np.minimum(mx, 0.6) * rng.uniform(0.95, 1.05, (years, draws, SEXES, 1))
    births = population[:, 0, 20:40].sum() * 0.05 * tfr
    migration = rng.normal(0.0, 20.0, (STEPS, draws, SEXES, AGES))
    arrays = {"population": population, "factor": rng.uniform(0.7, 1.3, counties),
              "asfr": asfr, "mx": mx, "srb": np.full((years, 1), 1.1),
              "births_total": births, "migration_total": migration, "exchange": None}
    arrays["survival"] = step_survival(mx)  # as county_engine.province_part holds it
    members = np.array([f"p{i // 10}" for i in range(counties)])
    return {"code": "synthetic", "counties": [f"c{i}" for i in range(counties)],
            "arrays": arrays, "members": members, "prefectures": list(dict.fromkeys(members)),
            "blocks": draw_blocks(population.shape, draws, block_mib, dtype), "dtype": dtype}


# --------------------------------------------------------------------------- children

def child_block(counties: int, draws: int, dtype: str, threads: int, repeats: int) -> dict:
    """Best time of project_block on one synthetic province (a single block: all draws),
    and the copy bandwidth of one year's state with as many threads."""
    import numba

    from forecast.regions.county_blocks import project_block

    numba.set_num_threads(threads)
    part = synthetic_part(counties, draws, dtype=dtype)
    a = part["arrays"]
    args = (a["population"], a["factor"], a["asfr"], a["mx"], a["srb"], a["births_total"],
            a["migration_total"], dtype)
    project_block(*args)  # compiled (or loaded from the cache) before timing
    runs = core._timed(lambda: project_block(*args), repeats)
    best = min(runs, key=lambda r: r["wall"])
    cells = counties * draws * SEXES * AGES
    copy = core.copy_bandwidth((counties * draws, SEXES * AGES // 2 if dtype == "float32"
                                else SEXES * AGES), threads=threads)
    rate = cells * STEPS / best["wall"]
    itemsize = np.dtype(dtype).itemsize
    return {"counties": counties, "draws": draws, "dtype": dtype, "threads": threads,
            "state_mib": cells * itemsize / 2**20, "best_wall_s": best["wall"],
            "user_s": best["user"], "sys_s": best["sys"], "m_cell_years_per_s": rate / 1e6,
            "copy_gb_per_s": copy["gb_per_s"],
            "fraction_of_streaming_limit": rate * 2 * itemsize / (copy["gb_per_s"] * 1e9)}


def child_step(counties: int, draws: int, threads: int, repeats: int) -> dict:
    """Best time of the compiled step alone (``compiled_step.advance``, float64, one step)
    on a synthetic state of ``counties`` x ``draws`` (the draws of one block of the run,
    or all of them), against the copy bandwidth of that state with as many threads."""
    import numba

    from forecast.demography import compiled_step

    numba.set_num_threads(threads)
    rng = np.random.default_rng(0)
    shape = (counties, SEXES, AGES, draws)
    state, following = rng.random(shape) * 100.0, np.empty(shape)
    work = compiled_step.buffers(shape)
    inputs = [compiled_step.whole(x, draws) for x in (
        np.zeros((1, SEXES, AGES, 1)), np.full((SEXES, AGES, draws), 1e-3),
        0.99 + 0.01 * rng.random((1, SEXES, AGES, draws)),
        0.05 * rng.random((1, AGES, draws)), np.ones((1, draws)),
        0.01 * rng.random((1, SEXES, AGES, draws)))]
    args = (state, *inputs, following, *(work[k] for k in (
        "half0", "died", "migrated", "clamped", "raw_births", "deaths_next", "alive",
        "psum_next")))
    compiled_step.advance(*args)  # compiled (or loaded from the cache) before timing
    runs = core._timed(lambda: compiled_step.advance(*args), repeats)
    best = min(r["wall"] for r in runs)
    copy = core.copy_bandwidth((counties * draws, SEXES * AGES), threads=threads)
    rate = counties * draws * SEXES * AGES / best
    return {"counties": counties, "draws": draws, "threads": threads,
            "state_mib": state.nbytes / 2**20, "best_wall_s": best,
            "m_cell_years_per_s": rate / 1e6, "copy_gb_per_s": copy["gb_per_s"],
            "fraction_of_streaming_limit": rate * 16 / (copy["gb_per_s"] * 1e9)}


def child_scaling(regions: int, draws: int, dtype: str) -> dict:
    """The county stage (blocks, prefecture sums, quantiles) of ``regions`` synthetic
    counties in provinces of at most PROVINCE_COUNTIES, with its peak memory."""
    from forecast.regions.county_engine import _in_memory

    sizes = [PROVINCE_COUNTIES] * (regions // PROVINCE_COUNTIES)
    if regions % PROVINCE_COUNTIES:
        sizes.append(regions % PROVINCE_COUNTIES)
    _in_memory([synthetic_part(3, 20, dtype=dtype)], time.perf_counter())  # compile
    parts = [synthetic_part(n, draws, seed=i, dtype=dtype) for i, n in enumerate(sizes)]
    before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    _in_memory(parts, start)
    wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
    return {"regions": regions, "draws": draws, "dtype": dtype, "provinces": len(sizes),
            "wall_s": wall, "user_s": after.ru_utime - before.ru_utime,
            "sys_s": after.ru_stime - before.ru_stime,
            "m_cell_years_per_s": regions * draws * SEXES * AGES * STEPS / wall / 1e6,
            "peak_rss_gib": core._maxrss_bytes() / GIB}


def child_demand(units: int, draws: int, repeats: int) -> dict:
    """Best time of the county demand stage (``forecast.planning.county_demand.CountyDemand``)
    on ``units`` county-level units of the default county run (its standards and supply
    table) x ``draws`` x 16 years of synthetic indicator draws, with the CPU time of that
    run."""
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from forecast.core.paths import CONFIG_DIR
    from forecast.core.registry import INDICATORS
    from forecast.planning.county_demand import CountyDemand
    from forecast.runs.pipeline import _demand_inputs, _planning_units

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base=None):
        cfg = compose("config", overrides=["data=china_counties"])
    inputs = instantiate(cfg.data)
    years = np.arange(int(inputs.base_year), int(inputs.base_year) + STEPS + 1)
    codes = _planning_units(inputs)
    given = _demand_inputs(cfg, codes, years)
    stage = CountyDemand(given["standards"], given["supply"], years)
    below = [c for c in codes if len(c) == 6]  # prefectures and counties, as the run has
    chosen = below[::max(1, len(below) // units)][:units]
    values = np.random.default_rng(0).gamma(50.0, 100.0,
                                            (len(chosen), len(INDICATORS), len(years), draws))
    stage(values[:2], chosen[:2])  # imports and caches before timing
    runs = core._timed(lambda: stage(values, chosen), repeats)
    best = min(runs, key=lambda r: r["wall"])
    supplied = int(sum(c in set(given["supply"]["region"].values) for c in chosen))
    return {"units": len(chosen), "with_supply": supplied, "draws": draws,
            "indicators": len(stage.names), "best_wall_s": best["wall"],
            "user_s": best["user"], "ms_per_unit": 1000 * best["wall"] / len(chosen)}


_LOG = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+) \w+\] (.*)$")


def full_run(draws: int, *extra: str, source: Path | None = None) -> dict:
    """The forecast command for every county; wall time, peak memory (the largest of the
    process and its children), stage times from its log, forecast.csv's SHA-256. With
    ``source`` (a checkout of another commit), that commit's package is run in this
    environment."""
    with tempfile.TemporaryDirectory(prefix="forecast-bench-") as tmp:
        command = [str(FORECAST) if source is None else str(PYTHON), *(
            [] if source is None else ["-m", "forecast"]), "data=china_counties",
                   "fertility=rw_drift", f"fertility.draws={draws}", "plots=false", *extra,
                   f"hydra.run.dir={tmp}/run"]
        script = ("import resource, subprocess, sys, json; "
                  "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
                  "sys.stderr.write(done.stderr); "
                  "print(json.dumps({'rc': done.returncode, 'maxrss': resource.getrusage("
                  "resource.RUSAGE_CHILDREN).ru_maxrss * 1024}))")
        start = time.perf_counter()
        env = None if source is None else {**os.environ, "PYTHONPATH": str(source)}
        done = subprocess.run([sys.executable, "-c", script, *command],
                              cwd=ROOT if source is None else source, capture_output=True,
                              text=True, env=env)
        wall = time.perf_counter() - start
        result = json.loads(done.stdout.strip().splitlines()[-1])
        table = Path(tmp) / "run" / "forecast.csv"
        digest = hashlib.sha256(table.read_bytes()).hexdigest() if table.exists() else ""
    stamps = [(datetime.strptime(m[1], "%Y-%m-%d %H:%M:%S,%f"), m[2])
              for m in map(_LOG.match, done.stderr.splitlines()) if m]
    stamps = [s for s in stamps if "projected at" not in s[1]]
    stages = [{"stage": msg[:80], "seconds": (stamps[i + 1][0] - when).total_seconds()}
              for i, (when, msg) in enumerate(stamps[:-1])]
    counties = next((float(re.search(r"in ([\d.]+) s", msg)[1]) for _, msg in stamps
                     if msg.startswith("County-level units projected")), float("nan"))
    return {"command": " ".join(command[1:-1]), "returncode": result["rc"], "wall_s": wall,
            "ms_per_region_trajectory": 1000 * wall / (UNITS * draws),
            "peak_rss_gib": result["maxrss"] / GIB, "county_stage_s": counties,
            "forecast_csv_sha256": digest, "stages": stages,
            "stderr_tail": done.stderr[-2000:] if result["rc"] else ""}


def run_child(*args) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"child {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the benchmark

def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs="+")
    parser.add_argument("--before", metavar="REV", help="also run the full county run of "
                        "commit REV (a temporary checkout) for the before/after table")
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "block":
            out = child_block(int(rest[0]), int(rest[1]), rest[2], int(rest[3]), int(rest[4]))
        elif kind == "step":
            out = child_step(*(int(x) for x in rest))
        elif kind == "demand":
            out = child_demand(*(int(x) for x in rest))
        else:
            out = child_scaling(int(rest[0]), int(rest[1]), rest[2])
        print(json.dumps(out))
        return
    plan = QUICK if args.quick else FULL
    out = HERE / "results" / ("quick" if args.quick else "") / "county_blocks"
    started = time.perf_counter()
    core.write_csv(out / "machine.csv", core.machine(args.quick))

    counties, draws = plan["block"]
    blocks = [run_child("block", counties, draws, dtype, threads, plan["repeats"])
              for dtype in ("float64", "float32") for threads in (1, 2)]
    core.write_csv(out / "throughput.csv", blocks)
    for b in blocks:
        print(f"block {b['dtype']} {b['threads']} thread(s): {b['m_cell_years_per_s']:.0f} M "
              f"cell-years/s, {b['fraction_of_streaming_limit']:.3f} of the streaming limit")

    # the step alone: at the shape of one block of the run (a province's counties x the
    # draws that fit in compute.block_mib) and of the block above
    from forecast.regions.county_engine import draw_blocks
    run_block = draw_blocks((counties, SEXES, AGES), 1000, 24.0, "float64")[0]
    steps = [run_child("step", counties, d, threads, 10 * plan["repeats"])
             for d in (run_block.stop, draws) for threads in (1, 2)]
    core.write_csv(out / "step.csv", steps)
    for b in steps:
        print(f"step alone {b['counties']} x {b['draws']}, {b['threads']} thread(s): "
              f"{b['m_cell_years_per_s']:.0f} M cell-years/s, "
              f"{b['fraction_of_streaming_limit']:.3f} of the streaming limit")

    demand = run_child("demand", 300, draws, plan["repeats"])
    core.write_csv(out / "demand.csv", [demand])
    print(f"county demand: {demand['ms_per_unit']:.2f} ms a unit ({demand['units']} units, "
          f"{demand['with_supply']} with supply, {demand['draws']} draws)")

    scaling = [run_child("scaling", r, d, "float64") for r in plan["regions"]
               for d in plan["draws"]]
    core.write_csv(out / "scaling.csv", scaling)
    cells = [s["regions"] * s["draws"] for s in scaling]
    b, _ = core.fit_power(cells, [s["wall_s"] for s in scaling])
    big = [s for s in scaling if s["regions"] * s["draws"] >= 1e5]
    b_big = core.fit_power([s["regions"] * s["draws"] for s in big],
                           [s["wall_s"] for s in big])[0] if len(big) > 2 else float("nan")
    print(f"scaling exponent {b:.2f} (larger points {b_big:.2f})")

    runs = {"memory": full_run(plan["run_draws"]),
            "memory_float32": full_run(plan["run_draws"], "precision=float32"),
            "dask": full_run(plan["run_draws"], "compute=dask")}
    if args.before:
        with tempfile.TemporaryDirectory(prefix="forecast-before-") as tmp:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", tmp,
                            args.before], check=True, capture_output=True)
            try:
                runs[f"before ({args.before})"] = full_run(plan["run_draws"], source=Path(tmp))
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", tmp],
                               capture_output=True)
    rows, stages = [], []
    for name, r in runs.items():
        rows.append({k: v for k, v in r.items() if k not in ("stages", "stderr_tail")}
                    | {"run": name, "time_vs_goal": r["wall_s"] / GOAL_SECONDS,
                       "bayespop_ms_per_region_trajectory": BAYESPOP_MS_PER_REGION_TRAJECTORY,
                       "bayespop_over_ours": BAYESPOP_MS_PER_REGION_TRAJECTORY
                       / r["ms_per_region_trajectory"],
                       "memory_vs_goal": r["peak_rss_gib"] * GIB / GOAL_BYTES,
                       "same_forecast_csv_as_memory":
                       r["forecast_csv_sha256"] == runs["memory"]["forecast_csv_sha256"]})
        stages += [{"run": name} | s for s in r["stages"]]
        if r["returncode"]:
            print(f"{name} failed:\n{r['stderr_tail']}")
    core.write_csv(out / "county_run.csv", rows)
    core.write_csv(out / "county_stages.csv", stages)
    core.write_csv(out / "fits.csv", [{"fit": "all points", "b": b},
                                      {"fit": ">= 1e5 region-draws", "b": b_big}])
    for r in rows:
        print(f"{r['run']}: {r['wall_s']:.1f} s ({r['time_vs_goal']:.2f} of the goal), "
              f"{r['peak_rss_gib']:.2f} GiB ({r['memory_vs_goal']:.2f} of the goal), counties "
              f"{r['county_stage_s']:.1f} s, same CSV: {r['same_forecast_csv_as_memory']}")
    print(f"benchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
