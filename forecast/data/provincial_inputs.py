"""The provinces' fertility levels and migration history for the census inputs.

Three sources meet here: the published provincial series (crude birth rates and year-end
populations, :func:`forecast.data.nbs.province_series`), the census's young children by
province (ages 0 and 1-4 on 1 November 2020) and the national rates. The series give each
province's fertility factor of every observed year and its net migration
(:func:`forecast.demography.provincial_history.provincial_history`); the census gives the
factor of the 12 months before it
(:func:`forecast.demography.regional_levels.census_birth_factors`).
``provincial.level`` chooses how the level of 2020 is set:

- ``state_space`` (default): the series and the census combined by the state-space model of
  :mod:`forecast.demography.regional_levels`, its dynamics fitted to the 31 provinces; the
  inputs then carry the fit (``fertility_level_mean``/``_sd``, ``fertility_dynamics_*``)
  from which the probabilistic models draw each province's path; ``provincial.dynamics``
  chooses the model's dynamics (:data:`forecast.demography.regional_levels.MODELS`: the
  local level model by default, or the AR(1) towards the nation);
- ``series_mean``: the mean factor of the last ``factor_years`` observed years (or their
  trend), as before the census was used; paths then follow the Scale-AR(1) defaults.

A province without observed births falls back on its census age-0 factor (``state_space``)
or the age-standardised census child-woman ratio (``series_mean``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from forecast.core.options import Choice, Flag, Group, Whole
from forecast.data.nbs import province_series
from forecast.data.wpp import wpp_region_rates
from forecast.demography import regional_levels
from forecast.demography.provincial_history import provincial_history, survive_back
from forecast.demography.subnational import child_woman_ratio_factor

#: The options of ``data.provincial`` (``configs/data/china_census.yaml``).
PROVINCIAL_OPTIONS = Group({
    "level": Choice(("state_space", "series_mean")),
    "dynamics": Choice(regional_levels.MODELS),
    "factor_years": Whole(1, 15),
    "factor_trend": Flag(),
    "migration_from": Whole(what="a whole-number year")}, nullable=True)

#: Calendar years of the births the census's age groups record (1 Nov 2020), with the share
#: of each year in the window: age 0 born Nov 2019 - Oct 2020, ages 1-4 Nov 2015 - Oct 2019.
CENSUS_BIRTH_WINDOWS = {"0": {2019: 2 / 12, 2020: 10 / 12},
                        "1-4": {2015: 2 / 12, 2016: 1.0, 2017: 1.0, 2018: 1.0, 2019: 10 / 12}}
#: Years between the age-0 births and each full year of the ages 1-4 births, and those years.
CENSUS_LAGS = np.array([1.0, 2.0, 3.0, 4.0])
SERIES_YEARS_OF_AGES_1_4 = [2016, 2017, 2018, 2019]


def census_young_factors(census_population: xr.DataArray, young: dict[str, xr.DataArray],
                         asfr: xr.DataArray, mx: xr.DataArray, census_year: int
                         ) -> dict[str, xr.DataArray]:
    """Each province's fertility factor from its census children aged 0 and 1-4
    (:data:`CENSUS_BIRTH_WINDOWS`): ``young`` maps the group to counts (region), persons;
    women of earlier years are the census's survived back along their cohorts."""
    years = sorted({y for w in CENSUS_BIRTH_WINDOWS.values() for y in w})
    women = survive_back(census_population, mx, census_year, np.array(years)).sel(
        sex="female", drop=True)
    return {group: regional_levels.census_birth_factors(
        young[group], women, asfr.sel(year=years), CENSUS_BIRTH_WINDOWS[group])
        for group in CENSUS_BIRTH_WINDOWS}


def provincial_inputs(population: xr.DataArray, census_population: xr.DataArray,
                      young: dict[str, xr.DataArray], provinces: list[str], nation: str,
                      census_year: int, path: Path | None, observed: xr.Dataset | None,
                      rates: xr.Dataset, until: int, national_rates: str, data_dir: Path,
                      settings: dict, census_path: Path) -> tuple:
    """The provinces' history and levels: (Dataset or None, factor (region, the nation 1),
    files read). The Dataset holds the migration series, and with ``level=state_space`` the
    level fit; attrs ``report`` is one record per province for run.json."""
    settings = {"level": "state_space", "dynamics": regional_levels.MODELS[0],
                "factor_years": 3, "factor_trend": False, "migration_from": 2011, **settings}
    table = None
    if path is not None:
        table = province_series(path, provinces, until).rename(observed_year="year")
    first = min(census_year - 5, int(table["year"].min()) if table is not None else census_year)
    national = wpp_region_rates(national_rates, until, first, data_dir)
    recent = national["asfr"].sel(year=slice(census_year - 4, census_year)).mean("year")
    cwr = child_woman_ratio_factor(census_population, recent, nation, census_path)
    if table is None:
        return None, cwr, []
    mx = rates["mx"].isel(period=-1, drop=True).transpose("sex", "age")
    census = census_young_factors(census_population.sel(region=provinces), young,
                                  national["asfr"], mx, census_year)
    years = table["year"].values
    missing = xr.DataArray(np.full(len(years), np.nan), dims="year", coords={"year": years})
    flows = {k: observed[f"observed_{k}"].rename(observed_year="year") if observed is not None
             else missing for k in ("births", "deaths")}
    # migration between provinces nets to zero, and NBS's published national population
    # implies no net international migration (its year-end changes equal births - deaths)
    steps = np.arange(int(years[0]), int(years[-1]) + 1)
    migration = xr.DataArray(np.zeros(len(steps)), dims="year", coords={"year": steps})

    def history_with(level):
        return provincial_history(
            population.sel(region=provinces), table["province_crude_birth_rate"],
            table["province_population_yearend"], national["asfr"], mx, flows["births"],
            flows["deaths"], migration, census_year, int(settings["factor_years"]),
            bool(settings["factor_trend"]), int(settings["migration_from"]), level)

    history = history_with(None)
    series = history["fertility_factor_history"].where(
        history["fertility_factor_history"]["year"] <= census_year).dropna("year", how="all")
    out = xr.Dataset()
    if settings["level"] == "state_space":
        out, level, method = _state_space_level(series, census, census_year,
                                                settings["dynamics"])
        # the births of the years without published rates, and so the migration residuals
        # of those years, at the level the projection starts from
        history = history_with(level)
    else:
        level = history["fertility_factor"]
        method = xr.where(level.notnull(), "indirect standardisation of observed births",
                          "census child-woman ratio, age-standardised")
        level = level.fillna(cwr.sel(region=provinces))
    factor = level.reindex(region=[nation] + provinces).where(
        lambda f: f["region"] != nation, 1.0)
    out = out.merge(_migration(history, table, migration, nation), join="outer")
    out["fertility_factor_history"] = series.rename(year="factor_year").assign_attrs(
        units="1", description="fertility relative to the nation from the published births "
        "(indirect standardisation), by observed year")
    out["census_fertility_factor"] = census["0"].assign_attrs(
        units="1", description="fertility relative to the nation from the census's age-0 "
        "count (births Nov 2019 - Oct 2020), indirect standardisation")
    out.attrs["report"] = _report(history, table, factor, method, cwr, census,
                                  out["net_migration_rate"], provinces)
    if "fertility_dynamics_estimate" in out:
        out.attrs["dynamics"] = _dynamics_report(out)
    return out, factor, [path]


def _state_space_level(series: xr.DataArray, census: dict[str, xr.DataArray], year: int,
                       model: str) -> tuple[xr.Dataset, xr.DataArray, xr.DataArray]:
    """The fit of :mod:`forecast.demography.regional_levels` with the dynamics ``model``:
    its arrays, the median factor of ``year`` (region) and how each was found."""
    dynamics = regional_levels.fit_dynamics(series, model)
    errors = regional_levels.census_errors(census["0"], census["1-4"], series, dynamics,
                                           CENSUS_LAGS, SERIES_YEARS_OF_AGES_1_4)
    start = regional_levels.level_at(series, dynamics, year, census["0"], errors["kappa"],
                                     errors["beta"])
    out = xr.Dataset({
        "fertility_level_mean": start["mean"].assign_attrs(
            units="log of the factor", description=f"log fertility factor of {year}: the "
            "published series and the census combined (state-space model)"),
        "fertility_level_sd": start["sd"].assign_attrs(
            units="log of the factor", description="its standard deviation"),
        "fertility_level_census_weight": start["census_weight"].assign_attrs(
            units="1", description="weight of the census value in the level"),
        "fertility_dynamics_estimate": dynamics["estimate"].assign_attrs(
            units="1 (rho), log factor per year (sigma, tau)",
            description=f"{model} dynamics of the log factors fitted to the provinces' "
            "series"),
        "fertility_dynamics_theta": dynamics["theta"].assign_attrs(
            units="logit rho / rho_max, log sigma, log tau",
            description="the fitted parameters on the fitting scale"),
        "fertility_dynamics_theta_cov": dynamics["theta_cov"].assign_attrs(
            units="fitting scale squared", description="their sampling covariance"),
    }).assign_attrs(census_errors=errors, dynamics_fit=dict(dynamics.attrs))
    has_series = series.notnull().any("year")
    method = xr.where(has_series, "published births and the census age-0 count "
                      "(state-space model)", "census age-0 count")
    return out, np.exp(start["mean"]), method


def _migration(history: xr.Dataset, table: xr.Dataset, migration: xr.DataArray, nation: str
               ) -> xr.Dataset:
    """Net migration per step (region, migration_step) with the nation's row, its rate over
    the mid-year population, and the published year-end populations."""
    net = history["net_migration"]
    national_row = migration.sel(year=net["step"].values).rename(year="step")
    net = xr.concat([national_row.expand_dims(region=[nation]), net], dim="region")
    midyear = history["midyear_population"].rename(year="step")
    national_mid = midyear.sum("region").expand_dims(region=[nation])
    rate = net / xr.concat([national_mid, midyear], dim="region").sel(step=net["step"])
    return xr.Dataset({
        "yearend": table["province_population_yearend"].rename(year="observed_year"),
        "net_migration": net.rename(step="migration_step").assign_attrs(
            history["net_migration"].attrs),
        "net_migration_rate": rate.rename(step="migration_step").assign_attrs(
            units="per person per step", description="net migrants over the mid-year "
            "population")})


def _dynamics_report(fit: xr.Dataset) -> dict:
    """run.json's account of the fitted dynamics and the census's weight."""
    estimate = fit["fertility_dynamics_estimate"]
    se = np.sqrt(np.diag(fit["fertility_dynamics_theta_cov"].values))
    model = fit.attrs["dynamics_fit"]["model"]
    level = {"local_level": "a level that does not revert (random walk)",
             "ar1": "AR(1) towards the nation"}[model]
    return {"model": f"log factor = {level} + transitory noise, Gaussian shocks; census "
                     "2020 age 0 as an observation of the 2020 level",
            "dynamics": model,
            **{str(p): round(float(estimate.sel(parameter=p)), 5)
               for p in estimate["parameter"].values},
            "se_on_fitting_scale": dict(zip(map(str, fit["fertility_dynamics_theta"]["free"]
                                                .values), np.round(se, 4).tolist())),
            "standardised_error_sd": round(fit.attrs["dynamics_fit"]
                                           ["standardised_error_sd"], 4),
            **{k: round(v, 5) for k, v in fit.attrs["census_errors"].items()},
            "start_sd": round(float(fit["fertility_level_sd"].mean()), 5),
            "census_weight": round(float(fit["fertility_level_census_weight"].mean()), 4)}


def _report(history: xr.Dataset, table: xr.Dataset, factor: xr.DataArray,
            method: xr.DataArray, cwr: xr.DataArray, census: dict[str, xr.DataArray],
            rate: xr.DataArray, provinces: list[str]) -> list[dict]:
    """One record per province for run.json: its fertility level and where it came from,
    the yearly factors, the census's, published birth rates, net migration per 1,000."""
    return [{
        "region": code,
        "fertility_factor": round(float(factor.sel(region=code)), 4),
        "fertility_method": str(method.sel(region=code).values),
        "factor_history": {int(y): round(float(v), 4) for y, v in
                           history["fertility_factor_history"].sel(region=code).dropna("year")
                           .to_series().items()},
        "census_age_0_factor": round(float(census["0"].sel(region=code)), 4),
        "census_ages_1_4_factor": round(float(census["1-4"].sel(region=code)), 4),
        "crude_birth_rate": {int(y): float(v) for y, v in table["province_crude_birth_rate"]
                             .sel(region=code).dropna("year").to_series().items()},
        "child_woman_ratio_factor": round(float(cwr.sel(region=code)), 4),
        "net_migration_per_1000": {int(y): round(1000 * float(v), 3) for y, v in
                                   rate.sel(region=code).to_series().items()},
    } for code in provinces]
