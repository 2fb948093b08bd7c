"""Reference test: kindergarten enrolment against our population aged 3-5.

Ministry of Education, national education statistical bulletins (全国教育事业发展统计公报)
2018 and 2019: children in kindergartens (在园幼儿) 46,564,200 and 47,138,800; published gross
enrolment rates (学前三年毛入园率) 81.7 % and 83.4 %. Enrolment over our estimate of the
population aged 3-5 (WPP 2024's 2015 population projected with WPP's rates) must reproduce the
published rates within 3 percentage points (2016 and 2017 report no enrolment).
"""

from __future__ import annotations

import numpy as np

from forecast.testing import kindergarten_enrolment_comparison


def test_gross_enrolment_rates_within_3_points():
    table = kindergarten_enrolment_comparison()
    assert list(table["year"].values) == [2018, 2019]
    np.testing.assert_allclose(table["enrolled"].values, [46_564_200, 47_138_800])
    worst = float(np.abs(table["difference_pp"]).max())
    assert worst < 3.0, f"gross enrolment rate off by {worst:.2f} percentage points"
