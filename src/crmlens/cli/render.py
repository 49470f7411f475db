"""Render results as a Rich table, JSON (the one envelope) or CSV.

JSON output is ``{"analysis": NAME, "params": {...}, "rows": [...], "findings": [...]}`` for
every command; errors with ``--format json`` are ``{"ok": false, "error": ..., "errors":
[...], "status": ...}``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table

stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False)


class Format(StrEnum):
    """Output formats of every analysis command."""

    table = "table"
    json = "json"
    csv = "csv"


def plain(value: Any) -> Any:
    """A JSON-friendly value: ISO dates, None for NaN/NaT, floats for decimals."""
    if value is None:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "isoformat"):  # pandas Timestamp
        try:
            return None if value != value else value.isoformat(sep=" ")
        except (TypeError, ValueError):
            return str(value)
    if hasattr(value, "item"):  # numpy scalar
        return plain(value.item())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def records(rows: Any) -> list[dict[str, Any]]:
    """Rows from a pandas DataFrame, an Arrow table or a list of dicts, made plain."""
    if rows is None:
        return []
    if hasattr(rows, "to_pylist"):
        data = rows.to_pylist()
    elif hasattr(rows, "to_dict"):
        data = rows.to_dict("records")
    else:
        data = list(rows)
    return [{k: plain(v) for k, v in r.items()} for r in data]


def envelope(
    analysis: str,
    params: dict[str, Any],
    rows: list[dict[str, Any]],
    findings: Sequence[dict[str, Any]] = (),
    **extra: Any,
) -> dict[str, Any]:
    """The JSON envelope of every command."""
    return {
        "analysis": analysis,
        "params": plain(params),
        "rows": rows,
        "findings": [plain(f) for f in findings],
        **plain(extra),
    }


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


def to_csv(rows: list[dict[str, Any]]) -> str:
    """Rows as CSV text with a header (empty text for no rows)."""
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell_csv(v) for k, v in row.items()})
    return buffer.getvalue()


def _cell_csv(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


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
