"""Calibration of the published intervals, level by level: coverage of the 80 % and 95 %
intervals, CRPS and a PIT histogram by rolling origin on the data in the repository.

- Nation: the rolling-origin backtest of national TFR and births
  (``experiments/tfr_backtest/results/backtest_scores.csv``, written by
  ``forecast +experiment=tfr_backtest``; the Bayesian model the default run uses).
- Provinces: the provinces' fertility factors (births relative to the nation's, indirectly
  standardised) from origins 2009-2018, horizons 1-5, by the method before the state-space
  model (``scale_ar1``), the state-space model with its default dynamics (``state_space``,
  the local level) and with the AR(1) towards the nation (``state_space_ar1``) and the
  naive rule
  (:mod:`forecast.projection.regional_backtest`); and the census-2020 age-0 factor forecast
  from the series up to 2019; the provinces' net migration rates (steps 2016-2021) from
  origins 2015-2020, horizons 1-3, by the reverting level (the default) and the AR(1)
  around the recent mean (:data:`forecast.projection.regional_backtest.MIGRATION_METHODS`). Whether the provinces' levels revert to the nation's
  (:func:`reversion_evidence`).
- Provinces' fertility levels with the nation's uncertainty: the national official TFR's
  draws from each origin (``experiments/official_series/results/draws.nc``, today's model, as
  simulated and widened by the scale learned at the origin) times the province's factor draws
  (the state-space model), against the official TFR times the published factor
  (:func:`joint_scores`): the level of a province's births a run publishes.
- Prefectures: their population growth 2010-2020 against their province's, predicted out of
  sample (the fit of growth on census migrant stocks without the prefecture's province,
  :mod:`forecast.data.county_migration`), against the method before (no differential).
- Counties and prefectures: the census age-0 fertility factor predicted from the ages 1-4
  as the run starts a county's level, with counting noise only and with the small areas'
  excess variance fitted without the county's province; the prefectures as sums of their
  counties, with and without the share of the change they have in common
  (:func:`county_scores`).

Run from the project root: ``.venv/bin/python experiments/calibration/calibrate.py``
(about 15 seconds). Writes ``results/*.csv``, ``results/*.json`` and ``figures/pit.png``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import xarray as xr  # noqa: E402

from scipy import optimize, stats  # noqa: E402

from forecast.core.paths import DATA_DIR  # noqa: E402
from forecast.data import load_china_census  # noqa: E402
from forecast.data.county_census import (census_records, county_noise_fit,  # noqa: E402
                                         county_shared_fit, load_china_counties)
from forecast.data.county_migration import (BULLETINS_FILE, INDICATORS_FILE,  # noqa: E402
                                            prefecture_fit, read_growth, read_stocks)
from forecast.data.provincial_inputs import CENSUS_LAGS  # noqa: E402
from forecast.demography import regional_levels  # noqa: E402
from forecast.demography.small_area_noise import (fit_noise, noise_variance,  # noqa: E402
                                                  shared_change_fit)
from forecast.models.fertility.interval_scale import widened  # noqa: E402
from forecast.projection import regional_backtest as rb  # noqa: E402
from forecast.projection.evaluate import score  # noqa: E402

HERE = Path(__file__).parent
RESULTS, FIGURES = HERE / "results", HERE / "figures"
NATIONAL_SCORES = HERE.parent / "tfr_backtest" / "results" / "backtest_scores.csv"
NATIONAL_DRAWS = HERE.parent / "official_series" / "results" / "draws.nc"
ORIGINS = list(range(2009, 2019))
HORIZON = 5
DRAWS = 4000
SEED = 20240601
#: ρ of the profile likelihood in :func:`reversion_evidence`, and the years of a change.
PROFILE_RHO = (0.95, 0.97, 0.98, 0.99, 0.995, 1.0)
CHANGE_YEARS = 5
LABELS = {"scale_ar1": "provinces, before (Scale-AR(1), bayesTFR defaults)",
          "state_space_ar1": "provinces, state-space, AR(1) towards the nation",
          "prefectures, stock_fit": "prefectures, 2010-2020 growth (held-out provinces)",
          "counties, before": "counties, census age 0 from ages 1-4, counting noise only",
          "counties, small-area excess":
              "counties, census age 0 from ages 1-4, small-area excess (the default)",
          "prefectures, independent counties":
              "prefectures, census age 0 from ages 1-4, independent counties",
          "prefectures, shared change":
              "prefectures, census age 0 from ages 1-4, shared change (the default)",
          "counties, small-area excess as census error":
              "counties, census age 0 from ages 1-4, excess as census error (shrunk)",
          "state_space": "provinces, state-space, local level (the default)",
          "provinces, net migration rate, reverting_level":
              "provinces, net migration rate, reverting level (the default)",
          "provinces, net migration rate, recent_mean_ar1":
              "provinces, net migration rate, AR(1) around the 5-year mean",
          "naive": "provinces, naive rule (last year held)",
          "joint, as simulated": "provinces, level = nation x factor, the nation as simulated",
          "joint, widened": "provinces, level = nation x factor, the nation widened (the default)"}


def national_scores() -> pd.DataFrame:
    """The nation's rolling-origin scores of the default (Bayesian) model, in the columns of
    :func:`forecast.projection.regional_backtest.rolling_origin`."""
    table = pd.read_csv(NATIONAL_SCORES, encoding="utf-8-sig")
    table = table[table["model"] == "bayes"].copy()
    table["method"] = "nation, " + table["quantity"]
    table["crps"] = table["crps_relative"]
    table["pit_bin"] = [rb.pit_bin(row, row["observed"]) for row in
                        table.to_dict("records")]
    return table


def provincial_scores(inputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rolling-origin scores of the provinces' factors, and the census-2020 check."""
    series = inputs["fertility_factor_history"].rename(factor_year="year").drop_vars(
        "region_name", errors="ignore")
    series = series.dropna("region", how="all")
    scores = rb.rolling_origin(series, ORIGINS, HORIZON, DRAWS, SEED)
    census = inputs["census_fertility_factor"].sel(region=series["region"]).drop_vars(
        "region_name", errors="ignore")
    # the census's age-0 births (Nov 2019 - Oct 2020) as the factor of 2020, seen from 2019
    extended = series.reindex(year=np.arange(int(series["year"].min()), 2021))
    extended.loc[{"year": 2020}] = census
    census_check = rb.rolling_origin(extended, [2019], 1, DRAWS, SEED)
    return scores, census_check


def joint_scores(inputs) -> pd.DataFrame:
    """Rolling-origin scores of the provinces' fertility levels, national TFR x factor
    (children per woman), from origins 2009-2018, 1-5 years ahead: the nation's official-TFR
    draws of today's model (as simulated, and widened by the scale learned at the origin)
    paired at random with the province's factor draws of the state-space model; outcomes the
    official TFR times the published factor. Scores relative to the outcome."""
    national = xr.open_dataset(NATIONAL_DRAWS).load()
    official = inputs["tfr_official"].rename(observed_year="year").dropna("year")
    series = inputs["fertility_factor_history"].rename(factor_year="year").drop_vars(
        "region_name", errors="ignore").dropna("region", how="all")
    rows = []
    for origin in ORIGINS:
        years = np.arange(origin + 1, origin + HORIZON + 1)
        rng = np.random.default_rng([SEED, origin])
        factors = rb.METHODS["state_space"](series.sel(year=slice(None, origin)), origin,
                                            years, DRAWS, rng).sel(region=series["region"])
        factors = factors.transpose("region", "year", "draw").values
        nation = national["tfr"].sel(origin=origin).values  # (h, draw)
        pick = rng.integers(0, nation.shape[1], DRAWS)
        outcome = (series.reindex(year=years).transpose("region", "year").values
                   * official.reindex(year=years).values[None, :])
        for name, scale in (("joint, as simulated", 1.0),
                            ("joint, widened", float(national["interval_scale"]
                                                     .sel(origin=origin)))):
            rows += rb.forecast_rows(name, series["region"].values, origin, years,
                                     factors * widened(nation, scale)[None, :, pick], outcome)
    return pd.DataFrame(rows)


def reversion_evidence(inputs) -> dict:
    """Do the provinces' log factors revert to the nation's level? The profile
    log-likelihood of ρ with a diffuse start (σ, τ maximised at each ρ; comparable across
    ρ), and the cross-provincial least-squares slope of the 5-year change of the published
    log factor on its level at each start year (an AR(1) implies about ρ^5 - 1; a level that
    does not revert, 0)."""
    series = inputs["fertility_factor_history"].rename(factor_year="year").dropna(
        "region", how="all").transpose("region", "year")
    y = np.log(series.values)
    profile = {}
    for rho in PROFILE_RHO:
        def cost(log_sd, rho=rho):
            sigma, tau = np.exp(log_sd)
            return -regional_levels.kalman_filter(y, rho, sigma, tau, diffuse=True)[0].sum()
        profile[rho] = -optimize.minimize(cost, np.log([0.04, 0.03]), method="Nelder-Mead",
                                          options={"xatol": 1e-8, "fatol": 1e-10}).fun
    best = max(profile.values())
    slopes = {}
    for start in series["year"].values[:-CHANGE_YEARS]:
        level = np.log(series.sel(year=start).values)
        change = np.log(series.sel(year=start + CHANGE_YEARS).values) - level
        seen = np.isfinite(level) & np.isfinite(change)
        slopes[int(start)] = float(np.polyfit(level[seen], change[seen], 1)[0])
    return {"profile_loglik": {str(r): round(v, 3) for r, v in profile.items()},
            "likelihood_ratio_rho_1": round(2 * (best - profile[1.0]), 3),
            "five_year_change_slope": {k: round(v, 4) for k, v in slopes.items()},
            "mean_slope": round(float(np.mean(list(slopes.values()))), 4),
            "ar1_implied_slope": {str(r): round(r ** CHANGE_YEARS - 1, 4)
                                  for r in PROFILE_RHO}}


def migration_scores(inputs) -> pd.DataFrame:
    """Rolling-origin scores of the provinces' net migration rates (steps 2016-2021)."""
    rates = inputs["province_net_migration_rate"].rename(migration_step="year").drop_vars(
        "region_name", errors="ignore")
    rates = rates.sel(region=[r for r in rates["region"].values if r != inputs.nation])
    last = int(rates["year"].max())
    return rb.migration_rolling_origin(rates, list(range(2015, last)), 3, DRAWS, SEED)


def prefecture_scores() -> pd.DataFrame:
    """The prefectures' population growth 2010-2020 against their province's, predicted from
    their census migrant stocks by the fit without their province (out of sample), as ten-year
    growth differences in percent; the method before (no differential) for comparison."""
    fit_table = prefecture_fit(read_stocks(DATA_DIR / INDICATORS_FILE),
                               read_growth(DATA_DIR / BULLETINS_FILE))[1]
    observed = 1000 * fit_table["growth"].to_numpy()  # 10 years, percent
    rows = []
    for method, mean, sd in (("stock_fit", 1000 * fit_table["predicted"].to_numpy(),
                              1000 * fit_table["sd"].to_numpy()),
                             ("population_share", np.zeros(len(observed)), None)):
        for i, code in enumerate(fit_table["city_code"]):
            row = {"method": f"prefectures, {method}", "region": code, "origin": 2010, "h": 10,
                   "year": 2020, "observed": observed[i], "median": mean[i],
                   "ape": np.nan, "crps": abs(observed[i] - mean[i])}
            if sd is not None:
                bounds = {f"{side}_{level}": mean[i] + sign * z * sd[i]
                          for level, z in (("80", 1.2816), ("95", 1.96))
                          for side, sign in (("lower", -1), ("upper", 1))}
                row.update(bounds, crps=_normal_crps(observed[i], mean[i], sd[i]),
                           in_80=bounds["lower_80"] <= observed[i] <= bounds["upper_80"],
                           in_95=bounds["lower_95"] <= observed[i] <= bounds["upper_95"])
                row["pit_bin"] = rb.pit_bin({**bounds, "median": mean[i]}, observed[i])
            rows.append(row)
    return pd.DataFrame(rows)


def county_scores() -> tuple[pd.DataFrame, dict]:
    """The counties' census age-0 factor (births of the 12 months before the census, against
    the province's) predicted from their ages 1-4 (births 2.5 years earlier on average) as
    the run starts a county's level from a census value: shrunk towards the prefecture
    (1 / the children counted), moved by the provinces' dynamics over the years between,
    and observed with the age-0 count's own noise (1 / its children and κ²); before, with
    counting noise only; with the small areas' excess variance
    (:mod:`forecast.demography.small_area_noise`) fitted without the county's province (out
    of sample) added to the interval; and with that excess taken as an error of every census
    value (the ages 1-4 value's, by its own count, then shrinks further). The prefectures
    are formed from the second as the run forms them (:func:`_prefecture_rows`), with the
    counties' changes independent and with the share they have in common fitted without
    the province. Log scale; ``size`` the quarter of the children aged 0 counted. Also
    returns the fits to every county and prefecture (what the run uses)."""
    inputs = load_china_counties()
    y0, y14, n0, n14 = census_records(inputs)
    province = inputs["county_province"].values
    group = np.where(inputs["county_prefecture"].values == "", province,
                     inputs["county_prefecture"].values)
    dynamics = inputs.provincial_dynamics
    change = regional_levels.change_variance(float(dynamics["rho"]), float(dynamics["sigma"]),
                                             CENSUS_LAGS)
    kappa = regional_levels.KAPPA_MIN
    seen = (n0 > 0) & (n14 > 0) & np.isfinite(y0) & np.isfinite(y14)
    size = pd.qcut(n0[seen], 4, labels=["smallest", "small", "large", "largest"])
    size = pd.Series(np.asarray(size, dtype=object), index=np.flatnonzero(seen))
    rows = []
    for code in np.unique(province):
        at = np.flatnonzero((province == code) & seen)
        rest = (province != code) & seen
        held_out = fit_noise(y0[rest], y14[rest], n0[rest], n14[rest], change, kappa)
        excess = {g: noise_variance(n[at], held_out["scale"], held_out["power"])
                  for g, n in (("0", n0), ("1-4", n14))}
        for method, start_var, extra in (
                ("before", 1.0 / n14[at], 0.0),
                ("small-area excess", 1.0 / n14[at], excess["0"]),
                ("small-area excess as census error", 1.0 / n14[at] + excess["1-4"],
                 excess["0"])):
            start = regional_levels.small_area_levels(y14[at], start_var, group[at],
                                                      kappa ** 2)
            sd = np.sqrt(start["sd"] ** 2 + extra + change + 1.0 / n0[at] + kappa ** 2)
            if method == "small-area excess":
                shared = shared_change_fit(y0[rest], y14[rest], n0[rest], n14[rest],
                                           group[rest], province[rest], change, kappa,
                                           held_out["scale"], held_out["power"])["share"]
                for name, share in (("independent counties", 0.0),
                                    ("shared change", shared)):
                    rows += _prefecture_rows(name, at, start["mean"], start["sd"] ** 2 + extra
                                             + change + kappa ** 2, share * change, y0, n0,
                                             group, code)
            for k, i in enumerate(at):
                mean, observed = start["mean"][k], y0[i]
                bounds = {f"{side}_{level}": mean + sign * z * sd[k]
                          for level, z in (("80", 1.2816), ("95", 1.96))
                          for side, sign in (("lower", -1), ("upper", 1))}
                rows.append({"method": f"counties, {method}", "region": inputs["county"].values[i],
                             "size": size[i], "children_aged_0": int(n0[i]),
                             "origin": 2019, "h": 1, "year": 2020, "observed": observed,
                             "median": mean, **bounds, "ape": abs(observed - mean),
                             "crps": _normal_crps(observed, mean, sd[k]),
                             "in_80": bounds["lower_80"] <= observed <= bounds["upper_80"],
                             "in_95": bounds["lower_95"] <= observed <= bounds["upper_95"],
                             "pit_bin": rb.pit_bin({**bounds, "median": mean}, observed)})
    fit = {**county_noise_fit(inputs), **county_shared_fit(inputs)}
    return pd.DataFrame(rows), {**fit, "change_variance": change, "kappa": kappa}


def _prefecture_rows(method: str, at: np.ndarray, mean: np.ndarray, variance: np.ndarray,
                     shared: float, y0: np.ndarray, n0: np.ndarray, group: np.ndarray,
                     province: str) -> list[dict]:
    """The prefectures of one province (the counties ``at``, of prefecture ``group``) as the
    run forms them: each county's log level drawn from N(``mean``, ``variance``: with the
    census's error κ² of its count), of which ``shared`` the counties of a prefecture draw
    in common, its births (its expected births at the province's level × the level) summed
    over the prefecture, plus the prefecture count's Poisson noise (1 / its children aged
    0), against the prefecture's census age-0 factor; log scale."""
    rng = np.random.default_rng([SEED, int(province)])
    expected = n0[at] / np.exp(y0[at])  # births at the province's level, relative scale
    rows = []
    for code in np.unique(group[at]):
        if code == province:  # units under the province directly: no prefecture
            continue
        part = np.flatnonzero(group[at] == code)
        levels = (mean[part, None]
                  + np.sqrt(variance[part, None] - shared) * rng.standard_normal((len(part), DRAWS))
                  + np.sqrt(shared) * rng.standard_normal(DRAWS))
        draws = np.log((expected[part, None] * np.exp(levels)).sum(0) / expected[part].sum())
        children = n0[at][part].sum()
        draws = draws + np.sqrt(1.0 / children) * rng.standard_normal(DRAWS)
        observed = float(np.log(children / expected[part].sum()))
        scores = score(draws, observed)
        rows.append({"method": f"prefectures, {method}", "region": code,
                     "size": "prefecture", "children_aged_0": int(children), "origin": 2019,
                     "h": 1, "year": 2020, "observed": observed,
                     **{k: float(scores[k]) for k in ("median", "lower_80", "upper_80",
                                                      "lower_95", "upper_95", "crps")},
                     "ape": abs(float(scores["median"]) - observed),
                     "in_80": bool(scores["in_80"]), "in_95": bool(scores["in_95"]),
                     "pit_bin": rb.pit_bin({k: float(scores[k]) for k in (
                         "median", "lower_80", "upper_80", "lower_95", "upper_95")},
                         observed)})
    return rows


def _normal_crps(y: float, mean: float, sd: float) -> float:
    """CRPS of N(mean, sd²) for outcome y (Gneiting & Raftery 2007, eq. 21)."""
    z = (y - mean) / sd
    return float(sd * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z)
                       - 1 / np.sqrt(np.pi)))


def pit_figure(shares: pd.DataFrame, path: Path) -> None:
    """One PIT histogram per level and method: the share of outcomes in each bin over its
    expected share (1 = calibrated)."""
    rows = list(shares.index)
    columns = min(3, len(rows))
    lines = -(-len(rows) // columns)
    fig, axes = plt.subplots(lines, columns, figsize=(4.2 * columns, 3.3 * lines), sharey=True,
                             squeeze=False)
    for ax in axes.flat[len(rows):]:
        ax.set_visible(False)
    widths = np.array(rb.PIT_EXPECTED)
    edges = np.concatenate([[0], np.cumsum(widths)]) / 100
    for ax, name in zip(axes.flat, rows):
        density = shares.loc[name].to_numpy() / widths
        ax.bar(edges[:-1], density, width=np.diff(edges), align="edge", color="#4878a8",
               edgecolor="white")
        ax.axhline(1.0, color="black", lw=0.8, ls="--")
        ax.set_title(LABELS.get(name, name), fontsize=8, wrap=True)
        ax.set_xlabel("PIT (quantile of the outcome)", fontsize=8)
        ax.set_xticks([0, 0.1, 0.5, 0.9, 1])
        ax.tick_params(labelsize=6)
    for ax in axes[:, 0]:
        ax.set_ylabel("density (1 = calibrated)", fontsize=8)
    fig.suptitle("Rolling-origin PIT histograms, bins of the published 80 % and 95 % "
                 "intervals", fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.98))
    fig.savefig(path, dpi=130)
    plt.close(fig)


def main() -> int:
    RESULTS.mkdir(exist_ok=True)
    FIGURES.mkdir(exist_ok=True)
    inputs = load_china_census()
    provinces, census_check = provincial_scores(inputs)
    nation = national_scores()
    joint = joint_scores(inputs)
    columns = ["method", "region", "origin", "h", "year", "observed", "median", "lower_80",
               "upper_80", "lower_95", "upper_95", "ape", "crps", "in_80", "in_95", "pit_bin"]
    scores = pd.concat([nation[columns], provinces[columns], joint[columns]],
                       ignore_index=True)
    scores.to_csv(RESULTS / "scores.csv", index=False, float_format="%.6g")
    by_horizon = rb.summarise(scores, ("method", "h"))
    overall = rb.summarise(scores, ("method",)).assign(h="all")
    summary = pd.concat([by_horizon, overall], ignore_index=True)
    summary.to_csv(RESULTS / "summary.csv", index=False)
    rb.summarise(census_check, ("method",)).to_csv(RESULTS / "census_2020_check.csv",
                                                     index=False)
    migration = migration_scores(inputs)
    migration.to_csv(RESULTS / "migration_scores.csv", index=False, float_format="%.6g")
    migration_summary = pd.concat([
        rb.summarise(migration, ("method", "h"), ("crps_per_1000", 1.0)),
        rb.summarise(migration, ("method",), ("crps_per_1000", 1.0)).assign(h="all")])
    migration_summary.drop(columns="mape_percent").to_csv(RESULTS / "migration_summary.csv",
                                                          index=False)
    prefectures = prefecture_scores()
    prefectures.to_csv(RESULTS / "prefecture_scores.csv", index=False, float_format="%.6g")
    prefecture_summary = rb.summarise(prefectures, ("method",), ("crps_percent_points", 1.0))
    prefecture_summary = prefecture_summary.assign(
        mae_percent_points=prefectures.assign(e=(prefectures["observed"]
                                                 - prefectures["median"]).abs())
        .groupby("method")["e"].mean().round(2).to_numpy()).drop(columns="mape_percent")
    prefecture_summary.to_csv(RESULTS / "prefecture_summary.csv", index=False)
    counties, noise = county_scores()
    counties.to_csv(RESULTS / "county_scores.csv", index=False, float_format="%.6g")
    county_summary = pd.concat([
        rb.summarise(counties, ("method", "size"), ("crps_percent", 100.0)),
        rb.summarise(counties, ("method",), ("crps_percent", 100.0)).assign(size="all")])
    county_summary = county_summary.rename(columns={"mape_percent": "mae_percent"})
    county_summary.to_csv(RESULTS / "county_summary.csv", index=False)
    (RESULTS / "county_noise.json").write_text(json.dumps(noise, indent=1), encoding="utf-8")
    every = pd.concat([scores, migration.assign(method="provinces, net migration rate, "
                                                + migration["method"]),
                       prefectures, counties])
    shares = rb.pit_shares(every[every["pit_bin"].notna()])
    shares.to_csv(RESULTS / "pit.csv")
    pit_figure(shares, FIGURES / "pit.png")
    (RESULTS / "dynamics.json").write_text(json.dumps(inputs.provincial_dynamics, indent=1),
                                           encoding="utf-8")
    reversion = reversion_evidence(inputs)
    (RESULTS / "reversion.json").write_text(json.dumps(reversion, indent=1), encoding="utf-8")
    with pd.option_context("display.width", 160, "display.max_rows", 200):
        print(summary.to_string(index=False))
        print(rb.summarise(census_check, ("method",)).to_string(index=False))
        print(migration_summary.to_string(index=False))
        print(prefecture_summary.to_string(index=False))
        print(county_summary.to_string(index=False))
        print(shares)
        print(json.dumps(reversion))
    return 0


if __name__ == "__main__":
    sys.exit(main())
