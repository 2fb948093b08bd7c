"""Do large shocks to fertility come in clusters? Volatility clustering in the world's
low-fertility record up to 2019, and what it could add to the model's 2019 intervals.

    .venv/bin/python experiments/regime_change/clustering.py     # a few seconds

1. Each country or area of WPP 2024 (``data/wpp2024_tfr_annual_countries.csv``) with at
   least MIN_YEARS annual changes of log TFR in 1980-2019 while its TFR was below LOW
   (China 2019: 1.50): an AR(2) fitted to those changes by least squares, its residuals
   standardised by the country's own residual sd (z, sd 1 in every country by design).
2. The spread of z_t by the largest |z| of the two years before (``results/clustering.csv``):
   with shocks of constant size the spread is the same in every row; with clustering it
   grows with the shocks just seen. Bootstrap intervals resample whole countries.
3. The model's China forecast from 2019 (``results/model_2019.csv``, 13 populations, two
   momentum lags) widened around its median on the log scale by the ratio of the spread
   after a shock of 3 sd or more to the overall spread (China's 2018 shock in the same
   units: printed): the years 2020-2023 that would then be inside the 80 % and 95 %
   intervals (``results/clustering_widened.csv``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.data.wpp_countries import tfr_countries

HERE = Path(__file__).parent
CHINA, FIRST, ORIGIN = 156, 1980, 2019
LOW, MIN_YEARS = 2.5, 15
BINS = [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, np.inf)]
BOOTSTRAP, SEED = 2000, 20240601


def standardised_shocks(tfr) -> pd.DataFrame:
    """One row per country-year: z_t and the largest |z| of the two years before."""
    tfr = tfr.sel(year=slice(FIRST - 3, ORIGIN)).transpose("country", "year")
    years = tfr["year"].values
    rows = []
    for code, series in zip(tfr["country"].values, tfr.values):
        y = np.log(series)
        change = np.diff(y)
        low = series[1:] < LOW
        # a change enters with the two before it, all while TFR was low, from FIRST on
        used = low[2:] & low[1:-1] & low[:-2] & (years[3:] >= FIRST) & np.isfinite(change[2:])
        if used.sum() < MIN_YEARS:
            continue
        x = np.stack([np.ones(len(change) - 2), change[1:-1], change[:-2]], axis=1)
        coef = np.linalg.lstsq(x[used], change[2:][used], rcond=None)[0]
        residual = change[2:] - x @ coef
        z = residual / residual[used].std(ddof=3)
        for k in np.flatnonzero(used):
            if k >= 2 and used[k - 1] and used[k - 2]:
                rows.append({"country": int(code), "year": int(years[k + 3]), "z": z[k],
                             "prior_max": max(abs(z[k - 1]), abs(z[k - 2]))})
    return pd.DataFrame(rows)


def spread_by_prior_shock(shocks: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """sd and tail quantiles of z by the largest |z| of the two years before, with the ratio
    of each row's sd to the overall sd and its country-bootstrap 90 % interval."""
    countries = shocks["country"].unique()
    groups = {c: g for c, g in shocks.groupby("country")}

    def ratios(frame):
        overall = frame["z"].std()
        return [frame.loc[(frame["prior_max"] >= lo) & (frame["prior_max"] < hi), "z"].std()
                / overall for lo, hi in BINS]

    boot = np.array([ratios(pd.concat([groups[c] for c in rng.choice(countries, len(countries))]))
                     for _ in range(BOOTSTRAP)])
    rows = []
    for i, (lo, hi) in enumerate(BINS):
        z = shocks.loc[(shocks["prior_max"] >= lo) & (shocks["prior_max"] < hi), "z"]
        rows.append({"prior_max_abs_z": f"{lo:g}-{hi:g}", "country_years": len(z),
                     "sd": round(z.std(), 3), "q025": round(z.quantile(0.025), 2),
                     "q975": round(z.quantile(0.975), 2),
                     "share_abs_over_2": round(float((z.abs() > 2).mean()), 3),
                     "sd_ratio": round(ratios(shocks)[i], 3),
                     "sd_ratio_p05": round(float(np.nanquantile(boot[:, i], 0.05)), 3),
                     "sd_ratio_p95": round(float(np.nanquantile(boot[:, i], 0.95)), 3)})
    return pd.DataFrame(rows)


def widened_2019(model: pd.DataFrame, ratio: float) -> pd.DataFrame:
    """The 2019 forecast's quantiles (13 populations, two lags) widened by ``ratio`` around
    the median on the log scale, against WPP's estimates."""
    rows = model[(model["pool"] == "13 populations") & (model["momentum_lags"] == 2)].copy()
    for q in ("q025", "q100", "q900", "q975"):
        rows[q] = (rows["q500"] * (rows[q] / rows["q500"]) ** ratio).round(4)
    seen = rows["wpp_estimate"].notna()
    rows["in_80"] = np.where(seen, (rows["q100"] <= rows["wpp_estimate"])
                             & (rows["wpp_estimate"] <= rows["q900"]), None)
    rows["in_95"] = np.where(seen, (rows["q025"] <= rows["wpp_estimate"])
                             & (rows["wpp_estimate"] <= rows["q975"]), None)
    rows.insert(0, "widened_by", round(ratio, 3))
    return rows.drop(columns=["pool", "momentum_lags", "populations"])


def main() -> int:
    tfr = tfr_countries()
    shocks = standardised_shocks(tfr)
    table = spread_by_prior_shock(shocks, np.random.default_rng(SEED))
    table.insert(0, "countries", shocks["country"].nunique())
    table.to_csv(HERE / "results" / "clustering.csv", index=False)
    china = shocks[shocks["country"] == CHINA].set_index("year")["z"].round(2)
    ratio = float(table["sd_ratio"].iloc[-1])
    widened = widened_2019(pd.read_csv(HERE / "results" / "model_2019.csv"), ratio)
    widened.to_csv(HERE / "results" / "clustering_widened.csv", index=False)
    print(table.to_string(index=False))
    print("China's standardised shocks 2015-2019:", china.loc[2015:].to_dict())
    print(widened.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
