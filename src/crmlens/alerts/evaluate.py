"""Evaluate alert rules on a warehouse: which alerts hold as of a day.

Each rule runs on the warehouse seen through its scope (:func:`crmlens.warehouse.scope.
scoped`). Where a registered analysis already says it, its findings are reused: ``plan``
(plan_at_risk), ``customers_churn`` with ``customers_abc`` (silent class-A clients) and
``funnel`` (stage_drop). What no analysis gives right now is computed in Ibis by
:mod:`crmlens.analytics` (unanswered new leads, overdue tasks per manager).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmlens.alerts.alert import Alert, alert_key
from crmlens.alerts.texts import overdue_finding, scope_words, unanswered_finding, who
from crmlens.warehouse.scope import Scope, scoped

if TYPE_CHECKING:
    from crmlens.alerts.rules import Rule, RuleSet
    from crmlens.insights.findings import Finding
    from crmlens.insights.registry import AnalysisResult
    from crmlens.warehouse import Warehouse

Progress = Callable[[str, int, int], None]
#: More silent clients than any company has: the churn analysis returns every one.
ALL = 10**9


@dataclass
class Evaluation:
    """Alerts of a run, in rule order, and notes about rules that found nothing to watch."""

    alerts: list[Alert]
    notes: list[str] = field(default_factory=list)


@dataclass
class Context:
    """One evaluation: the warehouse, the day and instant, and caches shared by rules."""

    wh: Warehouse
    as_of: dt.date
    now: dt.datetime
    _views: dict[str, Warehouse] = field(default_factory=dict)
    _runs: dict[tuple[str, str, str], AnalysisResult] = field(default_factory=dict)
    _names: dict[str, str] | None = None

    def view(self, scope: Scope) -> Warehouse:
        """The warehouse seen through `scope` (one view per scope)."""
        key = str(scope)
        if key not in self._views:
            self._views[key] = scoped(self.wh, scope)
        return self._views[key]

    def run(self, name: str, within: Scope, **params: Any) -> AnalysisResult:
        """Registered analysis `name` on the view of `within` (each once per run)."""
        from crmlens.insights.registry import run

        key = (name, str(within), repr(sorted(params.items())))
        if key not in self._runs:
            self._runs[key] = run(name, self.view(within), as_of=self.as_of, **params)
        return self._runs[key]

    def manager_names(self) -> dict[str, str]:
        """manager_id -> name, from the whole warehouse."""
        if self._names is None:
            m = self.wh.managers.select("manager_id", "name").to_pyarrow().to_pylist()
            self._names = {r["manager_id"]: r["name"] for r in m if r["name"]}
        return self._names

    def account_names(self, ids: list[str]) -> dict[str, str]:
        """account_id -> name for `ids`."""
        if not ids:
            return {}
        acc = self.wh.accounts
        rows = (
            acc.filter(acc.account_id.isin(ids))
            .select("account_id", "name")
            .to_pyarrow()
            .to_pylist()
        )
        return {r["account_id"]: r["name"] for r in rows if r["name"]}


def now_for(as_of: dt.date, clock: dt.datetime | None = None) -> dt.datetime:
    """The instant alerts look at: the end of `as_of`, or the clock when earlier.

    >>> now_for(dt.date(2025, 12, 15), dt.datetime(2026, 1, 1))
    datetime.datetime(2025, 12, 16, 0, 0)
    >>> now_for(dt.date(2025, 12, 15), dt.datetime(2025, 12, 15, 9, 30))
    datetime.datetime(2025, 12, 15, 9, 30)
    """
    end = dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())
    clock = clock or dt.datetime.now()
    return min(end, clock.replace(microsecond=0))


def evaluate(
    wh: Warehouse,
    ruleset: RuleSet,
    *,
    as_of: dt.date,
    now: dt.datetime | None = None,
    progress: Progress | None = None,
) -> Evaluation:
    """Alerts of every rule of `ruleset` as of `as_of` (and the instant `now`)."""
    ctx = Context(wh, as_of, now or now_for(as_of))
    out = Evaluation([])
    total = len(ruleset.rules)
    for i, rule in enumerate(ruleset.rules):
        if progress:
            progress(rule.name, i, total)
        if rule.scope.kind != "company" and _empty(ctx.view(rule.scope)):
            out.notes.append(
                f"rule {rule.name!r}: scope {rule.scope} has no managers in the warehouse"
            )
            continue
        found = EVALUATORS[rule.kind](ctx, rule)
        out.alerts += [a for a in found if rule.admits(a.severity)]
    if progress:
        progress("", total, total)
    return out


def _empty(view: Warehouse) -> bool:
    return int(view.managers.count().to_pyarrow().as_py()) == 0


def plan_at_risk(ctx: Context, rule: Rule) -> list[Alert]:
    """Yellow and red plan lights of the rule's level inside its scope."""
    level = rule.options.get("level") or (
        rule.scope.kind if rule.scope.kind != "company" else "region"
    )
    res = ctx.run("plan", rule.scope, scope=level, period=rule.options.get("period"))
    names = ctx.manager_names()
    out = []
    for f in res.findings:
        if f.kind != "plan_at_risk":
            continue
        sid = str(f.subject.get("id"))
        label = {
            lang: who(sid, names, lang) if level == "manager" else
            scope_words(level, sid, lang) for lang in ("ru", "en")
        }  # fmt: skip
        light = str(f.evidence.get("light", f.severity))
        key = alert_key(rule, f"{level}={sid}", ctx.as_of, str(f.period), light)
        out.append(Alert(key, rule, f, ctx.as_of, label))
    return out


def lead_unanswered(ctx: Context, rule: Rule) -> list[Alert]:
    """New leads of the scope waiting for a first answer longer than the SLA."""
    from crmlens.analytics.leads_unanswered import unanswered_leads

    view = ctx.view(rule.scope)
    sla = float(rule.options["sla_hours"])
    rows = (
        unanswered_leads(
            view.leads,
            view.activities,
            now=ctx.now,
            sla_hours=sla,
            max_age_hours=24.0 * float(rule.options["max_age_days"]),
        )
        .to_pyarrow()
        .to_pylist()
    )
    names = ctx.manager_names()
    out = []
    for r in rows:
        f = unanswered_finding(r, sla_hours=sla, names=names)
        label = {"ru": f"заявка {r['lead_id']}", "en": f"lead {r['lead_id']}"}
        key = alert_key(rule, f"lead={r['lead_id']}", ctx.as_of)
        out.append(Alert(key, rule, f, ctx.as_of, label))
    return out


def key_client_silent(ctx: Context, rule: Rule) -> list[Alert]:
    """Class-A clients (ABC by revenue) silent longer than their usual gap."""
    abc = ctx.run("customers_abc", rule.scope)
    key_clients = {r["account_id"] for r in abc.rows.to_pylist() if r.get("abc") == "A"}
    churn = ctx.run("customers_churn", rule.scope, limit=ALL)
    silent = [
        f
        for f in churn.findings
        if f.kind == "silent_client" and f.subject.get("id") in key_clients
    ]
    names = ctx.account_names([str(f.subject["id"]) for f in silent])
    out = []
    for f in silent:
        acc = str(f.subject["id"])
        name = f" «{names[acc]}»" if acc in names else ""
        label = {"ru": f"клиент {acc}{name}", "en": f"client {acc}{name}"}
        since = str(f.evidence.get("last_order_date", ""))
        key = alert_key(rule, f"account={acc}", ctx.as_of, f"since={since}")
        out.append(Alert(key, rule, f, ctx.as_of, label))
    return out


def overdue_tasks(ctx: Context, rule: Rule) -> list[Alert]:
    """Managers of the scope with more overdue tasks than the rule's limit."""
    from crmlens.analytics.managers import overdue_tasks as overdue

    above = int(rule.options["above"])
    rows = (
        overdue(ctx.view(rule.scope).activities, as_of=ctx.as_of)
        .to_pyarrow()
        .to_pylist()
    )
    names = ctx.manager_names()
    out = []
    for r in sorted(rows, key=lambda r: (-r["overdue_tasks"], r["manager_id"])):
        n, mid = int(r["overdue_tasks"]), str(r["manager_id"])
        if n <= above:
            continue
        f = overdue_finding(mid, n, above=above, as_of=ctx.as_of, names=names)
        label = {lang: who(mid, names, lang) for lang in ("ru", "en")}
        out.append(Alert(alert_key(rule, f"manager={mid}", ctx.as_of), rule, f,
                         ctx.as_of, label))  # fmt: skip
    return out


def stage_drop(ctx: Context, rule: Rule) -> list[Alert]:
    """The funnel's stage_drop findings inside the scope."""
    res = ctx.run("funnel", rule.scope, pipeline=rule.options.get("pipeline"))
    out = []
    for f in res.findings:
        if f.kind != "stage_drop":
            continue
        label = _stage_label(f)
        out.append(Alert(alert_key(rule, f.id, ctx.as_of), rule, f, ctx.as_of, label))
    return out


def _stage_label(f: Finding) -> dict[str, str]:
    stage, nxt = f.subject.get("id"), f.subject.get("next")
    text = f"«{stage}» → «{nxt}»" if nxt else f"«{stage}»"
    return {"ru": f"этап {text}", "en": f"stage {text}"}


EVALUATORS: dict[str, Callable[[Context, Rule], list[Alert]]] = {
    "plan_at_risk": plan_at_risk,
    "lead_unanswered": lead_unanswered,
    "key_client_silent": key_client_silent,
    "overdue_tasks": overdue_tasks,
    "stage_drop": stage_drop,
}
