"""Readers of the input data, one module per source, over the shared checks of
:mod:`forecast.data.tables`:

- :mod:`forecast.data.wpp` — UN WPP 2024 (population, ASFR, death rates, vital series);
- :mod:`forecast.data.census` — China's 2020 census by province;
- :mod:`forecast.data.nbs` — NBS's published national and provincial series;
- :mod:`forecast.data.planning` — supply of places and seats, planned new residents;
- :mod:`forecast.data.moe` — the Ministry of Education's kindergarten statistics.

This package is the only code that reads data files. Two loaders, one per data config:

- :func:`load_wpp` — one UN WPP 2024 region from any quinquennial base year;
- :func:`load_china_census` — the nation and the 31 provinces from the 2020 census, with the
  national WPP rates for China.

Both return a Dataset with dims ``region, sex, age, year`` (plus ``period`` for the 5-year
mortality periods) holding, on the sources' own time basis:

==================== ========================== =================================================
variable             dims                       meaning (units)
==================== ========================== =================================================
population           region, sex, age           persons at 1 July of the base year
asfr                 region, age, year          births per woman per year, calendar year
tfr                  region, year               children per woman, calendar year
srb                  region, year               male births per female birth, calendar year
net_migration_total  region, year               net migrants (persons per year), calendar year
mx                   region, sex, age, period   deaths per person-year, 5-year period from 1 July
births_observed      region, year               WPP births (persons per year), calendar year; WPP only
fertility_factor     region                     provincial fertility relative to the nation; census only
tfr_pool             pool_region, year          TFR of all WPP regions (children per woman), calendar
e0_pool              pool_region, sex, year     life expectancy at birth of all WPP regions (years), calendar
==================== ========================== =================================================

With the provincial series (census only, ``data.province_observed_file``) the inputs also
hold ``province_net_migration`` (region, migration_step: net migrants per step from 1 July,
persons; the nation's row its total), ``province_net_migration_rate`` (the same over the
mid-year population) and ``observed_province_population_yearend`` (region, observed_year:
NBS year-end population, persons), with attrs ``provincial_report``.

Attributes: ``base_year``, ``last_observed_year``, ``tfr_target`` (the ``pool_region`` whose
series is the national fertility of these inputs), ``national_region`` (census only),
``source_files``, ``data_sha256``, ``description``.


Ages are completed years 0...100, age 100 being the open interval 100+. Observations after
``until`` are dropped, so a backtest from any origin is the same call with another ``until``.
Every problem found stops the run with :class:`forecast.core.errors.InputError` before anything is
written: besides the checks of :mod:`forecast.data.tables`, every number must lie in a plausible
range (``*_RANGE`` and :data:`VITAL_RANGES` in each source's module, each with its reason), net migration within
:data:`MIGRATION_SHARE_LIMIT` of the population, and the census table must hold exactly the
nation and China's 31 provinces, adding up to the nation.
"""

from forecast.data.census import (CENSUS_POPULATION, NATION_CODE, NATION_NAME, PROVINCES,
                                  load_china_census)
from forecast.data.common import config_int, file_digest
from forecast.data.moe import load_moe_kindergartens
from forecast.data.planning import load_new_residents, load_supply
from forecast.data.wpp import load_wpp
from forecast.core.paths import DATA_DIR

__all__ = ["CENSUS_POPULATION", "DATA_DIR", "NATION_CODE", "NATION_NAME", "PROVINCES",
           "config_int", "file_digest", "load_china_census", "load_moe_kindergartens",
           "load_new_residents", "load_supply", "load_wpp"]
