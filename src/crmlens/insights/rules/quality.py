"""``quality``: the data-quality audit as an analysis (rows, scores, findings, exports)."""

from __future__ import annotations

import statistics
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding, Severity
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._quality_text import fix, label

if TYPE_CHECKING:
    import pyarrow as pa

    from crmlens.warehouse import Warehouse

BY = (None, "check", "manager", "requirement", "table")
MIN_RECORDS = 20  # a manager needs this many records in a check to be compared on it


def _tables(wh: Warehouse) -> tuple[dict[str, Any], set[str]]:
    from crmlens.analytics.quality import CANONICAL

    tables = {n: wh.table(n) for n in (*CANONICAL, "imports")}
    available = {n for n in tables if wh.has(n)}
    try:
        merges = wh.table("account_merges")
        if merges.count().to_pyarrow().as_py() > 0:
            tables["account_merges"] = merges
            available.add("account_merges")
    except Exception:
        pass
    if "orders" in available:
        o = tables["orders"]
        if o.deal_id.notnull().sum().to_pyarrow().as_py():
            available.add("orders.deal_id")
    return tables, available


@register(
    "quality", "Data quality audit: checks, 0-100 scores and what to fix, by whom"
)
def run(
    wh: Warehouse,
    *,
    as_of: Any = None,
    table: str | None = None,
    by: str | None = None,
    sla_hours: float = 4.0,
    export: str | None = None,
    out: str | None = None,
    **_: Any,
) -> AnalysisResult:
    """Run the catalogue of checks; rows per check (or scores per `by` group)."""
    import ibis

    from crmlens.analytics import quality as q
    from crmlens.analytics.quality_checks import Context

    if by not in BY:
        raise InputError(
            f"--by {by!r}", reason="use manager, requirement, table or check"
        )
    day = resolve_as_of(wh, as_of)
    tables, available = _tables(wh)
    checks = q.applicable(q.catalogue(), available, table=table)
    if not checks:
        raise InputError(
            f"--table {table!r} has no checks or no rows", reason="see crmlens tables"
        )
    # crmlens' own warehouses quarantine repeated keys at import; a CRM's database
    # read through PostgreSQL may hold them.
    ctx = Context(as_of=day, sla_hours=sla_hours, keys_unique=_keys_unique(wh))
    by_m = q.check_counts(tables, checks, ctx=ctx).to_pyarrow()
    summary = q.roll_up(ibis.memtable(by_m)).to_pyarrow()
    failing = {r["check"] for r in summary.to_pylist() if r["failed"]}
    failing_checks = [c for c in checks if c.name in failing]
    managers = _manager_names(wh)
    known = by_m.filter(_isin(by_m["manager_id"], list(managers)))
    score_of = {
        k: _scores(q.scores(ibis.memtable(src), col)) for k, src, col in (
            ("overall", summary, None), ("requirement", summary, "requirement"),
            ("table", summary, "table"), ("manager", known, "manager_id"))
    }  # fmt: skip
    params = {"as_of": day.isoformat(), "table": table, "by": by, "sla_hours": sla_hours,
              "scores": {k: v for k, v in score_of.items() if k != "manager"}}  # fmt: skip
    examples = (
        _examples(q.examples(tables, failing_checks, ctx=ctx).to_pyarrow())
        if failing_checks
        else {}
    )
    if export is not None:
        from crmlens.insights.rules._quality_export import write_export

        pop = q.populations(tables, failing_checks or checks, ctx=ctx)
        records = (
            q.failing_records(pop).filter(ibis._.manager_id.notnull()).to_pyarrow()
        )
        params["exported"] = write_export(records, managers, export, out)
    findings = _overall_findings(summary.to_pylist(), score_of, day.isoformat())
    findings += _manager_findings(known.to_pylist(), score_of["manager"], managers, day)  # type: ignore[arg-type]
    rows = _rows(by, summary, known, examples, score_of, managers)
    return AnalysisResult("quality", params, rows, findings)


def _by_score(item: tuple[str, float]) -> tuple[float, str]:
    """Lowest score first; ties by name, so the order never depends on the engine."""
    return item[1], item[0]


def _isin(col: pa.ChunkedArray, values: list[str]) -> pa.ChunkedArray:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.fill_null(pc.is_in(col, value_set=pa.array(values, pa.string())), False)


def _manager_names(wh: Warehouse) -> dict[str, str]:
    m = wh.table("managers").select("manager_id", "name").to_pyarrow().to_pylist()
    return {r["manager_id"]: r["name"] or r["manager_id"] for r in m}


def _scores(expr: Any) -> dict[str, float] | float:
    rows = expr.to_pyarrow().to_pylist()
    if rows and len(rows[0]) == 4:  # overall: score, checks, failed, total
        return round(rows[0]["score"], 1) if rows[0]["score"] is not None else 100.0
    return {str(next(iter(r.values()))): round(r["score"], 1) for r in rows}


def _examples(table: pa.Table) -> dict[str, str]:
    out: dict[str, list[str]] = defaultdict(list)
    for r in sorted(table.to_pylist(), key=lambda r: (r["check"], r["record_id"])):
        out[r["check"]].append(r["record_id"])
    return {k: ", ".join(v) for k, v in out.items()}


def _rows(by: str | None, summary: pa.Table, known: pa.Table, examples: dict[str, str],
          score_of: dict[str, Any], managers: dict[str, str]) -> pa.Table:  # fmt: skip
    import pyarrow as pa

    if by in (None, "check"):
        rows = [
            {**{k: r[k] for k in ("check", "requirement", "table", "column", "failed",
                                   "total")},
             "share": round(r["share"], 4), "severity": r["severity"],
             "example_ids": examples.get(r["check"], "")}
            for r in sorted(summary.to_pylist(), key=lambda r: r["check"])
        ]  # fmt: skip
        return pa.Table.from_pylist(rows)
    if by == "manager":
        worst = _worst_by_manager(known.to_pylist())
        rows = [
            {"manager_id": m, "manager_name": managers.get(m, m), "score": s,
             "worst_checks": ", ".join(worst.get(m, []))}
            for m, s in sorted(score_of["manager"].items(), key=_by_score)
        ]  # fmt: skip
        return pa.Table.from_pylist(rows)
    col = "requirement" if by == "requirement" else "table"
    items = sorted(score_of[col].items(), key=_by_score)
    return pa.Table.from_pylist([{col: k, "score": v} for k, v in items])


def _worst_by_manager(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    per: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for r in rows:
        if r["failed"]:
            per[r["manager_id"]].append((r["share"], r["check"]))
    return {m: [c for _, c in sorted(v, reverse=True)[:3]] for m, v in per.items()}


def _overall_findings(summary: list[dict[str, Any]], score_of: dict[str, Any],
                      period: str) -> list[Finding]:  # fmt: skip
    from crmlens.analytics.quality import SEVERITY_WEIGHT

    overall = score_of["overall"]
    weakest = min(score_of["requirement"].items(), key=_by_score)
    sev: Severity = "high" if overall < 70 else "medium" if overall < 85 else "low"
    out = [Finding(
        "quality", "score", sev, {"type": "warehouse", "id": None}, "quality_score",
        overall, 100.0, None, period,
        {"ru": f"Качество данных CRM — {overall:.0f} из 100; слабее всего требование "
               f"«{weakest[0]}» ({weakest[1]:.0f}).",
         "en": f"CRM data quality scores {overall:.0f} of 100; the weakest requirement is "
               f"{weakest[0]} ({weakest[1]:.0f})."},
        {"ru": "Начните с проблем ниже: они сильнее всего искажают отчёты.",
         "en": "Start with the problems below: they distort the reports most."},
        {"scores": score_of["requirement"]})]  # fmt: skip
    bad = [r for r in summary if r["failed"] >= 10 and r["share"] >= 0.02]
    bad.sort(key=lambda r: (-SEVERITY_WEIGHT[r["severity"]] * r["share"], r["check"]))
    for r in bad[:5]:
        out.append(_check_finding(r, period))
    return out


def _severity(value: str) -> Severity:
    return "high" if value == "high" else "medium" if value == "medium" else "low"


def _check_finding(r: dict[str, Any], period: str) -> Finding:
    from crmlens.insights.i18n import fmt_number, fmt_pct

    def told(lang: str) -> str:
        n, total = fmt_number(r["failed"], lang), fmt_number(r["total"], lang)
        of = "из" if lang == "ru" else "of"
        return (f"{label(r['check'], lang).capitalize()}: {n} {of} {total} "
                f"({fmt_pct(r['share'], lang)}).")  # fmt: skip

    return Finding(
        "quality", "check", _severity(r["severity"]), {"type": "check", "id": r["check"]}, "share",
        round(r["share"], 4), 0.0, None, period,
        {"ru": told("ru"), "en": told("en")},
        {"ru": fix(r["check"], "ru").capitalize() + ".",
         "en": fix(r["check"], "en").capitalize() + "."},
        {"requirement": r["requirement"], "table": r["table"], "failed": r["failed"]},
    )  # fmt: skip


def _manager_findings(rows: list[dict[str, Any]], scores: dict[str, float],
                      names: dict[str, str], day: Any) -> list[Finding]:  # fmt: skip
    if len(scores) < 3:
        return []
    median = statistics.median(scores.values())
    out = []
    for m, s in sorted(scores.items(), key=_by_score):
        problems = _own_problems(rows, m)
        if s >= median - 2.0 or not problems:
            continue
        out.append(_manager_finding(m, names.get(m, m), s, median, problems, day))
    return out


def _own_problems(rows: list[dict[str, Any]], m: str) -> list[dict[str, Any]]:
    """Checks where manager `m` fails at least twice as often as the others (+5 points)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        if r["manager_id"] != m:
            totals[r["check"]][0] += r["failed"]
            totals[r["check"]][1] += r["total"]
    out = []
    for r in rows:
        failed, total = totals[r["check"]]
        others = failed / total if total else 0.0
        if (
            r["manager_id"] == m
            and r["total"] >= MIN_RECORDS
            and r["failed"] >= 5
            and r["share"] >= 2 * others
            and r["share"] >= others + 0.05
        ):
            out.append({**r, "others_share": round(others, 4)})
    return sorted(out, key=lambda r: (r["others_share"] - r["share"], r["check"]))


def _manager_finding(m: str, name: str, score: float, median: float,
                     problems: list[dict[str, Any]], day: Any) -> Finding:  # fmt: skip
    def listing(lang: str) -> str:
        return "; ".join(
            f"{label(p['check'], lang)} {p['share']:.0%} "
            + (f"(у остальных {p['others_share']:.0%})" if lang == "ru"
               else f"(others {p['others_share']:.0%})")
            for p in problems
        )  # fmt: skip

    fixes = {
        lang: "; ".join(fix(p["check"], lang) for p in problems[:4])
        for lang in ("ru", "en")
    }
    return Finding(
        "quality", "manager", "high" if score < median - 5 else "medium",
        {"type": "manager", "id": m, "name": name}, "quality_score", score, median, None,
        day.isoformat(),
        {"ru": f"{name} ({m}): качество данных {score:.0f} из 100 (медиана {median:.0f}). "
               f"Проблемы: {listing('ru')}.",
         "en": f"{name} ({m}): data quality {score:.0f} of 100 (median {median:.0f}). "
               f"Problems: {listing('en')}."},
        {"ru": f"Попросить {name}: {fixes['ru']}. Список записей — crmlens quality "
               "--export xlsx.",
         "en": f"Ask {name} to {fixes['en']}. The records to fix: crmlens quality "
               "--export xlsx."},
        {"checks": [p["check"] for p in problems],
         "shares": {p["check"]: round(p["share"], 4) for p in problems},
         "others_shares": {p["check"]: p["others_share"] for p in problems}},
    )  # fmt: skip


def _keys_unique(wh: Warehouse) -> bool:
    """Whether the warehouse's import refuses repeated keys (DuckDB and Parquet ones do)."""
    base = getattr(wh, "base", wh)  # a scoped view reads its warehouse's tables
    while getattr(base, "base", None) is not None:
        base = base.base
    return getattr(base, "storage", None) is not None
