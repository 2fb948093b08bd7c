"""Migration models: each gives net migrants by sex and single year of age per step.

A model has ``rates(inputs, steps) -> xr.DataArray`` giving ``net_migration`` (region, sex,
age, year[, draw]) in persons per year for the steps starting 1 July of each year in ``steps``.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from forecast.graduation import AGES
from forecast.timing import step_rates
from forecast.variables import SEXES


class ZeroMigration:
    """No migration (a closed population)."""

    def rates(self, inputs: xr.Dataset, steps: np.ndarray) -> xr.DataArray:
        return xr.DataArray(np.zeros((len(SEXES), len(AGES), len(steps))),
                            dims=("sex", "age", "year"),
                            coords={"sex": list(SEXES), "age": AGES, "year": np.asarray(steps)})


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

    def __init__(self, a1: float = 0.02, alpha1: float = 0.1, a2: float = 0.06,
                 alpha2: float = 0.1, mu2: float = 20.0, lambda2: float = 0.4, c: float = 0.003,
                 male_share: float = 0.5):
        self.age_pattern = rogers_castro(AGES, a1, alpha1, a2, alpha2, mu2, lambda2, c)
        self.male_share = male_share

    def rates(self, inputs: xr.Dataset, steps: np.ndarray) -> xr.DataArray:
        totals = step_rates(inputs["net_migration_total"], steps,
                            inputs.attrs["last_observed_year"])
        sex_share = xr.DataArray([1.0 - self.male_share, self.male_share], dims="sex",
                                 coords={"sex": list(SEXES)})
        age_share = xr.DataArray(self.age_pattern, dims="age", coords={"age": AGES})
        return (totals * sex_share * age_share).transpose(..., "sex", "age", "year")
