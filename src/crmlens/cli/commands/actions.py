"""``crmlens actions``: today's call list per manager, capacity, and the outcome review."""

from __future__ import annotations

import datetime as dt
import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from crmlens.cli.options import AsOfOpt, LangOpt, WarehouseOpt

HELP = """Next best actions: one ranked list per manager of what to do today.

Five kinds: call_lead (open leads by lead score), push_deal (deals stuck in a
stage longer than 75 % of deals stay there), seasonal_order (the client's peak
month is next month), win_back (clients silent longer than usual) and
offer_product (what clients like this one buy). Each item has an expected value
= probability × amount, the reason in plain words and the evidence. The top
--capacity items (default: the manager's own median number of calls and meetings
per working day) form today's list, the rest the later list. A list for --date D
uses only data known before D; unless --dry-run it is stored (system table
action_lists) so that --review can later show what came of it.

--capacity-report: per manager leads and actions against capacity, and the share
of leads sales rejected or never touched, by source.

--review --from D --to D: stored lists joined with what happened next — followed
(a call, meeting, visit or e-mail on the lead/deal/client within --follow-days)
and outcome (a deal, a won deal or an order within --outcome-days); conversion of
followed vs not followed. --replay rebuilds the lists of those days (every --step
days) from the data known then, for a period without stored lists.

Examples:

  crmlens actions --manager M05 --format json

  crmlens actions --date 2025-12-15 --capacity 8 --format xlsx --out lists.xlsx

  crmlens actions --capacity-report --lang ru

  crmlens actions --review --from 2025-10-01 --to 2025-11-14 --replay
"""


class ActionsFormat(StrEnum):
    """Output formats of ``crmlens actions``."""

    table = "table"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


def register(app: typer.Typer) -> None:
    """Add ``actions`` to `app`."""
    app.command("actions", help=HELP)(actions_command)


def actions_command(
    warehouse: WarehouseOpt = None,
    manager: Annotated[
        str | None, typer.Option("--manager", help="Only this manager_id's list.")
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date", help="Day of the list (default: the data's last day + 1)."
        ),
    ] = None,
    as_of: AsOfOpt = None,
    capacity: Annotated[
        int | None,
        typer.Option("--capacity", help="Items on today's list (all managers)."),
    ] = None,
    kinds: Annotated[
        str | None, typer.Option("--kinds", help="Only these kinds, comma-separated.")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Do not store the list.")
    ] = False,
    capacity_report: Annotated[
        bool, typer.Option("--capacity-report", help="Leads and actions vs capacity.")
    ] = False,
    review: Annotated[
        bool, typer.Option("--review", help="What came of the lists of a period.")
    ] = False,
    date_from: Annotated[
        str | None, typer.Option("--from", help="Review: first list day.")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Review: last list day.")
    ] = None,
    replay: Annotated[
        bool, typer.Option("--replay", help="Review: rebuild past lists from the data.")
    ] = False,
    step: Annotated[
        int, typer.Option("--step", help="Replay: days between lists.")
    ] = 7,
    follow_days: Annotated[
        int, typer.Option("--follow-days", help="Review: days to count as followed.")
    ] = 7,
    outcome_days: Annotated[
        int, typer.Option("--outcome-days", help="Review: days to count an outcome.")
    ] = 30,
    out: Annotated[
        str | None,
        typer.Option("--out", help="File for xlsx/csv (actions-<date>.xlsx)."),
    ] = None,
    fmt: Annotated[
        ActionsFormat, typer.Option("--format", "-f", help="table, json, csv or xlsx.")
    ] = ActionsFormat.table,
    lang: LangOpt = "en",
) -> None:
    """Print (and store) the action lists, the capacity report or the review."""
    import crmlens
    from crmlens.cli.progress import progress_bar
    from crmlens.errors import InputError
    from crmlens.insights.i18n import check_lang

    check_lang(lang)
    if review and capacity_report:
        raise InputError("--review and --capacity-report", reason="choose one")
    if fmt == ActionsFormat.xlsx and (review or capacity_report):
        raise InputError("--format xlsx", reason="xlsx is for the action lists")
    wh = crmlens.open(warehouse)
    with progress_bar("actions") as update:
        if review:
            _review(wh, fmt, lang, update, date_from=date_from, date_to=date_to,
                    replay=replay, step_days=step, follow_days=follow_days,
                    outcome_days=outcome_days, manager=manager, kinds=kinds)  # fmt: skip
        elif capacity_report:
            _capacity(wh, fmt, lang, update, date=date, as_of=as_of, kinds=kinds)
        else:
            _lists(wh, fmt, lang, update, out, date=date, as_of=as_of, manager=manager,
                   capacity=capacity, kinds=kinds, store=not dry_run)  # fmt: skip


def _plain_rows(rows: Any) -> list[dict[str, Any]]:
    from crmlens.cli.render import records

    data = records(rows)
    for r in data:
        if isinstance(r.get("evidence"), str):
            r["evidence"] = json.loads(r["evidence"])
    return data


def _findings(*results: Any) -> list[dict[str, Any]]:
    from crmlens.insights.findings import rank

    return [f.to_dict() for f in rank([f for r in results for f in r.findings])]


def _lists(wh: Any, fmt: ActionsFormat, lang: str, update: Any, out: str | None,
           **params: Any) -> None:  # fmt: skip
    from crmlens.cli.render import Format, emit, print_findings, stderr, stdout
    from crmlens.insights.registry import run

    result = run("actions", wh, progress=update, **params)
    rows = _plain_rows(result.rows)
    findings = _findings(result)
    today = [r for r in rows if r["list"] == "today"]
    later = [r for r in rows if r["list"] == "later"]
    if fmt in (ActionsFormat.xlsx, ActionsFormat.csv) and (
        out or fmt == ActionsFormat.xlsx
    ):
        from crmlens.insights.rules._actions_export import write_actions

        path = Path(out or f"actions-{result.params['date']}.{fmt.value}")
        write_actions(rows, path, lang)
        stdout.print(f"{len(rows)} actions ({len(today)} for today) written to {path}")
        return
    if fmt == ActionsFormat.table:
        _print_lists(today, later, lang)
        print_findings(findings, lang=lang)
        if isinstance(result.params.get("stored"), int):
            stderr.print(f"stored {result.params['stored']} actions in action_lists")
        return
    data = rows if fmt == ActionsFormat.csv else today
    emit(Format(fmt.value), result.analysis, result.params, data, findings,
         title="actions", lang=lang, later=later)  # fmt: skip


def _object(r: dict[str, Any]) -> str:
    if r["kind"] == "call_lead":
        return str(r["lead_id"])
    if r["kind"] == "push_deal":
        return str(r["deal_id"])
    return str(r["account_name"] or r["account_id"])


def _print_lists(
    today: list[dict[str, Any]], later: list[dict[str, Any]], lang: str
) -> None:
    """Each manager's list as numbered lines: kind, object, expected value, reason."""
    from rich.markup import escape

    from crmlens.cli.render import stdout
    from crmlens.insights.rules._money import money

    key = f"reason_{lang}"
    managers = sorted({r["manager_id"] for r in [*today, *later]})
    if not managers:
        stdout.print("no actions" if lang == "en" else "дел нет")
    for m in managers:
        mine = [r for r in today if r["manager_id"] == m]
        rest = [r for r in later if r["manager_id"] == m]
        head = mine[0] if mine else rest[0]
        word = "today, capacity" if lang == "en" else "на сегодня, по силам"
        stdout.print(f"\n[bold]{m} {escape(head['manager_name'] or '')}[/] — "
                     f"{word} {head['capacity']}")  # fmt: skip
        for r in mine:
            stdout.print(f"{r['rank']:>3}. [cyan]{r['kind']}[/] {escape(_object(r))} · "
                         f"{money(r['expected_value'], lang)}")  # fmt: skip
            stdout.print(f"     {escape(r[key])}")
        if rest:
            value = money(sum(r["expected_value"] for r in rest), lang)
            stdout.print(f"     … later: {len(rest)} ({value})" if lang == "en"
                         else f"     … позже: {len(rest)} ({value})")  # fmt: skip


def _capacity(
    wh: Any, fmt: ActionsFormat, lang: str, update: Any, **params: Any
) -> None:
    from crmlens.cli.render import Format, emit, print_findings, print_table, records
    from crmlens.insights.registry import run

    cap = run("actions_capacity", wh, progress=update, **params)
    as_of = (
        dt.date.fromisoformat(cap.params["date"]) - dt.timedelta(days=1)
    ).isoformat()
    src = run("leads_handling", wh, as_of=as_of)
    findings = _findings(cap, src)
    if fmt == ActionsFormat.table:
        print_table(records(cap.rows), title="capacity" if lang == "en" else "ёмкость")
        print_table(records(src.rows), title="leads by source" if lang == "en"
                    else "лиды по источникам")  # fmt: skip
        print_findings(findings, lang=lang)
        return
    emit(Format(fmt.value), cap.analysis, {**cap.params, "sources": src.params},
         records(cap.rows), findings, title="capacity", lang=lang,
         sources=records(src.rows))  # fmt: skip


def _review(wh: Any, fmt: ActionsFormat, lang: str, update: Any, **params: Any) -> None:
    from crmlens.cli.render import Format, emit, print_findings, print_table, records
    from crmlens.insights.registry import run

    result = run("actions_review", wh, progress=update, **params)
    findings = _findings(result)
    if fmt == ActionsFormat.table:
        p = result.params
        title = (f"review {p['from']}..{p['to']}" + (" (replayed)" if p["replay"] else "")
                 + f": followed within {p['follow_days']} days, outcome within "
                 f"{p['outcome_days']} days")  # fmt: skip
        print_table(_compact_review(records(result.rows), "kind", lang), title=title)
        print_table(
            _compact_review(records(p["by_list"]), "list", lang),
            title="today vs later" if lang == "en" else "сегодня и позже",
        )
        if p["incomplete_windows"]:
            from crmlens.cli.render import stdout

            stdout.print(
                f"{p['incomplete_windows']} of {p['actions']} actions have less than "
                f"{p['outcome_days']} days of data after them: their outcomes may still come."
                if lang == "en" else
                f"У {p['incomplete_windows']} из {p['actions']} дел после них меньше "
                f"{p['outcome_days']} дн. данных: результат может ещё прийти."
            )  # fmt: skip
        print_findings(findings, lang=lang)
        return
    emit(Format(fmt.value), result.analysis, result.params, records(result.rows),
         findings, title="actions review", lang=lang)  # fmt: skip


def _compact_review(
    rows: list[dict[str, Any]], key: str, lang: str
) -> list[dict[str, Any]]:
    """Review rows for a terminal: conversion with its interval, money in words."""
    from crmlens.insights.rules._money import money, pct

    yes, no = ("yes", "no") if lang == "en" else ("да", "нет")
    return [
        {key: r[key], "followed": yes if r["is_followed"] else no,
         "actions": r["actions"], "outcomes": r["outcomes"],
         "conversion": f"{pct(r['conversion_rate'], lang)} "
                       f"({pct(r['conversion_low'], lang)}–{pct(r['conversion_high'], lang)})",
         "outcome_amount": money(r["outcome_amount"], lang)}
        for r in rows
    ]  # fmt: skip
