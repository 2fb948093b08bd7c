"""Single-year period life tables from death rates, and the survivorship the projection uses.

Conventions (ages 0...99 single years, 100 = open interval 100+):

- Constant hazard within each single year of age x >= 1: qx = 1 - exp(-mx) and
  ax = 1/mx - 1/(exp(mx) - 1) (about 0.5 for small mx).
- Age 0: a0 from Andreev & Kingkade (2015), the formula of the Human Mortality Database
  protocol (Wilmoth et al. 2021, Table 1), by sex, with q0 = m0 / (1 + (1 - a0) m0).
- Open interval: L100 = l100 / m100.
- Survivorship for a projection step of one year: S_x = L_{x+1} / L_x for x = 0...98;
  ages 99 and 100+ move together into 100+ with S = T100 / T99; births in the year reach
  age 0 with probability L0 / l0.

References: Andreev, E. M. & Kingkade, W. W. (2015), Average age at death in infancy and
infant mortality level, *Demographic Research* 33(13); Preston, Heuveline & Guillot (2001),
*Demography*, ch. 3 and 6.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: Andreev-Kingkade a0 pieces: (m0 threshold 1, threshold 2, intercept/slope below 1,
#: intercept/slope between, constant above 2).
_AK = {
    "male": (0.0230, 0.08307, (0.14929, -1.99545), (0.02832, 3.26201), 0.29915),
    "female": (0.01724, 0.06891, (0.14903, -2.05527), (0.04667, 3.88089), 0.31411),
}


def andreev_kingkade_a0(m0: np.ndarray, sex: str) -> np.ndarray:
    """Mean years lived in the first year by infants who die, from the infant death rate m0."""
    t1, t2, (b1, s1), (b2, s2), top = _AK[sex]
    m0 = np.asarray(m0, dtype=float)
    return np.where(m0 < t1, b1 + s1 * m0, np.where(m0 < t2, b2 + s2 * m0, top))


def _constant_hazard_a(m: np.ndarray) -> np.ndarray:
    """ax under a constant hazard within the year; the series 1/2 - m/12 near zero."""
    safe = np.where(m > 1e-4, m, 1.0)
    exact = 1.0 / safe - 1.0 / np.expm1(safe)
    return np.where(m > 1e-4, exact, 0.5 - m / 12.0)


def life_table_arrays(mx: np.ndarray, sex: str) -> dict[str, np.ndarray]:
    """Life-table columns along the last axis (ages 0...100+) for one sex.

    Returns a dict of arrays shaped like ``mx``: ax, qx, lx (radix 1), dx, Lx, Tx, ex.
    """
    m = np.asarray(mx, dtype=float)
    a = _constant_hazard_a(m)
    a[..., 0] = andreev_kingkade_a0(m[..., 0], sex)
    q = -np.expm1(-m)
    q[..., 0] = m[..., 0] / (1.0 + (1.0 - a[..., 0]) * m[..., 0])
    q[..., -1] = 1.0
    survive = np.concatenate([np.ones(m.shape[:-1] + (1,)), np.cumprod(1.0 - q[..., :-1], axis=-1)],
                             axis=-1)
    lx = survive
    dx = lx * q
    m_open = m[..., -1]
    with np.errstate(divide="ignore", over="ignore"):  # m100 = 0: infinite person-years
        mean_years_open = np.where(m_open > 0, 1.0 / np.where(m_open > 0, m_open, 1.0), np.inf)
    Lx = lx - dx * (1.0 - a)
    Lx[..., -1] = lx[..., -1] * mean_years_open
    a[..., -1] = mean_years_open
    Tx = np.flip(np.cumsum(np.flip(Lx, -1), axis=-1), -1)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ex = Tx / lx
    return {"ax": a, "qx": q, "lx": lx, "dx": dx, "Lx": Lx, "Tx": Tx, "ex": ex}


#: Schedules (rows of 101 ages) whose life table is made at a time by :func:`e0_arrays`.
ROWS_AT_ONCE = 4096


def e0_arrays(mx: np.ndarray, sex: str) -> np.ndarray:
    """Life expectancy at birth (years) of every schedule of ``mx`` (..., age), one sex:
    :func:`life_table_arrays`' ``ex`` at age 0, made :data:`ROWS_AT_ONCE` schedules at a
    time (the same numbers, without its seven columns of every schedule at once: 4 GiB
    for 8,000 draws of 21 years)."""
    m = np.asarray(mx, dtype=float)
    rows = m.reshape(-1, m.shape[-1])
    out = np.empty(len(rows))
    for start in range(0, len(rows), ROWS_AT_ONCE):
        part = rows[start:start + ROWS_AT_ONCE]
        out[start:start + len(part)] = life_table_arrays(part, sex)["ex"][:, 0]
    return out.reshape(m.shape[:-1])


def survivorship_arrays(mx: np.ndarray, sex: str) -> tuple[np.ndarray, np.ndarray]:
    """Projection survivorship from mx along the last axis (ages 0...100+), one sex.

    Returns
    -------
    sx : array like ``mx``
        Share of persons aged x at the start of a year alive at the end (aged x+1); entries
        99 and 100 both hold T100 / T99, the survivorship of ages 99 and 100+ into 100+.
    sb : array like ``mx[..., 0]``
        Share of the year's births alive at its end (aged 0): L0 / l0.
    """
    table = life_table_arrays(mx, sex)
    L, l = table["Lx"], table["lx"]
    m_open = np.asarray(mx, dtype=float)[..., -1]
    sx = np.empty_like(L)
    sx[..., :-2] = L[..., 1:-1] / L[..., :-2]
    # T100 / T99 = L100 / (L99 + L100) with L100 = l100 / m100, written to stay finite at m100 = 0.
    open_ratio = l[..., -1] / (m_open * L[..., -2] + l[..., -1])
    sx[..., -2] = open_ratio
    sx[..., -1] = open_ratio
    return sx, L[..., 0]


def _by_sex(mx: xr.DataArray, fn) -> list:
    if "sex" not in mx.dims or mx.dims[-1] != "age":
        raise ValueError("mx needs dims (..., sex, ..., age) with age last")
    return [fn(mx.sel(sex=s).values, str(s)) for s in mx["sex"].values]


def life_table(mx: xr.DataArray) -> xr.Dataset:
    """Life table (ax, qx, lx, dx, Lx, Tx, ex) from single-year mx with dims (..., sex, age).

    lx has radix 1; Lx and Tx are in person-years per person born; ex in years.
    """
    mx = mx.transpose(..., "sex", "age")
    tables = _by_sex(mx, life_table_arrays)
    out = {}
    units = {"ax": "years", "qx": "probability", "lx": "survivors per birth",
             "dx": "deaths per birth", "Lx": "person-years per birth",
             "Tx": "person-years per birth", "ex": "years"}
    for name, unit in units.items():
        values = np.stack([t[name] for t in tables], axis=mx.dims.index("sex"))
        out[name] = xr.DataArray(values, coords=mx.coords, dims=mx.dims, attrs={"units": unit})
    return xr.Dataset(out)


def life_expectancy_at_birth(mx: xr.DataArray) -> xr.DataArray:
    """e0 (mx's dims without ``age``), years, from single-year mx with dims (..., sex, age):
    the life table's ``ex`` at age 0 (:func:`e0_arrays`)."""
    mx = mx.transpose(..., "sex", "age")
    values = np.stack(_by_sex(mx, e0_arrays), axis=mx.dims.index("sex"))
    return xr.DataArray(values, dims=mx.dims[:-1],
                        coords={k: v for k, v in mx.coords.items() if "age" not in v.dims},
                        attrs={"units": "years"})


def survivorship(mx: xr.DataArray) -> tuple[xr.DataArray, xr.DataArray]:
    """Projection survivorship from single-year mx with dims (..., sex, age); see module doc.

    Returns ``sx`` (same dims as ``mx``) and ``sb`` (``mx`` without ``age``), both probabilities.
    """
    mx = mx.transpose(..., "sex", "age")
    pairs = _by_sex(mx, survivorship_arrays)
    axis = mx.dims.index("sex")
    sx = xr.DataArray(np.stack([p[0] for p in pairs], axis=axis), coords=mx.coords, dims=mx.dims,
                      attrs={"units": "probability"})
    sb_dims = mx.dims[:-1]
    sb = xr.DataArray(np.stack([p[1] for p in pairs], axis=axis),
                      coords={k: v for k, v in mx.coords.items() if "age" not in v.dims},
                      dims=sb_dims, attrs={"units": "probability"})
    return sx, sb
