"""``crmlens customers …``: RFM, ABC/XYZ, cohorts, clusters, seasonality, churn, factors.

The CLV command (``customers clv``) is added to :data:`customers_app` by its own module.
"""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import analysis_command, option

customers_app = typer.Typer(
    help="Buyer analytics: who carries the business, who grows, buys in seasons, "
    "goes quiet, and why revenue moved.\n\n"
    "Examples:\n\n"
    "  crmlens customers rfm\n\n"
    "  crmlens customers abc --level product --by margin\n\n"
    "  crmlens customers churn --lang ru",
    no_args_is_help=True,
)

RegionOpt = Annotated[
    str | None, typer.Option("--region", help="Only clients of this region.")
]
ManagerOpt = Annotated[
    str | None, typer.Option("--manager", help="Only orders of this manager_id.")
]
#: The filters of the order-based commands (before --format and --lang).
FILTERS = (option("region", RegionOpt), option("manager", ManagerOpt))


def register(app: typer.Typer) -> None:
    """Add the ``customers`` command group to `app`."""
    app.add_typer(customers_app, name="customers", help=customers_app.info.help)


@customers_app.command("rfm")
@analysis_command("customers_rfm", filters=FILTERS)
def rfm_command(
    window: Annotated[
        str, typer.Option("--window", help="Days of orders scored, e.g. 365d.")
    ] = "365d",
    compare: Annotated[
        tuple[str, str] | None,
        typer.Option("--compare", help="Two dates D1 D2: segment transition matrix."),
    ] = None,
) -> None:
    """RFM per client: days_since_last_order, frequency, monetary, 1-5 scores, segment.

    Examples: crmlens customers rfm --window 180d ·
    crmlens customers rfm --compare 2025-06-30 2025-12-14 --format json
    """


def _abc_xyz_options(
    by: Annotated[str, typer.Option("--by", help="revenue or margin.")] = "revenue",
    level: Annotated[
        str, typer.Option("--level", help="client or product.")
    ] = "client",
    thresholds: Annotated[
        str, typer.Option("--thresholds", help="ABC cumulative shares A,B.")
    ] = "0.8,0.95",
    cv: Annotated[str, typer.Option("--cv", help="XYZ limits X,Y.")] = "0.10,0.25",
    matrix: Annotated[
        bool, typer.Option("--matrix", help="The ABC x XYZ matrix instead.")
    ] = False,
) -> None:
    """The options of ``customers abc`` and ``customers xyz`` (one analysis each)."""


customers_app.command(
    "abc",
    help="ABC: A = clients (or products) giving the first 80 % of revenue, B up to 95 %, "
    "C the rest. Also shows XYZ.\n\nExamples: crmlens customers abc · "
    "crmlens customers abc --level product --by margin --matrix",
)(analysis_command("customers_abc", filters=FILTERS)(_abc_xyz_options))
customers_app.command(
    "xyz",
    help="XYZ: stability of monthly revenue over 12 months (X cv <= 0.10, Y <= 0.25, "
    "Z above).\n\nExamples: crmlens customers xyz --cv 0.15,0.3 · "
    "crmlens customers xyz --matrix --format json",
)(analysis_command("customers_xyz", filters=FILTERS)(_abc_xyz_options))


@customers_app.command("cohorts")
@analysis_command("customers_cohorts", filters=FILTERS)
def cohorts_command(
    period: Annotated[
        str, typer.Option("--period", help="month or quarter.")
    ] = "month",
    metric: Annotated[
        str, typer.Option("--metric", help="clients (retention) or revenue.")
    ] = "clients",
) -> None:
    """First-order cohorts by period since the first order (long format, a heatmap).

    Examples: crmlens customers cohorts --period quarter --metric revenue
    """


@customers_app.command("clusters")
@analysis_command("customers_clusters")
def clusters_command(
    k: Annotated[str, typer.Option("--k", help="Number of clusters or auto.")] = "auto",
) -> None:
    """Client clusters on RFM, product mix, industry and size, described in words.

    Examples: crmlens customers clusters · crmlens customers clusters --k 4
    """


@customers_app.command("seasonality")
@analysis_command("customers_seasonality", filters=FILTERS)
def seasonality_command() -> None:
    """Clients with 2+ years of history that buy much more in one month every year.

    Examples: crmlens customers seasonality --lang ru
    """


@customers_app.command("churn")
@analysis_command("customers_churn", filters=FILTERS)
def churn_command() -> None:
    """Usual gap between orders per client and status active|at_risk|silent|lost.

    Examples: crmlens customers churn · crmlens customers churn --manager M03 -f json
    """


@customers_app.command("factors")
@analysis_command("customers_factors")
def factors_command(
    period: Annotated[
        str, typer.Option("--period", help="month, quarter or year.")
    ] = "month",
    by: Annotated[
        str | None, typer.Option("--by", help="region, manager or source.")
    ] = None,
) -> None:
    """Revenue = leads x conversion x average check x orders per client, split by LMDI.

    Examples: crmlens customers factors --period quarter · ... --by region
    """
