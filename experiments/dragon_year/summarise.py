"""Tables of the dragon-year backtest (results of backtest.py): CRPS and coverage with and
without the term, pooled, by region, by horizon band and by kind of year, with a bootstrap
over origins for the ratio of CRPS.

    .venv/bin/python experiments/dragon_year/summarise.py [results folder]

Prints Markdown tables (as in the README) and writes ``summary.csv`` to the folder.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from forecast.models.fertility.bayes import is_dragon_year

HERE = Path(__file__).resolve().parent
OFF, ON = "bayes", "bayes_dragon"
BANDS = {"1-3": range(1, 4), "4-6": range(4, 7), "7-10": range(7, 11)}
BOOTSTRAP, SEED = 2000, 20240601


def kind_of_year(years: pd.Series) -> pd.Series:
    """dragon year, the year after one, the year before one, or other."""
    y = years.to_numpy()
    kind = np.where(is_dragon_year(y), "dragon", np.where(is_dragon_year(y - 1), "after",
                    np.where(is_dragon_year(y + 1), "before", "other")))
    return pd.Series(kind, index=years.index)


def band(h: pd.Series) -> pd.Series:
    return h.map({i: name for name, hs in BANDS.items() for i in hs})


def metrics(frame: pd.DataFrame) -> pd.Series:
    return pd.Series({"forecasts": len(frame), "crps": frame["crps"].mean(),
                      "crps_relative": frame["crps_relative"].mean(),
                      "mape": frame["ape"].mean(),
                      "coverage_80": frame["in_80"].mean(), "coverage_95": frame["in_95"].mean()})


def table(scores: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group: both models' metrics side by side and the ratio of relative CRPS."""
    rows = scores.groupby(by + ["model"]).apply(metrics, include_groups=False).unstack("model")
    out = pd.DataFrame({"forecasts": rows[("forecasts", OFF)].astype(int)})
    for name in ("crps", "crps_relative", "coverage_80", "coverage_95"):
        out[f"{name}_off"] = rows[(name, OFF)]
        out[f"{name}_on"] = rows[(name, ON)]
    out["crps_ratio"] = rows[("crps", ON)] / rows[("crps", OFF)]
    return out.reset_index()


def bootstrap_ratio(scores: pd.DataFrame, rng: np.random.Generator, column: str
                    ) -> tuple[float, float]:
    """90 % interval of the ratio of mean ``column`` (CRPS, on / off), resampling whole
    origins (the forecasts of one origin share its fit and overlap in years)."""
    paired = scores.pivot_table(index=["origin", "region", "year"], columns="model",
                                values=column).reset_index()
    origins = paired["origin"].unique()
    groups = {o: paired[paired["origin"] == o] for o in origins}
    ratios = []
    for _ in range(BOOTSTRAP):
        pick = pd.concat([groups[o] for o in rng.choice(origins, len(origins))])
        ratios.append(pick[ON].mean() / pick[OFF].mean())
    lo, hi = np.quantile(ratios, [0.05, 0.95])
    return float(lo), float(hi)


def markdown(frame: pd.DataFrame, quantity: str) -> str:
    """The README's table: CRPS (TFR in children per woman; births relative), coverage."""
    crps = "crps" if quantity == "tfr" else "crps_relative"
    keys = [c for c in frame.columns if c in ("group", "region", "band", "kind", "origin")]
    head = keys + ["forecasts", "CRPS off", "CRPS on", "ratio", "80 % off", "80 % on",
                   "95 % off", "95 % on"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "---|" * len(keys) + "---:|" * (len(head) - len(keys))]
    for _, r in frame.iterrows():
        fmt = (lambda v: f"{v:.4f}") if quantity == "tfr" else (lambda v: f"{100 * v:.2f} %")
        cells = [str(r[k]) for k in keys] + [
            str(int(r["forecasts"])), fmt(r[f"{crps}_off"]), fmt(r[f"{crps}_on"]),
            f"{r[f'{crps}_on'] / r[f'{crps}_off']:.3f}",
            f"{100 * r['coverage_80_off']:.0f} %", f"{100 * r['coverage_80_on']:.0f} %",
            f"{100 * r['coverage_95_off']:.0f} %", f"{100 * r['coverage_95_on']:.0f} %"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "results"
    scores = pd.read_csv(folder / "backtest_scores.csv", encoding="utf-8-sig")
    scores["band"] = band(scores["h"])
    scores["kind"] = kind_of_year(scores["year"])
    scores["group"] = "all"
    rng = np.random.default_rng(SEED)
    parts = []
    for quantity in scores["quantity"].unique():
        s = scores[scores["quantity"] == quantity]
        column = "crps" if quantity == "tfr" else "crps_relative"  # as in the tables
        print(f"\n## {quantity}\n")
        for by in (["group"], ["region"], ["band"], ["kind"], ["region", "kind"]):
            t = table(s, by)
            if by == ["group"]:
                lo, hi = bootstrap_ratio(s, rng, column)
                print(f"CRPS ratio on/off, 90 % bootstrap interval over origins: "
                      f"{lo:.3f}-{hi:.3f}\n")
            if by == ["kind"]:
                for kind in ("dragon", "after"):
                    lo, hi = bootstrap_ratio(s[s["kind"] == kind], rng, column)
                    print(f"{kind} years: CRPS ratio 90 % bootstrap interval {lo:.3f}-{hi:.3f}")
                print()
            print(markdown(t, quantity) + "\n")
            parts.append(t.assign(quantity=quantity, by="+".join(by)))
    summary = pd.concat(parts, ignore_index=True)
    first = ["quantity", "by", "group", "region", "band", "kind"]
    summary = summary[[c for c in first if c in summary] +
                      [c for c in summary if c not in first]]
    summary.round(6).to_csv(folder / "summary.csv", index=False)
    diag = folder / "diagnostics.csv"
    if diag.exists():
        d = pd.read_csv(diag)
        print("\n## Convergence (per fit; worst over parameters)\n")
        print(d.groupby("model").agg(fits=("origin", "size"), rhat_max=("rhat_max", "max"),
                                     ess_bulk_min=("ess_bulk_min", "min"),
                                     ess_tail_min=("ess_tail_min", "min"),
                                     divergences=("divergences", "sum"),
                                     seconds=("sampling_seconds", "median")).round(3)
              .to_string())
        cols = [c for c in d.columns if c.startswith("dragon") and c.endswith("_mean")]
        if cols:
            print("\n## Posterior dragon effect by origin (posterior means, log TFR)\n")
            print(d[d["model"] == ON][["origin", *cols]].round(3).to_string(index=False))


if __name__ == "__main__":
    main()
