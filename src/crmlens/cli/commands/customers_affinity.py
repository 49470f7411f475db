"""``crmlens customers affinity``: products bought together, recommendations, backtest."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmlens.cli.commands._analysis import Run, analysis_command
from crmlens.cli.render import Format

if TYPE_CHECKING:
    from crmlens.insights.registry import AnalysisResult

HELP = """Product affinity: what clients like this one buy that this one does not yet.

For every pair of products (or categories, --level category) bought by the same
clients: support (share of clients with both), confidence (share of the buyers of
the first who also bought the second) and lift (confidence / the second's share).
--show recommendations lists the top --k products per client that clients with
similar baskets bought and this one did not (sum of confidences).

The backtest is always printed: recommendations made from the orders before
as-of − --test-days against what each client bought for the first time after,
hit rate and recall at k, next to the most-popular-products baseline.

Examples:

  crmlens customers affinity

  crmlens customers affinity --level category --format json

  crmlens customers affinity --show recommendations --account A000123 --k 3

  crmlens customers affinity --show backtest --test-days 60
"""


def register(app: typer.Typer) -> None:
    """Add ``affinity`` to the ``customers`` group of `app`."""
    from crmlens.cli.commands.customers import customers_app

    customers_app.command("affinity", help=HELP)(affinity_command)


@analysis_command("customers_affinity")
def affinity_command(
    level: Annotated[
        str, typer.Option("--level", help="product or category.")
    ] = "product",
    show: Annotated[
        str, typer.Option("--show", help="rules, recommendations or backtest.")
    ] = "rules",
    k: Annotated[int, typer.Option("--k", help="Recommendations per client.")] = 5,
    test_days: Annotated[
        int, typer.Option("--test-days", help="Backtest: days after the cut.")
    ] = 90,
    min_pair: Annotated[
        int,
        typer.Option("--min-pair", help="Rules: pairs bought by at least N clients."),
    ] = 20,
    account: Annotated[
        str | None, typer.Option("--account", help="Recommendations of one client.")
    ] = None,
) -> Run:
    """Print rules (or recommendations, or the backtest) with the backtest and findings."""
    params = {"level": level, "show": show, "k": k, "test_days": test_days,
              "min_pair_clients": min_pair, "account": account}  # fmt: skip
    return Run(params, show=partial(_print, level=level, show=show))


def _print(
    result: AnalysisResult,
    findings: list[dict[str, Any]],
    fmt: Format,
    lang: str,
    *,
    level: str,
    show: str,
) -> None:
    """The rules (or recommendations) and the backtest; JSON/CSV with the backtest."""
    from crmlens.cli.render import emit, print_findings, print_table, records

    params: dict[str, Any] = dict(result.params)
    backtest = params.pop("backtest")
    if fmt == Format.table and show != "backtest":
        print_table(_compact(records(result.rows)), title=f"customers affinity ({level})",
                    limit=30)  # fmt: skip
        title = "backtest: recommendations vs popularity" if lang == "en" else \
            "проверка на истории: рекомендации против популярных товаров"  # fmt: skip
        print_table(backtest, title=title)
        print_findings(findings, lang=lang)
        return
    emit(fmt, result.analysis, params, records(result.rows), findings,
         title=f"customers affinity ({show})", lang=lang, backtest=backtest)  # fmt: skip


_NAMED = {"antecedent": "antecedent_name", "consequent": "consequent_name",
          "item": "item_name"}  # fmt: skip
_SHOWN = ("account_id", "rank", "antecedent", "consequent", "item", "pair_clients",
          "support", "confidence", "lift", "score", "because")  # fmt: skip


def _compact(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The columns a terminal has room for: names instead of ids where known."""
    out = []
    for r in rows:
        row = {}
        for c in _SHOWN:
            if c in r:
                row[c] = r.get(_NAMED.get(c, c), r[c]) if _NAMED.get(c) in r else r[c]
        out.append(row)
    return out
