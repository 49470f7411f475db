"""Building reports: sections per period and role, the scope, skipping empty data."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

from crmlens.errors import InputError
from crmlens.reports.build import build_report, parse_scope, report_day, window
from crmlens.reports.html import plotly_js, render_html
from crmlens.warehouse.scope import Scope
from tests.warehouse.test_fuzz import run_cli

DEMO_DAY = dt.date(2025, 12, 12)
MANAGER_ID = re.compile(r"\bM\d{2}\b")


def test_daily_report_has_the_daily_sections(built: Any) -> None:
    report = built("day")
    assert report.as_of == DEMO_DAY
    assert [s.key for s in report.sections] == ["activity", "new_leads", "overdue"]
    assert not report.skipped
    leads = next(s for s in report.sections if s.key == "new_leads")
    assert leads.result.rows.num_rows > 0
    assert {r["created_at"].date() for r in leads.result.rows.to_pylist()} == {DEMO_DAY}
    activity = next(s for s in report.sections if s.key == "activity")
    assert activity.figure is not None
    assert activity.shown.num_rows >= 10
    # the story opens the report and speaks of the day's own findings
    assert report.story.items
    kinds = {i.finding.kind for i in report.story.items}
    assert kinds <= {"leads_waiting", "overdue_backlog", "no_client_contact"}
    html = render_html(report)
    assert html.index('id="story"') < html.index('id="sec-activity"')
    assert "Ежедневный отчёт: 12 декабря 2025" in html


def test_monthly_report_holds_every_part(built: Any) -> None:
    report = built("month")
    keys = [s.key for s in report.sections]
    for key in (
        "plan",
        "funnel",
        "warnings",
        "managers",
        "rfm",
        "abc",
        "cohorts",
        "churn",
        "factors",
        "campaigns",
        "quality",
    ):
        assert key in keys, key
    assert not report.skipped, report.skipped
    assert 3 <= len(report.story.items) <= 7
    assert all(s.figure is not None for s in report.sections)
    plan = next(s for s in report.sections if s.key == "plan")
    assert plan.result.params["scope"] == "region"
    assert set(plan.shown.column("light").to_pylist()) <= {"green", "yellow", "red"}


def test_weekly_report_in_english(built: Any) -> None:
    report = built("week", lang="en")
    assert [s.key for s in report.sections] == ["plan", "funnel", "warnings"]
    html = render_html(report).replace(plotly_js(), "")
    assert "Weekly report" in html
    assert "Plan vs fact" in html
    assert (
        "Воронка" not in html
    )  # headings and labels in English (data stay as they are)


@pytest.mark.parametrize("period", ["day", "month"])
def test_manager_report_holds_only_their_rows(built: Any, period: str) -> None:
    report = built(period, role="manager", scope="M05", lang="ru")
    assert report.scope == Scope("manager", "M05")
    keys = {s.key for s in report.sections}
    assert "managers_fair" not in keys
    assert "campaigns" not in keys
    html = render_html(report).replace(plotly_js(), "")
    assert set(MANAGER_ID.findall(html)) <= {"M05"}
    assert "Игорь Белов" in html  # M05 is named in his own report
    for s in report.sections:
        for column in ("manager_id", "owner_id", "scope_id", "level_id"):
            if column in s.result.rows.column_names:
                values = set(s.result.rows.column(column).to_pylist()) - {
                    None,
                    "(none)",
                }
                assert values <= {"M05"}, (s.key, column, values)
    print_html = render_html(report, for_print=True)
    assert set(MANAGER_ID.findall(print_html)) <= {"M05"}


def test_manager_report_xlsx_has_no_other_manager(built: Any, tmp_path: Path) -> None:
    import openpyxl

    from crmlens.reports.xlsx import write_xlsx

    report = built("month", role="manager", scope="M05", lang="ru")
    path = write_xlsx(report, tmp_path / "m05.xlsx")
    wb = openpyxl.load_workbook(path, read_only=True)
    seen: set[str] = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    seen.update(MANAGER_ID.findall(v))
    assert seen <= {"M05"}


def test_sections_without_data_are_left_out(
    open_wh: Any, demo_dir: Path, tmp_path: Path
) -> None:
    import shutil

    part = tmp_path / "part"
    part.mkdir()
    for name in (
        "managers",
        "deals",
        "deal_stages",
        "pipelines",
        "leads",
        "activities",
    ):
        shutil.copy(demo_dir / f"{name}.csv", part / f"{name}.csv")
    wh = open_wh("part")
    wh.import_files([part])
    report = build_report(wh, period="month", lang="en", as_of=DEMO_DAY)
    skipped = {s.key: s.reason for s in report.skipped}
    for key in (
        "plan",
        "forecast",
        "rfm",
        "abc",
        "cohorts",
        "churn",
        "factors",
        "campaigns",
    ):
        assert key in skipped, key
        assert "no rows in" in skipped[key]
    kept = {s.key for s in report.sections}
    assert {"funnel", "managers", "sources"} <= kept
    html = render_html(report)
    assert "Not in this report" in html
    assert "no rows in orders" in html


def test_parse_scope_and_errors(demo_wh: Any) -> None:
    assert parse_scope(None, "head") is None
    assert parse_scope("company", "head") == Scope("company")
    assert parse_scope("M05", "manager") == Scope("manager", "M05")
    assert parse_scope("region:Юг", "head") == Scope("region", "Юг")
    with pytest.raises(InputError, match="KIND:ID"):
        parse_scope("M05", "head")
    with pytest.raises(InputError, match="needs --scope"):
        build_report(demo_wh, period="day", role="manager")
    with pytest.raises(InputError, match="no manager 'M99'"):
        build_report(
            demo_wh, period="day", role="manager", scope=Scope("manager", "M99")
        )
    with pytest.raises(InputError, match="--period"):
        build_report(demo_wh, period="year")
    with pytest.raises(InputError, match="language"):
        build_report(demo_wh, period="day", lang="de")


def test_report_day_and_window(demo_wh: Any) -> None:
    assert report_day(demo_wh, None) == DEMO_DAY  # the data's last day (before today)
    assert report_day(demo_wh, "01.12.2025") == dt.date(2025, 12, 1)
    assert window("day", DEMO_DAY) == DEMO_DAY
    assert window("week", DEMO_DAY) == dt.date(2025, 12, 6)
    assert window("month", DEMO_DAY) == dt.date(2025, 12, 1)


def test_cli_writes_each_format(demo_wh: Any, tmp_path: Path) -> None:
    wh = demo_wh.url.raw
    for fmt in ("html", "xlsx", "pdf"):
        out = tmp_path / f"daily.{fmt}"
        code, stdout, stderr = run_cli(
            ["report", "--period", "day", "--format", fmt, "--out", str(out), "-w", wh]
        )
        assert code == 0, stderr
        assert out.stat().st_size > 1000
        assert f"wrote {out}" in stdout
    code, _, stderr = run_cli(
        [
            "report",
            "--period",
            "day",
            "--role",
            "manager",
            "-w",
            wh,
            "--out",
            str(tmp_path / "x.html"),
        ]
    )
    assert code == 1
    assert stderr.startswith("error:")
    assert "needs --scope" in stderr
    assert "Traceback" not in stderr
    code, _, stderr = run_cli(
        [
            "report",
            "--period",
            "day",
            "-w",
            wh,
            "--out",
            str(tmp_path / "missing" / "x.html"),
        ]
    )
    assert code == 1
    assert "does not exist" in stderr


def test_daily_commands_print_the_envelope(demo_wh: Any) -> None:
    import json

    wh = demo_wh.url.raw
    for sub, analysis in (
        ("activity", "daily_activity"),
        ("leads", "daily_leads"),
        ("overdue", "daily_overdue"),
    ):
        code, out, err = run_cli(
            ["daily", sub, "-w", wh, "--as-of", "2025-12-12", "-f", "json"]
        )
        assert code == 0, err
        data = json.loads(out)
        assert data["analysis"] == analysis
        assert data["params"]["as_of"] == "2025-12-12"
        assert data["rows"]
