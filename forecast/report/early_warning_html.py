"""The report as one self-contained HTML page: inline CSS, figures as data URIs and the
characters it uses from the shipped CJK font (a subset, as a data URI), so it opens offline
on any machine with Chinese rendered. Chinese by default, English with ``lang="en"``."""

from __future__ import annotations

import base64
import logging
import html
import io
from pathlib import Path

import pandas as pd
from fontTools import subset as font_subset
from matplotlib.figure import Figure

from forecast.report.maps import LEVEL_COLOURS
from forecast.report.plots import FONT_PATH
from forecast.report.early_warning import Report
from forecast.planning.warning import LEVELS

# the subsetter logs every table it touches at INFO
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT_FAMILY = "ReportCJK"

TEXT = {
    "zh": {"title": "人口监测预警报告", "year": "报告年份", "forecast": "所用预测",
           "previous": "对照的上期预测", "none": "无", "summary": "预警概况",
           "regions": "各地区最高预警等级", "region": "地区", "highest": "最高等级",
           "alerts": "预警明细", "indicator": "指标", "level": "等级", "value": "数值",
           "threshold": "阈值", "probability": "概率", "message": "说明", "rule": "规则",
           "source": "依据", "figures": "图表", "rules": "预警规则与依据",
           "surprises": "观测值与上期预测的偏离", "no_surprises": "无偏离预警。",
           "no_previous": "未指定上期预测，未做偏离检验。", "no_alerts": "无预警。",
           "observed": "观测数据文件", "draws": "概率规则基于预测的{n}个抽样。",
           "no_draws": "所读预测未保存抽样，概率规则未评估。",
           "notes": "说明：数值为预测中位数（有观测值时用观测值）；区间与概率反映模型的不确定性。"
                    "供给水平以各地区供给表为准：默认表中全国托位数为公布数，各省份托位按0-2岁儿童占比推算，"
                    "幼儿园学位均为推算值（见 demand.csv 的 *_basis 列）。",
           "count": "{level}色预警 {n} 条", "no_alert": "无",
           "changed": "与上期报告相比的变化", "no_previous_report": "未找到上期报告：以下预警均为本期新增。",
           "since": "与上期报告 {name} 相比：新增 {raised} 条，升级 {escalated} 条，降级 {eased} 条，"
                    "解除 {cleared} 条，未变 {unchanged} 条；观测值超出上期预测区间 {surprises} 条。",
           "raised": "新增", "escalated": "升级", "eased": "降级", "cleared": "解除",
           "unchanged": "未变", "standing": "持续性状况（多数地区同时触发，只列一次）",
           "no_standing": "无持续性状况。",
           "standing_line": "{indicator}{word}{threshold}（{level}）：{n}/{of} 个地区",
           "key_figures": "全国主要指标", "origin": "来源", "other_alerts": "其余预警明细",
           "changed_col": "变化数"},
    "en": {"title": "Population monitoring and early-warning report", "year": "Report year",
           "forecast": "Forecast used", "previous": "Previous forecast checked",
           "none": "none", "summary": "Summary", "regions": "Regions by highest alert",
           "region": "Region", "highest": "Highest level", "alerts": "Alerts",
           "indicator": "Indicator", "level": "Level", "value": "Value",
           "threshold": "Threshold", "probability": "Probability", "message": "Message",
           "rule": "Rule", "source": "Source", "figures": "Figures",
           "rules": "Rules and sources", "surprises": "Observations against the previous "
           "forecast", "no_surprises": "No surprise.", "no_previous": "No previous forecast "
           "given: no surprise check.", "no_alerts": "No alert.",
           "observed": "Observed-figure files", "draws": "Probabilistic rules use the "
           "forecast's {n} draws.", "no_draws": "The forecast read kept no draws: "
           "probabilistic rules not evaluated.",
           "notes": "Values are the forecast's medians (observed figures where given); "
                    "intervals and probabilities carry the models' uncertainty. Supply comes "
                    "from each region's supply table: the default table's national childcare places are "
                    "published, the provinces' shares of them and all kindergarten seats "
                    "estimated (see demand.csv's *_basis columns).",
           "count": "{level}: {n}", "no_alert": "none",
           "changed": "What changed since the previous report",
           "no_previous_report": "No earlier report found: every alert below is new.",
           "since": "Since report {name}: {raised} alerts raised, {escalated} escalated, "
                    "{eased} eased, {cleared} cleared, {unchanged} unchanged; {surprises} "
                    "observations outside the previous forecast's intervals.",
           "raised": "raised", "escalated": "escalated", "eased": "eased",
           "cleared": "cleared", "unchanged": "unchanged",
           "standing": "Standing conditions (on in most regions at once: stated once)",
           "no_standing": "No standing condition.",
           "standing_line": "{indicator} {word} {threshold} ({level}): {n} of {of} regions",
           "key_figures": "Key figures of the nation", "origin": "Origin",
           "other_alerts": "Other alerts", "changed_col": "Changes"},
}
LEVEL_NAMES = {"zh": {k: f"{v}色" for k, v in LEVELS.items()},
               "en": {k: k for k in LEVELS}}
INDICATOR_NAMES = {
    "zh": {"births_change": "出生人口同比变化", "births": "出生人口", "tfr": "总和生育率",
           "sex_ratio_at_birth": "出生人口性别比", "childcare_places_per_1000": "每千人口托位数",
           "childcare_affordable_share": "普惠托位占比",
           "kindergarten_idle_share": "幼儿园学位闲置率",
           "sex_ratio_at_birth_census_2020": "2020年普查0岁人口性别比"},
    "en": {"births_change": "births, change on the year before", "births": "births",
           "tfr": "total fertility rate", "sex_ratio_at_birth": "sex ratio at birth",
           "childcare_places_per_1000": "childcare places per 1,000 residents",
           "childcare_affordable_share": "affordable share of childcare places",
           "kindergarten_idle_share": "idle share of kindergarten seats",
           "sex_ratio_at_birth_census_2020": "sex ratio of infants, 2020 census"},
}

CSS = """
body{font-family:'%(font)s',sans-serif;margin:24px auto;max-width:1180px;color:#222;
line-height:1.45;padding:0 16px}
h1{font-size:24px;margin-bottom:4px}h2{font-size:19px;border-bottom:2px solid #ddd;
padding-bottom:4px;margin-top:28px}
table{border-collapse:collapse;width:100%%;font-size:13px;margin:8px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;white-space:nowrap}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-weight:bold}
.meta{color:#555;font-size:13px}.counts span{margin-right:14px}
img{max-width:100%%;border:1px solid #eee;margin:8px 0}
"""


def render(report: Report, lang: str = "zh", period: str = "",
           figures: dict[str, bytes] | None = None, observed_files: list[str] | None = None
           ) -> str:
    """The page (UTF-8 text) of ``report``; ``figures`` maps file names to PNG bytes."""
    t = TEXT[lang]
    figures = figures or {}
    parts = [f"<h1>{_e(t['title'])} {_e(period)}</h1>", _meta(report, t, observed_files)]
    names = list(figures)
    parts += [f"<h2>{_e(t['changed'])}</h2>", _changes(report, lang),
              f"<h2>{_e(t['standing'])}</h2>", _standing(report, lang),
              f"<h2>{_e(t['key_figures'])}</h2>", _key_figures(report, lang)]
    parts += [f"<h2>{_e(t['summary'])}</h2>", _counts(report, lang),
              *(_image(n, figures[n]) for n in names[:1]),  # the births and TFR fan first
              f"<h3>{_e(t['regions'])}</h3>", _regions_table(report, lang)]
    parts += [f"<h2>{_e(t['other_alerts'])}</h2>", _alerts_table(_not_standing(report), lang)]
    parts += [f"<h2>{_e(t['surprises'])}</h2>", _surprises(report, lang)]
    if len(names) > 1:
        parts += [f"<h2>{_e(t['figures'])}</h2>", *(_image(n, figures[n]) for n in names[1:])]
    parts += [f"<h2>{_e(t['rules'])}</h2>", _rules_table(report, lang),
              f'<p class="meta">{_e(t["notes"])}</p>']
    body = "\n".join(parts)
    font = embedded_font(_visible_text(body) + "0123456789")
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n'
            f'<meta charset="utf-8">\n<title>{_e(t["title"])} {_e(period)}</title>\n'
            f"<style>\n{font}\n{CSS % {'font': FONT_FAMILY}}</style>\n</head>\n<body>\n"
            f"{body}\n</body>\n</html>\n")


def png_bytes(fig: Figure, dpi: int = 110) -> bytes:
    """A Figure as PNG bytes (no date or software stamp, so the bytes repeat)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def embedded_font(text: str) -> str:
    """An @font-face rule with the shipped CJK font cut to the characters of ``text``."""
    options = font_subset.Options()
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = font_subset.Subsetter(options)
    font = font_subset.load_font(str(FONT_PATH), options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    buffer = io.BytesIO()
    font_subset.save_font(font, buffer, options)
    data = base64.b64encode(buffer.getvalue()).decode()
    return (f"@font-face{{font-family:'{FONT_FAMILY}';src:url(data:font/otf;base64,{data}) "
            "format('opentype');}")


DIRECTION_WORDS = {"zh": {"below": "低于", "above": "高于", "outside": "超出"},
                   "en": {"below": "below", "above": "above", "outside": "outside"}}


def localized_messages(alerts: pd.DataFrame, rules: dict, lang: str,
                       previous: str | None = None) -> pd.Series:
    """Each alert's message in ``lang`` (the rules' own English messages for ``en``);
    ``previous`` names the forecast surprises are measured against."""
    if lang == "en":
        return alerts["message"]
    names = INDICATOR_NAMES["zh"]
    out = []
    for a in alerts.itertuples(index=False):
        level = LEVEL_NAMES["zh"][a.level]
        if a.rule == "births_drop":
            ratio = rules["births_drop"]["ratio"]
            out.append(f"{a.year}年出生人口低于{a.year - 1}年的{ratio:g}倍的概率为"
                       f"{a.probability:.2f}（{level}预警）")
        elif a.rule == "surprise":
            out.append(f"观测值{_number(a.value)}超出上期预测 {previous} 的区间 {a.threshold}"
                       f"（{level}预警）")
        else:
            word = DIRECTION_WORDS["zh"][rules["rules"][a.rule]["direction"]]
            out.append(f"{names.get(a.indicator, a.indicator)} {_number(a.value)} {word}"
                       f" {a.threshold}（{level}预警）")
    return pd.Series(out, index=alerts.index, dtype=object)


def _meta(report: Report, t: dict, observed_files: list[str] | None) -> str:
    probabilistic = (t["draws"].format(n=report.forecast["meta"]["projection"]["draws"])
                     if report.forecast["probabilistic"] else t["no_draws"])
    files = ", ".join(Path(f).name for f in observed_files or []) or t["none"]
    lines = [f"{t['year']}: {report.year}", f"{t['forecast']}: {report.forecast['name']}",
             f"{t['previous']}: {report.previous or t['none']}", f"{t['observed']}: {files}",
             probabilistic]
    return "".join(f'<p class="meta">{_e(line)}</p>' for line in lines)


def _image(name: str, png: bytes) -> str:
    return f'<img alt="{_e(name)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def _badge(level: str | None, lang: str) -> str:
    if level is None or level != level:
        return _e(TEXT[lang]["no_alert"])
    return (f'<span class="badge" style="background:{LEVEL_COLOURS[level]}">'
            f"{_e(LEVEL_NAMES[lang][level])}</span>")


def _counts(report: Report, lang: str) -> str:
    counts = report.alerts["level"].value_counts()
    spans = [f"<span>{_badge(level, lang)} {int(counts.get(level, 0))}</span>"
             for level in reversed(list(LEVELS))]
    return f'<p class="counts">{"".join(spans)}</p>'


def _regions_table(report: Report, lang: str) -> str:
    t = TEXT[lang]
    head = [t["region"], t["changed_col"], t["highest"],
            *(LEVEL_NAMES[lang][lv] for lv in reversed(list(LEVELS)))]
    rows = [[_e(f"{r.region_code} {r.region_name}"), str(r.changed),
             _badge(r.highest_level, lang),
             *(str(getattr(r, lv)) for lv in reversed(list(LEVELS)))]
            for r in report.regions.itertuples(index=False)]
    return _table(head, rows, numeric={1, 3, 4, 5, 6})


#: Changes listed one by one in the first section (the rest are counted).
LISTED_CHANGES = 40


def _changes(report: Report, lang: str) -> str:
    """What changed since the previous report, in words, then the changes one by one."""
    t, names = TEXT[lang], INDICATOR_NAMES[lang]
    changes = report.changes
    counts = changes["change"].value_counts()
    surprises = int((report.alerts["rule"] == "surprise").sum())
    if report.previous_report is None:
        head = t["no_previous_report"]
    else:
        head = t["since"].format(name=report.previous_report, surprises=surprises,
                                 **{c: int(counts.get(c, 0)) for c in
                                    ("raised", "escalated", "eased", "cleared", "unchanged")})
    moved = changes[changes["change"] != "unchanged"]
    if report.previous_report is None:
        moved = moved.iloc[:0]
    messages = {(a.region_code, a.rule, a.indicator): a.message
                for a in report.alerts.itertuples(index=False)}
    rows = [[_e(t[c.change]), _e(f"{c.region_code} {c.region_name}"),
             _e(names.get(c.indicator, c.indicator)),
             f"{_badge(c.previous_level, lang)} → {_badge(c.level, lang)}",
             _e(messages.get((c.region_code, c.rule, c.indicator), ""))]
            for c in moved.head(LISTED_CHANGES).itertuples(index=False)]
    table = (_table(["", t["region"], t["indicator"], t["level"], t["message"]], rows)
             if rows else "")
    more = (f"<p>… {len(moved) - LISTED_CHANGES}</p>" if len(moved) > LISTED_CHANGES else "")
    return f"<p>{_e(head)}</p>{table}{more}"


def _standing(report: Report, lang: str) -> str:
    """One line per standing condition, naming the regions."""
    t, names = TEXT[lang], INDICATOR_NAMES[lang]
    if report.standing is None or report.standing.empty:
        return f"<p>{_e(t['no_standing'])}</p>"
    region_names = dict(zip(report.regions["region_code"], report.regions["region_name"]))
    items = []
    for c in report.standing.itertuples(index=False):
        rule = report.rules["rules"].get(c.rule, {})
        word = DIRECTION_WORDS[lang].get(rule.get("direction"), "") if rule else ""
        line = t["standing_line"].format(indicator=names.get(c.indicator, c.indicator),
                                         word=word, threshold=c.threshold,
                                         level=LEVEL_NAMES[lang][c.level], n=c.regions, of=c.of)
        which = "、".join(region_names.get(code, code) for code in c.codes.split(","))
        items.append(f"<li>{_badge(c.level, lang)} {_e(line)}<br><span class=\"meta\">"
                     f"{_e(which)}</span></li>")
    return f"<ul>{''.join(items)}</ul>"


def _not_standing(report: Report) -> pd.DataFrame:
    """The threshold and probability alerts not stated as a standing condition."""
    alerts = report.alerts[report.alerts["rule"] != "surprise"]
    if report.standing is None or report.standing.empty:
        return alerts
    key = ["rule", "indicator", "level"]
    merged = alerts.merge(report.standing[key].assign(_standing=True), on=key, how="left")
    return alerts[merged["_standing"].isna().to_numpy()]


def _key_figures(report: Report, lang: str) -> str:
    """The nation's values the rules saw, with where each comes from."""
    t, names = TEXT[lang], INDICATOR_NAMES[lang]
    figures = report.key_figures
    if figures is None or figures.empty:
        return ""
    origins = {"zh": {"observed": "观测值", "forecast": "预测中位数",
                      "census 2020, 95 %:": "2020年普查，95%区间"}}.get(lang, {})

    def origin(text: str) -> str:
        for word, shown in origins.items():
            text = text.replace(word, shown) if text.startswith(word) else text
        return text

    rows = [[_e(names.get(f.indicator, f.indicator)), _e(_number(f.value)), _e(origin(f.origin))]
            for f in figures.itertuples(index=False)]
    return _table([t["indicator"], t["value"], t["origin"]], rows, numeric={1})


def _alerts_table(alerts: pd.DataFrame, lang: str) -> str:
    t = TEXT[lang]
    if alerts.empty:
        return f"<p>{_e(t['no_alerts'])}</p>"
    names = INDICATOR_NAMES[lang]
    head = [t["level"], t["region"], t["indicator"], "年份" if lang == "zh" else "Year",
            t["value"], t["threshold"], t["probability"], t["message"]]
    rows = [[_badge(a.level, lang), _e(f"{a.region_code} {a.region_name}"),
             _e(names.get(a.indicator, a.indicator)), str(a.year), _e(_number(a.value)),
             _e(str(a.threshold)), _e("" if a.probability != a.probability else
                                       f"{a.probability:.2f}"), _e(a.message)]
            for a in alerts.itertuples(index=False)]
    return _table(head, rows, numeric={3, 4, 6})


def _surprises(report: Report, lang: str) -> str:
    t = TEXT[lang]
    if report.previous is None:
        return f"<p>{_e(t['no_previous'])}</p>"
    surprises = report.alerts[report.alerts["rule"] == "surprise"]
    return _alerts_table(surprises, lang) if len(surprises) else f"<p>{_e(t['no_surprises'])}</p>"


def _rules_table(report: Report, lang: str) -> str:
    t = TEXT[lang]
    names = INDICATOR_NAMES[lang]
    rows = []
    for name, rule in report.rules["rules"].items():
        word = DIRECTION_WORDS[lang][rule["direction"]]
        levels = "; ".join(f"{LEVEL_NAMES[lang][lv]} {word} {value}"
                           for lv, value in rule["levels"].items())
        rows.append([_e(names.get(rule["indicator"], name)), _e(levels), _e(rule["source"])])
    for name in ("births_drop", "surprise"):
        rule = report.rules[name]
        levels = "; ".join(f"{LEVEL_NAMES[lang][lv]} {value}" for lv, value in
                           rule["levels"].items())
        rows.append([_e(name), _e(levels), _e(rule["source"])])
    return _table([t["rule"], t["threshold"], t["source"]], rows)


def _table(head: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    th = "".join(f"<th>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(
        f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
        for i, c in enumerate(row)) + "</tr>" for row in rows)
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _number(value: float) -> str:
    if value != value:
        return ""
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _visible_text(markup: str) -> str:
    """The characters of ``markup`` (tags included: harmless for a subset)."""
    return "".join(sorted(set(html.unescape(markup))))


def _e(text) -> str:
    return html.escape(str(text), quote=True)
