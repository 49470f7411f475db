"""``crmlens managers kpis|compare|checklist|losses|response|activity|credit``."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import analysis_command, option

managers_app = typer.Typer(
    help="Seller analytics: KPIs, fair comparison, call quality, losses, speed to lead, "
    "activity and team credit.\n\nExample: crmlens managers compare --format json",
    no_args_is_help=True,
)

TeamOpt = Annotated[
    str | None, typer.Option("--team", help="Only managers of this team.")
]
RegionOpt = Annotated[
    str | None, typer.Option("--region", help="Only managers of this region.")
]
FromOpt = Annotated[
    str | None, typer.Option("--from", help="Count deals closed from this date on.")
]
MinOpt = Annotated[
    int, typer.Option("--min-deals", help="Smallest sample for a finding.")
]
#: Every managers command ends with these (before --format and --lang).
FILTERS = (option("team", TeamOpt), option("region", RegionOpt))


def register(app: typer.Typer) -> None:
    """Add the ``managers`` sub-app to `app`."""
    app.add_typer(managers_app, name="managers")


@managers_app.command("kpis")
@analysis_command("managers_kpis", filters=FILTERS)
def kpis_command(
    period: Annotated[
        str, typer.Option(help="month, quarter, year or all.")
    ] = "quarter",
    by: Annotated[str, typer.Option(help="manager, team or region.")] = "manager",
    min_deals: Annotated[
        int,
        typer.Option(
            "--min-deals",
            help="Smallest sample for a trend finding: closed deals in each period "
            "(win rate), won deals in both (revenue).",
        ),
    ] = 20,
    min_activities: Annotated[
        int,
        typer.Option(
            "--min-activities",
            help="Smallest sample for an activity trend finding (both periods).",
        ),
    ] = 100,
) -> None:
    """KPIs per manager for the period to date, with the trend vs the previous period.

    Findings name a manager whose win rate, revenue or client activities fell or rose
    markedly against the same days of the previous period.

    Examples: crmlens managers kpis --period month; crmlens managers kpis --by team -f csv
    """


@managers_app.command("compare")
@analysis_command("managers_compare", filters=FILTERS)
def compare_command(
    date_from: FromOpt = None,
    segment_by: Annotated[
        str,
        typer.Option(
            "--segment-by",
            help="Segment dimensions, comma-separated: client_type, source, channel, "
            "pipeline_id, industry, size_segment, region.",
        ),
    ] = "client_type,source",
    min_deals: MinOpt = 30,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap.")] = 42,
    n_boot: Annotated[int, typer.Option("--boot", help="Bootstrap replicates.")] = 2000,
) -> None:
    """Fair comparison: raw vs mix-adjusted win rate, with a bootstrap interval.

    Examples: crmlens managers compare; crmlens managers compare --segment-by
    client_type,pipeline_id --format json
    """


@managers_app.command("checklist")
@analysis_command("managers_checklist", filters=FILTERS)
def checklist_command(
    by: Annotated[str, typer.Option(help="item or manager.")] = "item",
    min_deals: MinOpt = 30,
) -> None:
    """Call-quality checklist items against deal outcomes: share passed, lift, n.

    Examples: crmlens managers checklist; crmlens managers checklist --by manager
    """


@managers_app.command("losses")
@analysis_command("managers_losses", filters=FILTERS)
def losses_command(
    date_from: FromOpt = None,
    by: Annotated[str, typer.Option(help="manager, stage or source.")] = "manager",
    min_deals: MinOpt = 30,
) -> None:
    """Lost reasons by manager, stage or source: count, share and money.

    Examples: crmlens managers losses --by stage; crmlens managers losses -f json
    """


@managers_app.command("response")
@analysis_command("managers_response", filters=FILTERS)
def response_command(
    date_from: FromOpt = None,
    sla: Annotated[str, typer.Option(help="Answer standard: 1h, 30m, 1d.")] = "1h",
    by: Annotated[
        str,
        typer.Option(
            help="manager, bucket (conversion by response time) or workload "
            "(response by the owner's open deals and waiting leads at arrival)."
        ),
    ] = "manager",
    business_hours: Annotated[
        bool,
        typer.Option(
            "--business-hours",
            help="Count response times and the SLA in working hours only "
            "(default Mon-Fri 9-18; see --work-hours, --work-days).",
        ),
    ] = False,
    work_hours: Annotated[
        str | None,
        typer.Option(
            "--work-hours",
            help="Working hours, e.g. 9-18 or 8:30-17:30 (implies --business-hours).",
        ),
    ] = None,
    work_days: Annotated[
        str | None,
        typer.Option(
            "--work-days",
            help="Working days, e.g. mon-fri, mon-sat or mon,wed,fri "
            "(implies --business-hours).",
        ),
    ] = None,
) -> None:
    """Speed to lead: median and p90 first response, share over SLA, conversion.

    Examples: crmlens managers response --sla 30m; crmlens managers response --by bucket;
    crmlens managers response --by workload; crmlens managers response --business-hours;
    crmlens managers response --sla 2h --work-hours 8-20 --work-days mon-sat
    """


@managers_app.command("activity")
@analysis_command("managers_activity", filters=FILTERS)
def activity_command(
    by: Annotated[str, typer.Option(help="manager or mix.")] = "manager",
    min_deals: MinOpt = 30,
) -> None:
    """Calls, meetings, visits per won deal, and which activity mix wins (with n).

    Examples: crmlens managers activity; crmlens managers activity --by mix -f json
    """


@managers_app.command("credit")
@analysis_command("managers_credit", filters=FILTERS)
def credit_command(
    date_from: FromOpt = None,
    scheme: Annotated[
        str, typer.Option(help="owner, equal, activity (minutes) or stage.")
    ] = "equal",
    compare: Annotated[
        bool, typer.Option("--compare", help="All schemes side by side per person.")
    ] = False,
    pool: Annotated[
        float | None, typer.Option("--pool", help="Bonus pool split by credit (RUB).")
    ] = None,
    rate: Annotated[
        float | None, typer.Option("--rate", help="Bonus rate of credited revenue.")
    ] = None,
) -> None:
    """Team credit: who took part in won deals and what each scheme credits them.

    Examples: crmlens managers credit --compare --format json;
    crmlens managers credit --scheme activity --pool 1000000
    """
