"""The small areas' excess variance of their census fertility level and the share of its
change a prefecture's counties have in common: recovered from simulated census records, and
the configured values the fits to the county census."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.data.county_census import (NOISE_POWER, NOISE_SCALE, county_noise_fit,
                                         county_shared_fit, load_china_counties)
from forecast.demography.small_area_noise import fit_noise, noise_variance, shared_change_fit
from forecast.regions.county_levels import SHARED_CHANGE

SCALE, POWER, SHIFT = 0.8, 0.75, 0.01
CHANGE_VAR, KAPPA = 0.0046, 0.02
AREAS = 6000


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_recovers_the_excess_variance_of_simulated_records(seed):
    """Areas of 30 to 60,000 children (log-uniform, as the counties) whose two records differ
    by a shift, the level's change, Poisson noise, the common error and ζ n^-γ: the fit finds
    ζ and γ within 4 of its own standard errors, and the excess variance at 300 and 3,000
    children within 4 standard errors of the same fit (delta method on the two parameters)."""
    rng = np.random.default_rng(seed)
    counted0 = np.exp(rng.uniform(np.log(30), np.log(60000), AREAS)).round()
    counted1_4 = rng.poisson(4 * counted0)
    sd = np.sqrt(CHANGE_VAR + 2 * KAPPA ** 2 + 1 / counted0 + 1 / counted1_4
                 + noise_variance(counted0, SCALE, POWER))
    ages1_4 = rng.normal(0.0, 0.2, AREAS)
    age0 = ages1_4 + SHIFT + sd * rng.standard_normal(AREAS)
    fit = fit_noise(age0, ages1_4, counted0, counted1_4, CHANGE_VAR, KAPPA)
    assert fit["areas"] == AREAS
    assert abs(np.log(fit["scale"]) - np.log(SCALE)) < 4 * fit["log_scale_se"]
    assert abs(fit["power"] - POWER) < 4 * fit["power_se"]
    cov = np.array([[fit["log_scale_se"] ** 2,
                     fit["correlation"] * fit["log_scale_se"] * fit["power_se"]],
                    [fit["correlation"] * fit["log_scale_se"] * fit["power_se"],
                     fit["power_se"] ** 2]])
    for n in (300.0, 3000.0):
        # log e(n) = log ζ - γ log n: its gradient in (log ζ, γ) is (1, -log n)
        gradient = np.array([1.0, -np.log(n)])
        se = float(np.sqrt(gradient @ cov @ gradient))
        fitted = np.log(noise_variance(n, fit["scale"], fit["power"]))
        assert abs(fitted - np.log(noise_variance(n, SCALE, POWER))) < 4 * se


def test_no_excess_is_found_where_the_records_have_none():
    """Records with no excess variance: the fitted excess at 300 and 3,000 children is below
    a quarter of the variance the records have without it, for several seeds (a bin of a
    thousand areas measures its variance to about 4.5 %: a quarter is over five of that)."""
    for seed in range(5):
        rng = np.random.default_rng(100 + seed)
        counted0 = np.exp(rng.uniform(np.log(30), np.log(60000), AREAS)).round()
        counted1_4 = rng.poisson(4 * counted0)
        sd = np.sqrt(CHANGE_VAR + 2 * KAPPA ** 2 + 1 / counted0 + 1 / counted1_4)
        ages1_4 = rng.normal(0.0, 0.2, AREAS)
        fit = fit_noise(ages1_4 + sd * rng.standard_normal(AREAS), ages1_4, counted0,
                        counted1_4, CHANGE_VAR, KAPPA)
        for n in (300.0, 3000.0):
            known = CHANGE_VAR + 2 * KAPPA ** 2 + 1 / n + 1 / (4 * n)
            assert noise_variance(n, fit["scale"], fit["power"]) < 0.25 * known


def test_configured_values_are_the_county_census_fit():
    """NOISE_SCALE and NOISE_POWER are the fit to the census's records of every county-level
    unit, to three decimals: a change of the data or of the fit changes what this expects."""
    fit = county_noise_fit(load_china_counties())
    assert fit["areas"] > 2980
    assert (round(fit["scale"], 3), round(fit["power"], 3)) == (NOISE_SCALE, NOISE_POWER)


def _prefecture_records(seed: int, share: float, provinces: int = 30, prefectures: int = 10,
                        counties: int = 9) -> dict:
    """Census records of simulated counties: births expected at the province's level
    log-uniform in 100-20,000 a year, a true level (prefecture and county parts), children
    aged 1-4 and 0 counted (Poisson) at the levels of their years, the level's change
    between them partly shared by the prefecture (``share``), the census's error κ and the
    small areas' excess on the age-0 count."""
    rng = np.random.default_rng(seed)
    n = provinces * prefectures * counties
    province = np.repeat([f"{p:02d}0000" for p in range(provinces)], prefectures * counties)
    prefecture = np.repeat([f"p{k}" for k in range(provinces * prefectures)], counties)
    expected = np.exp(rng.uniform(np.log(100), np.log(20000), n))
    level = (np.repeat(rng.normal(0, 0.1, provinces * prefectures), counties)
             + rng.normal(0, 0.1, n))
    common = np.repeat(rng.standard_normal(provinces * prefectures), counties)
    change = np.sqrt(CHANGE_VAR) * (np.sqrt(share) * common
                                    + np.sqrt(1 - share) * rng.standard_normal(n))
    counted1_4 = rng.poisson(4 * expected * np.exp(level + KAPPA * rng.standard_normal(n)))
    excess = np.sqrt(noise_variance(expected, SCALE, POWER)) * rng.standard_normal(n)
    counted0 = rng.poisson(expected * np.exp(level + change + KAPPA * rng.standard_normal(n)
                                             + excess))
    return {"age0": np.log(counted0 / expected), "ages1_4": np.log(counted1_4 / (4 * expected)),
            "counted0": counted0, "counted1_4": counted1_4, "groups": prefecture,
            "provinces": province}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_shared_change_is_recovered_from_simulated_prefectures(seed):
    """300 simulated prefectures whose counties share 30 % of their level's change: the fit
    finds that share within 4 of its standard errors; with none shared, it finds less
    than 4 standard errors above zero."""
    for share in (0.3, 0.0):
        records = _prefecture_records(seed, share)
        fit = shared_change_fit(**records, change_var=CHANGE_VAR, kappa=KAPPA, scale=SCALE,
                                power=POWER)
        assert fit["groups"] == 300
        if share > 0:
            assert abs(fit["share"] - share) < 4 * fit["share_se"]
        else:
            se = fit["share_se"] if np.isfinite(fit["share_se"]) else 0.0
            assert fit["share"] < 4 * max(se, 0.05)


def test_configured_share_is_the_prefectures_census_fit():
    """SHARED_CHANGE is the fit to the prefectures' census records, to three decimals."""
    fit = county_shared_fit(load_china_counties())
    assert fit["groups"] > 330
    assert round(fit["share"], 3) == SHARED_CHANGE
