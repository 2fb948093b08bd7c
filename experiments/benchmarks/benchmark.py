"""Benchmark of the projection core (forecast.demography.ccmpp.project) against the machine's memory
bandwidth, its scaling in regions x draws, an extrapolation to the full county run, and a
real county-level run. Every finding is a ratio measured within one run on one machine.

Run:   .venv/bin/python experiments/benchmarks/benchmark.py            (about 9 minutes)
       .venv/bin/python experiments/benchmarks/benchmark.py --quick    (about 1 minute)

Writes results/*.csv (``--quick``: results/quick/*.csv) and prints a summary. Every heavy
measurement runs in a child process of this script, so that each one's peak resident memory
is its own (``ru_maxrss``) and the parent stays small.

Parts:
1. throughput: projection cell-years per second (cell = region x draw x sex x age, per
   projected year) of a mid-size synthetic case against a NumPy copy (``np.copyto``) of an
   array the size of one year's state; the fraction of the streaming limit is
   16 bytes (read 8 + write 8) x cell-years per second / copy bandwidth (bytes read + written
   per second). Best of a few repeats. The same case is profiled (cProfile, and line timing
   of the step functions).
2. scaling: time and peak memory over regions x draws for 15 annual steps, skipping any
   combination whose estimated peak exceeds ``--limit-gib``; fit log time = a + b log cells.
3. extrapolation: the fits taken to the full county run (2,988 units x 1,000 draws x 15 steps)
   and compared with the goals (60 s, 8 GiB).
4. a real county run: ``forecast data=china_counties`` for Sichuan (200 draws; ``--quick``:
   Chongqing, 50 draws), wall time and peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
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
ROOT = HERE.parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"
FORECAST = ROOT / ".venv" / "bin" / "forecast"

SEXES, AGES, FLOAT = 2, 101, 8
BASE_YEAR = 2020
STEPS = 15                        # 1 July 2020 -> 1 July 2035
STREAM_BYTES = 2 * FLOAT          # the least a step moves per cell-year: read P, write P(t+1)
GIB = 2**30

# The planners' goals, reported against (not asserted).
COUNTY_UNITS, COUNTY_DRAWS = 2988, 1000
GOAL_SECONDS, GOAL_BYTES, GOAL_STREAM_FRACTION = 60.0, 8 * GIB, 0.5
# glibc malloc: no mmap for large blocks and no trimming, so freed arrays are reused
HEAP_REUSE = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(2**40)}

FULL = {
    "mid": (100, 200), "repeats": 3,
    "regions": (10, 100, 300, 1000, 3000), "draws": (100, 300, 1000),
    "county": ("sichuan", "510000", 200),
}
QUICK = {
    "mid": (50, 100), "repeats": 2,
    "regions": (10, 30, 100), "draws": (30, 100),
    "county": ("chongqing", "500000", 50),
}


# --------------------------------------------------------------------------- synthetic inputs

def synthetic_inputs(regions: int, draws: int, steps: int = STEPS, seed: int = 1,
                     totals: bool = True, mx_by_region: bool = False) -> dict:
    """Inputs of ``project`` shaped as the county run's (forecast/regions/county_projection.py).

    - population (region, sex, age): one smooth age profile, region sizes lognormal around
      300,000 (a county-level unit);
    - asfr (region, age, year, draw): one schedule (TFR 1.1) times a region factor
      (lognormal, sd 0.15) times a draw factor (lognormal, sd 0.1, as in
      experiments/ccmpp_scaling) - a full region x draw array, as the county run's
      province ASFR x county factor;
    - mx (sex, age, year, draw): Gompertz with an infant rate, improving 1 % a year, a level
      per draw, shared by the regions as the province's rates are (``mx_by_region``: a level
      per region too, so mx is region x draw);
    - srb (year): 1.1; net_migration (region, sex, age, year): a young-adult profile, no draw;
    - ``totals``: births_total (year, draw) and migration_total (sex, age, year, draw), the
      county run's raking to its province.
    """
    import xarray as xr

    from forecast.core.variables import SEXES as SEX_LABELS

    rng = np.random.default_rng(seed)
    ages = np.arange(AGES)
    step_years = np.arange(BASE_YEAR, BASE_YEAR + steps)
    years = np.append(step_years, step_years[-1] + 1)
    region = [f"r{i:04d}" for i in range(regions)]
    draw = np.arange(draws)
    profile = np.exp(-0.5 * ((ages - 35) / 30.0) ** 2) + 5e-4
    profile /= profile.sum()
    size = np.exp(rng.normal(np.log(3e5), 0.8, regions))
    pop = size[:, None, None] * np.stack([profile, 1.03 * profile])[None] / 2.03
    population = xr.DataArray(pop, dims=("region", "sex", "age"),
                              coords={"region": region, "sex": list(SEX_LABELS), "age": ages})

    gompertz = 5e-5 * np.exp(0.095 * ages)
    gompertz[0] = 0.005
    by_sex = np.stack([gompertz, 1.4 * gompertz])                        # sex, age
    trend = np.exp(-0.01 * (years - BASE_YEAR))                           # year
    level = np.exp(rng.normal(0.0, 0.05, draws))                          # draw
    mx = xr.DataArray(by_sex[:, :, None, None] * trend[None, None, :, None]
                      * level[None, None, None, :], dims=("sex", "age", "year", "draw"),
                      coords={"sex": list(SEX_LABELS), "age": ages, "year": years, "draw": draw})
    if mx_by_region:
        mx = mx * xr.DataArray(np.exp(rng.normal(0.0, 0.1, regions)), dims="region",
                               coords={"region": region})

    schedule = np.exp(-0.5 * ((ages - 29) / 5.5) ** 2) * ((ages >= 15) & (ages <= 49))
    schedule *= 1.1 / schedule.sum()
    region_factor = np.exp(rng.normal(0.0, 0.15, regions))
    draw_factor = np.exp(rng.normal(0.0, 0.1, draws))
    asfr = xr.DataArray(region_factor[:, None, None, None] * schedule[None, :, None, None]
                        * np.ones(len(years))[None, None, :, None]
                        * draw_factor[None, None, None, :],
                        dims=("region", "age", "year", "draw"),
                        coords={"region": region, "age": ages, "year": years, "draw": draw})
    srb = xr.DataArray(np.full(len(years), 1.1), dims="year", coords={"year": years})
    migration = 2e-3 * np.exp(-0.5 * ((ages - 25) / 8.0) ** 2) - 3e-4
    net_migration = xr.DataArray(pop[..., None] * migration[None, None, :, None]
                                 * np.ones(steps), dims=("region", "sex", "age", "year"),
                                 coords={"region": region, "sex": list(SEX_LABELS),
                                         "age": ages, "year": step_years})
    inputs = {"population": population, "asfr": asfr, "mx": mx, "srb": srb,
              "net_migration": net_migration}
    if totals:
        births = 0.007 * pop.sum() * np.exp(rng.normal(0.0, 0.05, (len(years), draws)))
        inputs["births_total"] = xr.DataArray(births, dims=("year", "draw"),
                                              coords={"year": years, "draw": draw})
        noise = xr.DataArray(1.0 + rng.normal(0.0, 0.1, draws), dims="draw",
                             coords={"draw": draw})
        inputs["migration_total"] = (net_migration.sum("region") * noise).transpose(
            "sex", "age", "year", "draw")
    return inputs


def estimate_bytes(regions: int, draws: int, steps: int = STEPS) -> dict:
    """Peak memory of one ``project`` call on ``synthetic_inputs``, from the arrays it holds.

    ``result``: the population of every year plus the flows (what the output must hold);
    ``peak``: that plus the ASFR input and its aligned copy (region x draw x age x year each)
    and about a dozen one-year state-size temporaries of the step, plus 0.3 GiB for Python
    and the libraries."""
    cells, years = regions * draws, steps + 1
    population = cells * years * SEXES * AGES * FLOAT
    flows = cells * (4 * steps + 2 * years) * SEXES * FLOAT
    asfr = 2 * cells * years * AGES * FLOAT
    temporaries = 12 * cells * SEXES * AGES * FLOAT
    result = population + flows
    return {"result": result, "peak": result + asfr + temporaries + 0.3 * GIB}


# --------------------------------------------------------------------------- child processes

def _maxrss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _timed(fn, repeats: int) -> list[dict]:
    """Wall, user and system seconds of ``repeats`` calls of ``fn`` (the result dropped)."""
    runs = []
    for _ in range(repeats):
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        result = fn()
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
        del result
        runs.append({"wall": wall, "user": after.ru_utime - before.ru_utime,
                     "sys": after.ru_stime - before.ru_stime})
    return runs


def _best(fn, repeats: int) -> list[float]:
    return [r["wall"] for r in _timed(fn, repeats)]


def has_dtype() -> bool:
    """Whether this version of ``project`` takes ``dtype`` (float32 projections)."""
    import inspect

    from forecast.demography.ccmpp import project
    return "dtype" in inspect.signature(project).parameters


def copy_bandwidth(shape, repeats: int = 10, threads: int = 1) -> dict:
    """Best ``np.copyto`` bandwidth (bytes read + written per second) for float64 ``shape``,
    over the first axis split among ``threads`` (NumPy releases the GIL while copying)."""
    src = np.random.default_rng(0).random(shape)
    dst = np.empty_like(src)
    np.copyto(dst, src)  # touch every page first
    parts = np.array_split(np.arange(shape[0]), threads)
    pairs = [(dst[p[0]:p[-1] + 1], src[p[0]:p[-1] + 1]) for p in parts if len(p)]
    if threads > 1:
        from concurrent.futures import ThreadPoolExecutor
        pool = ThreadPoolExecutor(threads)

        def run():
            list(pool.map(lambda pair: np.copyto(*pair), pairs))
    else:
        def run():
            np.copyto(dst, src)
    times = _best(run, repeats)
    if threads > 1:
        pool.shutdown()
    best = min(times)
    return {"threads": threads, "array_mib": src.nbytes / 2**20, "best_s": best,
            "gb_per_s": 2 * src.nbytes / best / 1e9}


def first_touch(shape, repeats: int = 4) -> list[dict]:
    """Fill rate (bytes written per second) of a newly allocated float64 ``shape``: the first
    allocation gets memory new to the process; later ones (after the previous was freed)
    get pages the kernel recycles. Both pay page faults and zeroing, unlike a copy."""
    rows = []
    for i in range(repeats):
        start = time.perf_counter()
        a = np.empty(shape)
        a.fill(1.0)
        seconds = time.perf_counter() - start
        rows.append({"threads": 1, "array_mib": a.nbytes / 2**20, "best_s": seconds,
                     "gb_per_s": a.nbytes / seconds / 1e9,
                     "measure": "fill of new memory" if i == 0 else "fill of a new array"})
        del a
    later = min(rows[1:], key=lambda r: r["best_s"])
    return [rows[0], later]


def line_times(call, functions) -> dict:
    """Seconds spent on each line of ``functions`` during ``call()``: the time from a line's
    event to the next event of the same frame, so a line that calls a function includes it."""
    codes = {f.__code__: f.__name__ for f in functions}
    totals: dict = {}
    last: dict = {}

    def local(frame, event, arg):
        now = time.perf_counter()
        key = id(frame)
        if key in last:
            line, since = last[key]
            totals[line] = totals.get(line, 0.0) + now - since
        if event == "line":
            last[key] = ((codes[frame.f_code], frame.f_lineno), time.perf_counter())
        elif event == "return":
            last.pop(key, None)
        return local

    def outer(frame, event, arg):
        return local if frame.f_code in codes else None

    sys.settrace(outer)
    try:
        call()
    finally:
        sys.settrace(None)
    return totals


def child_throughput(regions: int, draws: int, repeats: int) -> dict:
    """Part 1 in one process: copy bandwidth, projection throughput of a few input variants,
    cProfile and line timing of the county-like case (each the fastest of three)."""
    import cProfile
    import linecache
    import pstats

    from numpy._core import multiarray

    from forecast.demography import ccmpp, lifetable

    state = (regions, draws, SEXES, AGES)
    touch = first_touch((GIB // FLOAT,), repeats=3)  # before anything else is allocated
    bandwidth = [copy_bandwidth(state, threads=1), copy_bandwidth(state, threads=2),
                 copy_bandwidth((8 * regions,) + state[1:], threads=1),
                 copy_bandwidth((8 * regions,) + state[1:], threads=2)]
    bandwidth = [dict(b, measure="np.copyto, bytes read + written") for b in bandwidth] + touch
    variants = [("county-like", {}, {}), ("no totals", {"totals": False}, {}),
                ("mx by region and draw", {"mx_by_region": True}, {}),
                ("county-like, no huge pages", {}, {})]
    if has_dtype():
        variants.insert(1, ("county-like, float32", {}, {"dtype": "float32"}))
    runs = []
    for name, options, arguments in variants:
        inputs = synthetic_inputs(regions, draws, **options)
        hugepages = multiarray._get_madvise_hugepage()
        if "huge" in name:  # NumPy asks for transparent huge pages for large arrays
            multiarray._set_madvise_hugepage(False)
        runs.append({"variant": name, "dtype": arguments.get("dtype", "float64"),
                     "runs": _timed(lambda: ccmpp.project(**inputs, **arguments), repeats)})
        multiarray._set_madvise_hugepage(hugepages)
        del inputs

    inputs = synthetic_inputs(regions, draws)
    best = None
    for _ in range(3):
        profiler = cProfile.Profile()
        start = time.perf_counter()
        profiler.runcall(ccmpp.project, **inputs)
        elapsed = time.perf_counter() - start
        if best is None or elapsed < best[0]:
            best = (elapsed, profiler)
    profiled_total, profiler = best
    profile = []
    for (path, line, name), (_, ncalls, tottime, cumtime, _) in pstats.Stats(profiler).stats.items():
        where = path if path.startswith(("~", "<")) else f"{Path(path).name}:{line}"
        profile.append({"function": name, "where": where, "ncalls": ncalls,
                        "tottime_s": tottime, "cumtime_s": cumtime})
    profile.sort(key=lambda r: -r["tottime_s"])

    functions = [ccmpp.project, ccmpp._step, ccmpp._migrants, ccmpp._calendar_births,
                 ccmpp._survivorship, ccmpp._aligned, lifetable.survivorship_arrays,
                 lifetable.life_table_arrays]
    traced = []
    for _ in range(3):
        start = time.perf_counter()
        totals = line_times(lambda: ccmpp.project(**inputs), functions)
        traced.append((time.perf_counter() - start, totals))
    traced_total, totals = min(traced, key=lambda t: t[0])
    files = {f.__name__: f.__code__.co_filename for f in functions}
    lines = [{"function": fn, "line": line, "seconds": s,
              "source": linecache.getline(files[fn], line).strip()}
             for (fn, line), s in totals.items()]
    lines.sort(key=lambda r: -r["seconds"])
    return {"bandwidth": bandwidth, "runs": runs, "profile": profile[:40],
            "profiled_total_s": profiled_total, "lines": lines,
            "traced_total_s": traced_total, "maxrss": _maxrss_bytes()}


def child_scaling(regions: int, draws: int, repeats: int, dtype: str = "float64") -> dict:
    """One scaling point: ``repeats`` projections of the county-like inputs."""
    from forecast.demography.ccmpp import project

    start = time.perf_counter()
    inputs = synthetic_inputs(regions, draws)
    build = time.perf_counter() - start
    arguments = {} if dtype == "float64" else {"dtype": dtype}
    runs = _timed(lambda: project(**inputs, **arguments), repeats)
    return {"runs": runs, "build_s": build, "maxrss": _maxrss_bytes()}


_LOG_LINE = re.compile(r"^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+\] (.*)$")


def child_county(province: str, draws: int, *extra: str) -> dict:
    """The forecast command for one province's counties: wall time, peak resident memory of
    the process (its own and its children's, the largest), and the log's stage times.
    ``extra`` "profile": run it under cProfile and return the costliest functions."""
    profile = "profile" in extra
    extra = tuple(e for e in extra if e != "profile")
    with tempfile.TemporaryDirectory(prefix="forecast-bench-") as tmp:
        command = [str(FORECAST), "data=china_counties", f"data.province={province}",
                   "fertility=rw_drift", f"fertility.draws={draws}", "plots=false", *extra,
                   f"hydra.run.dir={tmp}/run"]
        prefix = [str(PYTHON), "-m", "cProfile", "-o", f"{tmp}/profile"] if profile else []
        start = time.perf_counter()
        done = subprocess.run(prefix + command, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        functions = county_profile(f"{tmp}/profile", wall) if profile and not done.returncode \
            else []
    stamps = []
    for line in done.stderr.splitlines():
        match = _LOG_LINE.match(line)
        if match:
            stamps.append((datetime.strptime(match[1], "%Y-%m-%d %H:%M:%S,%f"), match[2]))
    stages = [{"stage": message[:90], "seconds": (stamps[i + 1][0] - when).total_seconds()}
              for i, (when, message) in enumerate(stamps[:-1])]
    return {"command": " ".join(command[:1] + command[1:-1]) + " hydra.run.dir=<tmp>",
            "returncode": done.returncode, "wall_s": wall,
            "maxrss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
            "stages": stages, "profile": functions,
            "stderr_tail": done.stderr[-2000:] if done.returncode else ""}


def county_profile(path: str, wall: float, top: int = 30) -> list[dict]:
    """The package's functions and xarray's quantile, concat and netCDF writing, by
    cumulative time, from a cProfile dump of a forecast run."""
    import pstats

    package = str(ROOT / "forecast")
    rows = []
    for (file, line, name), (_, ncalls, tottime, cumtime, _) in pstats.Stats(path).stats.items():
        ours = file.startswith(package)
        theirs = "xarray" in file and name in ("quantile", "to_netcdf", "concat")
        if ours or theirs:
            where = file[len(str(ROOT)) + 1:] if ours else file.split("site-packages/")[-1]
            rows.append({"function": name, "where": f"{where}:{line}", "ncalls": ncalls,
                         "cumtime_s": cumtime, "share_of_run": cumtime / wall})
    rows.sort(key=lambda r: -r["cumtime_s"])
    return rows[:top]


def run_child(*args, env: dict | None = None) -> dict:
    """This script in a fresh process (``--child ...``); its JSON answer."""
    done = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True,
                          env=None if env is None else os.environ | env)
    if done.returncode:
        raise RuntimeError(f"child {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------- the benchmark

def write_csv(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v)
                             for k, v in row.items()})


def machine(quick: bool) -> list[dict]:
    meminfo = Path("/proc/meminfo").read_text().split("\n")
    total = next(int(x.split()[1]) * 1024 for x in meminfo if x.startswith("MemTotal:"))
    cpu = next((x.split(":", 1)[1].strip() for x in Path("/proc/cpuinfo").read_text()
                .splitlines() if x.startswith("model name")), platform.processor())
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")

    def git(*args):
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    return [{"key": "date", "value": datetime.now().strftime("%Y-%m-%d %H:%M")},
            {"key": "mode", "value": "quick" if quick else "full"},
            {"key": "nproc", "value": os.cpu_count()},
            {"key": "memory_gib", "value": round(total / GIB, 1)},
            {"key": "cpu", "value": cpu},
            {"key": "transparent_hugepage", "value": thp.read_text().strip() if thp.exists()
             else ""},
            {"key": "python", "value": platform.python_version()},
            {"key": "numpy", "value": np.__version__},
            {"key": "commit", "value": git("rev-parse", "--short", "HEAD")},
            {"key": "forecast_package_modified", "value": bool(git("status", "--porcelain",
                                                                   "forecast"))}]


def fit_power(cells, seconds) -> tuple[float, float]:
    """b and a of log seconds = a + b log cells."""
    b, a = np.polyfit(np.log(cells), np.log(seconds), 1)
    return float(b), float(a)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller cases (about 1 minute)")
    parser.add_argument("--limit-gib", type=float, default=10.0,
                        help="skip scaling points whose estimated peak exceeds this")
    parser.add_argument("--out", type=Path, default=None, help="folder of the CSV files")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        if kind == "county":
            answer = child_county(rest[0], int(rest[1]), *rest[2:])
        elif kind == "scaling":
            answer = child_scaling(int(rest[0]), int(rest[1]), int(rest[2]), rest[3])
        else:
            answer = child_throughput(*map(int, rest))
        print(json.dumps(answer))
        return

    plan = QUICK if args.quick else FULL
    out = args.out or (HERE / "results" / "quick" if args.quick else HERE / "results")
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    write_csv(out / "machine.csv", machine(args.quick))
    dtypes = ["float64"] + (["float32"] if has_dtype() else [])

    # 1. throughput against the copy bandwidth, and the profile of the same case
    regions, draws = plan["mid"]
    print(f"1. throughput: {regions} regions x {draws} draws x {STEPS} steps ...", flush=True)
    part1 = run_child("throughput", regions, draws, plan["repeats"])
    bandwidth = part1["bandwidth"]
    write_csv(out / "bandwidth.csv", bandwidth)
    copy_state, copy_large = bandwidth[0], bandwidth[2]
    bw_state, bw_large = copy_state["gb_per_s"] * 1e9, copy_large["gb_per_s"] * 1e9
    bw_state_2 = bandwidth[1]["gb_per_s"] * 1e9
    cell_years = regions * draws * SEXES * AGES * STEPS
    rows = []
    for variant in part1["runs"]:
        best = min(variant["runs"], key=lambda r: r["wall"])
        walls = [r["wall"] for r in variant["runs"]]
        rate = cell_years / best["wall"]
        stream = 2 * np.dtype(variant["dtype"]).itemsize
        copy_seconds = copy_state["best_s"] * np.dtype(variant["dtype"]).itemsize / FLOAT
        rows.append({"variant": variant["variant"], "dtype": variant["dtype"],
                     "regions": regions, "draws": draws, "steps": STEPS,
                     "cell_years": cell_years, "best_s": best["wall"],
                     "best_user_s": best["user"], "best_sys_s": best["sys"],
                     "median_s": float(np.median(walls)),
                     "runs_s": " ".join(f"{t:.3f}" for t in walls),
                     "cell_years_per_s": rate, "bytes_per_cell_year": stream,
                     "fraction_of_streaming_limit": rate * stream / bw_state,
                     "fraction_of_2_thread_limit": rate * stream / bw_state_2,
                     "fraction_of_large_copy_limit": rate * stream / bw_large,
                     "state_copies_per_step": best["wall"] / STEPS / copy_seconds})
    write_csv(out / "throughput.csv", rows)
    headline = rows[0]
    total = part1["profiled_total_s"]
    write_csv(out / "profile.csv", [dict(r, share_of_total=r["tottime_s"] / total)
                                    for r in part1["profile"]])
    traced = part1["traced_total_s"]
    write_csv(out / "line_times.csv", [dict(r, share_of_total=r["seconds"] / traced)
                                       for r in part1["lines"] if r["seconds"] > 1e-3])

    # 2. scaling over regions x draws
    print("2. scaling ...", flush=True)
    scaling = []
    for dtype in dtypes:
        for d in plan["draws"]:
            for r in plan["regions"]:
                estimate = estimate_bytes(r, d)
                row = {"dtype": dtype, "regions": r, "draws": d,
                       "state_cells": r * d * SEXES * AGES,
                       "state_mib": r * d * SEXES * AGES * np.dtype(dtype).itemsize / 2**20,
                       "cell_years": r * d * SEXES * AGES * STEPS,
                       "estimated_result_gib": estimate["result"] / GIB,
                       "estimated_peak_gib": estimate["peak"] / GIB}
                empty = dict.fromkeys(("best_s", "best_user_s", "best_sys_s", "runs_s",
                                       "cell_years_per_s", "peak_rss_gib", "build_s"), "")
                if estimate["peak"] > args.limit_gib * GIB:
                    row |= {"status": f"skipped: would need {estimate['peak'] / GIB:.0f} GiB"
                            } | empty
                    scaling.append(row)
                    continue
                answer = run_child("scaling", r, d, 2, dtype)
                best = min(answer["runs"], key=lambda x: x["wall"])
                row |= {"status": "measured", "best_s": best["wall"],
                        "best_user_s": best["user"], "best_sys_s": best["sys"],
                        "runs_s": " ".join(f"{x['wall']:.3f}" for x in answer["runs"]),
                        "cell_years_per_s": row["cell_years"] / best["wall"],
                        "peak_rss_gib": answer["maxrss"] / GIB, "build_s": answer["build_s"]}
                scaling.append(row)
                print(f"   {dtype} {r:>5} regions x {d:>5} draws: {best['wall']:7.2f} s, "
                      f"{row['cell_years'] / best['wall'] / 1e6:6.1f} M cell-years/s, "
                      f"peak {answer['maxrss'] / GIB:5.2f} GiB", flush=True)
    # the largest float64 point again with glibc's allocator kept from returning memory to
    # the kernel: arrays above its mmap threshold (at most 32 MiB) are otherwise mapped
    # afresh, so every state-size temporary of every step is page-faulted and zeroed again
    largest = max((s for s in scaling if s["status"] == "measured" and s["dtype"] == "float64"),
                  key=lambda s: s["state_cells"])
    r, d = largest["regions"], largest["draws"]
    answer = run_child("scaling", r, d, 2, "float64", env=HEAP_REUSE)
    best = min(answer["runs"], key=lambda x: x["wall"])
    allocator = {"dtype": "float64", "regions": r, "draws": d,
                 "state_cells": largest["state_cells"], "state_mib": largest["state_mib"],
                 "cell_years": largest["cell_years"],
                 "estimated_result_gib": largest["estimated_result_gib"],
                 "estimated_peak_gib": largest["estimated_peak_gib"],
                 "status": "measured, " + " ".join(f"{k}={v}" for k, v in HEAP_REUSE.items()),
                 "best_s": best["wall"], "best_user_s": best["user"], "best_sys_s": best["sys"],
                 "runs_s": " ".join(f"{x['wall']:.3f}" for x in answer["runs"]),
                 "cell_years_per_s": largest["cell_years"] / best["wall"],
                 "peak_rss_gib": answer["maxrss"] / GIB, "build_s": answer["build_s"]}
    scaling.append(allocator)
    print(f"   float64 {r:>5} regions x {d:>5} draws, heap reused: {best['wall']:7.2f} s "
          f"(first run {answer['runs'][0]['wall']:.2f} s), sys {best['sys']:.2f} s", flush=True)
    write_csv(out / "scaling.csv", scaling)

    # 3. fits and the full county run
    county_cells = COUNTY_UNITS * COUNTY_DRAWS * SEXES * AGES
    county_cell_years = county_cells * STEPS
    memory_estimate = estimate_bytes(COUNTY_UNITS, COUNTY_DRAWS)
    extrapolation = []

    def add(quantity, value, goal=None):
        extrapolation.append({"quantity": quantity, "value": value,
                              "goal": "" if goal is None else goal,
                              "ratio_to_goal": "" if goal is None else value / goal})

    fits = {}
    for dtype in dtypes:
        measured = [s for s in scaling if s["status"] == "measured" and s["dtype"] == dtype]
        user = np.array([s["best_user_s"] for s in measured])
        cells = np.array([s["state_cells"] for s in measured], dtype=float)
        seconds = np.array([s["best_s"] for s in measured])
        peaks = np.array([s["peak_rss_gib"] * GIB for s in measured])
        b, a = fit_power(cells, seconds)
        big = cells >= 0.1 * cells.max()  # the larger cases, where fixed costs are small
        b_big, a_big = fit_power(cells[big], seconds[big]) if big.sum() >= 2 else (b, a)
        b_user, _ = fit_power(cells, user)
        mem_slope, mem_intercept = np.polyfit(cells, peaks, 1)
        largest = int(np.argmax(cells))
        time_power = float(np.exp(a + b * np.log(county_cells)))
        time_power_big = float(np.exp(a_big + b_big * np.log(county_cells)))
        time_linear = float(seconds[largest] * county_cells / cells[largest])
        user_linear = float(user[largest] * county_cells / cells[largest])
        memory_fit = float(mem_intercept + mem_slope * county_cells)
        fits[dtype] = {"b": b, "b_big": b_big, "time_power": time_power,
                       "time_power_big": time_power_big, "b_user": b_user,
                       "user_linear": user_linear,
                       "time_linear": time_linear, "memory_fit": memory_fit,
                       "points": len(measured), "largest": measured[largest]}
        add(f"{dtype}: scaling exponent b (log time = a + b log cells), all "
            f"{len(measured)} points", b)
        add(f"{dtype}: scaling exponent b, the {int(big.sum())} points within 10x of the "
            "largest", b_big)
        add(f"{dtype}: full county run, time by the power fit of all points (s)", time_power,
            GOAL_SECONDS)
        add(f"{dtype}: full county run, time by the power fit of the larger cases (s)",
            time_power_big, GOAL_SECONDS)
        add(f"{dtype}: full county run, time linear from the largest measured case (s)",
            time_linear, GOAL_SECONDS)
        add(f"{dtype}: scaling exponent of user CPU time alone, all points", b_user)
        add(f"{dtype}: full county run, user CPU time linear from the largest case (s)",
            user_linear, GOAL_SECONDS)
        add(f"{dtype}: full county run, peak memory by the linear fit of peak RSS (GiB)",
            memory_fit / GIB, GOAL_BYTES / GIB)
        add(f"{dtype}: peak RSS per million state cells, fitted (GiB)", mem_slope * 1e6 / GIB)
    add("float64: full county run, estimated peak from the arrays held (GiB)",
        memory_estimate["peak"] / GIB, GOAL_BYTES / GIB)
    add("float64: full county run, population of every year + flows alone (GiB)",
        memory_estimate["result"] / GIB, GOAL_BYTES / GIB)
    add("float64: full county run at the streaming limit, 1 thread (s)",
        county_cell_years * STREAM_BYTES / bw_state, GOAL_SECONDS)
    add("cell-years per second the 60 s goal needs", county_cell_years / GOAL_SECONDS)
    add("float64: that as a fraction of the 1-thread streaming limit",
        county_cell_years / GOAL_SECONDS * STREAM_BYTES / bw_state)
    add("float64: fraction of the streaming limit reached (mid case, county-like)",
        headline["fraction_of_streaming_limit"], GOAL_STREAM_FRACTION)
    write_csv(out / "extrapolation.csv", extrapolation)

    # 4. real county-level runs
    name, province, county_draws = plan["county"]
    county_runs = [("float64", [])]
    if not args.quick and "precision" in (ROOT / "configs" / "config.yaml").read_text():
        county_runs.append(("float32", ["precision=float32"]))
    county_runs.append(("float64, under cProfile", ["profile"]))
    county_rows, stages, profiled_county = [], [], []
    for label, extra in county_runs:
        print(f"4. county run: {name} ({province}), {county_draws} draws, {label} ...",
              flush=True)
        county = run_child("county", province, county_draws, *extra)
        county_rows.append({"province": f"{name} {province}", "draws": county_draws,
                            "precision": label, "command": county["command"],
                            "returncode": county["returncode"], "wall_s": county["wall_s"],
                            "peak_rss_gib": county["maxrss"] / GIB})
        stages += [{"precision": label} | s for s in county["stages"]]
        if county["profile"]:
            write_csv(out / "county_profile.csv", county["profile"])
            profiled_county = county["profile"]
        if county["returncode"]:
            print(county["stderr_tail"], file=sys.stderr)
    write_csv(out / "county_run.csv", county_rows)
    if stages:
        write_csv(out / "county_stages.csv", stages)

    # summary
    print(f"\nMachine: {os.cpu_count()} cores, numpy {np.__version__}; results in {out}")
    print(f"Copy bandwidth (bytes read + written): {copy_state['array_mib']:.0f} MiB (one "
          f"year's state) {copy_state['gb_per_s']:.1f} GB/s on 1 thread, "
          f"{bandwidth[1]['gb_per_s']:.1f} on 2; {copy_large['array_mib']:.0f} MiB "
          f"{copy_large['gb_per_s']:.1f} GB/s on 1 thread, {bandwidth[3]['gb_per_s']:.1f} on 2")
    print(f"Filling a newly allocated {bandwidth[4]['array_mib']:.0f} MiB array: "
          f"{bandwidth[4]['gb_per_s']:.2f} GB/s (memory new to the process), "
          f"{bandwidth[5]['gb_per_s']:.2f} GB/s (recycled pages)")
    for r in rows:
        print(f"Throughput, {r['variant']}: {r['cell_years_per_s'] / 1e6:.1f} M cell-years/s "
              f"(best of {plan['repeats']}; user {r['best_user_s']:.2f} s, sys "
              f"{r['best_sys_s']:.2f} s) = {r['fraction_of_streaming_limit']:.4f} of the "
              f"streaming limit, {r['state_copies_per_step']:.0f} state copies' time per step")
    for dtype, f in fits.items():
        print(f"Scaling, {dtype}: b = {f['b']:.2f} ({f['points']} points), {f['b_big']:.2f} "
              f"(larger cases); full county run {f['time_power_big']:.0f} s (power fit of the "
              f"larger cases), {f['time_linear']:.0f} s (linear) = "
              f"{f['time_power_big'] / GOAL_SECONDS:.1f}x / "
              f"{f['time_linear'] / GOAL_SECONDS:.1f}x the 60 s goal (user CPU time alone: "
              f"b = {f['b_user']:.2f}, {f['user_linear']:.0f} s); peak "
              f"{f['memory_fit'] / GIB:.0f} GiB = {f['memory_fit'] / GOAL_BYTES:.1f}x the "
              "8 GiB goal")
    for c in county_rows:
        print(f"County run {c['province']}, {c['draws']} draws, {c['precision']}: "
              f"{c['wall_s']:.1f} s, peak {c['peak_rss_gib']:.2f} GiB (exit {c['returncode']})")
    if profiled_county:
        shown = {}
        for p in profiled_county:
            if p["function"] in ("project", "quantile", "project_counties", "over_draws"):
                shown.setdefault(p["function"], p)
        print("County run under cProfile, cumulative share of the run: " + ", ".join(
            f"{p['function']} ({p['where']}) {p['share_of_run']:.0%}" for p in shown.values()))
    top = ", ".join(f"{p['function']} {p['tottime_s'] / total:.0%}"
                    for p in part1["profile"][:6])
    print(f"Top costs (cProfile, own time): {top}")
    print(f"Benchmark took {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
