"""Render results as a Rich table, JSON (the one envelope) or CSV.

Records, the envelope and CSV come from :mod:`crmlens.insights.tabular`, shared with the
web app's API and downloads; this module adds the terminal: Rich tables and findings.

JSON output is ``{"analysis": NAME, "params": {...}, "rows": [...], "findings": [...]}`` for
every command; errors with ``--format json`` are ``{"ok": false, "error": ..., "errors":
[...], "status": ...}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

from crmlens.insights.tabular import envelope, plain, records, to_csv

__all__ = [
    "Format",
    "emit",
    "envelope",
    "plain",
    "print_findings",
    "print_table",
    "records",
    "stderr",
    "stdout",
    "to_csv",
]

stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False)


class Format(StrEnum):
    """Output formats of every analysis command."""

    table = "table"
    json = "json"
    csv = "csv"


def emit(
    fmt: Format,
    analysis: str,
    params: dict[str, Any],
    rows: list[dict[str, Any]],
    findings: Sequence[dict[str, Any]] = (),
    *,
    title: str | None = None,
    lang: str = "en",
    **extra: Any,
) -> None:
    """Print a result in `fmt`."""
    if fmt == Format.json:
        text = json.dumps(
            envelope(analysis, params, rows, findings, **extra),
            ensure_ascii=False,
            indent=2,
        )
        sys.stdout.write(text + "\n")
    elif fmt == Format.csv:
        sys.stdout.write(to_csv(rows))
    else:
        print_table(rows, title=title or analysis)
        print_findings(findings, lang=lang)


def print_table(rows: list[dict[str, Any]], *, title: str, limit: int = 200) -> None:
    """Rows as a Rich table (at most `limit` rows, with a note when cut)."""
    if not rows:
        stdout.print(f"[bold]{title}[/]: no rows")
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in rows[0]:
        numeric = all(
            isinstance(r.get(column), (int, float)) or r.get(column) is None
            for r in rows
        )
        table.add_column(
            column, justify="right" if numeric else "left", overflow="fold"
        )
    for row in rows[:limit]:
        table.add_row(*(_cell_text(v) for v in row.values()))
    stdout.print(table)
    if len(rows) > limit:
        stdout.print(
            f"… {len(rows) - limit} more rows (use --format csv or json for all)"
        )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def print_findings(findings: Iterable[dict[str, Any]], *, lang: str = "en") -> None:
    """Findings as numbered lines with their action."""
    items = list(findings)
    if not items:
        return
    stdout.print("\n[bold]Findings[/]" if lang == "en" else "\n[bold]Выводы[/]")
    colours = {"high": "red", "medium": "yellow", "low": "cyan"}
    for i, f in enumerate(items, 1):
        colour = colours.get(f.get("severity", "low"), "white")
        stdout.print(f"{i}. [{colour}]{f['text'][lang]}[/]")
        stdout.print(f"   → {f['action'][lang]}")
