"""Counties within their province: projected with the province's rates, births raked to the
province's, its net migrants shared by population and the migration between its counties
added, so that they add up to the province in every draw (method:
:mod:`forecast.data.county_census`)."""

from __future__ import annotations

import xarray as xr

from forecast.core.by_year import computed
from forecast.core.inputs import Inputs
from forecast.demography.ccmpp import project
from forecast.regions.county_blocks import member_sums
from forecast.regions.county_exchange import county_exchange_draws, exchange_counts
from forecast.regions.county_levels import county_factor_draws


def project_counties(province: xr.Dataset, rates: dict[str, xr.DataArray],
                     inputs: Inputs, dtype: str = "float64", seed: int = 0) -> xr.Dataset:
    """The counties of the one province in ``inputs.counties_of`` (region = county
    code) and their prefectures (sums of their counties), from the province's projection
    ``province`` (its ``births_calendar`` and ``net_migration_by_age``) and the calibrated
    ``rates``; the counties' fertility factors drawn with ``seed``
    (:func:`forecast.regions.county_levels.county_factor_draws`)."""
    [code] = inputs.counties_of
    extra = ["county_name", "county_prefecture", "county_province"]
    population = inputs["county_population"].drop_vars(extra).rename(county="region")
    years = province["year"].values
    draws = county_factor_draws(inputs, code, years, province.sizes["draw"], seed)
    factor = (xr.DataArray(draws, dims=("year", "region", "draw"),
                           coords={"year": years, "region": population["region"].values,
                                   "draw": province["draw"].values})
              if draws.ndim == 3 else
              xr.DataArray(draws, dims="region", coords={"region": population["region"].values}))

    def of_province(da):
        return da.sel(region=code, drop=True) if "region" in da.dims else da

    steps = province["year"][:-1]  # the horizon year has no step
    total = province["net_migration_by_age"].sel(migration_region=code, drop=True,
                                                 year=steps)
    between = county_exchange_draws(inputs, code, province.sizes["draw"], seed)
    exchange = None
    if between is not None:
        exchange = xr.DataArray(exchange_counts(between), dims=("region", "draw", "sex", "age"),
                                coords={"region": population["region"].values,
                                        "draw": province["draw"].values,
                                        "sex": population["sex"].values,
                                        "age": population["age"].values})
    counties = project(
        population, asfr=of_province(rates["asfr"]) * factor, mx=of_province(rates["mx"]),
        srb=of_province(rates["srb"]),
        net_migration=xr.zeros_like(population).expand_dims(year=steps.values),
        births_total=province["births_calendar"].sel(region=code),
        migration_total=total, dtype=dtype, exchange=exchange)
    asfr = of_province(rates["asfr"]) * factor
    counties["tfr"] = computed(asfr.sum("age").sel(year=counties["year"]).transpose(
        "region", "year", ...)).assign_attrs(units="children per woman")
    counties = counties.assign_coords(region_name=("region", inputs["county_name"].values))
    return xr.concat([prefecture_sums(counties, inputs), counties], dim="region",
                     data_vars="all", coords="different", compat="equals", join="outer")


def prefecture_sums(counties: xr.Dataset, inputs: Inputs) -> xr.Dataset:
    """The prefectures of ``inputs.prefectures`` as sums of their counties (counts;
    their ``tfr`` is left undefined)."""
    members = inputs["county_prefecture"].rename(county="region").sel(
        region=counties["region"].values).values
    codes = list(inputs.prefectures)

    def summed(da: xr.DataArray) -> xr.DataArray:
        da = da.transpose("region", ...)
        coords = {k: v for k, v in da.coords.items() if "region" not in v.dims}
        return xr.DataArray(member_sums(da.values, members, codes), dims=da.dims,
                            coords={**coords, "region": codes}, attrs=da.attrs)

    sums = xr.Dataset({k: summed(v) if "region" in v.dims else v
                       for k, v in counties.data_vars.items()}, attrs=counties.attrs)
    sums["tfr"] = xr.full_like(sums["tfr"], float("nan"))  # a rate: not a sum
    return sums.assign_coords(region_name=("region", list(inputs.prefectures.values())))
