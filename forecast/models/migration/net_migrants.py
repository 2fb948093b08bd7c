"""Net migrants by sex and single year of age per step, four models:
``zero``, ``wpp`` (the nation's WPP total shared by population), ``provincial_trend``
(each province's own recent history, adding up to the nation) and ``file`` (a user's table).

A model has ``rates(inputs, steps)`` giving ``net_migration`` (region, sex, age, year[, draw])
in persons per step for the steps starting 1 July of each year in ``steps``: a DataArray, or a
Dataset that may add ``net_migration_rate`` (the same dims, per person per step, applied to
the population at the start of each step; :func:`forecast.demography.ccmpp.project`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.optimize import brentq

from forecast.core.options import (Choice, Flag, Group, Number, Whole, draws_of_fertility,
                                   explicit_seed)
from forecast.data.common import existing_files
from forecast.core.by_year import lazily
from forecast.core.inputs import Inputs
from forecast.core.errors import InputError
from forecast.demography.graduation import AGES
from forecast.demography.regional_levels import change_variance
from forecast.demography.timing import step_rates
from forecast.models.migration.rate_levels import fit_rate_levels, level_rate_paths
from forecast.core.variables import SEXES


#: How the provinces' rates continue after the observed steps (:class:`ProvincialTrendMigration`),
#: the first the default.
DYNAMICS = ("reverting_level", "recent_mean")
#: Observed steps ``reverting_level`` needs (two changes of each province's rate, for its scale).
MIN_STEPS = 3


def net_migrants(flows: xr.DataArray) -> xr.Dataset:
    """What every migration model returns: ``net_migration`` ([region,] sex, age, year[,
    draw]), persons per step from 1 July of ``year``."""
    return xr.Dataset({"net_migration": flows})


class ZeroMigration:
    """No migration (a closed population)."""

    OPTIONS = Group({})  # none

    @property
    def diagnostics(self) -> dict:
        """Nothing to report (no fit)."""
        return {}

    def rates(self, inputs: Inputs, steps: np.ndarray) -> xr.Dataset:
        return net_migrants(xr.DataArray(
            np.zeros((len(SEXES), len(AGES), len(steps))), dims=("sex", "age", "year"),
            coords={"sex": list(SEXES), "age": AGES, "year": np.asarray(steps)}))


def rogers_castro(ages: np.ndarray, a1: float, alpha1: float, a2: float, alpha2: float,
                  mu2: float, lambda2: float, c: float) -> np.ndarray:
    """Rogers-Castro model migration schedule (7 parameters), normalised to sum to 1.

    .. math:: m(x) = a_1 e^{-\\alpha_1 x}
              + a_2 \\exp\\{-\\alpha_2 (x - \\mu_2) - e^{-\\lambda_2 (x - \\mu_2)}\\} + c

    Evaluated at mid-year ages x + 0.5. Reference: Rogers, A. & Castro, L. J. (1981), *Model
    migration schedules*, IIASA RR-81-30.
    """
    x = np.asarray(ages, dtype=float) + 0.5
    shape = (a1 * np.exp(-alpha1 * x)
             + a2 * np.exp(-alpha2 * (x - mu2) - np.exp(-lambda2 * (x - mu2))) + c)
    return shape / shape.sum()


class WppMigration:
    """Net international migration totals from the inputs, spread over age and sex.

    The calendar-year total (``net_migration_total``) is turned into step totals (mean of
    calendar years t and t+1, held at the last observed year afterwards), split evenly
    between the sexes and spread over single ages with a Rogers-Castro schedule. The
    default parameters are the standard schedule of Rogers & Castro (1981) with the labour
    peak near age 20. Immigrants and emigrants share the one age pattern.
    """

    OPTIONS = Group({**{k: Number(0) for k in ("a1", "alpha1", "a2", "alpha2", "mu2", "lambda2",
                                                 "c")},
                     "male_share": Number(0, 1)})

    def __init__(self, a1: float = 0.02, alpha1: float = 0.1, a2: float = 0.06,
                 alpha2: float = 0.1, mu2: float = 20.0, lambda2: float = 0.4, c: float = 0.003,
                 male_share: float = 0.5):
        self.schedule = {"a1": a1, "alpha1": alpha1, "a2": a2, "alpha2": alpha2, "mu2": mu2,
                         "lambda2": lambda2, "c": c}
        self.age_pattern = rogers_castro(AGES, **self.schedule)
        self.male_share = male_share

    @property
    def diagnostics(self) -> dict:
        """Nothing to report (no fit)."""
        return {}

    def rates(self, inputs: Inputs, steps: np.ndarray) -> xr.Dataset:
        totals = step_rates(inputs["net_migration_total"], steps,
                            inputs.last_observed_year)
        sex_share = xr.DataArray([1.0 - self.male_share, self.male_share], dims="sex",
                                 coords={"sex": list(SEXES)})
        age_share = xr.DataArray(self.age_pattern, dims="age", coords={"age": AGES})
        return net_migrants((totals * sex_share * age_share).transpose(..., "sex", "age",
                                                                        "year"))


def _national_steps(inputs: Inputs, steps: np.ndarray) -> xr.DataArray:
    """The nation's net migrants per step (step), persons: WPP's national total."""
    nation = inputs.nation
    total = inputs["net_migration_total"].sel(region=nation, drop=True)
    return step_rates(total, steps, inputs.last_observed_year)


class PopulationWeightedMigration(WppMigration):
    """Base of the regional migration models: net migrants of each region spread over sex
    and age by the Rogers-Castro schedule times the region's base-year population."""

    def _spread(self, totals: xr.DataArray, inputs: Inputs) -> xr.DataArray:
        """Net migrants (region, sex, age, year) from totals (region, year): each region's
        total spread over sex and age in proportion to the Rogers-Castro schedule times its
        base-year population (the schedule describes rates by age, so a region's migrants
        come from the ages it has: no net emigration from near-empty cohorts at 100+). The
        nation's row is the sum of the other regions' when there are any, so the regions add
        up to the nation at every age and sex."""
        nation = inputs.nation
        weight = self._age_weights(inputs, totals["region"].values)
        flows = totals * weight
        others = [r for r in flows["region"].values if r != nation]
        if others and nation in flows["region"].values:
            national = flows.sel(region=others).sum("region").expand_dims(region=[nation])
            flows = xr.concat([national, flows.sel(region=others)], dim="region")
        return flows.transpose("region", "sex", "age", "year")

    def _age_weights(self, inputs: Inputs, regions) -> xr.DataArray:
        """Shares of a region's net migrants by sex and age (region, sex, age), summing to 1:
        the Rogers-Castro schedule times the base-year population of each age."""
        sex_share = xr.DataArray([1.0 - self.male_share, self.male_share], dims="sex",
                                 coords={"sex": list(SEXES)})
        age_share = xr.DataArray(self.age_pattern, dims="age", coords={"age": AGES})
        population = inputs["population"].sel(region=regions)
        weight = sex_share * age_share * population / population.sum("age")
        return (weight / weight.sum(("sex", "age"))).drop_vars("region_name", errors="ignore")


class ProvincialTrendMigration(PopulationWeightedMigration):
    """Net migration of each province from its own recent history, adding up to the nation.

    Steps the provinces' published series cover (``province_net_migration`` of the census
    inputs: demographic balance residuals, :mod:`forecast.demography.provincial_history`) keep their
    estimate, as counts. Later steps apply each province's net migration rate to its projected
    population: with ``dynamics="reverting_level"`` (default) the level its observed rates had
    reached in the last observed step, reverting to zero
    (:mod:`forecast.models.migration.rate_levels`: an AR(1) fitted to the provinces' own
    rates, each on its own scale), with ``dynamics="recent_mean"`` the mean rate of its last
    ``years`` observed steps; with the age pattern of
    :meth:`_age_weights` (Rogers-Castro times the base-year population, so the age-specific
    rates are the Rogers-Castro schedule scaled to the province's rate): the flows follow
    the province's own population, so a shrinking province sends fewer emigrants and no
    cohort is emptied. ``scale`` multiplies the rates (0.5: half the recent migration). With
    ``decay_years`` the rates fall linearly to zero over that many steps after the last
    observed one. With ``exchange_years`` (and the census migrant stock in the inputs), the
    turnover of each province's stock of migrants from other provinces is added
    (:func:`forecast.demography.provincial_history.stock_exchange`: young adults into the
    destinations, older adults out, net zero for every province), as rates of the base-year
    population by age so that it follows the cohorts, in full in the observed steps and with the
    same scale and decay in the forecast steps. The nation's row is its net international migration:
    zero by default (``national``), as NBS's published population implies (its year-end changes
    equal births less deaths), or WPP's total (``national="wpp"``), spread the same way over
    the national population; the projection reconciles the provinces to it by sex and age in
    every step and draw (:func:`forecast.demography.ccmpp.project`, ``migration_total``), since
    migration between provinces nets to zero at every age.

    With ``uncertainty`` each draw moves each province's rate: from its level by the fitted
    AR(1), with the level's error, the parameters' and the province's scale's
    uncertainty (:func:`forecast.models.migration.rate_levels.level_rate_paths`), or, with
    ``recent_mean``, around its recent mean by an AR(1) (:func:`rate_paths`); both are fitted
    to the provinces' own observed rates. The ``draws`` differ from the forecast's first step
    on, and the projection still reconciles every step and draw to the national total.

    Returns a Dataset: ``net_migration`` (counts, persons per step) and
    ``net_migration_rate`` (per person per step), both (region, sex, age, year[, draw]).
    """

    OPTIONS = PopulationWeightedMigration.OPTIONS.extended({
        "years": Whole(1), "scale": Number(0),
        "national": Choice(("zero", "wpp")),
        "exchange_years": Number(1, lo_open=True, nullable=True,
                                 what="null or a number of years > 1"),
        "decay_years": Whole(1, nullable=True, what="null or a whole number of steps >= 1"),
        "uncertainty": Flag(),
        "dynamics": Choice(DYNAMICS),
    }, rules=(explicit_seed, draws_of_fertility))  # draws: checked by the rule

    #: Stream of ``np.random.default_rng([random_seed, RNG_STREAM])`` (1-4: the other models).
    RNG_STREAM = 5

    def __init__(self, years: int = 5, decay_years: int | None = None, scale: float = 1.0,
                 exchange_years: float | None = 7.0, national: str = "zero",
                 uncertainty: bool = True, dynamics: str = DYNAMICS[0], draws: int = 1,
                 random_seed: int = 20240601, **age_pattern):
        super().__init__(**age_pattern)
        if dynamics not in DYNAMICS:
            raise InputError(f"config, migration.dynamics: got {dynamics!r}; expected one of "
                             f"{', '.join(DYNAMICS)}.")
        self.dynamics = dynamics
        self.uncertainty, self.draws = bool(uncertainty), int(draws)
        self.random_seed = int(random_seed)
        self.fit: dict = {}
        if national not in ("zero", "wpp"):
            raise InputError(f"config, migration.national: got {national!r}; expected zero "
                             "or wpp.")
        self.national = national
        self.years = int(years)
        self.decay_years = None if decay_years is None else int(decay_years)
        self.scale = float(scale)
        self.exchange_years = None if exchange_years is None else float(exchange_years)

    def rates(self, inputs: Inputs, steps: np.ndarray) -> xr.Dataset:
        if "province_net_migration" not in inputs:
            raise InputError("config, migration: provincial_trend needs the provinces' "
                             "observed series (data=china_census with data.province_observed_file"
                             "); use migration=wpp or migration=zero for these data.")
        nation = inputs.nation
        provinces = [r for r in inputs["region"].values if r != nation]
        steps = np.asarray(steps)
        last = int(inputs["province_net_migration"]["migration_step"].max())
        known = steps <= last
        decay = (np.ones(len(steps)) if self.decay_years is None
                 else np.clip(1.0 - (steps - last) / max(self.decay_years, 1), 0.0, 1.0))
        by_step = lambda values: xr.DataArray(values, dims="year", coords={"year": steps})  # noqa: E731
        flows = self._observed_flows(inputs, nation, provinces, steps, known)
        population = inputs["population"].sel(region=provinces).drop_vars("region_name",
                                                                           errors="ignore")
        multiplier = np.where(known, 0.0, self.scale * decay)
        level, unit = self._recent_rates(inputs, provinces, population, steps)
        if self.uncertainty and self.draws > 1:
            level = self._rate_draws(inputs, provinces, level, steps, known)
            # made a year at a time when the projection reads them, where large
            level = lazily(level, level.nbytes * unit.sizes["sex"] * unit.sizes["age"])
        future = (level * unit).fillna(0.0) * by_step(multiplier)
        if self.exchange_years is not None and "province_migrant_stock" in inputs:
            # as rates of the base population by age, so that the flows follow the cohorts
            exchange = self._exchange(inputs, provinces) / population.where(population > 0)
            future = future + exchange.fillna(0.0) * by_step(np.where(known, 1.0, multiplier))
        zero = xr.zeros_like(future.isel(region=0)).expand_dims(region=[nation])
        rates = xr.concat([zero, future], dim="region").transpose("region", "sex", "age", "year",
                                                                  ...)
        return xr.Dataset({
            "net_migration": flows.assign_attrs(units="persons per step"),
            "net_migration_rate": rates.assign_attrs(units="per person per step")})

    def _observed_flows(self, inputs: Inputs, nation: str, provinces: list[str],
                        steps: np.ndarray, known: np.ndarray) -> xr.DataArray:
        """Counts (region, sex, age, year): the nation's net international migration in every
        step (zero, or WPP's total), the provinces' estimates in the observed steps (zero
        after them)."""
        observed = (inputs["province_net_migration"].rename(migration_step="year")
                    .sel(region=provinces).drop_vars("region_name", errors="ignore"))
        mask = xr.DataArray(known, dims="year", coords={"year": steps})
        counts = observed.reindex(year=steps).where(mask, 0.0).fillna(0.0)
        national = _national_steps(inputs, steps).drop_vars("region_name", errors="ignore")
        if self.national == "zero":
            national = xr.zeros_like(national)
        totals = xr.concat([national.expand_dims(region=[nation]), counts], dim="region")
        weight = self._age_weights(inputs, totals["region"].values)
        return (totals * weight).transpose("region", "sex", "age", "year")

    def _recent_rates(self, inputs: Inputs, provinces: list[str], population: xr.DataArray,
                      steps: np.ndarray) -> tuple[xr.DataArray, xr.DataArray]:
        """Each province's net migration rate after its observed steps, per person per step:
        its fitted level in the last observed step reverting at the fitted ρ in each of
        ``steps`` after it (region, year; ``reverting_level``; the fit is kept in
        ``self.fit``), or its mean rate of the last ``years`` observed steps (region;
        ``recent_mean``); and the rates by sex and age of a total rate of 1 (region, sex,
        age) with the age pattern of :meth:`_age_weights`."""
        observed = self._observed_rates(inputs, provinces)
        if self.dynamics == "reverting_level":
            seen = int(observed.notnull().any("region").sum())
            if seen < MIN_STEPS:
                raise InputError(
                    f"config, migration.dynamics: got 'reverting_level' with {seen} observed "
                    "steps of the provinces' net migration (from data.provincial.migration_from "
                    f"to the last published year); expected at least {MIN_STEPS} steps, or "
                    "migration.dynamics=recent_mean.")
            self.fit = fit_rate_levels(observed)
            after = np.maximum(steps - int(observed["year"].max()), 0)
            rate = xr.DataArray(self.fit["level"][:, None] * self.fit["rho"] ** after,
                                dims=("region", "year"),
                                coords={"region": provinces, "year": steps})
        else:
            rate = observed.isel(year=slice(-self.years, None)).mean("year")
        weight = self._age_weights(inputs, provinces)
        unit = population.sum(("sex", "age")) * weight / population.where(population > 0)
        return rate, unit

    @staticmethod
    def _observed_rates(inputs: Inputs, provinces: list[str]) -> xr.DataArray:
        """The provinces' observed net migration rates (region, year = step)."""
        return (inputs["province_net_migration_rate"].rename(migration_step="year")
                .sel(region=provinces).drop_vars("region_name", errors="ignore"))

    def _rate_draws(self, inputs: Inputs, provinces: list[str], level: xr.DataArray,
                    steps: np.ndarray, known: np.ndarray) -> xr.DataArray:
        """Each province's total rate per step and draw (region, year, draw): in the forecast
        steps the draws of :func:`~forecast.models.migration.rate_levels.level_rate_paths`
        (``reverting_level``: ``level`` is their fit's point path), or ``level`` plus the
        AR(1) deviations of :func:`rate_paths` (``recent_mean``); the ``known`` steps keep
        ``level`` (their observed counts are used instead)."""
        rng = np.random.default_rng([self.random_seed, self.RNG_STREAM])
        future = int((~known).sum())
        if self.dynamics == "reverting_level":
            paths = (level_rate_paths(self.fit, future, self.draws, rng)
                     - level.values[:, ~known, None])
        else:
            self.fit = fit_rate_deviations(self._observed_rates(inputs, provinces), self.years)
            paths = rate_paths(self.fit, future, self.draws, self.years, rng)
        deviation = np.zeros((len(provinces), len(steps), self.draws))
        deviation[:, ~known] = paths
        return level + xr.DataArray(deviation, dims=("region", "year", "draw"),
                                    coords={"region": provinces, "year": steps,
                                            "draw": np.arange(self.draws)})

    @property
    def diagnostics(self) -> dict:
        """The fitted model of the provinces' rates: the reverting level's parameters, the
        provinces' scales and levels, or (``recent_mean`` with uncertainty) the AR(1)."""
        if not self.fit:
            return {}
        if self.dynamics == "reverting_level":
            fit = self.fit
            per_1000 = lambda v: {r: round(1000 * float(x), 3)  # noqa: E731
                                  for r, x in zip(fit["regions"], v)}
            return {"rate_reverting_level": {
                "rho": round(fit["rho"], 4), "sigma": round(fit["sigma"], 4),
                "tau": round(fit["tau"], 4),
                "se_on_fitting_scale": np.round(np.sqrt(np.diag(fit["theta_cov"])), 4).tolist(),
                "scale_prior_a_b_per_1000_squared": [round(fit["prior"][0], 4),
                                                     round(1e6 * fit["prior"][1], 4)],
                "scale_per_1000": per_1000(fit["scale"]),
                "level_per_1000": per_1000(fit["level"]),
                "level_sd_per_1000": per_1000(fit["level_sd"]), "steps": fit["steps"]}}
        return {"rate_ar1": {"rho": round(self.fit["rho"], 4),
                             "sigma_inflation": round(self.fit["inflation"], 4),
                             "sigma_per_1000": {r: round(1000 * v, 3) for r, v in
                                                zip(self.fit["regions"], self.fit["sigma"])},
                             "steps": self.fit["steps"]}}

    def exchange_arrivals(self) -> np.ndarray:
        """Age distribution of the migrants who arrive in the exchange: the labour component
        of the Rogers-Castro schedule alone (no childhood component: children of migrants
        between provinces often stay behind, and their births are counted where they are
        born; no constant term: no one moves at 100 for work or study)."""
        return rogers_castro(AGES, **{**self.schedule, "a1": 0.0, "c": 0.0})

    def _exchange(self, inputs: Inputs, provinces: list[str]) -> xr.DataArray:
        """The stock exchange between provinces by sex and age (region, sex, age), persons
        per step, split between the sexes like the net flows."""
        from forecast.demography.provincial_history import stock_exchange

        population = inputs["population"].sel(region=provinces).sum(("sex", "age"))
        stock = inputs["province_migrant_stock"].sel(region=provinces)
        by_age = stock_exchange(stock.drop_vars("region_name", errors="ignore"),
                                population.drop_vars("region_name", errors="ignore"),
                                self.exchange_arrivals(), self.exchange_years,
                                national_survivors(inputs))
        sex_share = xr.DataArray([1.0 - self.male_share, self.male_share], dims="sex",
                                 coords={"sex": list(SEXES)})
        return (by_age * sex_share).transpose("region", "sex", "age")


#: Range of the pooled ρ of the migration rates.
MIGRATION_RHO_RANGE = (0.0, 0.99)


def fit_rate_deviations(rates: xr.DataArray, years: int = 5, horizon: int = 3) -> dict:
    """AR(1) of each region's net migration rate around its mean over the observed steps:
    ρ pooled over the regions (least squares of each deviation on the one before, corrected
    for the bias of demeaning a short series, :func:`nickell_bias`), σ each region's own
    residual standard deviation (per person per step).

    ``rates`` is (region, year), per person per step. Returns ``rho`` (in
    :data:`MIGRATION_RHO_RANGE`), ``rho_uncorrected``, ``sigma`` (array by region, times
    ``inflation``: :func:`_inflation` with ``years`` and ``horizon``), ``regions`` and
    ``steps`` (the observed steps used)."""
    values = rates.transpose("region", "year").values
    deviation = values - np.nanmean(values, axis=1, keepdims=True)
    before, after = deviation[:, :-1], deviation[:, 1:]
    both = np.isfinite(before) & np.isfinite(after)
    raw = float(np.sum(np.where(both, before * after, 0.0))
                / np.sum(np.where(both, before ** 2, 0.0)))
    pairs = int(np.median(both.sum(1)))
    rho = _unbiased_rho(raw, pairs)
    residual = np.where(both, after - rho * before, np.nan)
    dof = np.maximum(both.sum(1) - 1, 1)
    sigma = np.sqrt(np.nansum(residual ** 2, axis=1) / dof)
    fit = {"rho": rho, "rho_uncorrected": raw, "sigma": sigma,
           "regions": [str(r) for r in rates["region"].values],
           "steps": [int(y) for y in rates["year"].values]}
    fit["inflation"] = _inflation(values, fit, years, horizon)
    fit["sigma"] = sigma * fit["inflation"]
    return fit


def _inflation(values: np.ndarray, fit: dict, years: int, horizon: int) -> float:
    """Factor on σ that makes the model's forecast errors of the observed steps (the mean of
    ``years`` rates forecasting the next ``horizon``, from every origin inside the series)
    have the variance the model gives them (at least 1): the AR(1) around a constant mean
    misses the trends of the rates (Beijing's fell from 20 to 0 per 1,000 in five years)."""
    rho, sigma = fit["rho"], np.asarray(fit["sigma"])
    ratios = []
    for origin in range(years, values.shape[1]):
        level = np.nanmean(values[:, origin - years:origin], axis=1)
        for h in range(1, horizon + 1):
            if origin + h - 1 >= values.shape[1]:
                break
            var = sigma ** 2 * change_variance(rho, 1.0, np.arange(h, h + years))
            error = values[:, origin + h - 1] - level
            ratios.append(error ** 2 / var)
    ratios = np.concatenate(ratios) if ratios else np.array([1.0])
    return float(max(np.sqrt(np.nanmean(ratios[np.isfinite(ratios)])), 1.0))


def nickell_bias(rho: float, pairs: int) -> float:
    """Limit (many regions) of the bias of the pooled least-squares ρ of demeaned AR(1)
    series with ``pairs`` lagged pairs each (Nickell 1981, *Econometrica* 49(6), eq. 18)."""
    t = float(pairs)
    a = (1 - rho ** t) / (t * (1 - rho))
    return -(1 + rho) / (t - 1) * (1 - a) / (1 - 2 * rho / ((1 - rho) * (t - 1)) * (1 - a))


def _unbiased_rho(raw: float, pairs: int) -> float:
    """The ρ whose expected pooled estimate is ``raw`` (:func:`nickell_bias`), in
    :data:`MIGRATION_RHO_RANGE`."""
    lo, hi = MIGRATION_RHO_RANGE
    if pairs < 3:
        return float(np.clip(raw, lo, hi))
    gap = lambda r: r + nickell_bias(r, pairs) - raw  # noqa: E731
    if gap(hi) <= 0:
        return hi
    if gap(lo) >= 0:
        return lo
    return float(brentq(gap, lo, hi))


def rate_paths(fit: dict, steps: int, draws: int, years: int, rng: np.random.Generator
               ) -> np.ndarray:
    r"""Deviations (region, step, draw) of each region's net migration rate in the forecast
    steps from the mean of its last ``years`` observed rates, per person per step: paths of
    the stationary AR(1)

    .. math:: x_{r,t} = \rho\, x_{r,t-1} + \sigma_r \varepsilon_{r,t}

    over the ``years`` observed steps and the forecast ones, the deviation being
    x_{r,T+k} less the mean of the observed part: the error of the recent mean as the level
    and the movement after it, together. The spread grows with k to about the stationary
    σ_r²/(1-ρ²) plus the variance of a mean of ``years`` rates."""
    rho, sigma = fit["rho"], np.asarray(fit["sigma"])[:, None]
    size = (len(sigma), draws)
    x = sigma / np.sqrt(1.0 - rho ** 2) * rng.standard_normal(size)
    path = np.empty((len(sigma), years + steps, draws))
    for t in range(years + steps):
        if t:
            x = rho * x + sigma * rng.standard_normal(size)
        path[:, t] = x
    return path[:, years:] - path[:, :years].mean(1, keepdims=True)


def national_survivors(inputs: Inputs) -> np.ndarray:
    """Life-table survivors l_x by single age (l_0 = 1) of the nation's latest death rates,
    both sexes averaged."""
    from forecast.demography.lifetable import life_table

    nation = inputs.nation
    mx = inputs["mx"].sel(region=nation, drop=True).isel(period=-1, drop=True)
    return life_table(mx.transpose("sex", "age"))["lx"].mean("sex").values


class FileMigration(PopulationWeightedMigration):
    """Net migrants by region and calendar year from a user's CSV, spread over sex and age
    like :class:`PopulationWeightedMigration`.

    The file (``path``, relative to the project's data folder or absolute) has columns
    ``region, year, net_migrants`` (persons per calendar year, negative for net
    emigration), a row for every region projected other than the nation and every year from
    the base year to the horizon. A step takes the mean of its two calendar years. The
    nation's row is optional: without it the nation's net migration is the sum of the
    regions'; with it, the regions must add up to it within 0.1 % of their absolute flows.
    """

    OPTIONS = PopulationWeightedMigration.OPTIONS.extended(rules=(existing_files(
        "path", required=True),))

    def __init__(self, path: str, **age_pattern):
        super().__init__(**age_pattern)
        self.path = path

    def rates(self, inputs: Inputs, steps: np.ndarray) -> xr.Dataset:
        from forecast.data.planning import load_net_migrants

        if not self.path:
            raise InputError("config, migration.path: got null; expected a CSV of net migrants "
                             "(region_code, year, net_migrants).")
        nation = inputs.nation
        regions = [str(r) for r in inputs["region"].values]
        years = np.arange(int(steps[0]), int(steps[-1]) + 2)
        table = load_net_migrants(self.path, regions, nation, years)
        return net_migrants(self._spread(step_rates(table, steps), inputs))
