"""WPP 2024's TFR of every country: it agrees with the 13-population file where both have a
value, and bad values stop the reader naming file, column, row and value."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.core.errors import InputError
from forecast.data import load_wpp
from forecast.data.wpp_countries import TFR_COUNTRIES, tfr_countries
from tests.data.test_bad_inputs import problem_line, set_cell

#: UN location codes of some of the 13 populations (ISO 3166-1 numeric).
UN_CODES = {"CHN": 156, "JPN": 392, "KOR": 410, "USA": 840, "IND": 356}


def test_the_two_wpp_extracts_agree():
    countries = tfr_countries()
    pool = load_wpp("JPN", 2015)["tfr_pool"]
    assert countries.sizes["country"] == 236
    for code, un in UN_CODES.items():
        both = np.intersect1d(countries["year"].values, pool["year"].values)
        # the 13-population file rounds to 3 decimals
        np.testing.assert_allclose(countries.sel(country=un, year=both).values,
                                   pool.sel(pool_region=code, year=both).values, atol=6e-4)
    assert str(countries.sel(country=156)["country_name"].values) == "China"


def test_a_negative_tfr_names_its_cell(data_dir):
    line = set_cell(data_dir / TFR_COUNTRIES, {"country_code": "392", "year": "2001"}, "tfr",
                    "-1.2")
    with pytest.raises(InputError) as error:
        tfr_countries(data_dir)
    problem_line(str(error.value), TFR_COUNTRIES, "tfr", line, "-1.2")
