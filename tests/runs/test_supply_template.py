"""A county supply table from the template: every unit listed, and county supply used by the
block engine (in-process, as the command line runs it)."""

from __future__ import annotations

import pandas as pd

from forecast.core.paths import DATA_DIR
from forecast.data.county_census import county_units, read_regions
from forecast.runs.api import project
from forecast.runs.config_groups import compose_config
from forecast.runs.pipeline import run_supply_template
from tests.regions.test_counties import CHONGQING, SMOKE


def test_supply_template_then_county_supply_in_blocks(tmp_path):
    """``task=supply_template`` lists the province, its prefectures and every county with
    code and name; filled in for three counties, the block engine's demand table gives them
    supply, gaps and P(shortage) with the basis of their numbers."""
    cfg = compose_config(["task=supply_template", "data=china_counties",
                          f"data.province={CHONGQING}"])
    template = run_supply_template(cfg).tables["supply_template.csv"]
    units = county_units(read_regions(DATA_DIR / "china_census2020_regions.csv"))
    chongqing = units[units["province_code"] == CHONGQING]
    counties = template[template["level"] == "county"]
    assert dict(zip(counties["region_code"], counties["region_name"])) == dict(
        zip(chongqing["region_code"], chongqing["county"]))
    assert set(template.loc[template["level"] == "prefecture", "region_code"]) == {"500100",
                                                                                  "500200"}
    assert template.loc[template["level"] == "province", "region_code"].tolist() == [CHONGQING]
    filled = counties.head(3).copy()
    filled["childcare_places"], filled["kindergarten_seats"] = 100, 900000
    filled["childcare_places_basis"] = "published"
    filled.to_csv(tmp_path / "supply.csv", index=False)
    result = project(["data=china_counties", f"data.province={CHONGQING}", *SMOKE,
                      "plots=false", "compute.county_draws=false",
                      f"demand.supply_file={tmp_path / 'supply.csv'}"])
    demand = result.demand
    rows = demand[demand["region_code"].isin(filled["region_code"]) & (demand["year"] == 2026)]
    assert len(rows) == 3 and (rows["childcare_supply"] == 100).all()
    assert rows["prob_childcare_shortage"].between(0, 1).all()
    assert (rows["prob_kindergarten_surplus"] == 1).all()  # 900,000 seats: far above need
    assert rows["childcare_supply_basis"].str.contains("published").all()
    others = demand[demand["region_code"].isin(chongqing["region_code"])
                    & ~demand["region_code"].isin(filled["region_code"])]
    assert others["childcare_supply"].isna().all()
    assert others.loc[others["year"] > 2020, "childcare_places_need_willingness"].notna().all()
    assert pd.api.types.is_numeric_dtype(demand["childcare_gap_lower_80"])
    # the counties' figures from the same table: their gap bars (the three with supply) and
    # a fan chart of any unit
    from forecast.report.figure_sets import county_gap_figures, unit_fans
    bars = dict(county_gap_figures(result.forecast, 2026, {}))
    assert sorted(bars) == ["childcare_gap_counties_2026.png",
                            "kindergarten_gap_counties_2026.png"]
    (ax,) = bars["childcare_gap_counties_2026.png"].axes
    assert [t.get_text()[:6] for t in ax.get_yticklabels()] == sorted(
        filled["region_code"], key=lambda c: -float(
            demand.set_index(["region_code", "year"]).loc[(c, 2026), "childcare_gap"]))
    fans = dict(unit_fans(result.forecast, ["500101", "500200"], done=[]))
    assert sorted(fans) == ["births_tfr_500101.png", "births_tfr_500200.png"]
