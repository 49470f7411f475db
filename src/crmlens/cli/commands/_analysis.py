"""Run a registered analysis and print it: the body of every analysis command."""

from __future__ import annotations

from typing import Any

from crmlens.cli.render import Format, emit, records


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
    import crmlens
    from crmlens.insights.findings import rank
    from crmlens.insights.registry import run

    if lang not in ("ru", "en"):
        from crmlens.errors import InputError

        raise InputError(f"unknown language {lang!r}", reason="use ru or en")
    wh = crmlens.open(warehouse)
    result = run(name, wh, **params)
    findings = [f.to_dict() for f in rank(result.findings)]
    emit(
        fmt,
        result.analysis,
        result.params,
        records(result.rows),
        findings,
        title=title or name,
        lang=lang,
    )
