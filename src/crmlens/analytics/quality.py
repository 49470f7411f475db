"""Data quality audit: a catalogue of checks, their failure shares and 0–100 scores.

Definitions (docs/metrics.md#data-quality)
-----------------------------------------
- A **check** looks at a population of records (e.g. "all deals") and marks those that fail
  it (e.g. "amount is empty"). ``share`` = failed / total.
- Each check serves one **requirement**: accessibility, accuracy, interconnectedness,
  completeness, consistency, relevance, reliability, timeliness, uniqueness, process.
- Each check has a **severity** with a weight (high 3, medium 2, low 1).
- **Score** of a group of checks (a requirement, a table, a manager, everything) =
  100 × (1 − Σ weight·share / Σ weight) over the checks of the group with total > 0.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ibis
import ibis.expr.types as ir
from ibis import _

from crmlens.analytics import normalise_names as nn
from crmlens.analytics import quality_checks as qc
from crmlens.analytics import quality_process as qp
from crmlens.analytics.quality_checks import Check, Context, Tables

CHECK_KEYS = ("check", "requirement", "table", "column", "severity")
SEVERITY_WEIGHT = {"high": 3, "medium": 2, "low": 1}
CANONICAL = (
    "managers", "accounts", "contacts", "leads", "pipelines", "deals", "deal_stages",
    "activities", "orders", "products", "campaigns", "targets", "call_reviews",
)  # fmt: skip


def _c(name: str, req: str, table: str, column: str, sev: str, build: qc.Builder,
       needs: Iterable[str] = ()) -> Check:  # fmt: skip
    return Check(name, req, table, column, sev, build, (table, *needs))


def _accuracy() -> list[Check]:
    f = qc.format_check
    return [
        _c("accounts.inn_checksum", "accuracy", "accounts", "inn", "high",
           f("accounts", "account_id", "owner_id", "inn", nn.inn_valid_expr)),
        _c("accounts.phone_format", "accuracy", "accounts", "phone", "medium",
           f("accounts", "account_id", "owner_id", "phone", nn.phone_valid_expr)),
        _c("contacts.phone_format", "accuracy", "contacts", "phone", "medium",
           f("contacts", "contact_id", None, "phone", nn.phone_valid_expr)),
        _c("accounts.email_format", "accuracy", "accounts", "email", "medium",
           f("accounts", "account_id", "owner_id", "email", nn.email_valid_expr)),
        _c("contacts.email_format", "accuracy", "contacts", "email", "medium",
           f("contacts", "contact_id", None, "email", nn.email_valid_expr)),
        _c("accounts.website_format", "accuracy", "accounts", "website", "low",
           f("accounts", "account_id", "owner_id", "website", nn.website_valid_expr)),
        _c("deals.amount_not_positive", "accuracy", "deals", "amount", "high",
           qc.amount_not_positive("deals", "deal_id", "owner_id")),
        _c("orders.amount_not_positive", "accuracy", "orders", "amount", "high",
           qc.amount_not_positive("orders", "order_id", "manager_id")),
        _c("deals.amount_outlier", "accuracy", "deals", "amount", "medium",
           qc.amount_outlier("deals", "deal_id", "owner_id")),
        _c("orders.amount_outlier", "accuracy", "orders", "amount", "low",
           qc.amount_outlier("orders", "order_id", "manager_id")),
        _c("deals.future_date", "accuracy", "deals", "created_at", "medium",
           qc.future_dates("deals", "deal_id", "owner_id", "created_at")),
        _c("leads.future_date", "accuracy", "leads", "created_at", "medium",
           qc.future_dates("leads", "lead_id", "owner_id", "created_at")),
        _c("activities.future_date", "accuracy", "activities", "created_at", "medium",
           qc.future_dates("activities", "activity_id", "manager_id", "created_at")),
        _c("orders.future_date", "accuracy", "orders", "order_date", "medium",
           qc.future_dates("orders", "order_id", "manager_id", "order_date")),
        _c("accounts.before_founded", "accuracy", "accounts", "created_at", "low",
           qc.before_founded),
        _c("deals.before_founded", "accuracy", "deals", "created_at", "low",
           qc.deals_before_founded, ["accounts"]),
    ]  # fmt: skip


def _links() -> list[Check]:
    d = qc.dangling
    return [
        _c("deals.account_missing", "interconnectedness", "deals", "account_id", "high",
           d("deals", "deal_id", "owner_id", "account_id", "accounts", "account_id")),
        _c("orders.account_missing", "interconnectedness", "orders", "account_id", "high",
           d("orders", "order_id", "manager_id", "account_id", "accounts", "account_id")),
        _c("contacts.account_missing", "interconnectedness", "contacts", "account_id",
           "medium", d("contacts", "contact_id", None, "account_id", "accounts", "account_id")),
        _c("activities.deal_missing", "interconnectedness", "activities", "deal_id", "medium",
           d("activities", "activity_id", "manager_id", "deal_id", "deals", "deal_id")),
        _c("activities.lead_missing", "interconnectedness", "activities", "lead_id", "medium",
           d("activities", "activity_id", "manager_id", "lead_id", "leads", "lead_id")),
        _c("leads.deal_missing", "interconnectedness", "leads", "deal_id", "medium",
           d("leads", "lead_id", "owner_id", "deal_id", "deals", "deal_id")),
        _c("deal_stages.deal_missing", "interconnectedness", "deal_stages", "deal_id", "high",
           d("deal_stages", "deal_id", None, "deal_id", "deals", "deal_id")),
        _c("deals.owner_missing", "interconnectedness", "deals", "owner_id", "medium",
           d("deals", "deal_id", "owner_id", "owner_id", "managers", "manager_id")),
    ]  # fmt: skip


def _completeness() -> list[Check]:
    e = qc.empty
    return [
        _c("deals.amount_empty", "completeness", "deals", "amount", "high",
           e("deals", "deal_id", "owner_id", "amount")),
        _c("deals.owner_empty", "completeness", "deals", "owner_id", "high",
           e("deals", "deal_id", "owner_id", "owner_id")),
        _c("leads.owner_empty", "completeness", "leads", "owner_id", "high",
           e("leads", "lead_id", "owner_id", "owner_id")),
        _c("leads.source_empty", "completeness", "leads", "source", "medium",
           e("leads", "lead_id", "owner_id", "source")),
        _c("deals.lost_reason_empty", "completeness", "deals", "lost_reason", "medium",
           e("deals", "deal_id", "owner_id", "lost_reason", lambda x: x.status == "lost")),
        _c("deals.no_stage_history", "completeness", "deals", "deal_id", "medium",
           qc.no_stage_history),
        _c("accounts.inn_empty", "completeness", "accounts", "inn", "low",
           e("accounts", "account_id", "owner_id", "inn")),
        _c("accounts.industry_empty", "completeness", "accounts", "industry", "low",
           e("accounts", "account_id", "owner_id", "industry")),
        _c("contacts.unreachable", "completeness", "contacts", "phone", "low",
           qc.contact_unreachable),
    ]  # fmt: skip


def _consistency_to_timeliness() -> list[Check]:
    return [
        _c("deals.status_vs_closed_at", "consistency", "deals", "closed_at", "high",
           qp.status_vs_closed),
        _c("deals.won_without_orders", "consistency", "deals", "status", "medium",
           qp.won_without_orders, ["orders.deal_id"]),
        _c("deal_stages.outside_deal", "consistency", "deal_stages", "entered_at", "medium",
           qp.stages_outside_deal, ["deals"]),
        _c("deals.mixed_currency", "consistency", "deals", "currency", "low",
           qp.mixed_currency),
        _c("deals.open_too_old", "consistency", "deals", "created_at", "low",
           qp.open_too_old),
        _c("deals.stale_open", "relevance", "deals", "status", "medium",
           qp.stale_open_deals),
        _c("leads.untouched", "relevance", "leads", "status", "high", qp.untouched_leads),
        _c("contacts.left_company", "relevance", "contacts", "still_employed", "low",
           qp.contacts_left),
        _c("activities.backdated", "reliability", "activities", "created_at", "low",
           qp.activity_after_close, ["deals"]),
        _c("deals.amount_never_revised", "reliability", "deals", "amount", "low",
           qp.amount_equals_lead, ["leads"]),
        _c("activities.logged_late", "timeliness", "activities", "created_at", "medium",
           qp.logged_late),
        _c("leads.slow_first_response", "timeliness", "leads", "first_response_at", "high",
           qp.slow_first_response),
    ]  # fmt: skip


def _uniqueness_and_process() -> list[Check]:
    keys = [("accounts", "account_id", "owner_id"), ("contacts", "contact_id", None),
            ("leads", "lead_id", "owner_id"), ("deals", "deal_id", "owner_id"),
            ("orders", "order_id", "manager_id"),
            ("activities", "activity_id", "manager_id")]  # fmt: skip
    checks = [
        _c(f"{t}.duplicate_key", "uniqueness", t, k, "high", qp.duplicate_keys(t, k, m))
        for t, k, m in keys
    ]
    return [
        *checks,
        _c("accounts.shared_inn", "uniqueness", "accounts", "inn", "medium",
           qp.shared_value("accounts", "account_id", "owner_id", "inn")),
        _c("accounts.shared_phone", "uniqueness", "accounts", "phone", "low",
           qp.shared_value("accounts", "account_id", "owner_id", "phone")),
        _c("accounts.merged_duplicate", "uniqueness", "accounts", "account_id", "medium",
           qp.merged_duplicates, ["account_merges"]),
        _c("deals.without_next_task", "process", "deals", "status", "high",
           qp.without_next_task),
        _c("activities.overdue_task", "process", "activities", "due_at", "high",
           qp.overdue_tasks),
        _c("leads.not_taken", "process", "leads", "first_response_at", "high",
           qp.lead_not_taken),
    ]  # fmt: skip


def catalogue() -> list[Check]:
    """Every check, in requirement order."""
    access = [
        Check("tables.present", "accessibility", "*", "", "high",
              lambda t, c: qc.table_counts(t, c, CANONICAL)),
        _c("imports.last_import_age", "accessibility", "imports", "finished_at", "low",
           qc.import_age),
    ]  # fmt: skip
    return (
        access + _accuracy() + _links() + _completeness()
        + _consistency_to_timeliness() + _uniqueness_and_process()
    )  # fmt: skip


def applicable(checks: Sequence[Check], available: set[str], *, table: str | None = None
               ) -> list[Check]:  # fmt: skip
    """Checks whose needed tables (or ``table.column``) hold data; optionally of one table."""
    out = [c for c in checks if all(n in available for n in c.needs if n != "*")]
    return [c for c in out if table is None or c.table in (table, "*")]


def populations(tables: Tables, checks: Sequence[Check], *, ctx: Context) -> ir.Table:
    """The union of the checks' populations.

    Returns
    -------
    ir.Table
        check, requirement, table, column, severity, record_id, manager_id, failed —
        one row per record a check looks at.
    """
    parts = [
        c.build(tables, ctx).mutate(
            check=ibis.literal(c.name),
            requirement=ibis.literal(c.requirement),
            table=ibis.literal(c.table),
            column=ibis.literal(c.column),
            severity=ibis.literal(c.severity),
        )
        for c in checks
    ]
    cols = ["check", "requirement", "table", "column", "severity",
            "record_id", "manager_id", "failed"]  # fmt: skip
    return ibis.union(*[p.select(*cols) for p in parts])


def check_counts(tables: Tables, checks: Sequence[Check], *, ctx: Context) -> ir.Table:
    """Failed and total records per check and manager, without building the populations.

    The :class:`~crmlens.analytics.quality_checks.Rows` checks of one source and owner
    column are counted in one aggregate over the source; every other check aggregates its
    own population. The same numbers as ``check_summary(populations(...), by_manager=True)``.

    Returns
    -------
    ir.Table
        check, requirement, table, column, severity, manager_id, failed, total, share —
        one row per check and manager with records (records without a manager form the
        group manager_id NULL).
    """
    groups: dict[tuple[object, str | None], list[Check]] = {}
    parts = []
    for c in checks:
        if isinstance(c.build, qc.Rows):
            groups.setdefault((c.build.source, c.build.manager), []).append(c)
        else:
            pop = c.build(tables, ctx)
            counts = pop.group_by("manager_id").agg(
                failed=pop.failed.cast("int64").sum(), total=pop.count().cast("int64")
            )
            parts.append(counts.mutate(**_labels(c)))
    parts += [_count_rows(tables, group, ctx) for group in groups.values()]
    cols = [*CHECK_KEYS, "manager_id", "failed", "total"]
    out = ibis.union(*[p.select(*cols) for p in parts])
    return out.mutate(share=out.failed.cast("float64") / out.total.cast("float64"))


def _labels(c: Check) -> dict[str, ir.Value]:
    return {
        "check": ibis.literal(c.name), "requirement": ibis.literal(c.requirement),
        "table": ibis.literal(c.table), "column": ibis.literal(c.column),
        "severity": ibis.literal(c.severity),
    }  # fmt: skip


def _count_rows(tables: Tables, checks: Sequence[Check], ctx: Context) -> ir.Table:
    """One pass over the shared source of `checks` (all Rows): counts per manager, long."""
    first = checks[0].build
    assert isinstance(first, qc.Rows)
    x = first.base(tables, ctx)
    owner = (
        x[first.manager].cast("string") if first.manager else ibis.null().cast("string")
    )
    metrics = {}
    for i, c in enumerate(checks):
        assert isinstance(c.build, qc.Rows)
        counted, failed = c.build.tests(x, tables, ctx)
        metrics[f"t{i}"] = (
            x.count() if counted is None else counted.cast("int64").sum()
        ).cast("int64")
        metrics[f"f{i}"] = failed.cast("int64").sum()
    wide = x.group_by(manager_id=owner).agg(**metrics)
    items = ibis.array([
        ibis.struct({**_labels(c), "failed": wide[f"f{i}"], "total": wide[f"t{i}"]})
        for i, c in enumerate(checks)
    ])  # fmt: skip
    long = wide.select("manager_id", item=items).unnest("item").unpack("item")
    return long.filter(long.total > 0)


def examples(tables: Tables, checks: Sequence[Check], *, ctx: Context, limit: int = 5
             ) -> ir.Table:  # fmt: skip
    """The first `limit` failing records of each check, by record_id.

    A check that passes gives no row but still costs a pass over its population, so give
    it the checks that fail (from :func:`check_counts`).

    Returns
    -------
    ir.Table
        check, record_id.
    """
    parts = []
    for c in checks:
        pop = c.build(tables, ctx)
        first = pop.filter(pop.failed).select("record_id").order_by("record_id")
        parts.append(first.limit(limit).mutate(check=ibis.literal(c.name)))
    return ibis.union(*parts).select("check", "record_id")


def check_summary(pop: ir.Table, *, by_manager: bool = False) -> ir.Table:
    """Failed and total records per check (and per manager).

    Returns
    -------
    ir.Table
        check, requirement, table, column, severity, [manager_id,] failed, total, share
        (with `by_manager`, records without a manager form the group manager_id NULL).
    """
    keys = [*CHECK_KEYS, "manager_id"] if by_manager else list(CHECK_KEYS)
    out = pop.group_by(keys).agg(
        failed=pop.failed.cast("int64").sum(), total=pop.count().cast("int64")
    )
    return out.mutate(share=out.failed.cast("float64") / out.total.cast("float64"))


def roll_up(summary: ir.Table) -> ir.Table:
    """A per-manager summary (NULL manager included) summed over managers, per check."""
    out = summary.group_by(list(CHECK_KEYS)).agg(
        failed=summary.failed.sum().cast("int64"),
        total=summary.total.sum().cast("int64"),
    )
    return out.mutate(share=out.failed.cast("float64") / out.total.cast("float64"))


def scores(summary: ir.Table, by: str | None) -> ir.Table:
    """0–100 score per group `by` (requirement, table, manager_id) or overall (None).

    Returns
    -------
    ir.Table
        [by,] score, checks, failed, total.
    """
    w = ibis.cases(
        *[(summary.severity == k, v) for k, v in SEVERITY_WEIGHT.items()], else_=1
    ).cast("float64")
    s = summary.filter(summary.total > 0).mutate(w=w)
    s = s.mutate(ws=s.w * s.share)
    metrics = {
        "score": 100.0 * (1.0 - s.ws.sum() / s.w.sum()),
        "checks": s.count().cast("int64"),
        "failed": s.failed.sum().cast("int64"),
        "total": s.total.sum().cast("int64"),
    }
    return s.group_by(by).agg(**metrics) if by else s.aggregate(**metrics)


def failing_records(
    pop: ir.Table, *, limit_per_check: int | None = None, by_manager: bool = False
) -> ir.Table:
    """Records that fail a check, for examples and the per-manager fix lists.

    Returns
    -------
    ir.Table
        check, requirement, table, column, severity, manager_id, record_id — ordered by
        check and record_id; at most `limit_per_check` per check (and manager) when given.
    """
    bad = pop.filter(pop.failed).drop("failed")
    if limit_per_check is None:
        return bad
    part = ["check", "manager_id"] if by_manager else ["check"]
    rn = ibis.row_number().over(group_by=part, order_by="record_id")
    bad = bad.mutate(rn=rn)
    return bad.filter(_.rn < limit_per_check).drop("rn")
