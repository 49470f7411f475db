"""``crmlens alerts``: evaluate the alert rules and deliver each new alert once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmlens.cli.options import AsOfOpt, FormatOpt, WarehouseOpt
from crmlens.cli.render import Format

if TYPE_CHECKING:
    from crmlens.alerts import AlertRun

HELP = """Evaluate the alert rules as of now and deliver each new alert once, by e-mail (SMTP) and/or JSON webhook: plan at risk, a new lead not answered within the SLA, a key client silent longer than usual, overdue tasks above a limit, a funnel stage drop.

A state file remembers what was sent to whom (default: beside the warehouse, <warehouse>.alerts.sqlite; ~/.crmlens/alerts.sqlite for Spark and Postgres), so the next run sends only what is new. A failed delivery is retried, reported, never marked sent, and tried again on the next run; the exit code is then 3. Rules, delivery and scheduling: docs/alerts.md.

Examples:

  crmlens alerts --init          write a commented alerts.yaml to edit

  crmlens alerts --dry-run       what would be sent, to whom; sends nothing

  crmlens alerts --rules /etc/crmlens/alerts.yaml -w crm.duckdb

  crmlens alerts --as-of 2025-12-15 --format json
"""

RulesOpt = Annotated[
    str,
    typer.Option(
        "--rules",
        envvar="CRMLENS_ALERTS",
        help="The rules file (YAML).",
    ),
]
EXIT_FAILED = 3


def register(app: typer.Typer) -> None:
    """Add ``alerts`` to `app`."""
    app.command("alerts", help=HELP)(alerts_command)


def alerts_command(
    rules: RulesOpt = "alerts.yaml",
    init: Annotated[
        bool, typer.Option("--init", help="Write a commented starting rules file.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="With --init: overwrite the file.")
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print what would be sent; send and mark nothing."
        ),
    ] = False,
    as_of: AsOfOpt = None,
    state: Annotated[
        str | None,
        typer.Option(
            "--state",
            help="State file of sent alerts (SQLite); default beside the warehouse.",
            show_default=False,
        ),
    ] = None,
    warehouse: WarehouseOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Evaluate the rules and deliver (or, with --dry-run, show) the new alerts."""
    from crmlens.alerts.rules import load_rules, write_example
    from crmlens.cli.render import stdout

    if init:
        path = write_example(rules, force=force)
        stdout.print(
            f"wrote {path}: edit the recipients and the SMTP settings, then run "
            f"crmlens alerts --rules {path} --dry-run"
        )
        return
    ruleset = load_rules(rules)
    result = _run(ruleset, warehouse, as_of, state, dry_run)
    if fmt == Format.table:
        _print(result)
    else:
        _emit(fmt, result, rules)
    if result.failed:
        raise typer.Exit(EXIT_FAILED)


def _run(
    ruleset: Any, warehouse: str | None, as_of: str | None, state: str | None, dry: bool
) -> AlertRun:
    import crmlens
    from crmlens.alerts import run_alerts
    from crmlens.cli.progress import progress_bar

    wh = crmlens.open(warehouse)
    with progress_bar("alerts") as update:
        return run_alerts(
            wh, ruleset, as_of=as_of, state=state, dry_run=dry, progress=update
        )


def _emit(fmt: Format, result: AlertRun, rules: str) -> None:
    import json
    import sys

    from crmlens.cli.render import envelope, to_csv

    rows = [d.row() for d in result.deliveries]
    if fmt == Format.csv:
        sys.stdout.write(to_csv(rows))
        return
    findings = {a.key: a.finding.to_dict() | {"alert": a.key}
                for a in result.evaluation.alerts}  # fmt: skip
    params = {
        "rules": rules,
        "as_of": result.as_of,
        "now": result.now,
        "state": str(result.state),
        "dry_run": result.dry_run,
    }
    data = envelope(
        "alerts", params, rows, list(findings.values()),
        summary=result.summary(), notes=result.evaluation.notes,
    )  # fmt: skip
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def _print(result: AlertRun) -> None:
    from crmlens.cli.render import stderr, stdout

    for note in result.evaluation.notes:
        stderr.print(f"[yellow]note:[/] {note}", markup=True)
    if result.dry_run:
        _print_dry(result)
    else:
        _print_table(result)
    s = result.summary()
    head = (
        f"as of {result.as_of} · {s['alerts']} alerts · "
        + (
            f"would send {s['would_send']}, already sent {s['already_sent']}"
            if result.dry_run
            else f"sent {s['sent']}, already sent {s['already_sent']}, "
            f"failed {s['failed']}"
        )
        + (
            f", in another run {s['claimed_elsewhere']}"
            if s["claimed_elsewhere"]
            else ""
        )
        + f" · state {result.state}"
    )
    stdout.print(head)
    if result.failed:
        stderr.print(
            f"[red]error:[/] {len(result.failed)} deliveries failed after every attempt; "
            "they are not marked sent and will be tried again on the next run",
            markup=True,
        )


def _print_dry(result: AlertRun) -> None:
    from rich.markup import escape

    from crmlens.cli.render import stdout

    todo = [d for d in result.deliveries if d.status == "would_send"]
    stdout.print(
        "[bold]Dry run[/]: nothing is sent or marked."
        + ("" if todo else " Nothing new to send."),
        markup=True,
    )
    for d in todo:
        stdout.print(
            f"\n→ [bold]{escape(d.recipient.address)}[/] ({d.recipient.channel}, "
            f"{d.alert.severity})\n  {escape(d.subject)}\n  {escape(d.alert.text)}\n"
            f"  → {escape(d.alert.action)}",
            markup=True,
            soft_wrap=True,
        )


def _print_table(result: AlertRun) -> None:
    from rich.markup import escape
    from rich.table import Table

    from crmlens.cli.render import stdout

    if not result.deliveries:
        stdout.print("No alerts.")
        return
    colours = {"sent": "green", "failed": "red", "already_sent": "dim"}
    table = Table(title="alerts", title_justify="left")
    for column in ("status", "rule", "severity", "to", "about", "tries"):
        table.add_column(column, overflow="fold")
    for d in result.deliveries:
        c = colours.get(d.status, "yellow")
        cells = (d.alert.rule.name, d.alert.severity, d.recipient.address,
                 d.alert.subject_label, str(d.attempts or ""))  # fmt: skip
        table.add_row(f"[{c}]{d.status}[/]", *(escape(x) for x in cells))
    stdout.print(table)
    for d in result.failed:
        stdout.print(
            f"[red]failed[/] {escape(d.recipient.address)} · "
            f"{escape(d.alert.subject_label)}: {escape(d.error or '')}",
            markup=True,
            soft_wrap=True,
        )
