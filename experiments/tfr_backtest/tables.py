"""Print the README's tables (Markdown) from ``results/backtest_summary.csv`` and
``results/backtest_scores.csv``.

    .venv/bin/python experiments/tfr_backtest/tables.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).parent / "results"
MODELS = ["bayes", "rw_drift", "arima", "ets", "constant_tfr"]


def pooled(summary: pd.DataFrame, quantity: str, unit_format: str) -> str:
    part = summary[(summary["quantity"] == quantity) & (summary["h"] == "all")].set_index("model")
    base = part.loc["bayes", "crps"]
    lines = ["| model | MAPE | CRPS | relative CRPS | CRPS vs bayes | 80 % coverage | 95 % coverage |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for model in MODELS:
        r = part.loc[model]
        lines.append(f"| {model} | {100 * r.mape:.1f} % | {format(r.crps, unit_format)} | "
                     f"{100 * r.crps_relative:.2f} % | {r.crps / base:.2f} | "
                     f"{100 * r.coverage_80:.1f} % | {100 * r.coverage_95:.1f} % |")
    return "\n".join(lines)


def by_horizon(summary: pd.DataFrame, quantity: str, unit_format: str) -> str:
    part = summary[(summary["quantity"] == quantity) & (summary["h"] != "all")].copy()
    part["h"] = part["h"].astype(int)
    lines = ["| h | bayes CRPS | " + " | ".join(MODELS[1:]) + " | bayes 80 % | bayes 95 % |",
             "|---:|" + "---:|" * (len(MODELS) + 2)]
    for h, frame in part.groupby("h"):
        frame = frame.set_index("model")
        base = frame.loc["bayes"]
        ratios = " | ".join(f"{frame.loc[m, 'crps'] / base.crps:.2f}" for m in MODELS[1:])
        lines.append(f"| {h} | {format(base.crps, unit_format)} | {ratios} | "
                     f"{100 * base.coverage_80:.0f} % | {100 * base.coverage_95:.0f} % |")
    return "\n".join(lines)


def by_region(scores: pd.DataFrame) -> str:
    part = scores[(scores["model"] == "bayes") & (scores["quantity"] == "tfr")]
    lines = ["| region | MAPE | CRPS | 80 % coverage | 95 % coverage |",
             "|---|---:|---:|---:|---:|"]
    for region, frame in part.groupby("region"):
        lines.append(f"| {region} | {100 * frame.ape.mean():.1f} % | {frame.crps.mean():.4f} | "
                     f"{100 * frame.in_80.mean():.0f} % | {100 * frame.in_95.mean():.0f} % |")
    return "\n".join(lines)


def main() -> None:
    summary = pd.read_csv(RESULTS / "backtest_summary.csv", encoding="utf-8-sig")
    scores = pd.read_csv(RESULTS / "backtest_scores.csv", encoding="utf-8-sig")
    print(pooled(summary, "tfr", ".4f"), end="\n\n")
    print(pooled(summary, "births", ",.0f"), end="\n\n")
    print(by_horizon(summary, "tfr", ".4f"), end="\n\n")
    print(by_horizon(summary, "births", ",.0f"), end="\n\n")
    print(by_region(scores))


if __name__ == "__main__":
    main()
