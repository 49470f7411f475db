"""``crmlens leads signals|sources|score|rules``: lead analytics and scoring."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.commands._analysis import Run, analysis_command

leads_app = typer.Typer(
    help="Lead analytics: which attributes matter, what each source brings, A/B/C "
    "scores.",
    no_args_is_help=True,
)

ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude", help="Lead column to leave out (repeatable)."),
]
ShareAOpt = Annotated[float, typer.Option("--share-a", help="Share of leads graded A.")]
ShareBOpt = Annotated[float, typer.Option("--share-b", help="Share of leads graded B.")]


def register(app: typer.Typer) -> None:
    """Add the ``leads`` sub-app to `app`."""
    app.add_typer(leads_app, name="leads")


@leads_app.command(
    "signals",
    help="Conversion by value of every lead attribute: lift, information value, n, "
    "95 % interval; explicit vs implicit.\n\nExample: crmlens leads signals -w crm.duckdb",
)
@analysis_command("leads_signals")
def signals_command(
    min_leads: Annotated[
        int, typer.Option(help="Pool rarer values into (other).")
    ] = 20,
    exclude: ExcludeOpt = None,
) -> Run:
    """Print lead signals."""
    return Run({"min_leads": min_leads, "exclude": tuple(exclude or ())})


@leads_app.command(
    "sources",
    help="Lead-generation economics: leads, qualified, deals, won, step conversions, "
    "days to first deal, revenue, cost, CPL, CAC, ROMI.\n\n"
    "Example: crmlens leads sources --by channel",
)
@analysis_command("leads_sources")
def sources_command(
    by: Annotated[
        str, typer.Option(help="channel, source, campaign or month.")
    ] = "source",
) -> None:
    """Print source economics."""
    if by not in ("channel", "source", "campaign", "month"):
        raise typer.BadParameter(
            "use channel, source, campaign or month", param_hint="--by"
        )


@leads_app.command(
    "score",
    help="Score leads: calibrated probability, A/B/C grade by expected value and the top "
    "three reasons — by the predictive model, or with --rules by a rule file (points "
    "per value, grades by its thresholds; write one with crmlens leads rules --init)."
    "\n\nExamples:\n\n  crmlens leads score --backtest\n\n"
    "  crmlens leads score --save model.joblib --export scores.xlsx\n\n"
    "  crmlens leads score --model model.joblib --scope all -f csv\n\n"
    "  crmlens leads score --rules lead_rules.yaml --export scores.csv\n\n"
    "  crmlens leads score --backtest --rules lead_rules.yaml",
)
@analysis_command("leads_score")
def score_command(
    backtest: Annotated[
        bool,
        typer.Option(
            "--backtest", help="Compare model, rules and baselines on later leads."
        ),
    ] = False,
    cutoff: Annotated[
        str | None,
        typer.Option(help="Backtest cut-off date (default: the last 20 % of leads)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Reuse a saved model.")
    ] = None,
    save: Annotated[
        str | None, typer.Option(help="Save the trained model here.")
    ] = None,
    rules: Annotated[
        str | None,
        typer.Option(
            "--rules",
            help="Grade by this YAML rule file (with --backtest: add its row).",
        ),
    ] = None,
    export: Annotated[
        str | None,
        typer.Option(
            help="Write lead_id, grade, probability, expected_value, reasons to .csv/.xlsx."
        ),
    ] = None,
    scope: Annotated[
        str, typer.Option(help="open (not yet decided) or all leads.")
    ] = "open",
    first_response: Annotated[
        bool,
        typer.Option(
            "--first-response", help="Also use the speed of the first answer."
        ),
    ] = False,
    share_a: ShareAOpt = 0.2,
    share_b: ShareBOpt = 0.3,
    seed: int = 0,
    exclude: ExcludeOpt = None,
) -> Run:
    """Score or backtest."""
    return Run(
        {
            "backtest_only": backtest,
            "cutoff": cutoff,
            "model_path": model,
            "save": save,
            "rules": rules,
            "export": export,
            "scope": scope,
            "shares": (share_a, share_b),
            "seed": seed,
            "moment": "first_response" if first_response else "arrival",
            "exclude": tuple(exclude or ()),
        }
    )


@leads_app.command(
    "rules",
    help="The rule model: --init writes a starting YAML file of points per value "
    "derived from signals; --file shows one.\n\n"
    "Example: crmlens leads rules --init lead_rules.yaml",
)
@analysis_command("leads_rules")
def rules_command(
    init: Annotated[
        str | None, typer.Option(help="Write a starting rule file.")
    ] = None,
    file: Annotated[str | None, typer.Option(help="Show this rule file.")] = None,
    share_a: ShareAOpt = 0.2,
    share_b: ShareBOpt = 0.3,
    exclude: ExcludeOpt = None,
) -> Run:
    """Write or show a rule file."""
    shares, excluded = (share_a, share_b), tuple(exclude or ())
    return Run({"init": init, "file": file, "shares": shares, "exclude": excluded})
