"""Templates of the story, one per theme (see :mod:`crmlens.insights.wording`): funnel,
plan and clients; :mod:`~crmlens.insights.templates_team` words the sales team's themes and
:mod:`~crmlens.insights.templates_market` the marketing ones.

Russian is written so that no word has to agree with a name or a number it cannot see:
names stand before a colon or after a generic noun («кампания «…»»), and counts go
through :func:`crmlens.insights.i18n.count`, which knows ``1 сделка, 2 сделки, 5 сделок``.
"""

from __future__ import annotations

from crmlens.insights.wording import (
    TYPE_NOUNS,
    Ctx,
    Member,
    Wording,
    cap,
    days,
    join,
    more,
    more_typed,
    template,
)

SEGMENT_NAMES_RU = {
    "cant_lose": "Нельзя потерять",
    "at_risk": "Под угрозой ухода",
    "hibernating": "Спящие",
    "about_to_sleep": "Засыпающие",
}


SEGMENT_NAMES_EN = {
    "cant_lose": "Can't lose",
    "at_risk": "At risk",
    "hibernating": "Hibernating",
    "about_to_sleep": "About to sleep",
}


@template("stage_drop")
def stage_drop(ms: list[Member], c: Ctx) -> Wording:
    """Conversion between two stages fell since a month."""
    f = ms[0].lead
    s = f.subject
    stage, nxt = c.q(s["id"]), c.q(s["next"])
    since, before = c.month(f.period, "since"), c.month(f.period, "before")
    lost = f.evidence.get("deals_affected")
    loss = ""
    if lost:
        loss = c.t(
            f"; потери — примерно {c.count(lost, 'deal')} на {c.money(f.impact)}",
            f"; about {c.count(lost, 'deal')} lost, worth {c.money(f.impact)}",
        )
    text = c.t(
        f"{cap(since)} с этапа {stage} на {nxt} переходит {c.pct(f.value)} "
        f"сделок вместо {c.pct(f.baseline)}{loss}.",
        f"{cap(since)}, {c.pct(f.value)} of deals get from {stage} to {nxt} "
        f"instead of {c.pct(f.baseline)}{loss}.",
    )
    for m in ms[1:3]:
        o = m.lead
        text += c.t(
            f" Также {c.q(o.subject['id'])} → {c.q(o.subject.get('next'))}: "
            f"{c.pct(o.value)} вместо {c.pct(o.baseline)}.",
            f" Also {c.q(o.subject['id'])} → {c.q(o.subject.get('next'))}: "
            f"{c.pct(o.value)} instead of {c.pct(o.baseline)}.",
        )
    return Wording(
        title=c.t(
            f"Конверсия {stage} → {nxt} упала", f"{stage} → {nxt} conversion fell"
        ),
        number=c.pct(f.value),
        comparison=c.t(
            f"против {c.pct(f.baseline)} {before}", f"vs {c.pct(f.baseline)} {before}"
        ),
        text=text,
        action=c.t(
            f"Разберите сделки этапа {stage} {since}: что изменилось — цены, условия, "
            "шаблон предложения, люди — и верните то, что работало.",
            f"Review the deals at {stage} {since}: what changed — prices, terms, the "
            "proposal template, people — and bring back what worked.",
        ),
    )


@template("segment_gap")
def segment_gap(ms: list[Member], c: Ctx) -> Wording:
    """Some managers, sources or regions pass a stage worse than the rest."""
    f = ms[0].lead
    stage, nxt = c.q(f.subject["stage"]), c.q(f.subject["next"])
    parts = [
        c.t(
            f"{c.who(m.lead.subject)} — {c.pct(m.lead.value)} против {c.pct(m.lead.baseline)} "
            f"у остальных ({c.money(m.lead.impact)})",
            f"{c.who(m.lead.subject)}: {c.pct(m.lead.value)} vs {c.pct(m.lead.baseline)} "
            f"for the rest ({c.money(m.lead.impact)})",
        )
        for m in ms[:3]
    ]
    whos = join([c.who(m.lead.subject) for m in ms[:3]], c)
    return Wording(
        title=c.t(
            f"Этап {stage} → {nxt}: отставание — {whos}",
            f"{stage} → {nxt}: {whos} fall behind",
        ),
        number=c.pct(f.value),
        comparison=c.t(
            f"против {c.pct(f.baseline)} у остальных",
            f"vs {c.pct(f.baseline)} for the rest",
        ),
        text=c.t(f"Переход {stage} → {nxt}: ", f"{stage} → {nxt}: ")
        + "; ".join(parts)
        + "."
        + more(ms, 3, c, "finding"),
        action=c.t(
            f"Сравните сделки этапа {stage} у отстающих и у лучших; назначьте наставника или "
            "поменяйте распределение сделок.",
            f"Compare the {stage} deals of those behind with the best; assign a mentor or "
            "change how deals are routed.",
        ),
    )


def _plan_part(m: Member, c: Ctx) -> str:
    who = c.who(m.subject)
    plan, cov = m.get("plan_at_risk"), m.get("low_pipeline_coverage")
    if plan is not None:
        e = plan.evidence
        return c.t(
            f"{who} — прогноз {c.money(e['forecast_amount'])} при плане "
            f"{c.money(e['target_amount'])}, шанс выполнить {c.pct(plan.value)}",
            f"{who}: forecast {c.money(e['forecast_amount'])} against "
            f"{c.money(e['target_amount'])} ({c.pct(plan.value)} chance)",
        )
    assert cov is not None
    return c.t(
        f"{who} — открытые сделки покрывают {c.num(cov.value, 1)} остатка плана "
        f"(нужно {c.num(cov.baseline, 1)})",
        f"{who}: open deals cover {c.num(cov.value, 1)}× the rest of the plan "
        f"({c.num(cov.baseline, 1)}× needed)",
    )


@template("plan_at_risk")
def plan_at_risk(ms: list[Member], c: Ctx) -> Wording:
    """The period's plan is at risk in some regions, teams or managers."""
    lead = ms[0]
    f = lead.lead
    month = c.month(f.period)
    kinds: list[str] = []
    for m in ms:
        kind = str(m.subject.get("type"))
        kinds += [] if kind in kinds else [kind]
    counted = [
        c.count(sum(1 for m in ms if m.subject.get("type") == k), TYPE_NOUNS[k])
        for k in kinds
        if k in TYPE_NOUNS
    ]
    where = join(counted, c) or c.who(lead.subject)
    parts = [_plan_part(m, c) for m in ms[:3]]
    plan = lead.get("plan_at_risk")
    gap = plan.evidence.get("gap_amount") if plan is not None else None
    push = (
        [d["deal_id"] for d in (plan.evidence.get("deals_to_push") or [])[:3]]
        if plan
        else []
    )
    action = c.t(
        f"{c.who(lead.subject)}: дожмите крупнейшие открытые сделки"
        + (f" — {', '.join(push)}" if push else "")
        + (f"; до плана не хватает {c.money(gap)}" if gap else "")
        + "; наполните воронку новыми сделками до конца месяца.",
        f"{c.who(lead.subject)}: push the largest open deals"
        + (f" — {', '.join(push)}" if push else "")
        + (f"; {c.money(gap)} short of the plan" if gap else "")
        + "; fill the pipeline with new deals before the month ends.",
    )
    if plan is not None:
        number = c.t(f"шанс {c.pct(plan.value)}", f"{c.pct(plan.value)} chance")
        comparison = c.t(
            f"прогноз {c.money(plan.evidence['forecast_amount'])} при плане "
            f"{c.money(plan.evidence['target_amount'])}",
            f"forecast {c.money(plan.evidence['forecast_amount'])} vs target "
            f"{c.money(plan.evidence['target_amount'])}",
        )
    else:
        number, comparison = (
            c.num(f.value, 1),
            c.t(f"нужно {c.num(f.baseline, 1)}", f"needs {c.num(f.baseline, 1)}"),
        )
    return Wording(
        title=c.t(f"План на {month} под угрозой", f"The {month} plan is at risk"),
        number=number,
        comparison=comparison,
        text=c.t(
            f"{cap(month)}: план под угрозой — {where}. ",
            f"{month}: the plan is at risk for {where}. ",
        )
        + "; ".join(parts)
        + "."
        + more_typed(ms, 3, c),
        action=action,
    )


def _client_part(m: Member, c: Ctx) -> str:
    who = c.who(m.subject)
    silent, clv = m.get("silent_client"), m.get("valuable_client_at_risk")
    if silent is not None:
        return c.t(
            f"{who} — {days(float(silent.value or 0), c)} без заказов при обычном интервале "
            f"в {days(float(silent.baseline or 0), c)}, за год {c.money(silent.impact)}",
            f"{who}: {days(float(silent.value or 0), c)} without an order against the usual "
            f"{days(float(silent.baseline or 0), c)}, {c.money(silent.impact)} a year",
        )
    assert clv is not None
    e = clv.evidence
    return c.t(
        f"{who} — {days(e['days_since_last_order'], c)} без заказов, шанс, что клиент "
        f"ещё покупает, {c.pct(clv.value)}",
        f"{who}: {days(e['days_since_last_order'], c)} without an order, a "
        f"{c.pct(clv.value)} chance the client is still buying",
    )


@template("client_leaving")
def client_leaving(ms: list[Member], c: Ctx) -> Wording:
    """Key clients stopped ordering: RFM segments and silent accounts."""
    segs = [m for m in ms if m.subject.get("type") == "segment"]
    accs = [m for m in ms if m.subject.get("type") != "segment"]
    parts = []
    if segs:
        n = sum(int(m.lead.evidence.get("clients", 0)) for m in segs)
        value = sum(m.money() for m in segs)
        names = [
            c.q(
                c.t(
                    SEGMENT_NAMES_RU.get(str(m.subject["id"]), str(m.subject["id"])),
                    SEGMENT_NAMES_EN.get(str(m.subject["id"]), str(m.subject["id"])),
                )
            )
            for m in segs
        ]
        label = c.t(
            "Сегменты" if len(segs) > 1 else "Сегмент",
            "Segments" if len(segs) > 1 else "Segment",
        )
        parts.append(
            c.t(
                f"{label} {join(names, c)}: {c.count(n, 'client')} с покупками за год на "
                f"{c.money(value)}, но давно без заказов.",
                f"{label} {join(names, c)}: {c.count(n, 'client')} who bought {c.money(value)} "
                "in the year but have not ordered for a long time.",
            )
        )
    if accs:
        value = sum(m.money() for m in accs)
        listed = "; ".join(_client_part(m, c) for m in accs[:3])
        parts.append(
            c.t(
                f"Молчат дольше обычного: {c.count(len(accs), 'client')} с покупками на "
                f"{c.money(value)} за год. Крупнейшие: {listed}.",
                f"Silent for longer than usual: {c.count(len(accs), 'client')} worth "
                f"{c.money(value)} a year. The largest: {listed}.",
            )
        )
    first = accs[0] if accs else None
    start = ""
    if first is not None:
        who = c.who(first.subject)
        start = c.t(f"; первый звонок — {who}", f", {who} first")
    total = max(sum(m.money() for m in segs), sum(m.money() for m in accs))
    return Wording(
        title=c.t("Ключевые клиенты уходят", "Key clients are slipping away"),
        number=c.money(total),
        comparison=c.t(
            "их покупки за последний год", "their purchases in the last year"
        ),
        text=" ".join(parts),
        action=c.t(
            f"Позвоните им лично на этой неделе{start}. Узнайте, что изменилось, и "
            "предложите условия следующего заказа.",
            f"Call them personally this week{start}. Ask what changed and offer terms "
            "for the next order.",
        ),
    )
