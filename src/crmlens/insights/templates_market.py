"""Templates of the marketing themes: campaigns, sources, lead signals, seasons, revenue."""

from __future__ import annotations

from crmlens.insights.wording import Ctx, Member, Wording, finite, join, template

FACTORS = {
    "leads": ("число заявок", "the number of leads"),
    "conversion": ("конверсия в платящих клиентов", "conversion to paying clients"),
    "average_check": ("средний чек", "the average check"),
    "orders_per_client": ("число заказов на клиента", "orders per client"),
}


@template("campaign_payback")
def campaign_payback(ms: list[Member], c: Ctx) -> Wording:
    """The worst and the best campaign by payback."""
    worst = next((m for m in ms if m.lead.kind == "worst_payback"), None)
    best = next((m for m in ms if m.lead.kind == "best_payback"), None)
    parts = []
    for m in (worst, best):
        if m is None:
            continue
        e, who = m.lead.evidence, c.who(m.subject)
        parts.append(
            c.t(
                f"Кампания {who}: вложено {c.money(e['cost_amount'])}, выиграно сделок на "
                f"{c.money(e['revenue_amount'])}, ROMI {c.pct(m.lead.value)}.",
                f"Campaign {who}: spent {c.money(e['cost_amount'])}, won deals worth "
                f"{c.money(e['revenue_amount'])}, ROMI {c.pct(m.lead.value)}.",
            )
        )
    lead = worst or best
    assert lead is not None
    if worst is not None:
        title = c.t(
            f"Кампания {c.who(worst.subject)} не окупается",
            f"Campaign {c.who(worst.subject)} does not pay off",
        )
        action = c.t(
            f"Остановите или пересоберите кампанию {c.who(worst.subject)}"
            + (
                f" и переложите бюджет в кампанию {c.who(best.subject)}."
                if best
                else "."
            ),
            f"Stop or rebuild campaign {c.who(worst.subject)}"
            + (f" and move its budget to {c.who(best.subject)}." if best else "."),
        )
    else:
        assert best is not None
        title = c.t(
            f"Кампания {c.who(best.subject)} окупается лучше всех",
            f"Campaign {c.who(best.subject)} pays off best",
        )
        action = c.t(
            f"Повторите кампанию {c.who(best.subject)} и переложите в неё бюджет слабых кампаний.",
            f"Repeat campaign {c.who(best.subject)} and move budget from the weak ones into it.",
        )
    return Wording(
        title=title,
        number=f"ROMI {c.pct(lead.lead.value)}",
        comparison=c.t(
            f"против {c.pct(lead.lead.baseline)} в среднем по кампаниям",
            f"vs {c.pct(lead.lead.baseline)} across campaigns",
        ),
        text=" ".join(parts),
        action=action,
    )


@template("source_payback")
def source_payback(ms: list[Member], c: Ctx) -> Wording:
    """The lead sources that do not pay off, and the best one."""
    bad = [m for m in ms if m.lead.kind == "negative_romi"]
    good = next((m for m in ms if m.lead.kind == "best_romi"), None)
    parts = []
    for m in bad[:2] + ([good] if good else []):
        e = m.lead.evidence
        parts.append(
            c.t(
                f"Источник {c.who(m.subject)}: затраты {c.money(e['cost'])}, "
                f"{c.count(e['won'], 'deal')}, стоимость клиента {c.money(e['cac'])}, "
                f"ROMI {c.pct(m.lead.value)}.",
                f"Source {c.who(m.subject)}: cost {c.money(e['cost'])}, "
                f"{c.count(e['won'], 'deal')} won, {c.money(e['cac'])} per client, "
                f"ROMI {c.pct(m.lead.value)}.",
            )
        )
    lead = bad[0] if bad else good
    assert lead is not None
    if bad:
        title = c.t(
            f"Источник {c.who(lead.subject)} не окупается",
            f"Source {c.who(lead.subject)} does not pay off",
        )
        action = c.t(
            f"Остановите или пересоберите закупки в источнике {c.who(lead.subject)}"
            + (
                f" и переложите бюджет в источник {c.who(good.subject)}."
                if good
                else "."
            ),
            f"Stop or rebuild buying in {c.who(lead.subject)}"
            + (f" and move the budget to {c.who(good.subject)}." if good else "."),
        )
    else:
        title = c.t(
            f"Источник {c.who(lead.subject)} окупается лучше всех",
            f"Source {c.who(lead.subject)} pays off best",
        )
        action = c.t(
            f"Покупайте больше заявок в источнике {c.who(lead.subject)}.",
            f"Buy more leads from {c.who(lead.subject)}.",
        )
    return Wording(
        title=title,
        number=f"ROMI {c.pct(lead.lead.value)}",
        comparison="",
        text=" ".join(parts),
        action=action,
    )


@template("seasonal_client")
def seasonal_client(ms: list[Member], c: Ctx) -> Wording:
    """Clients with seasonal peaks in the coming months."""
    nearest = min(ms, key=lambda m: str(m.subject.get("id")))
    total = sum(m.money("opportunity") for m in ms)
    f = nearest.lead
    ids = list(f.evidence.get("account_ids", []))
    names = ", ".join(c.who({"type": "account", "id": a}) for a in ids[:3])
    month = c.month(str(nearest.subject["id"]))
    months = c.count(len(ms), "month")
    peak = c.count(len(ids), "client") + (
        f", {c.money(f.impact)}" if finite(f.impact) else ""
    )
    if total > 0:
        text = c.t(
            f"Клиенты с сезонными пиками принесут сверх обычного около {c.money(total)} за "
            f"{months}; ближайший пик — {month}: {peak}.",
            f"Clients with seasonal peaks will bring about {c.money(total)} above usual over "
            f"{months}; the nearest peak is {month}: {peak}.",
        )
    else:
        text = c.t(
            f"Месяцев с сезонными пиками клиентов: {c.num(len(ms))}; ближайший пик — "
            f"{month}: {peak}.",
            f"Months with clients' seasonal peaks: {c.num(len(ms))}; the nearest is "
            f"{month}: {peak}.",
        )
    return Wording(
        title=c.t(
            "Сезонные клиенты: пики можно подготовить",
            "Seasonal clients: peaks to prepare for",
        ),
        number=c.money(total) if total > 0 else month,
        comparison=c.t(f"сверх обычного за {months}", f"above usual over {months}")
        if total > 0
        else c.t("ближайший пик", "the nearest peak"),
        text=text,
        action=c.t(
            f"За месяц до пика ({month}) свяжитесь с его клиентами: {names}.",
            f"A month before the {month} peak, call its clients: {names}.",
        ),
    )


@template("revenue_factor")
def revenue_factor(ms: list[Member], c: Ctx) -> Wording:
    """Which factor moved revenue most in the last period."""
    f = ms[0].lead
    change, part = float(f.baseline or 0), float(f.value or 0)
    ru, en = FACTORS.get(str(f.subject["id"]), (str(f.subject["id"]),) * 2)
    month = c.month(f.period)
    up = change >= 0
    moved = c.t("выросла" if up else "упала", "grew" if up else "fell")
    return Wording(
        title=c.t(
            f"Выручка за {month} {moved} на {c.money(abs(change))}",
            f"Revenue in {month} {moved} by {c.money(abs(change))}",
        ),
        number=c.money(part),
        comparison=c.t(
            f"{c.q(ru)} — из изменения на {c.money(change)}",
            f"{en}, of a {c.money(change)} change",
        ),
        text=c.t(
            f"Выручка за {month} {moved} на {c.money(abs(change))}; сильнее всего повлиял "
            f"фактор {c.q(ru)}: {c.money(part)}.",
            f"Revenue in {month} {moved} by {c.money(abs(change))}; {en} moved it most: "
            f"{c.money(part)}.",
        ),
        action=c.t(
            f"Разберите, что изменилось в показателе {c.q(ru)}, и начните с него.",
            f"Look into what changed in {en} and start there.",
        ),
    )


ATTRIBUTES = {
    "source": ("источник", "source"),
    "channel": ("канал", "channel"),
    "campaign_id": ("кампания", "campaign"),
    "need_type": ("тип потребности", "need type"),
    "potential_amount": ("потенциальная сумма", "potential amount"),
    "industry": ("отрасль", "industry"),
    "size_segment": ("размер компании", "company size"),
    "region": ("регион", "region"),
    "city": ("город", "city"),
}


def _attr(subject: dict[str, object], c: Ctx) -> str:
    ident = str(subject.get("id"))
    ru, en = ATTRIBUTES.get(ident, (ident.replace("_", " "),) * 2)
    return c.t(ru, en)


def _attr_value(m: Member, c: Ctx) -> str:
    value = m.subject.get("value")
    if m.subject.get("id") == "campaign_id":
        return f"{_attr(m.subject, c)} {c.who({'type': 'campaign', 'id': value})}"
    return f"{_attr(m.subject, c)} {c.q(value)}"


@template("lead_signals")
def lead_signals(ms: list[Member], c: Ctx) -> Wording:
    """Which lead attributes signal a purchase, and which say nothing."""
    strong = [m for m in ms if m.lead.kind == "strongest_signal"]
    weak = [m for m in ms if m.lead.kind == "weakest_signal"]
    empty = [m for m in ms if m.lead.kind == "no_signal"]
    parts = []
    for m in strong[:2] + weak[:1]:
        e = m.lead.evidence
        lift = round(float(m.lead.value or 0), 1)
        parts.append(
            c.t(
                f"Заявки, где {_attr_value(m, c)}, становятся сделками в {c.pct(e['conversion_rate'])} "
                f"случаев при среднем {c.pct(e['overall_rate'])} ({c.count(e['leads'], 'lead')}).",
                f"Leads with {_attr_value(m, c)} become deals {c.pct(e['conversion_rate'])} of the "
                f"time against {c.pct(e['overall_rate'])} on average ({c.count(e['leads'], 'lead')}, "
                f"{c.num(lift, 1)}×).",
            )
        )
    if empty:
        names = join([c.q(_attr(m.subject, c)) for m in empty[:3]], c)
        parts.append(
            c.t(
                f"Почти ничего не говорят о покупке поля {names}.",
                f"The fields {names} say almost nothing about a purchase.",
            )
        )
    lead = (strong or weak or empty)[0]
    if lead.lead.kind == "no_signal":
        title = c.t(
            "Поля заявки, которые ничего не предсказывают",
            "Lead fields that predict nothing",
        )
        number, comparison = (
            f"IV {c.num(float(lead.lead.value or 0), 3)}",
            c.t(
                f"меньше {c.num(float(lead.lead.baseline or 0), 2)}",
                f"below {c.num(float(lead.lead.baseline or 0), 2)}",
            ),
        )
        action = c.t(
            "Не тратьте на эти поля время при квалификации.",
            "Do not spend qualification time on these fields.",
        )
    else:
        e = lead.lead.evidence
        title = c.t(
            f"Лучше всего покупают заявки, где {_attr_value(lead, c)}",
            f"Leads with {_attr_value(lead, c)} buy best",
        )
        number = c.pct(e["conversion_rate"])
        comparison = c.t(
            f"против {c.pct(e['overall_rate'])} в среднем",
            f"vs {c.pct(e['overall_rate'])} on average",
        )
        action = c.t(
            f"Берите в работу первыми заявки, где {_attr_value(lead, c)}, и ищите больше таких",
            f"Work leads with {_attr_value(lead, c)} first and look for more of them",
        )
        if weak:
            action += c.t(
                f"; заявки, где {_attr_value(weak[0], c)}, — в конец очереди или перестаньте за них платить.",
                f"; move leads with {_attr_value(weak[0], c)} to the end of the queue or stop paying for them.",
            )
        else:
            action += "."
    return Wording(
        title=title,
        number=number,
        comparison=comparison,
        text=" ".join(parts),
        action=action,
    )
