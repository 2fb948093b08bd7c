"""forecast-report end to end on the default data (a fast fertility model): the three files,
the same files twice, a run killed inside rendering, two runs at once, bad observed data,
surprises against a previous forecast, and the page in a real headless browser."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from forecast.planning.warning import ALERT_COLUMNS, LEVELS

from tests.browser import open_page, require_chromium
from tests.cli.shared_runs import ENVIRONMENT, shared_run

pytestmark = pytest.mark.cli  # starts the command line in a subprocess


FAST = ["fertility=rw_drift", "fertility.draws=30", "horizon=2028"]
FILES = ("report.html", "alerts.csv", "alerts.json")


def _report(*args, cwd, env=None, wait=True):
    cmd = [sys.executable, "-m", "forecast.runs.report_cli", *FAST, *args]
    if not wait:
        return subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=400, env=env)


@shared_run
def reports(root):
    """Two reports of the same period (the second replaces the first) under one root; the
    tests of this module add reports of other periods under it."""
    first = _report(f"report.out_root={root}", "report.period=2026-11", cwd=root,
                    env=ENVIRONMENT)
    assert first.returncode == 0, first.stderr
    copies = {name: (root / "2026-11" / name).read_bytes() for name in FILES}
    second = _report(f"report.out_root={root}", "report.period=2026-11", cwd=root,
                     env=ENVIRONMENT)
    assert second.returncode == 0, second.stderr
    return root, copies, second


def test_console_script_is_installed():
    assert (Path(sys.executable).parent / "forecast-report").is_file()


def test_report_folder_holds_the_three_files_and_the_forecast(reports):
    root, _, run = reports
    folder = root / "2026-11"
    assert {"report.html", "alerts.csv", "alerts.json", "figures", "forecast", "run.json"} <= {
        p.name for p in folder.iterdir()}
    alerts = pd.read_csv(folder / "alerts.csv", dtype={"region_code": str}, encoding="utf-8-sig")
    assert list(alerts.columns) == ALERT_COLUMNS and set(alerts["level"]) <= set(LEVELS)
    summary = json.loads((folder / "alerts.json").read_text(encoding="utf-8"))
    assert len(summary["alerts"]) == len(alerts)
    assert summary["regions"][0]["highest_level"] == max(alerts["level"], key=list(LEVELS).index)
    assert (folder / "forecast" / "indicator_draws.nc").is_file()
    assert list((folder / "figures").glob("*.png"))
    # one line per event, timestamped, with a level
    assert all(line.startswith("[20") for line in run.stderr.splitlines() if line.strip())


def test_running_twice_gives_the_same_files(reports):
    root, copies, _ = reports
    for name, data in copies.items():
        assert (root / "2026-11" / name).read_bytes() == data, name


def test_a_run_killed_inside_rendering_leaves_the_previous_report(reports, tmp_path):
    root, copies, _ = reports
    script = (
        "import os, signal, sys\n"
        "import forecast.runs.report_cli as cli\n"
        "import forecast.runs.report_run as report_run\n"
        "def killed(*a, **k):\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "report_run.render = killed\n"
        f"sys.argv = ['forecast-report', *{FAST!r}, 'report.out_root={root}',"
        f" 'report.period=2026-11', 'report.forecast_dir={root / '2026-11' / 'forecast'}']\n"
        "cli.main()\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL
    for name, data in copies.items():
        assert (root / "2026-11" / name).read_bytes() == data, name


def test_two_runs_at_once_do_not_mix(reports, tmp_path):
    """The first holds the lock while it renders slowly; the second exits 0 without
    writing; the folder then holds one complete report."""
    root, copies, _ = reports
    forecast_dir = root / "2026-11" / "forecast"
    script = (
        "import sys, time\n"
        "import forecast.runs.report_cli as cli\n"
        "import forecast.runs.report_run as report_run\n"
        "real = report_run.render\n"
        "def slow(*a, **k):\n"
        "    time.sleep(8)\n"
        "    return real(*a, **k)\n"
        "report_run.render = slow\n"
        f"sys.argv = ['forecast-report', *{FAST!r}, 'report.out_root={root}',"
        f" 'report.period=2026-12', 'report.forecast_dir={forecast_dir}']\n"
        "cli.main()\n")
    first = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock = root / ".forecast-report.lock"
    deadline = time.time() + 120
    while time.time() < deadline and not (lock.is_file() and lock.read_text().strip()
                                          == str(first.pid)):
        time.sleep(0.2)
    second = _report(f"report.out_root={root}", "report.period=2026-12",
                     f"report.forecast_dir={forecast_dir}", cwd=tmp_path)
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 0, second.stderr
    assert "holds" in second.stderr and "exits without writing" in second.stderr
    summary = json.loads((root / "2026-12" / "alerts.json").read_text(encoding="utf-8"))
    assert summary["period"] == "2026-12" and summary["alerts"]


def test_bad_observed_data_stops_the_run_and_writes_nothing(tmp_path, reports):
    root, _, _ = reports
    observed = tmp_path / "observed"
    observed.mkdir()
    bad = observed / "2026-12.csv"
    bad.write_text("region_code,year,indicator,value\n000000,2025,births,NaN\n", encoding="utf-8")
    out_root = tmp_path / "reports"
    done = _report(f"report.out_root={out_root}", "report.period=2026-12",
                   f"report.observed_dir={observed}",
                   f"report.forecast_dir={root / '2026-11' / 'forecast'}", cwd=tmp_path)
    assert done.returncode == 2
    assert f'{bad}, column "value", row 2' in done.stderr
    assert not (out_root / "2026-12").exists()


def test_observations_outside_the_previous_forecast_raise_surprises(tmp_path, reports):
    """A report after 2026-11 finds that report's forecast as the previous one ("auto") and
    checks an observed 2024 births figure against what it expected; the alert names it."""
    root, _, _ = reports
    observed = tmp_path / "observed"
    observed.mkdir()
    (observed / "births.csv").write_text("region_code,year,indicator,value\n"
                                         "000000,2024,births,6000000\n"
                                         "110000,2024,births,1\n", encoding="utf-8")
    previous = pd.read_csv(root / "2026-11" / "forecast" / "forecast.csv",
                           dtype={"region_code": str}, encoding="utf-8-sig")
    expected = previous[(previous["year"] == 2024) & (previous["indicator"] == "births")
                        ].set_index("region_code")
    assert 6e6 < expected.loc["000000", "lower_95"] and 1 < expected.loc["110000", "lower_95"]
    done = _report(f"report.out_root={root}", "report.period=2026-11b",
                   f"report.observed_dir={observed}",
                   f"report.forecast_dir={root / '2026-11' / 'forecast'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    alerts = pd.read_csv(root / "2026-11b" / "alerts.csv", dtype={"region_code": str},
                         encoding="utf-8-sig")
    surprise = alerts[alerts["rule"] == "surprise"]
    assert sorted(surprise["region_code"]) == ["000000", "110000"]
    assert set(surprise["level"]) == {"orange"}  # far outside even the 95 % intervals
    assert surprise["message"].str.contains("2026-11/forecast").all()
    # what changed since the 2026-11 report (same forecast): the two surprises are new, the
    # other alerts unchanged; the page says so first
    summary = json.loads((root / "2026-11b" / "alerts.json").read_text(encoding="utf-8"))
    assert summary["previous_report"] == "2026-11"
    changes = pd.DataFrame(summary["changes"])
    raised = changes[changes["change"] == "raised"]
    assert sorted(raised["region_code"]) == ["000000", "110000"]
    assert set(raised["rule"]) == {"surprise"} and set(changes["change"]) == {"raised",
                                                                              "unchanged"}
    page = (root / "2026-11b" / "report.html").read_text(encoding="utf-8")
    assert page.index("与上期报告 2026-11 相比：新增 2 条") < page.index("预警概况")


def test_english_report(tmp_path, reports):
    root, _, _ = reports
    done = _report(f"report.out_root={tmp_path}", "report.period=en", "report.lang=en",
                   f"report.forecast_dir={root / '2026-11' / 'forecast'}", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    assert '<html lang="en">' in page and "Regions by highest alert" in page


def test_the_page_in_a_headless_browser(reports, tmp_path):
    require_chromium()
    root, _, _ = reports
    shot = tmp_path / "report.png"
    page = open_page(root / "2026-11" / "report.html", shot, width=1280, height=2200)
    assert page.loaded and page.console_errors == []
    assert page.font_status("ReportCJK") == {"loaded"}
    assert page.images and all(img["loaded"] for img in page.images)
    for words in ("预警概况", "各地区最高预警等级", "000000 全国", "预警明细"):
        assert words in page.text
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("FORECAST_KEEP_SCREENSHOT"):
        Path(os.environ["FORECAST_KEEP_SCREENSHOT"]).write_bytes(shot.read_bytes())


@pytest.mark.parametrize("damage", ["garbage forecast.csv", "broken run.json",
                                    "truncated netCDF files"])
def test_a_damaged_previous_report_does_not_stop_the_next_one(tmp_path, reports, damage,
                                                               caplog):
    """Last month's folder damaged (a cron job would otherwise fail every month until
    someone repairs it): under "auto" an unreadable previous forecast is skipped with a
    WARNING naming it; its netCDF files are not read at all (only its table is compared)."""
    import logging
    import shutil

    from forecast.runs import api

    root, _, _ = reports
    out_root = tmp_path / "reports"
    previous = out_root / "2026-10" / "forecast"
    shutil.copytree(root / "2026-11", out_root / "2026-10")
    if damage == "garbage forecast.csv":
        (previous / "forecast.csv").write_bytes(b"\x00\x01 not a table\n")
    elif damage == "broken run.json":
        (previous / "run.json").write_text("{broken", encoding="utf-8")
    else:
        for name in ("projection.nc", "indicator_draws.nc"):
            data = (previous / name).read_bytes()
            (previous / name).write_bytes(data[:len(data) // 3])
    with caplog.at_level(logging.INFO):
        folder = api.make_report([*FAST, f"report.out_root={out_root}", "report.period=2026-12",
                                  f"report.forecast_dir={root / '2026-11' / 'forecast'}"])
    assert folder == out_root / "2026-12" and (folder / "report.html").is_file()
    summary = json.loads((folder / "alerts.json").read_text(encoding="utf-8"))
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    if damage == "truncated netCDF files":
        assert summary["previous_forecast"].startswith("2026-10/forecast") and not warnings
    else:
        assert summary["previous_forecast"] is None
        assert len(warnings) == 1 and str(previous) in warnings[0]
        assert "report.previous_forecast" in warnings[0]


def test_a_previous_forecast_named_by_the_user_that_cannot_be_read_stops_the_run(tmp_path,
                                                                                 reports):
    from forecast.core.errors import InputError
    from forecast.runs import api

    root, _, _ = reports
    for given in (tmp_path / "nonexistent", root / "2026-11"):  # the report, not its forecast
        with pytest.raises(InputError) as info:
            api.make_report([*FAST, f"report.out_root={tmp_path / 'out'}",
                             "report.period=2026-12", f"report.previous_forecast={given}",
                             f"report.forecast_dir={root / '2026-11' / 'forecast'}"])
        assert str(info.value).startswith(f"config, report.previous_forecast: got '{given}'")
    assert not (tmp_path / "out" / "2026-12").exists()
