"""Templates of the sales team's themes: answers, call checklist, fair comparison,
overdue tasks, CRM discipline; and :func:`note`, one sentence inside another item."""

from __future__ import annotations

from crmlens.insights.findings import Finding
from crmlens.insights.wording import Ctx, Member, Wording, join, more, template

CHECKLIST_ITEMS = {
    "next_step_agreed": ("договорились о следующем шаге", "the next step was agreed"),
    "summary_sent": ("отправили итоги разговора", "a summary was sent"),
    "objections_handled": ("отработали возражения", "objections were handled"),
    "needs_identified": ("выявили потребность", "the need was identified"),
    "greeting": ("правильно поздоровались", "the greeting followed the script"),
}


def _hours(x: float | str | None, c: Ctx) -> str:
    v = float(x or 0)
    return f"{c.num(v, 1)} {c.t('ч', 'h')}"


@template("slow_response")
def slow_response(ms: list[Member], c: Ctx) -> Wording:
    """Slow first answers cost deals; who answers slowest."""
    company = next(
        (m.get("slow_answers_cost") for m in ms if m.get("slow_answers_cost")), None
    )
    slow = [m for m in ms if m.get("slow_response") is not None]
    parts = []
    if company is not None:
        e = company.evidence
        lost = (float(company.baseline or 0) - float(company.value or 0)) * e[
            "slow_leads"
        ]
        parts.append(
            c.t(
                f"Заявки с ответом в течение часа становятся сделками в {c.pct(company.baseline)} "
                f"случаев, более поздние — в {c.pct(company.value)}; потери от медленных ответов — "
                f"примерно {c.count(lost, 'deal')} на {c.money(company.impact)}.",
                f"Leads answered within an hour become deals {c.pct(company.baseline)} of the "
                f"time, later ones {c.pct(company.value)}; slow answers cost about "
                f"{c.count(lost, 'deal')}, worth {c.money(company.impact)}.",
            )
        )
    if slow:
        typical = slow[0].get("slow_response")
        assert typical is not None
        whos = [f"{c.who(m.subject)} — {_hours(m.lead.value, c)}" for m in slow[:3]]
        parts.append(
            c.t(
                f"Медленнее всех отвечает: {join(whos, c)} (медиана; у остальных "
                f"{_hours(typical.baseline, c)}).",
                f"Slowest to answer: {join(whos, c)} (median; the others "
                f"{_hours(typical.baseline, c)}).",
            )
        )
    lead = slow[0] if slow else None
    action = c.t(
        "Введите норму ответа на заявку — 1 час — и ежедневно проверяйте неотвеченные заявки",
        "Set a one-hour answer standard and check unanswered leads daily",
    )
    if lead is not None:
        action += c.t(
            f"; {c.who(lead.subject)}: передайте часть входящих заявок коллегам и включите "
            "напоминание через час.",
            f"; {c.who(lead.subject)}: route part of the incoming leads to colleagues and "
            "turn on a reminder after an hour.",
        )
    else:
        action += "."
    if company is not None:
        number, comparison = (
            c.pct(company.value),
            c.t(
                f"против {c.pct(company.baseline)} при ответе в течение часа",
                f"vs {c.pct(company.baseline)} when answered within an hour",
            ),
        )
    else:
        f = ms[0].lead
        number, comparison = (
            _hours(f.value, c),
            c.t(
                f"против {_hours(f.baseline, c)} у остальных",
                f"vs {_hours(f.baseline, c)} for the others",
            ),
        )
    return Wording(
        title=c.t(
            "Медленные ответы на заявки стоят сделок",
            "Slow answers to new leads cost deals",
        ),
        number=number,
        comparison=comparison,
        text=" ".join(parts),
        action=action,
    )


@template("key_checklist_item")
def key_checklist_item(ms: list[Member], c: Ctx) -> Wording:
    """A call-checklist step that decides deals is often skipped."""
    f = ms[0].lead
    e = f.evidence
    ru, en = CHECKLIST_ITEMS.get(str(f.subject["id"]), (str(f.subject["id"]),) * 2)
    lift = round(float(f.value or 0), 1)
    times = c.t(c.num(lift, 1) + " " + _times(lift, c), c.num(lift, 1) + "×")
    text = c.t(
        f"Сделки, где на звонке {ru}, выигрываются в {times} чаще: "
        f"{c.pct(e['win_rate_passed'])} против {c.pct(e['win_rate_skipped'])}; этот пункт "
        f"пропускают в {c.pct(1 - e['share_passed'])} звонков. Возможный эффект — до "
        f"{c.money(f.impact)}.",
        f"Deals where {en} on the call are won {times} as often: "
        f"{c.pct(e['win_rate_passed'])} vs {c.pct(e['win_rate_skipped'])}; "
        f"{c.pct(1 - e['share_passed'])} of calls skip it. Up to {c.money(f.impact)} at stake.",
    )
    return Wording(
        title=c.t(
            f"Шаг скрипта решает исход сделки: {ru}",
            f"A script step decides deals: {en}",
        ),
        number=c.num(lift, 1) + "×",
        comparison=c.t(
            f"{c.pct(e['win_rate_passed'])} против {c.pct(e['win_rate_skipped'])}",
            f"{c.pct(e['win_rate_passed'])} vs {c.pct(e['win_rate_skipped'])}",
        ),
        text=text + more(ms, 1, c, "item"),
        action=c.t(
            f"Сделайте пункт {c.q(ru)} обязательным в скрипте и проверяйте его в каждой "
            "оценке звонка.",
            f"Make {c.q(en)} a required step of the script and check it in every call review.",
        ),
    )


def _times(x: float, c: Ctx) -> str:
    """«раз» in the form for a multiple as shown with one decimal (1,6 раза; 5,0 раза)."""
    from decimal import Decimal

    from crmlens.insights.i18n import plural

    return plural(Decimal(f"{x:.1f}"), "ru", "раз", "раза", "раз")


@template("manager_mix")
def manager_mix(ms: list[Member], c: Ctx) -> Wording:
    """Raw win rates mislead: managers with easy or hard client mixes."""
    parts, actions = [], []
    for m in ms[:3]:
        f, e, who = m.lead, m.lead.evidence, c.who(m.subject)
        if f.kind == "hidden_weakness":
            parts.append(
                c.t(
                    f"{who} выигрывает {c.pct(e['win_rate'])} сделок — на вид один из лучших, но "
                    f"клиенты в основном лёгкие: с таким набором компания выигрывает "
                    f"{c.pct(e['expected_win_rate'])}.",
                    f"{who} wins {c.pct(e['win_rate'])} of deals — seemingly among the best, but "
                    f"with mostly easy clients, for which the company wins "
                    f"{c.pct(e['expected_win_rate'])}.",
                )
            )
            actions.append(
                c.t(
                    f"{who}: разберите несколько проигранных сделок и сравните с тем, как их ведут "
                    "коллеги",
                    f"{who}: review several lost deals and compare with how colleagues handle them",
                )
            )
        else:
            parts.append(
                c.t(
                    f"{who} выигрывает {c.pct(e['win_rate'])} на трудных клиентах, где компания "
                    f"выигрывает {c.pct(e['expected_win_rate'])}.",
                    f"{who} wins {c.pct(e['win_rate'])} with hard clients, where the company wins "
                    f"{c.pct(e['expected_win_rate'])}.",
                )
            )
            actions.append(
                c.t(
                    f"{who}: дайте больше новых и холодных клиентов и попросите поделиться "
                    "приёмами с командой",
                    f"{who}: give more new and cold clients and ask for the approach to be "
                    "shared with the team",
                )
            )
    e = ms[0].lead.evidence
    return Wording(
        title=c.t(
            "Сырая конверсия менеджеров вводит в заблуждение",
            "Raw win rates mislead about managers",
        ),
        number=c.pct(e["win_rate"]),
        comparison=c.t(
            f"против ожидаемых {c.pct(e['expected_win_rate'])} для таких клиентов",
            f"vs {c.pct(e['expected_win_rate'])} expected for such clients",
        ),
        text=" ".join(parts),
        action="; ".join(actions) + ".",
    )


@template("overdue_tasks")
def overdue_tasks(ms: list[Member], c: Ctx) -> Wording:
    """Managers with many overdue tasks."""
    f = ms[0].lead
    return Wording(
        title=c.t(
            f"Просроченные задачи: {c.who(f.subject)}",
            f"Overdue tasks: {c.who(f.subject)}",
        ),
        number=c.num(float(f.value or 0)),
        comparison=c.t(
            f"обычно {c.num(float(f.baseline or 0))}",
            f"typically {c.num(float(f.baseline or 0))}",
        ),
        text=" ".join(note(m.lead, c) for m in ms[:3]) + more(ms, 3, c, "manager"),
        action=c.t(
            f"{c.who(f.subject)}: разберите просроченные задачи на этой неделе и договоритесь "
            "о ежедневной проверке плана дел.",
            f"{c.who(f.subject)}: go through the overdue tasks this week and agree on a daily "
            "check of the task list.",
        ),
    )


def note(f: Finding, c: Ctx) -> str:
    """One sentence about `f` said inside another item (the same subject)."""
    who = c.who(f.subject)
    if f.kind == "overdue_tasks":
        return c.t(
            f"{who}: просроченных задач — {c.num(float(f.value or 0))}, у типичного "
            f"менеджера — {c.num(float(f.baseline or 0))}.",
            f"{who}: {c.count(float(f.value or 0), 'task')} overdue, against "
            f"{c.num(float(f.baseline or 0))} for a typical manager.",
        )
    if f.analysis == "quality" and f.kind == "manager":
        return c.t(
            f"{who}: качество данных в CRM — {c.num(float(f.value or 0))} из 100 "
            f"(медиана {c.num(float(f.baseline or 0))}).",
            f"{who}: CRM data quality {c.num(float(f.value or 0))} of 100 (median "
            f"{c.num(float(f.baseline or 0))}).",
        )
    if f.kind == "slow_response":
        return c.t(
            f"{who}: отвечает на заявки через {_hours(f.value, c)} (медиана), остальные — "
            f"через {_hours(f.baseline, c)}.",
            f"{who}: answers leads after {_hours(f.value, c)} (median), the others after "
            f"{_hours(f.baseline, c)}.",
        )
    return f.text[c.lang]


def _check_words(check: str, lang: str, fix: bool = False) -> str:
    from crmlens.insights.rules import _quality_text as words

    return (words.fix if fix else words.label)(check, lang)


@template("crm_discipline")
def crm_discipline(ms: list[Member], c: Ctx) -> Wording:
    """Managers whose CRM records are much worse than the others'."""
    f = ms[0].lead
    who = c.who(f.subject)
    checks = list(f.evidence.get("checks", []))
    shares, others = f.evidence.get("shares", {}), f.evidence.get("others_shares", {})
    problems = [
        c.t(
            f"{_check_words(k, 'ru')} — {c.pct(shares.get(k))} (у остальных {c.pct(others.get(k))})",
            f"{_check_words(k, 'en')}: {c.pct(shares.get(k))} (others {c.pct(others.get(k))})",
        )
        for k in checks[:3]
    ]
    fixes = "; ".join(_check_words(k, c.lang, fix=True) for k in checks[:3])
    text = " ".join(note(m.lead, c) for m in ms[:3])
    if problems:
        text += c.t(" Проблемы: ", " Problems: ") + "; ".join(problems) + "."
    return Wording(
        title=c.t(
            f"Данные в CRM ведутся хуже, чем у остальных: {who}",
            f"CRM records worse than the others': {who}",
        ),
        number=f"{c.num(float(f.value or 0))} / 100",
        comparison=c.t(
            f"медиана {c.num(float(f.baseline or 0))}",
            f"median {c.num(float(f.baseline or 0))}",
        ),
        text=text + more(ms, 3, c, "manager"),
        action=c.t(
            f"{who}: {fixes}."
            if fixes
            else f"{who}: приведите записи в CRM в порядок.",
            f"{who}: {fixes}." if fixes else f"{who}: put the CRM records in order.",
        ),
    )
