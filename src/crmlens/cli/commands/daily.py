"""``crmlens daily activity|leads|overdue``: the day in the CRM (the daily report's rows)."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import analysis_command

daily_app = typer.Typer(
    help="The day in the CRM: each manager's activity, new leads and their first "
    "answers, overdue tasks. The day is --as-of (default: the data's last day).\n\n"
    "Example: crmlens daily leads --as-of 2025-12-12 --sla 1h",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``daily`` sub-app to `app`."""
    app.add_typer(daily_app, name="daily")


@daily_app.command(
    "activity",
    help="Calls, meetings, visits, e-mails and tasks done by each manager on the day; "
    "managers with no client contact on a working day are named.\n\n"
    "Example: crmlens daily activity --as-of 2025-12-12",
)
@analysis_command("daily_activity")
def activity_command() -> None:
    """Print the day's activity per manager."""


@daily_app.command(
    "leads",
    help="Leads created on the day with their first answer: in time, late or still "
    "waiting.\n\nExample: crmlens daily leads --sla 30m --format json",
)
@analysis_command("daily_leads")
def leads_command(
    sla: Annotated[
        str, typer.Option("--sla", help="Answer within: 1h, 30m, 2.5h, 1d.")
    ] = "1h",
) -> None:
    """Print the day's leads and their first answers."""


@daily_app.command(
    "overdue",
    help="Tasks due by the end of the day and not done, most overdue first.\n\n"
    "Example: crmlens daily overdue --format csv > overdue.csv",
)
@analysis_command("daily_overdue")
def overdue_command() -> None:
    """Print the overdue tasks."""
