"""The memory a run needs, estimated from its configuration before any work.

A projection that keeps every draw (``output.projection=draws``, a province's counties
kept draw by draw, a backtest) holds a few arrays (region, sex, age, year, draw) of float64
alive at once; the estimate is

    overhead + posterior + ARRAYS_ALIVE x regions x 2 sexes x 101 ages x years x draws x 8 bytes

A streamed projection (the default, :func:`forecast.demography.ccmpp.project`) holds a few
years' state and, for every year, its indicators by draw; its estimate is

    overhead + posterior + STREAMED_ARRAYS x (the array above) + STATE_COPIES x regions
    x 2 sexes x 101 ages x draws x 8 bytes + NATIONAL_RATE_ARRAYS x (one region's array)
    [+ COUNTY_STAGE_ARRAYS x the provinces' array]

with regions the nation and every province of the census (whatever ``data.regions``
reports; the count is read from the census table's codes), 1 for a WPP region; years =
horizon - base year + 1; draws = ``fertility.draws`` (1 without, as for
``fertility=constant``); the overhead larger and the posterior draws counted for the MCMC.
A backtest projects one WPP region at a time (``backtest.draws``, ``max_horizon`` + 5
years). The constants were calibrated on real runs (see :data:`ARRAYS_ALIVE`). A run whose
estimate exceeds the memory available (:func:`available_memory`) is refused
(:func:`memory_problem`), naming both in GiB and the option to lower.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from forecast.core.options import as_whole
from forecast.data.census import NATION_CODE, census_region_codes
from forecast.data.county_census import units_in_province

#: The nation and 31 provinces: used when the census table cannot be read cheaply.
CENSUS_REGIONS = 32
SEXES, AGES, FLOAT_BYTES = 2, 101, 8
#: County-level units and prefectures of the largest province (an upper bound for the memory
#: estimate of data=china_counties).
MAX_COUNTY_UNITS = 210
#: Full-size (region, sex, age, year, draw) float64 arrays alive at the peak of a projection
#: run: measured from the peak resident memory of real runs as (peak - fixed part) / one
#: array: 3.9 for the census (200 and 400 draws to 2035, 200 draws to 2050), 3.5 for one WPP
#: region (4000 and 8000 draws); 5.1 for the census once the provinces' migration rates had
#: draws (1000 draws to 2035: peak 4.9 GiB); 3.3 since the step's flows are held without a
#: reindexed copy and the migration inputs are let go after the projection (1000 draws to
#: 2035: the default run 3.54 GiB with the MCMC, the county run 3.98 GiB); rounded up so the
#: estimate is an upper bound.
ARRAYS_ALIVE = 4.0
#: A streamed projection (population and rates made a year at a time): its peak resident
#: memory fitted as fixed part + a x (region, sex, age, year, draw) array + b x one year's
#: state, from three runs of the census (rw_drift, 1000 and 4000 draws to 2035, 1000 draws
#: to 2050: 0.95, 2.83 and 1.35 GiB): a = 0.53 (the indicators kept by draw, about 106
#: arrays (region, draw) per year), b = 4.0, fixed 335 MiB; rounded up here.
STREAMED_ARRAYS = 0.75
STATE_COPIES = 6.0
#: The nation's rates by draw (death rates, fertility, their copies), made whole: in arrays
#: of one region (sex, age, year, draw); what dominates a run of one WPP region (8,000
#: draws to 2035: 1.13 GiB, 3.3 such arrays above the fixed part).
NATIONAL_RATE_ARRAYS = 3.5
#: The county stage of a county run in blocks, in arrays of the provinces (region, sex, age,
#: year, draw): their net migrants by age kept for the counties (one), the blocks, their
#: summaries and the heap they leave; the full county run (1000 draws to 2035) peaked at
#: 2.5-3.0 GiB.
COUNTY_STAGE_ARRAYS = 2.5
#: Memory of the process besides those arrays (Python, libraries, data, tables), bytes:
#: measured 160-175 MiB; with the Bayesian model (PyMC, the compiled model and the chain
#: processes) 370 MiB proportional set size, 825 MiB resident summed over the processes.
OVERHEAD_BYTES = 256 * 2**20
OVERHEAD_MCMC_BYTES = 1024 * 2**20
#: Bytes per posterior draw of the MCMC: 820 in posterior.nc (85 parameters of 13
#: populations and the sampler statistics), about four copies while the chains are collected.
POSTERIOR_DRAW_BYTES = 4096
GIB = 2**30


@dataclass(frozen=True)
class MemoryEstimate:
    """The memory a run needs, from the config and the data's size."""

    regions: int
    years: int
    draws: int
    overhead_bytes: int
    other_bytes: int = 0  # e.g. the MCMC's posterior draws
    streamed: bool = False  # the population and rates made a year at a time
    county_provinces: int = 0  # provinces whose counties run in blocks (streamed)

    @property
    def array_bytes(self) -> int:
        """One (region, sex, age, year, draw) float64 array."""
        return self.regions * SEXES * AGES * self.years * self.draws * FLOAT_BYTES

    @property
    def projection_bytes(self) -> float:
        """The projection's part: :data:`ARRAYS_ALIVE` full arrays, or streamed, a few
        years' state, the indicators kept by draw and the county stage."""
        if not self.streamed:
            return ARRAYS_ALIVE * self.array_bytes
        state = self.regions * SEXES * AGES * self.draws * FLOAT_BYTES
        one_region = self.array_bytes / max(self.regions, 1)
        return (STREAMED_ARRAYS * self.array_bytes + STATE_COPIES * state
                + NATIONAL_RATE_ARRAYS * one_region
                + COUNTY_STAGE_ARRAYS * one_region * self.county_provinces)

    @property
    def arrays(self) -> float:
        """The projection's part in full (region, sex, age, year, draw) arrays."""
        return self.projection_bytes / self.array_bytes if self.array_bytes else 0.0

    @property
    def bytes(self) -> int:
        return int(self.overhead_bytes + self.other_bytes + self.projection_bytes)

    @property
    def gib(self) -> float:
        return self.bytes / GIB

    def __str__(self) -> str:
        return (f"about {self.gib:.1f} GiB ({self.arrays:.2g} arrays of {self.regions} regions x "
                f"{SEXES} sexes x {AGES} ages x {self.years} years x {self.draws} draws x "
                f"{FLOAT_BYTES} bytes = {self.array_bytes / GIB:.2f} GiB each, plus "
                f"{(self.overhead_bytes + self.other_bytes) / GIB:.1f} GiB for the program"
                f"{' and the MCMC' if self.other_bytes else ''})")


def estimate_memory(conf: Mapping) -> MemoryEstimate:
    """The memory the run of the resolved config ``conf`` needs (an upper bound; see the
    module docstring). Raises KeyError, TypeError or ValueError where the options it needs
    are missing or not valid (the config check reports those)."""
    return _estimate(conf)


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation: MemAvailable from /proc/meminfo
    (lowered to a cgroup's limit where one is set), else physical memory; None if unknown."""
    available = None
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    available = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        available = None
    if available is None:
        try:
            available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            available = None
    limit = _cgroup_room()
    if limit is not None:
        available = limit if available is None else min(available, limit)
    return available


def _estimate(conf: dict) -> MemoryEstimate:
    if conf.get("task", "project") == "backtest":
        spec = conf["backtest"]
        # against WPP: one region per projection, from the quinquennial year before the
        # origin; against NBS: the nation and its provinces from the census year
        regions = 32 if spec.get("against") == "nbs" else 1
        years = as_whole(spec["max_horizon"]) + 5
        draws = as_whole(spec["draws"])
        return MemoryEstimate(regions, years, draws, OVERHEAD_MCMC_BYTES,
                              _posterior_bytes(spec.get("overrides", {}).get("bayes") or {},
                                               draws) if "bayes" in spec["models"] else 0)
    data, fertility = conf["data"], conf["fertility"]
    regions = _regions(data, conf.get("compute") or {})
    base = as_whole(data["base_year"])
    years = as_whole(conf["horizon"]) - base + 1
    draws = as_whole(fertility.get("draws", 1))
    mcmc = "samples" in fertility or "nuts_sampler" in fertility
    streamed = (draws > 1 and (conf.get("output") or {}).get("projection") != "draws"
                and not _county_draws_kept(data, conf.get("compute") or {}))
    blocks = streamed and _in_blocks(data, conf)
    return MemoryEstimate(regions, years, draws, OVERHEAD_MCMC_BYTES if mcmc else OVERHEAD_BYTES,
                          _posterior_bytes(fertility, draws) if mcmc else 0, streamed,
                          _provinces(data) if blocks else 0)


def _posterior_bytes(node: Mapping, draws: int) -> int:
    """The MCMC's posterior: chains x draws per chain (as HierarchicalTFR.fit)."""
    chains = max(as_whole(node.get("chains", 2)) or 1, 1)
    per_chain = max(as_whole(node.get("samples", 2000)) or 0, -(-draws // chains))
    return chains * per_chain * POSTERIOR_DRAW_BYTES


def _regions(data: Mapping, compute: Mapping) -> int:
    target = str(data.get("_target_", ""))
    if target.endswith("load_wpp"):
        return 1
    provinces = _provinces(data)
    if not target.endswith("load_china_counties"):
        return provinces
    if _county_draws_kept(data, compute):
        # a county run keeping every draw adds one province's units and prefectures
        return provinces + _county_units(data)
    # counties projected in blocks: a block's state (compute.block_mib) and the largest
    # province's indicator draws (14 of the 202 values of a region's population)
    return provinces + -(-MAX_COUNTY_UNITS * 14 // 202)


def _provinces(data: Mapping) -> int:
    """The nation and the provinces of the census table."""
    codes = census_region_codes(data.get("data_dir"))
    return 1 + len(codes - {NATION_CODE}) if codes else CENSUS_REGIONS


def _county_draws_kept(data: Mapping, compute: Mapping) -> bool:
    """Whether a county run keeps every county's draws (``compute.county_draws``)."""
    if not str(data.get("_target_", "")).endswith("load_china_counties"):
        return False
    one = data.get("province") is not None or data.get("prefecture") is not None
    kept = compute.get("county_draws", "auto")
    return kept is True or (kept == "auto" and one and compute.get("engine", "memory") == "memory")


def _in_blocks(data: Mapping, conf: Mapping) -> bool:
    """Whether the run projects county-level units in blocks."""
    return (str(data.get("_target_", "")).endswith("load_china_counties")
            and not _county_draws_kept(data, conf.get("compute") or {}))


def _county_units(data: Mapping) -> int:
    """County-level and prefecture rows of the county run's province in the census region
    table (:data:`MAX_COUNTY_UNITS` when they cannot be counted cheaply)."""
    code = data.get("province") or (str(data.get("prefecture") or "")[:2] + "0000")
    return units_in_province(str(code), data.get("data_dir"),
                             str(data.get("regions_file", ""))) or MAX_COUNTY_UNITS


def memory_problem(conf: Mapping, estimate: MemoryEstimate, available: int
                   ) -> tuple[str, Any, str]:
    """(option, value, expected) of a run that does not fit in ``available`` bytes."""
    if conf.get("task", "project") == "backtest":
        option, other = "backtest.draws", "backtest.max_horizon"
        value = conf["backtest"]["draws"]
    elif estimate.draws > 1:
        option, other, value = "fertility.draws", "horizon", conf["fertility"]["draws"]
    else:
        option, other, value = "horizon", None, conf["horizon"]
    tail = (" (data.regions does not help: the nation and every province are projected)"
            if estimate.regions > 1 else "")
    lower = f"lower {option}" + (f" or {other}" if other else "")
    return (option, value, f"a run that fits in memory: it needs {estimate} but "
            f"{available / GIB:.1f} GiB is available; {lower}{tail}")


def _cgroup_room() -> int | None:
    """Room left under a cgroup v2 memory limit, if one is set."""
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit == "max":
            return None
        used = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        return max(int(limit) - used, 0)
    except (OSError, ValueError):
        return None


