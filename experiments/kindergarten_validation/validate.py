"""Kindergarten validation: published gross enrolment rates against enrolment over our
estimate of the population aged 3-5.

Run: .venv/bin/python experiments/kindergarten_validation/validate.py
"""

from __future__ import annotations

import numpy as np

from forecast.testing import kindergarten_enrolment_comparison


def main():
    table = kindergarten_enrolment_comparison()
    print("| year | population 3-5 (estimated, 1 July) | enrolled (MOE) | GER from these | GER published | difference |")
    print("|---:|---:|---:|---:|---:|---:|")
    for y in table["year"].values:
        r = table.sel(year=y)
        print(f"| {y} | {float(r.population_3_5):,.0f} | {float(r.enrolled):,.0f} | "
              f"{float(r.ger_ours):.1f} % | {float(r.ger_published):.1f} % | "
              f"{float(r.difference_pp):+.1f} pp |")
    print(f"\nlargest |difference|: {float(np.abs(table.difference_pp).max()):.2f} pp")


if __name__ == "__main__":
    main()
