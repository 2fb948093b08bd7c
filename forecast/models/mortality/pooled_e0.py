r"""Death rates from pooled life-expectancy trajectories of both sexes (draws), via Lee-Carter.

Two stages, as the UN's probabilistic projections do (bayesLife for e0, MortCast for rates):

1. life expectancy at birth of women and men by calendar year and draw, from the pooled model
   of :mod:`forecast.models.mortality.e0_trajectories` fitted on the WPP 2024 annual series of
   every population in ``inputs['e0_pool']``, continued from the target population's last
   data year (``inputs.tfr_target``: China for the census data);
2. each year's and draw's death rates :math:`m_x = \exp(a_x + b_x k)` with China's Lee-Carter
   age pattern :math:`a, b` (:class:`~forecast.models.mortality.lee_carter.LeeCarterMortality`'s
   fit from ``fit_from``) and :math:`k` solved so that the life table's e0 equals the draw's
   (the Lee-Miller matching, as MortCast's ``lc`` method does).

Years up to the last data year take the data's e0 in every draw; years after it up to the
jump-off year (``inputs.jump_off``: a year of deaths added to the observed file) the central
path (point estimates, no shocks); the draws spread after the jump-off.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.core.inputs import Inputs
from forecast.core.options import Group, Whole, draws_of_fertility, explicit_seed
from forecast.core.variables import SEXES
from forecast.models.mortality.e0_trajectories import fit_gains, fit_gap, simulate
from forecast.models.mortality.lee_carter import (RNG_STREAM, LeeCarterMortality, e0,
                                                  match_e0)


class PooledE0Mortality:
    """Calendar-year death rates with a ``draw`` dim from pooled e0 draws; see the module doc.

    Parameters
    ----------
    draws : int
        Number of draws; the output's ``draw`` coordinate is ``arange(draws)``.
    random_seed : int
        Seed; the generator is ``np.random.default_rng([random_seed, RNG_STREAM])``.
    window : int
        Years of gains fitted (the last ``window`` years of the pool, 10-40). 25 gives the best
        calibrated intervals in the rolling-origin check on the 13 pooled populations
        (``experiments/mortality_backtest/``): 15 years hold 77-79 % in the 80 % interval, 35
        years (back to the 1960s' famine for the earliest origins) 87-91 %.
    fit_from : int
        First WPP 5-year period of the Lee-Carter age pattern (see ``LeeCarterMortality``).
    """

    OPTIONS = Group({
        "window": Whole(10, 40),
        "fit_from": LeeCarterMortality.OPTIONS.options["fit_from"],
    }, rules=(explicit_seed, draws_of_fertility))

    def __init__(self, draws: int = 1000, random_seed: int = 20240601, window: int = 25,
                 fit_from: int = 1980):
        if int(draws) < 1 or not 10 <= int(window) <= 40:
            raise ValueError(f"pooled e0 mortality: need draws >= 1 and 10 <= window <= 40; "
                             f"got draws={draws}, window={window}")
        self.draws, self.random_seed, self.window = int(draws), int(random_seed), int(window)
        self.fit_from = int(fit_from)
        self.diagnostics: dict = {}

    def e0_draws(self, inputs: Inputs, years: np.ndarray) -> xr.DataArray:
        """Fit the pool; e0 (sex, year, draw) of the target population for the calendar
        ``years``, in years. Sets ``diagnostics``."""
        pool, target = _pool(inputs)
        years = np.asarray(years, dtype=int)
        data_years = pool["year"].values
        last, jump = int(data_years[-1]), max(inputs.jump_off, int(data_years[-1]))
        female, male = (pool.sel(sex=s).values for s in SEXES)
        gains = fit_gains(female, data_years, pool["pool_region"].values, self.window)
        gap = fit_gap(female, male, data_years, self.window)
        own = pool.sel(pool_region=target)
        start = own.sel(year=last).values  # female, male
        horizon = max(int(years.max()) - last, jump - last, 0)
        rng = np.random.default_rng([self.random_seed, RNG_STREAM])
        args = (gains, gap, target, start[0], start[0] - start[1], horizon, self.draws)
        central, paths = simulate(*args, rng=None), simulate(*args, rng=rng)
        if jump > last:  # the draws spread from the central path at the jump-off year
            at = jump - last - 1
            paths = central[:, at:at + 1] + paths - paths[:, at:at + 1]
            paths[:, :at + 1] = central[:, :at + 1]
        out = np.empty((2, len(years), self.draws))
        for i, year in enumerate(years):
            if year <= last:
                if year < data_years[0]:
                    raise ValueError(f"pooled e0 mortality: year {year} is before the pool's "
                                     f"first year {data_years[0]}")
                out[:, i] = own.sel(year=year).values[:, None]
            else:
                out[:, i] = paths[:, year - last - 1]
        c = int(np.flatnonzero(gains.regions == target)[0])
        self.diagnostics = {
            "pool": [str(r) for r in gains.regions], "target": target,
            "last_data_year": last, "jump_off_year": int(jump),
            "fitted_gain_years": [int(gains.years[0]), int(gains.years[-1])],
            "women_gain": {"at_80_years_per_year": float(gains.theta[0]),
                           "per_year_of_level": float(gains.theta[1]),
                           "shock_sd_per_year": gains.sigma, "offset_sd_between": gains.tau,
                           "target_offset": float(gains.offset[c]),
                           "target_offset_sd": float(gains.offset_sd[c])},
            "gap": {"intercept": float(gap.coef[0]), "persistence": float(gap.coef[1]),
                    "per_year_of_women_above_75": float(gap.coef[2]),
                    "shock_sd_years": gap.sigma},
        }
        return xr.DataArray(out, dims=("sex", "year", "draw"),
                            coords={"sex": list(SEXES), "year": years,
                                    "draw": np.arange(self.draws)},
                            name="e0", attrs={"units": "years"})

    def rates(self, inputs: Inputs, years: np.ndarray) -> xr.DataArray:
        """Calendar-year central death rates mx (sex, age, year, draw), deaths per person-year.

        One schedule applies to every region (China's provinces take the nation's); a single
        region's inputs keep their ``region`` dim.
        """
        schedule = LeeCarterMortality(draws=1, fit_from=self.fit_from)
        fit = schedule.fit(inputs)
        if len(fit["a"]) != 1:
            raise ValueError("pooled e0 mortality: the regions' death rates differ; this model "
                             "gives every region one schedule (use mortality=lee_carter)")
        expectancy = self.e0_draws(inputs, years)
        k = np.stack([k_of_e0(fit["a"][0, s], fit["b"][0, s], expectancy.sel(sex=sex).values, sex)
                      for s, sex in enumerate(SEXES)])
        log_mx = fit["a"][0][:, :, None, None] + fit["b"][0][:, :, None, None] * k[:, None]
        mx = np.exp(log_mx)
        self.diagnostics["age_pattern_periods"] = schedule.diagnostics["fit_periods"]
        coords = {"sex": list(SEXES), "age": inputs["mx"]["age"].values,
                  "year": np.asarray(years), "draw": np.arange(self.draws)}
        out = xr.DataArray(mx, dims=("sex", "age", "year", "draw"), coords=coords, name="mx",
                           attrs={"units": "deaths per person-year",
                                  "description": "Central death rate by calendar year (pooled "
                                  "e0 draws matched by Lee-Carter); age 100 is 100+"})
        regions = fit["regions"]
        return out.expand_dims(region=regions) if len(regions) == 1 else out


def k_of_e0(a: np.ndarray, b: np.ndarray, target: np.ndarray, sex: str,
            points: int = 2001) -> np.ndarray:
    """k (shape of ``target``) with e0(exp(a + b k)) = ``target`` (years); a, b (age,).

    e0 falls monotonically in k: it is tabulated on ``points`` values of k spanning the
    targets (found by bisection) and inverted by linear interpolation; the error is below
    1e-4 years for k spanning 40 years of e0.
    """
    ends = match_e0(a[None], b[None], np.zeros((1, 2)),
                    np.array([[target.max(), target.min()]]), sex, tol=1e-6)[0]
    grid = np.linspace(ends[0] - 1e-3, ends[1] + 1e-3, points)
    table = e0(a, b, grid, sex)
    return np.interp(target, table[::-1], grid[::-1])


def _pool(inputs: Inputs) -> tuple[xr.DataArray, str]:
    """The e0 pool (pool_region, sex, year) and its target population; raise if missing."""
    pool, target = inputs.get("e0_pool"), inputs.tfr_target
    if pool is None or target is None or target not in pool["pool_region"].values:
        have = [] if pool is None else [str(r) for r in pool["pool_region"].values]
        raise ValueError(f"pooled e0 mortality: the inputs need e0_pool (WPP life expectancy "
                         f"of the pool) with the target population {target!r}; pool: {have}. "
                         f"Use mortality=lee_carter for inputs without it.")
    pool = pool.transpose("pool_region", "sex", "year").sel(sex=list(SEXES))
    return pool.dropna("year", how="any"), str(target)
