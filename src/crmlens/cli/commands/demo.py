"""``crmlens demo``: generate the demo CRM, import it (messy file included), show an overview."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from crmlens.cli.render import Format, emit, records, stdout

DEMO_HELP = """Build a deterministic synthetic Russian B2B CRM and explore it.

Writes the 13 canonical tables as CSV (plus a messy cp1251 export with planted bad rows and
a truth.json of the planted patterns) to --out, imports them into --warehouse, shows what
the messy file's quarantine caught and an overview with the top findings.

Examples:

  crmlens demo                                 ./crmlens-demo.duckdb from seed 42
  crmlens demo --seed 7 --out /tmp/demo        another company
  crmlens demo --scale 200 --no-import         1M deals of CSV for benchmarks
"""


def register(app: typer.Typer) -> None:
    """Add the commands of this module to `app`."""
    app.command("demo", help=DEMO_HELP)(demo_command)


def demo_command(
    seed: Annotated[
        int, typer.Option("--seed", help="Random seed (same seed, same data).")
    ] = 42,
    scale: Annotated[
        float, typer.Option("--scale", help="Size: 1 ≈ 5,000 deals; 200 ≈ 1M deals.")
    ] = 1.0,
    out: Annotated[
        Path, typer.Option("--out", help="Directory for the generated files.")
    ] = Path("crmlens-demo"),
    warehouse: Annotated[
        str, typer.Option("--warehouse", "-w", help="Warehouse to import into.")
    ] = "crmlens-demo.duckdb",
    without: Annotated[
        list[str] | None,
        typer.Option(
            "--without",
            help="Do not plant this pattern (repeatable), e.g. --without stage_drop.",
        ),
    ] = None,
    no_import: Annotated[
        bool, typer.Option("--no-import", help="Only write the files.")
    ] = False,
    fmt: Annotated[
        Format, typer.Option("--format", "-f", help="Output: table or json.")
    ] = Format.table,
) -> None:
    """Generate, import and summarise the demo CRM."""
    from crmlens.demo import PATTERNS, generate

    patterns: Any = "all"
    if without:
        unknown = sorted(set(without) - set(PATTERNS))
        if unknown:
            raise typer.BadParameter(
                f"unknown pattern(s) {', '.join(unknown)}; known: {', '.join(PATTERNS)}"
            )
        patterns = frozenset(PATTERNS) - set(without)
    if fmt == Format.table:
        stdout.print(
            f"Generating the demo CRM (seed {seed}, scale {scale:g}) in {out}/ …"
        )
    generate(out, seed=seed, scale=scale, patterns=patterns)
    if no_import:
        emit(
            fmt,
            "demo",
            {"seed": seed, "scale": scale, "out": str(out)},
            [],
            title="demo",
        )
        return
    _import_and_show(
        out, warehouse, fmt, {"seed": seed, "scale": scale, "out": str(out)}
    )


def _import_and_show(
    out: Path, warehouse: str, fmt: Format, params: dict[str, Any]
) -> None:
    import crmlens
    from crmlens.cli.progress import progress_bar
    from crmlens.insights.registry import tables_rows, top_findings

    target = Path(warehouse)
    for stale in (target, target.with_suffix(target.suffix + ".wal")):
        stale.unlink(missing_ok=True)
    wh = crmlens.open(warehouse)
    with progress_bar("import") as update:
        clean = wh.import_files([out], progress=update)
        messy = wh.import_files([out / "messy" / "deals_export.csv"], table="deals")
    overview = records(tables_rows(wh))
    findings = [f.to_dict() for f in top_findings(wh)]
    if fmt != Format.table:
        emit(
            fmt,
            "demo",
            {**params, "warehouse": warehouse},
            overview,
            findings,
            imports=[clean.to_dict(), messy.to_dict()],
        )
        return
    stdout.print(f"Imported {clean.loaded:,} rows into {warehouse}.")
    _show_messy(messy.to_dict())
    emit(fmt, "demo", params, overview, findings, title="Overview: tables, rows, dates")
    if not findings:
        stdout.print("No findings yet: analyses add them as they are installed.")
    stdout.print(f"\nNext: crmlens quarantine -w {warehouse}   ·   crmlens --help")


def _show_messy(report: dict[str, Any]) -> None:
    t = report["tables"][0]
    stdout.print(
        f"\nMessy export {t['file']}: {t['rows_read']} rows read, {t['loaded']} loaded, "
        f"{t['duplicates']} exact duplicates counted once, {t['quarantined']} quarantined:"
    )
    for e in report["errors"]:
        column = f", column {e['column']}" if e.get("column") else ""
        value = f'"{e["value"]}" ' if e.get("value") is not None else ""
        stdout.print(f"  row {e['row']}{column}: {value}{e['reason']}")
