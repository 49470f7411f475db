"""Run a registered analysis and print it: the body of every analysis command.

:func:`analysis_command` makes an analysis command of a function that declares only
the command's own options; the options every analysis command has (``--warehouse``,
``--as-of``, ``--format``, ``--lang``) and a group's filters are added around them, in
one place, with one help text each.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmlens.cli.options import AsOfOpt, FormatOpt, LangOpt, WarehouseOpt
from crmlens.cli.render import Format, emit, records

if TYPE_CHECKING:
    from crmlens.insights.registry import AnalysisResult

#: Prints a result instead of :func:`crmlens.cli.render.emit`:
#: ``show(result, ranked_findings, fmt, lang)``.
Show = Callable[["AnalysisResult", list[dict[str, Any]], Format, str], None]


@dataclass(frozen=True)
class Run:
    """What an analysis command runs, when its options are not the parameters as such.

    Attributes
    ----------
    params
        The analysis parameters (``as_of`` and the filters are added to them).
    analysis
        The analysis to run; None: the one the command was made for.
    title
        Title of the printed table; None: the analysis name.
    show
        Prints the result instead of the standard rows and findings.
    """

    params: Mapping[str, Any] = field(default_factory=dict)
    analysis: str | None = None
    title: str | None = None
    show: Show | None = None


def option(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """A command option as a parameter: `annotation` is an ``Annotated[..., Option]``."""
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


WAREHOUSE = option("warehouse", WarehouseOpt)
AS_OF = option("as_of", AsOfOpt)
FORMAT = option("fmt", FormatOpt, Format.table)
LANG = option("lang", LangOpt, "en")


def analysis_command(
    analysis: str, *, filters: Sequence[inspect.Parameter] = ()
) -> Callable[[Callable[..., Run | None]], Callable[..., None]]:
    """Decorator: the command that runs `analysis` with the options of the function.

    The decorated function declares only the command's own options (and may declare
    ``as_of`` to place ``--as-of`` among them). The command takes ``--warehouse``,
    ``--as-of``, the function's options, `filters`, ``--format`` and ``--lang``, in
    this order, and keeps the function's name and docstring (its help). It calls the
    function with its own options: when it returns None, these options are the
    parameters of `analysis`; else the :class:`Run` it returns says what to run. The
    analysis gets ``as_of``, then those parameters, then the filters.
    """

    def decorate(own: Callable[..., Run | None]) -> Callable[..., None]:
        mine = list(inspect.signature(own, eval_str=True).parameters.values())
        names = [p.name for p in mine]
        lead = [WAREHOUSE] if "as_of" in names else [WAREHOUSE, AS_OF]
        declared = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
            for p in (*lead, *mine, *filters, FORMAT, LANG)
        ]

        @functools.wraps(own)
        def command(**options: Any) -> None:
            given = {n: options[n] for n in names}
            run = own(**given) or Run({n: v for n, v in given.items() if n != "as_of"})
            params = {"as_of": options["as_of"], **run.params}
            params.update((p.name, options[p.name]) for p in filters)
            _run_and_emit(
                run.analysis or analysis,
                params,
                warehouse=options["warehouse"],
                fmt=options["fmt"],
                lang=options["lang"],
                title=run.title,
                show=run.show,
            )

        signature = inspect.Signature(declared, return_annotation=None)
        command.__signature__ = signature  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in declared}
        return command

    return decorate


def run_and_emit(
    name: str,
    *,
    warehouse: str | None,
    fmt: Format,
    lang: str = "en",
    title: str | None = None,
    **params: Any,
) -> None:
    """Open the warehouse, run analysis `name` with `params`, print rows and findings."""
    _run_and_emit(name, params, warehouse=warehouse, fmt=fmt, lang=lang, title=title)


def _run_and_emit(
    name: str,
    params: Mapping[str, Any],
    *,
    warehouse: str | None,
    fmt: Format,
    lang: str,
    title: str | None = None,
    show: Show | None = None,
) -> None:
    import crmlens
    from crmlens.insights.findings import rank
    from crmlens.insights.i18n import check_lang
    from crmlens.insights.registry import run

    check_lang(lang)
    wh = crmlens.open(warehouse, create=False)
    result = run(name, wh, **params)
    findings = [f.to_dict() for f in rank(result.findings)]
    if show is not None:
        show(result, findings, fmt, lang)
        return
    emit(
        fmt,
        result.analysis,
        result.params,
        records(result.rows),
        findings,
        title=title or name,
        lang=lang,
    )
