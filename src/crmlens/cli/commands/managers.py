"""``crmlens managers kpis|compare|checklist|losses|response|activity|credit``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from crmlens.cli.options import AsOfOpt, FormatOpt, LangOpt, WarehouseOpt
from crmlens.cli.render import Format

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


def register(app: typer.Typer) -> None:
    """Add the ``managers`` sub-app to `app`."""
    app.add_typer(managers_app, name="managers")


def _run(
    name: str, warehouse: str | None, fmt: Format, lang: str, **params: Any
) -> None:
    from crmlens.cli.commands._analysis import run_and_emit

    run_and_emit(name, warehouse=warehouse, fmt=fmt, lang=lang, **params)


@managers_app.command("kpis")
def kpis_command(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
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
    team: TeamOpt = None,
    region: RegionOpt = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """KPIs per manager for the period to date, with the trend vs the previous period.

    Findings name a manager whose win rate, revenue or client activities fell or rose
    markedly against the same days of the previous period.

    Examples: crmlens managers kpis --period month; crmlens managers kpis --by team -f csv
    """
    _run(
        "managers_kpis",
        warehouse,
        fmt,
        lang,
        as_of=as_of,
        period=period,
        by=by,
        min_deals=min_deals,
        min_activities=min_activities,
        team=team,
        region=region,
    )


@managers_app.command("compare")
def compare_command(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
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
    team: TeamOpt = None,
    region: RegionOpt = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Fair comparison: raw vs mix-adjusted win rate, with a bootstrap interval.

    Examples: crmlens managers compare; crmlens managers compare --segment-by
    client_type,pipeline_id --format json
    """
    _run(
        "managers_compare",
        warehouse,
        fmt,
        lang,
        as_of=as_of,
        date_from=date_from,
        segment_by=segment_by,
        min_deals=min_deals,
        seed=seed,
        n_boot=n_boot,
        team=team,
        region=region,
    )


@managers_app.command("checklist")
def checklist_command(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
    by: Annotated[str, typer.Option(help="item or manager.")] = "item",
    min_deals: MinOpt = 30,
    team: TeamOpt = None,
    region: RegionOpt = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Call-quality checklist items against deal outcomes: share passed, lift, n.

    Examples: crmlens managers checklist; crmlens managers checklist --by manager
    """
    _run(
        "managers_checklist",
        warehouse,
        fmt,
        lang,
        as_of=as_of,
        by=by,
        min_deals=min_deals,
        team=team,
        region=region,
    )


@managers_app.command("losses")
def losses_command(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
    date_from: FromOpt = None,
    by: Annotated[str, typer.Option(help="manager, stage or source.")] = "manager",
    min_deals: MinOpt = 30,
    team: TeamOpt = None,
    region: RegionOpt = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Lost reasons by manager, stage or source: count, share and money.

    Examples: crmlens managers losses --by stage; crmlens managers losses -f json
    """
    _run(
        "managers_losses",
        warehouse,
        fmt,
        lang,
        as_of=as_of,
        date_from=date_from,
        by=by,
        min_deals=min_deals,
        team=team,
        region=region,
    )


@managers_app.command("response")
def response_command(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
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
    team: TeamOpt = None,
    region: RegionOpt = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Speed to lead: median and p90 first response, share over SLA, conversion.

    Examples: crmlens managers response --sla 30m; crmlens managers response --by bucket;
    crmlens managers response --by workload; crmlens managers response --business-hours;
    crmlens managers response --sla 2h --work-hours 8-20 --work-days mon-sat
    """
    _run(
        "managers_response",
        warehouse,
        fmt,
        lang,
        as_of=as_of,
        date_from=date_from,
        sla=sla,
        by=by,
        business_hours=business_hours,
        work_hours=work_hours,
        work_days=work_days,
        team=team,
        region=region,
    )


@managers_app.command("activity")
def activity_command(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
    by: Annotated[str, typer.Option(help="manager or mix.")] = "manager",
    min_deals: MinOpt = 30,
    team: TeamOpt = None,
    region: RegionOpt = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Calls, meetings, visits per won deal, and which activity mix wins (with n).

    Examples: crmlens managers activity; crmlens managers activity --by mix -f json
    """
    _run(
        "managers_activity",
        warehouse,
        fmt,
        lang,
        as_of=as_of,
        by=by,
        min_deals=min_deals,
        team=team,
        region=region,
    )


@managers_app.command("credit")
def credit_command(
    warehouse: WarehouseOpt = None,
    as_of: AsOfOpt = None,
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
    team: TeamOpt = None,
    region: RegionOpt = None,
    fmt: FormatOpt = Format.table,
    lang: LangOpt = "en",
) -> None:
    """Team credit: who took part in won deals and what each scheme credits them.

    Examples: crmlens managers credit --compare --format json;
    crmlens managers credit --scheme activity --pool 1000000
    """
    _run(
        "managers_credit",
        warehouse,
        fmt,
        lang,
        as_of=as_of,
        date_from=date_from,
        scheme=scheme,
        compare=compare,
        pool=pool,
        rate=rate,
        team=team,
        region=region,
    )
