"""``crmlens campaigns``: campaign payback, and ``campaigns template`` for marketers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from crmlens.cli.options import AsOfOpt, FormatOpt, LangOpt, WarehouseOpt
from crmlens.cli.render import Format

HELP = """Campaign payback per campaign (or --by tag): leads (by campaign_id, or by
source and dates when it is missing), qualified, deals, won, revenue, margin, cost,
CPL, CAC, ROMI, plan vs fact, uplift over the clients' seasonal baseline.

Examples:

  crmlens campaigns

  crmlens campaigns --by tag --format json

  crmlens campaigns template --format xlsx --out campaigns.xlsx
"""


def register(app: typer.Typer) -> None:
    """Add the ``campaigns`` group to `app`."""
    group = typer.Typer(help=HELP, invoke_without_command=True)
    group.callback()(campaigns_command)
    group.command("template", help=TEMPLATE_HELP)(template_command)
    app.add_typer(group, name="campaigns")


def campaigns_command(
    ctx: typer.Context,
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
    by: Annotated[str, typer.Option("--by", help="campaign or tag.")] = "campaign",
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Print campaign payback with findings."""
    if ctx.invoked_subcommand is not None:
        return
    from crmlens.cli.commands._analysis import run_and_emit

    run_and_emit(
        "campaigns", warehouse=warehouse, fmt=fmt, lang=lang, as_of=as_of, by=by
    )


TEMPLATE_HELP = """Write an empty campaigns table with the canonical columns for
marketers to fill, then load it with `crmlens import FILE --table campaigns`.

Example: crmlens campaigns template --format xlsx --out campaigns.xlsx
"""


def template_command(
    fmt: Annotated[str, typer.Option("--format", "-f", help="xlsx or csv.")] = "xlsx",
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write.")
    ] = None,
) -> None:
    """Write the empty campaigns template."""
    from crmlens.cli.render import stdout
    from crmlens.errors import InputError
    from crmlens.insights.rules.campaigns_template import write_template

    if fmt not in ("xlsx", "csv"):
        raise InputError(f"unknown template format {fmt!r}", reason="use xlsx or csv")
    path = write_template(out or Path(f"campaigns-template.{fmt}"), fmt)
    stdout.print(f"Wrote {path}")
