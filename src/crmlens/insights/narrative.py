"""The story of ``crmlens insights``: the findings of a role's analyses as a short narrative.

:func:`build_story` runs the analyses a role reads (:mod:`crmlens.insights.roles`) on the
warehouse seen through the reader's scope, gathers their findings, says each thing once,
ranks what is left by money at stake and severity, and words the top items from the
catalogue in :mod:`crmlens.insights.wording` — a headline, then three to seven items, each
with its number, what it is compared with, a recommended action and the command that shows
the rows behind it. An analysis that cannot run on this warehouse (a missing table, an
engine gap) is listed in :attr:`Story.skipped` instead of breaking the story.

It is two steps, so that one run of the analyses can be told in both languages:
:func:`collect` (runs the analyses) and :func:`tell` (groups, ranks and words).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmlens.errors import CrmlensError, InputError
from crmlens.insights import (  # noqa: F401  (the templates register themselves)
    i18n,
    templates,
    templates_data,
    templates_market,
    templates_team,
)
from crmlens.insights.currency import main_currency
from crmlens.insights.findings import SEVERITY_RANK, Finding, dedupe, rank
from crmlens.insights.roles import params_for, role_spec
from crmlens.insights.story import LABELS, Evidence, Skipped, Story, StoryItem
from crmlens.insights.templates_team import note
from crmlens.insights.wording import (
    ATTACHABLE,
    Ctx,
    Member,
    finite,
    known,
    subject_key,
    theme_of,
    word_it,
)

__all__ = [
    "Collected",
    "Evidence",
    "Skipped",
    "Story",
    "StoryItem",
    "build_story",
    "collect",
    "tell",
]

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse
    from crmlens.warehouse.scope import Scope

Progress = Callable[[str, int, int], None]
SEVERITY_WEIGHT = {"high": 1.0, "medium": 0.5, "low": 0.25}
OPPORTUNITY_WEIGHT = 0.25
#: analysis -> CLI command showing its rows (default: the name with spaces for "_").
COMMANDS = {
    "plan_backtest": "plan --backtest",
    "customers_clv_fit": "customers clv --fit",
}


@dataclass
class Collected:
    """What the analyses of a role found on a warehouse (before wording)."""

    role: str
    scope: str | None
    as_of: dt.date
    findings: list[Finding]
    skipped: list[Skipped]
    seconds: dict[str, float]
    currency: str = "RUB"
    names: dict[tuple[str, str], str] = field(default_factory=dict)


def build_story(
    wh: Warehouse,
    *,
    role: str = "head",
    scope: Scope | None = None,
    lang: str = "ru",
    top: int = 5,
    as_of: str | dt.date | None = None,
    progress: Progress | None = None,
) -> Story:
    """Run `role`'s analyses on `wh` seen through `scope` and tell the top `top` items."""
    i18n.check_lang(lang)
    check_top(top)
    return tell(
        collect(wh, role=role, scope=scope, as_of=as_of, progress=progress),
        lang=lang,
        top=top,
    )


def check_top(top: int) -> int:
    """`top` when it is 1..20; an InputError otherwise."""
    if not 1 <= top <= 20:
        raise InputError(f"--top {top} is out of range", reason="use 1 to 20, e.g. 5")
    return top


def check_scope(role: str, scope: Scope | None) -> None:
    """A clear error when `role` needs a scope of a kind and `scope` is not one."""
    need = role_spec(role).scope
    if need is None:
        return
    if scope is None or scope.kind != need:
        example = {"region": "Юг", "manager": "M05"}.get(need, "ID")
        raise InputError(
            f"role {role} needs --scope with a {need}",
            reason=f"e.g. --role {role} --scope {example}",
        )


def collect(
    wh: Warehouse,
    *,
    role: str = "head",
    scope: Scope | None = None,
    as_of: str | dt.date | None = None,
    progress: Progress | None = None,
) -> Collected:
    """Run the analyses of `role` on `wh` through `scope`; failures become `skipped`."""
    from crmlens.insights.params import resolve_as_of
    from crmlens.warehouse.scope import scoped

    spec = role_spec(role)
    check_scope(role, scope)
    day = resolve_as_of(wh, as_of)
    view = scoped(wh, scope)
    if scope is not None and scope.kind != "company":
        _check_scope_exists(view, scope)
    runs = [(name, _target(wh, view, role, name, scope)) for name in spec.analyses]
    found, skipped, seconds = _run_all(runs, role, day, progress)
    return Collected(
        role=role,
        scope=str(scope) if scope is not None and scope.kind != "company" else None,
        as_of=day,
        findings=found,
        skipped=skipped,
        seconds=seconds,
        currency=main_currency(view),
        names=subject_names(
            wh, found, [{"type": scope.kind, "id": scope.id}] if scope else None
        ),
    )


@dataclass(frozen=True)
class _Target:
    """Where an analysis runs, and which of its findings the story keeps."""

    wh: Warehouse
    keep: Callable[[Finding], bool] | None = None


def _target(
    wh: Warehouse, view: Warehouse, role: str, name: str, scope: Scope | None
) -> _Target:
    """The scoped view, or for a benchmark the whole warehouse keeping the scope's own."""
    from crmlens.insights.roles import is_benchmark

    if scope is None or scope.kind == "company" or not is_benchmark(role, name):
        return _Target(view)
    own: set[str] = set()

    def keep(f: Finding) -> bool:
        kind, ident = f.subject.get("type"), f.subject.get("id")
        if kind == scope.kind and ident == scope.id:
            return True
        if kind == "manager" and not own:
            own.update(
                str(m)
                for m in view.table("managers").manager_id.to_pyarrow().to_pylist()
            )
        return kind == "manager" and str(ident) in own

    return _Target(wh, keep)


def _run_all(
    runs: list[tuple[str, _Target]],
    role: str,
    day: dt.date,
    progress: Progress | None,
) -> tuple[list[Finding], list[Skipped], dict[str, float]]:
    from crmlens.insights import registry

    registry.names()  # loads the built-in analyses
    found: list[Finding] = []
    skipped: list[Skipped] = []
    seconds: dict[str, float] = {}
    for done, (name, target) in enumerate(runs):
        if progress:
            progress(name, done, len(runs))
        if name not in registry.REGISTRY:
            skipped.append(Skipped(name, "not installed"))
            continue
        start = time.perf_counter()
        try:
            result = registry.run(name, target.wh, as_of=day, **params_for(role, name))
        except Exception as e:  # one analysis must not break the story
            skipped.append(Skipped(name, _reason(e)))
            continue
        finally:
            seconds[name] = time.perf_counter() - start
        keep = target.keep
        found += [f for f in result.findings if keep is None or keep(f)]
    if progress:
        progress("", len(runs), len(runs))
    return found, skipped, seconds


def _reason(e: Exception) -> str:
    text = e.message if isinstance(e, CrmlensError) else f"{type(e).__name__}: {e}"
    first = text.strip().splitlines()[0] if text.strip() else type(e).__name__
    return first if len(first) <= 200 else first[:199] + "…"


def _check_scope_exists(view: Warehouse, scope: Scope) -> None:
    managers = view.table("managers")
    if managers.count().to_pyarrow().as_py() == 0:
        raise InputError(
            f"no {scope.kind} {scope.id!r} among the managers of the warehouse",
            reason=f"check the {scope.kind} id (crmlens managers kpis lists the managers)",
        )


_NAMED = {
    "manager": ("managers", "manager_id"),
    "account": ("accounts", "account_id"),
    "campaign": ("campaigns", "campaign_id"),
}


def subject_names(
    wh: Warehouse, findings: list[Finding], extra: list[dict[str, Any]] | None = None
) -> dict[tuple[str, str], str]:
    """Display names of the managers, accounts and campaigns the findings are about."""
    wanted: dict[str, set[str]] = {k: set() for k in _NAMED}
    subjects = [f.subject for f in findings] + list(extra or [])
    for subject in subjects:
        kind, ident = str(subject.get("type")), subject.get("id")
        if kind in wanted and ident is not None:
            wanted[kind].add(str(ident))
    for f in findings:
        wanted["account"].update(str(a) for a in f.evidence.get("account_ids", [])[:5])
    out: dict[tuple[str, str], str] = {}
    for kind, ids in wanted.items():
        if not ids:
            continue
        table, key = _NAMED[kind]
        try:
            t = wh.table(table)
            rows = t.filter(t[key].isin(sorted(ids))).select(key, "name").to_pyarrow()
        except Exception:
            continue
        for r in rows.to_pylist():
            if r["name"]:
                out[(kind, str(r[key]))] = str(r["name"])
    return out


@dataclass
class Group:
    """The findings of one theme, one member per subject, and notes attached to them."""

    theme: str
    members: list[Member]
    related: list[Finding] = field(default_factory=list)

    @property
    def severity(self) -> str:
        """The highest severity among the members."""
        return min(
            (m.lead.severity for m in self.members), key=SEVERITY_RANK.__getitem__
        )

    def money(self, nature: str) -> float:
        """Money of `nature`: summed over subjects of one type, the largest type."""
        per_type: dict[str, float] = {}
        for m in self.members:
            kind = str(m.subject.get("type"))
            per_type[kind] = per_type.get(kind, 0.0) + m.money(nature)  # type: ignore[arg-type]
        return max(per_type.values(), default=0.0)

    @property
    def stake(self) -> float:
        """Money at stake (risk)."""
        return self.money("risk")

    @property
    def score(self) -> float:
        """Severity-weighted money: at stake in full, to win at half."""
        weight = SEVERITY_WEIGHT[self.severity]
        return weight * (self.stake + OPPORTUNITY_WEIGHT * self.money("opportunity"))

    @property
    def lead(self) -> Finding:
        """The most important finding of the group."""
        return self.members[0].lead


def group_findings(findings: list[Finding], *, scope: str | None = None) -> list[Group]:
    """Findings said once, grouped by theme and subject, ranked (see :func:`order`).

    `scope` (``manager:M05``) is the reader's own subject: in a manager's story every
    finding is about the manager, so being about them ties nothing together.
    """
    ranked = rank(dedupe(findings))
    themes: dict[str, dict[str, Member]] = {}
    for f in ranked:
        members = themes.setdefault(theme_of(f), {})
        key = subject_key(f.subject)
        if key in members:
            members[key].findings.append(f)
        else:
            members[key] = Member(dict(f.subject), [f])
    groups = [Group(t, _order_members(list(ms.values()))) for t, ms in themes.items()]
    position = {f.id: i for i, f in enumerate(ranked)}
    own = None
    if scope:
        kind, _, ident = scope.partition(":")
        own = subject_key({"type": kind, "id": ident})
    return order(groups, position, ignore=own)


def _order_members(members: list[Member]) -> list[Member]:
    def key(m: Member) -> tuple[float, int, float]:
        w = SEVERITY_WEIGHT[m.lead.severity]
        score = w * (m.money("risk") + OPPORTUNITY_WEIGHT * m.money("opportunity"))
        return (-score, SEVERITY_RANK[m.lead.severity], -_impact(m.lead))

    return sorted(members, key=key)


def order(
    groups: list[Group], position: dict[str, int], *, ignore: str | None = None
) -> list[Group]:
    """Groups by severity-weighted money, then severity, then the findings' own rank.

    A group with no money whose every subject is already in a higher group (the same
    manager's overdue tasks after his slow answers) is said inside that group.
    """
    groups = sorted(
        groups,
        key=lambda g: (
            -g.score,
            SEVERITY_RANK[g.severity],
            -_impact(g.lead),
            position[g.lead.id],
        ),
    )
    kept: list[Group] = []
    owner: dict[str, Group] = {}
    for g in groups:
        keys = [
            k
            for m in g.members
            if _nameable(m.subject) and (k := subject_key(m.subject)) != ignore
        ]
        attach = g.theme in ATTACHABLE and g.score == 0
        if attach and keys and all(k in owner for k in keys):
            owner[keys[0]].related += [f for m in g.members for f in m.findings]
            continue
        kept.append(g)
        for k in keys:
            owner.setdefault(k, g)
    return kept


def _impact(f: Finding) -> float:
    return abs(float(f.impact)) if finite(f.impact) else 0.0  # type: ignore[arg-type]


def _nameable(subject: dict[str, Any]) -> bool:
    return subject.get("id") is not None and subject.get("type") not in (
        "company",
        "warehouse",
    )


def tell(collected: Collected, *, lang: str = "ru", top: int = 5) -> Story:
    """Word the top `top` groups of `collected` in `lang` and write the headline."""
    i18n.check_lang(lang)
    ctx = Ctx(lang, collected.currency, collected.names)
    groups = group_findings(collected.findings, scope=collected.scope)[: check_top(top)]
    items = [_item(g, ctx, collected.as_of) for g in groups]
    return Story(
        headline=headline(items, ctx, collected),
        lang=lang,
        role=collected.role,
        scope=collected.scope,
        as_of=collected.as_of,
        items=items,
        skipped=list(collected.skipped),
        currency=collected.currency,
        seconds=dict(collected.seconds),
    )


def _item(g: Group, ctx: Ctx, as_of: dt.date) -> StoryItem:
    w = word_it(g.theme, g.members, ctx)
    text = w.text
    notes = [note(f, ctx) for f in g.related]
    if notes:
        text += " " + " ".join(notes)
    lead = g.lead
    stake = g.stake or None
    return StoryItem(
        finding=lead,
        title=w.title,
        number=w.number,
        comparison=w.comparison,
        text=text,
        action=w.action,
        evidence=Evidence(lead.analysis, evidence_command(lead, as_of)),
        severity=g.severity,
        stake=round(stake, 2) if stake else None,
        related=[f for m in g.members for f in m.findings if f is not lead] + g.related,
    )


def evidence_command(f: Finding, as_of: dt.date) -> str:
    """The CLI command that shows the rows behind `f`."""
    cmd = COMMANDS.get(f.analysis, f.analysis.replace("_", " "))
    parts = ["crmlens", cmd]
    if f.analysis == "plan":
        if f.period:
            parts.append(f"--period {f.period}")
        if f.subject.get("type") in ("region", "team", "manager", "company"):
            parts.append(f"--scope {f.subject['type']}")
    parts.append(f"--as-of {as_of.isoformat()}")
    return " ".join(parts)


def headline(items: list[StoryItem], ctx: Ctx, collected: Collected) -> str:
    """One sentence: how many problems, the money at stake, the biggest one."""
    prefix = _scope_label(collected, ctx)
    if not items:
        ru, en = LABELS["none"]
        return prefix + ctx.t(ru, en)
    risks = [i for i in items if i.stake]
    if risks:
        total = sum(i.stake or 0.0 for i in risks)
        big = risks[0]
        text = ctx.t(
            f"{ctx.count(len(risks), 'problem')} — под угрозой {ctx.money(total)}; главная: "
            f"{_lower(big)} ({ctx.money(big.stake)}).",
            f"{ctx.count(len(risks), 'problem')} put {ctx.money(total)} at stake; the "
            f"biggest: {_lower(big)} ({ctx.money(big.stake)}).",
        )
    else:
        text = ctx.t(
            f"{ctx.count(len(items), 'finding')}; главный: {_lower(items[0])}.",
            f"{ctx.count(len(items), 'finding')}; the first: {_lower(items[0])}.",
        )
    return prefix + text


def _lower(item: StoryItem) -> str:
    """An item's title inside a sentence: a catalogued title starts with a common word."""
    title = item.title
    return title[:1].lower() + title[1:] if known(item.finding) else title


def _scope_label(collected: Collected, ctx: Ctx) -> str:
    if not collected.scope:
        return ""
    kind, _, ident = collected.scope.partition(":")
    who = ctx.who({"type": kind, "id": ident})
    label = {
        "region": ctx.t(f"Регион {ident}", f"Region {ident}"),
        "team": ctx.t(f"Команда {ident}", f"Team {ident}"),
        "manager": who,
    }.get(kind, collected.scope)
    return f"{label}: "
