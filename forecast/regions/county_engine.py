"""Running the county blocks of :mod:`forecast.regions.county_blocks`: in this process or on Dask.

``compute`` config group (``configs/compute/``): ``memory`` runs the blocks one after another
in this process; ``dask`` builds the same blocks as a Dask array chunked over region (one
chunk per province: its counties are raked together) and draw, and computes it on a
``LocalCluster`` (``workers`` processes) or on the cluster at ``address``. Both call
:func:`forecast.regions.county_blocks.project_block` and
:func:`forecast.regions.county_blocks.summarise_province` on the same slices, so their numbers are
identical.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.regions.county_blocks import (NAMES, project_block, step_survival,
                                            summarise_province)
from forecast.regions.county_exchange import county_exchange_draws
from forecast.regions.county_levels import county_factor_draws
from forecast.core.errors import InputError
from forecast.core.options import Choice, Group, Number, Text, Where, Whole
from forecast.core.registry import INDICATORS, QUANTILES

log = logging.getLogger(__name__)
MIB = 2**20


def _county_draws_with_dask(node, name, problems, root) -> None:
    if node.get("county_draws") is True and node.get("engine") == "dask":
        problems.add(f"{name}.county_draws", True, "auto or false with engine dask (Dask runs "
                     "the county blocks)")


#: Seconds to wait for a TCP connection to ``compute.address`` before the Dask client starts
#: (whose own wait, 30 s, is for a scheduler that answers slowly, not for one that is absent).
CONNECT_SECONDS = 3.0


def _check_reachable(address: str) -> None:
    """Raise :class:`InputError` at once where nothing accepts a TCP connection at a
    ``tcp://`` or ``tls://`` scheduler ``address`` (other protocols are left to Dask)."""
    parsed = urlsplit(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "tls"):
        return
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise InputError(f"config, compute.address: got {address!r}; expected a scheduler "
                         "address with host and port, e.g. tcp://10.0.0.5:8786.")
    try:
        socket.create_connection((host, port), timeout=CONNECT_SECONDS).close()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise InputError(f"config, compute.address: got {address!r}; nothing accepted a "
                         f"connection at {host}:{port} within {CONNECT_SECONDS:g} s "
                         f"({reason}); expected the address of a running Dask scheduler.") from err


def _address_answers(node, name, problems, root) -> None:
    """Rule: with the Dask engine, a ``tcp://`` or ``tls://`` address accepts a connection
    (checked before any work, within :data:`CONNECT_SECONDS`)."""
    address = node.get("address")
    if node.get("engine") != "dask" or not isinstance(address, str) or not address.strip():
        return
    try:
        _check_reachable(address)
    except InputError as err:
        problems.lines.append(str(err))


#: The ``compute`` config group (``configs/compute/``).
COMPUTE_OPTIONS = Group({
    "engine": Choice(("memory", "dask"), default="memory"),
    "county_draws": Where(lambda v: v == "auto" or isinstance(v, bool),
                          what="auto, true or false", default="auto"),
    "block_mib": Number(lo=0, lo_open=True, default=24.0),
    "address": Text(hint=" such as tcp://10.0.0.5:8786, or null for a LocalCluster",
                    nullable=True, default=None),
    "workers": Whole(1, default=2),
}, rules=(_county_draws_with_dask, _address_answers))


@dataclass(frozen=True)
class Compute:
    """How the county blocks run (``configs/compute/*.yaml``).

    engine : "memory" (this process) or "dask"
    county_draws : "auto", True or False: keep every county's draws in the projection (one
        province only: projection.nc, demand.csv and figures then cover its counties), or
        project them in blocks and keep their quantiles (forecast.csv); auto: the draws for
        one province with engine memory, blocks otherwise
    block_mib : MiB of population state per block (counties x draws x sex x age); a
        province's draws are split into blocks of at most this size (a block holds two
        years' state and small per-county arrays)
    address : scheduler address of an existing Dask cluster (engine dask), or None for a
        LocalCluster of ``workers`` processes with one thread each
    """

    engine: str = COMPUTE_OPTIONS.default_of("engine")
    county_draws: str | bool = COMPUTE_OPTIONS.default_of("county_draws")
    block_mib: float = COMPUTE_OPTIONS.default_of("block_mib")
    address: str | None = COMPUTE_OPTIONS.default_of("address")
    workers: int = COMPUTE_OPTIONS.default_of("workers")

    @classmethod
    def from_config(cls, node) -> "Compute":
        """From the ``compute`` config node (options: :data:`COMPUTE_OPTIONS`)."""
        get = lambda key: COMPUTE_OPTIONS.value(node, key)  # noqa: E731
        return cls(engine=str(get("engine")), county_draws=get("county_draws"),
                   block_mib=float(get("block_mib")), address=get("address") or None,
                   workers=int(get("workers")))

    def keeps_county_draws(self, provinces: int) -> bool:
        """Whether a county run of ``provinces`` provinces keeps every county's draws."""
        if self.county_draws == "auto":
            return provinces == 1 and self.engine == "memory"
        if self.county_draws and provinces > 1:
            raise InputError(f"config, compute.county_draws: got true for {provinces} "
                             "provinces; expected one province (data.province=<code>), or "
                             "auto to project many in blocks.")
        return bool(self.county_draws)


def county_summaries(province: xr.Dataset, rates: dict[str, xr.DataArray],
                     inputs: Inputs, compute: Compute = Compute(),
                     dtype: str = "float64", seed: int = 0, extra=None) -> xr.DataArray:
    """Quantiles over draws (unit, indicator, year, quantile) of every prefecture and
    county of ``inputs`` (each province's prefectures, then its counties), from the
    provincial projection ``province`` (its ``births_calendar`` and
    ``net_migration_by_age``) and the calibrated ``rates``. Coordinates ``unit_name``,
    ``quantile_name`` and ``indicator_unit``. ``extra`` (with ``names`` and ``units``, and
    called as in :func:`forecast.regions.county_blocks.summarise_province`) adds indicators
    computed from each province's draws, e.g. the demand stage's."""
    codes = list(inputs.counties_of)
    units = [province_units(inputs, code) for code in codes]
    draws = province.sizes["draw"]
    shape = inputs["county_population"].transpose("county", "sex", "age").shape[1:]
    blocks = sum(len(draw_blocks((len(counties), *shape), draws, compute.block_mib, dtype))
                 for counties, _, _ in units)
    started = time.perf_counter()
    log.info("Projecting %d county-level units of %d province(s) in %d blocks (%s)",
             sum(len(counties) for counties, _, _ in units), len(codes), blocks, compute.engine)
    # a province's inputs are made when it is projected: memory holds one province's
    parts = _province_parts(province, rates, inputs, codes, compute.block_mib, dtype, seed)
    if compute.engine == "dask":
        values = _on_dask(list(parts), compute, extra)
    else:
        values = _in_memory(parts, started, extra, count=len(codes))
    log.info("County-level units projected in %.1f s", time.perf_counter() - started)
    regions = [code for counties, _, prefectures in units
               for code in [*prefectures, *counties]]
    names = {**inputs.prefectures,
             **dict(zip(inputs["county"].values, inputs["county_name"].values))}
    return xr.DataArray(
        np.concatenate(values), dims=("unit", "indicator", "year", "quantile"),
        coords={"unit": regions, "unit_name": ("unit", [names[r] for r in regions]),
                "indicator": NAMES + list(getattr(extra, "names", [])),
                "indicator_unit": ("indicator", [INDICATORS[n][0] for n in NAMES]
                                   + list(getattr(extra, "units", []))),
                "year": province["year"].values, "quantile": list(QUANTILES.values()),
                "quantile_name": ("quantile", list(QUANTILES))},
        name="county_summary")


def _province_parts(province: xr.Dataset, rates: dict[str, xr.DataArray], inputs: Inputs,
                    codes: list[str], block_mib: float, dtype: str, seed: int):
    """:func:`province_part` of each of ``codes`` in turn, made when asked for; the
    survivorship made once where every province has the nation's death rates."""
    shared = None
    for code in codes:
        part = province_part(province, rates, inputs, code, block_mib, dtype, seed, shared)
        if "region" not in rates["mx"].dims:
            shared = part["arrays"]["survival"]
        yield part


def province_part(province: xr.Dataset, rates: dict[str, xr.DataArray], inputs: Inputs,
                  code: str, block_mib: float, dtype: str, seed: int = 0,
                  survival: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """One province's block inputs (``arrays``: numpy, as :func:`project_block` takes them;
    the counties' fertility factors drawn with ``seed``,
    :func:`forecast.regions.county_levels.county_factor_draws`; ``survival``, the
    :func:`forecast.regions.county_blocks.step_survival` of its death rates, made here
    unless given), its draw ``blocks`` (slices), ``counties``, their prefecture codes
    (``members``) and the ``prefectures`` reported."""
    years = province["year"].values
    steps = years[:-1]
    chosen = inputs["county_province"].values == code
    counties, members, prefectures = province_units(inputs, code)

    def of_province(da, dims, wanted=years):
        da = da.sel(region=code, drop=True) if "region" in da.dims else da
        da = da.sel(year=wanted)
        if "draw" not in da.dims:
            da = da.expand_dims(draw=[0])
        return np.ascontiguousarray(da.transpose(*dims).values, dtype=float)

    arrays = {
        "population": inputs["county_population"].isel(county=chosen)
        .transpose("county", "sex", "age").values,
        "factor": county_factor_draws(inputs, code, years, province.sizes["draw"], seed),
        "exchange": county_exchange_draws(inputs, code, province.sizes["draw"], seed),
        "asfr": of_province(rates["asfr"], ("year", "draw", "age")),
        "mx": of_province(rates["mx"], ("year", "draw", "sex", "age")),
        "srb": of_province(rates["srb"], ("year", "draw")),
        "births_total": of_province(province["births_calendar"], ("year", "draw", "sex")),
        "migration_total": of_province(province["net_migration_by_age"].rename(
            migration_region="region"), ("year", "draw", "sex", "age"), steps),
    }
    arrays["survival"] = step_survival(arrays["mx"]) if survival is None else survival
    blocks = draw_blocks(arrays["population"].shape, arrays["births_total"].shape[1],
                         block_mib, dtype)
    return {"code": code, "counties": counties, "arrays": arrays, "blocks": blocks,
            "members": members, "dtype": dtype, "prefectures": prefectures}


def province_units(inputs: Inputs, code: str) -> tuple[list[str], np.ndarray, list[str]]:
    """Province ``code``'s county-level units (codes, in the inputs' order), their
    prefecture codes (unit,) and the prefectures reported (those of the inputs'
    ``prefectures``, in the order their first unit comes)."""
    chosen = inputs["county_province"].values == code
    members = inputs["county_prefecture"].values[chosen]
    return (list(inputs["county"].values[chosen]), members,
            [m for m in dict.fromkeys(members) if m in inputs.prefectures])


def draw_blocks(population_shape: tuple, draws: int, block_mib: float, dtype: str
                ) -> list[slice]:
    """Slices of ``draws`` such that a block's population state (counties x draws x sex x
    age of ``dtype``; ``population_shape`` = (county, sex, age)) is at most ``block_mib``
    MiB (at least one draw)."""
    per_draw = int(np.prod(population_shape)) * np.dtype(dtype).itemsize
    size = int(max(1, min(draws, block_mib * MIB // per_draw)))
    return [slice(start, min(start + size, draws)) for start in range(0, draws, size)]


def _block_args(part: dict, block: slice) -> dict:
    """The arguments of :func:`project_block` for one block of draws, by name."""
    a = part["arrays"]

    def by_draw(x):
        return x if x.shape[1] == 1 else x[:, block]

    factor = a["factor"][:, :, block] if a["factor"].ndim == 3 else a["factor"]
    exchange = a["exchange"]
    if exchange is not None and exchange["flows"].shape[1] > 1:
        exchange = {**exchange, "flows": exchange["flows"][:, block]}
    survival = tuple(x if x.shape[-1] == 1 else np.ascontiguousarray(x[..., block])
                     for x in a["survival"])  # (..., draw)
    return {"population": a["population"], "factor": factor, "asfr": by_draw(a["asfr"]),
            "mx": by_draw(a["mx"]), "srb": by_draw(a["srb"]),
            "births_total": a["births_total"][:, block],
            "migration_total": a["migration_total"][:, block], "dtype": part["dtype"],
            "exchange": exchange, "survival": survival}


def _draws_shape(part: dict) -> tuple[int, ...]:
    """Shape of a province's indicator draws: (county, indicator, year, draw)."""
    return (len(part["counties"]), len(NAMES)) + part["arrays"]["births_total"].shape[:2]


def province_draws(part: dict, space: np.ndarray | None = None) -> np.ndarray:
    """One province's indicator draws (county, indicator, year, draw), block by block in
    this process; held in ``space`` (a flat float64 array at least that large) when given."""
    shape = _draws_shape(part)
    draws = (np.empty(shape) if space is None
             else space[:int(np.prod(shape))].reshape(shape))
    for block in part["blocks"]:
        project_block(**_block_args(part, block), out=draws[..., block])
    return draws


def _in_memory(parts: Iterable[dict], started: float, extra=None,
               count: int | None = None) -> list[np.ndarray]:
    """Every province's summary, the ``parts`` (``count`` of them; default: ``len(parts)``)
    taken one at a time; a province's quantiles are taken in a second thread while the
    next province is projected (both release the GIL). The indicator draws of two
    provinces are held at a time, in two arrays reused from one province to the next
    (fresh memory costs more than the work done in it)."""
    count = len(parts) if count is None else count
    spaces = [np.empty(0), np.empty(0)]
    with ThreadPoolExecutor(max_workers=1) as quantiles:
        pending = []
        for i, part in enumerate(parts, 1):
            if i > 2:
                pending[i - 3].result()  # its draws' space is this province's
            size = int(np.prod(_draws_shape(part)))
            if spaces[i % 2].size < size:
                spaces[i % 2] = np.empty(size)
            draws = province_draws(part, spaces[i % 2])
            pending.append(quantiles.submit(summarise_province, draws, part["members"],
                                            part["prefectures"], part["counties"], extra))
            log.info("  province %s (%d/%d, %d counties) projected at %.1f s", part["code"],
                     i, count, len(part["counties"]), time.perf_counter() - started)
        return [p.result() for p in pending]


def dask_draws(part: dict):
    """One province's indicator draws as a Dask array (county, indicator, year, draw),
    chunked over draw by its blocks."""
    import dask
    import dask.array as da

    years = part["arrays"]["births_total"].shape[0]
    chunks = [da.from_delayed(dask.delayed(_one_thread_block)(**_block_args(part, b)),
                              shape=(len(part["counties"]), len(NAMES), years,
                                     b.stop - b.start), dtype=float)
              for b in part["blocks"]]
    return da.concatenate(chunks, axis=-1)


def _one_thread_block(**args):
    """:func:`project_block` on one thread: a Dask worker process runs one task per core."""
    import numba

    numba.set_num_threads(1)
    return project_block(**args)


def _on_dask(parts: list[dict], compute: Compute, extra=None) -> list[np.ndarray]:
    """Every province's summary, computed as one Dask graph on the cluster."""
    import dask

    summaries = []
    indicators = len(NAMES) + len(getattr(extra, "names", []))
    for part in parts:
        draws = dask_draws(part).rechunk({1: -1, 3: -1})
        units = len(part["prefectures"]) + len(part["counties"])
        summaries.append(draws.map_blocks(
            summarise_province, part["members"], part["prefectures"], part["counties"],
            extra, dtype=float,
            chunks=((units,), (indicators,), draws.chunks[2], (len(QUANTILES),))))
    with _client(compute):
        return list(dask.compute(*summaries))


@contextmanager
def _client(compute: Compute):
    """A Dask client: of the cluster at ``compute.address``, or of a new LocalCluster."""
    from distributed import Client, LocalCluster

    if compute.address:
        _check_reachable(compute.address)
        try:
            client = Client(compute.address, timeout=30)
        except OSError as err:
            raise InputError(f"config, compute.address: got {compute.address!r}; no Dask "
                             f"scheduler answered there ({err}).") from err
        with client:
            yield client
        return
    quiet = logging.getLogger("distributed")
    level = quiet.level
    quiet.setLevel(logging.WARNING)  # its start-up and shut-down lines are not the run's
    try:
        with LocalCluster(n_workers=compute.workers, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster, \
                Client(cluster) as client:
            log.info("Dask LocalCluster: %d worker processes at %s", compute.workers,
                     cluster.scheduler_address)
            yield client
    finally:
        quiet.setLevel(level)
