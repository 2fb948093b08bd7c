"""Sex ratio at birth of each region from a census count of infants.

A census's age-0 count by sex records the births of the 12 months before it, less the infants
who died or were not counted; where infant mortality and the under-count are about the same
for boys and girls, its ratio of boys to girls is the region's sex ratio at birth of that
year. Its sampling error (binomial, delta method on the log ratio) is
sd(log r) = sqrt(1 / boys + 1 / girls): 0.2-0.9 boys per 100 girls for a province.
"""

from __future__ import annotations

import numpy as np
import xarray as xr


def census_sex_ratio(boys: xr.DataArray, girls: xr.DataArray) -> xr.Dataset:
    """Boys per 100 girls among the infants counted, by region.

    ``boys``, ``girls`` (region), persons aged 0 at the census. Returns a Dataset (region):
    ``ratio`` and ``sd`` (boys per 100 girls) and ``relative`` (the ratio over the first
    region's, dimensionless: the nation when it comes first)."""
    ratio = 100 * boys / girls
    sd = ratio * np.sqrt(1 / boys + 1 / girls)
    return xr.Dataset({
        "ratio": ratio.assign_attrs(units="boys per 100 girls"),
        "sd": sd.assign_attrs(units="boys per 100 girls"),
        "relative": (ratio / ratio.isel(region=0)).assign_attrs(units="1")})
