"""Templates of the analyst's themes: data quality, real journeys, revenue structure, team
credit (see :mod:`crmlens.insights.wording`)."""

from __future__ import annotations

from crmlens.insights.wording import Ctx, Member, Wording, cap, join, more, template

REQUIREMENTS = {
    "uniqueness": ("уникальность", "uniqueness"),
    "accuracy": ("точность", "accuracy"),
    "interconnectedness": ("связность", "interconnectedness"),
    "completeness": ("полнота", "completeness"),
    "consistency": ("согласованность", "consistency"),
    "process": ("соблюдение процесса", "following the process"),
    "accessibility": ("доступность", "accessibility"),
    "timeliness": ("своевременность", "timeliness"),
    "relevance": ("актуальность", "relevance"),
    "reliability": ("надёжность", "reliability"),
}
STEPS = {
    "extra_meeting": ("повторные встречи", "repeated meetings"),
    "repeat": ("повторный этап", "a repeated stage"),
    "skipped_stage": ("пропуск этапа", "a skipped stage"),
}


def _label(check: str, c: Ctx, *, fix: bool = False) -> str:
    from crmlens.insights.rules import _quality_text as words

    return (words.fix if fix else words.label)(check, c.lang)


@template("data_checks")
def data_checks(ms: list[Member], c: Ctx) -> Wording:
    """Data-quality checks that fail on many records."""
    parts = []
    for m in ms[:3]:
        f = m.lead
        parts.append(
            f"{cap(_label(str(f.subject['id']), c))}: {c.num(f.evidence['failed'])} "
            f"({c.pct(f.value)})."
        )
    fixes = "; ".join(_label(str(m.subject["id"]), c, fix=True) for m in ms[:2])
    f = ms[0].lead
    return Wording(
        title=c.t(
            "Данным CRM нельзя доверять полностью",
            "The CRM data cannot be fully trusted",
        ),
        number=c.pct(f.value),
        comparison=_label(str(f.subject["id"]), c),
        text=" ".join(parts) + more(ms, 3, c, "check"),
        action=c.t(
            f"{cap(fixes)}; записи для исправления по менеджерам — crmlens quality --by manager.",
            f"{cap(fixes)}; the records to fix by manager: crmlens quality --by manager.",
        ),
    )


@template("data_score")
def data_score(ms: list[Member], c: Ctx) -> Wording:
    """The overall data-quality score and its weakest requirement."""
    f = ms[0].lead
    scores = dict(f.evidence.get("scores", {}))
    score = c.num(f.value)
    text = c.t(
        f"Качество данных CRM — {score} из 100.",
        f"CRM data quality scores {score} of 100.",
    )
    if scores:
        weakest = min(scores, key=lambda k: (scores[k], k))
        ru, en = REQUIREMENTS.get(weakest, (weakest, weakest))
        text = c.t(
            f"Качество данных CRM — {score} из 100; слабее всего требование {c.q(ru)} "
            f"({c.num(scores[weakest])}).",
            f"CRM data quality scores {score} of 100; the weakest requirement is "
            f"{c.q(en)} ({c.num(scores[weakest])}).",
        )
    return Wording(
        title=c.t(
            f"Качество данных CRM — {score} из 100", f"CRM data quality: {score} of 100"
        ),
        number=f"{score} / 100",
        comparison="",
        text=text,
        action=c.t(
            "Начните с самых частых ошибок: crmlens quality покажет их по менеджерам.",
            "Start with the most frequent errors: crmlens quality shows them by manager.",
        ),
    )


def _step(step: dict[str, object], c: Ctx) -> str:
    ru, en = STEPS.get(str(step.get("kind")), (str(step.get("kind")),) * 2)
    stage = step.get("stage")
    words = c.t(ru, en) + (f" {c.q(stage)}" if stage else "")
    return c.t(
        f"{words} ({c.pct(step.get('share_of_won'))} выигранных сделок)",
        f"{words} ({c.pct(step.get('share_of_won'))} of won deals)",
    )


@template("journey_gap")
def journey_gap(ms: list[Member], c: Ctx) -> Wording:
    """Won deals take steps the designed pipeline does not have."""
    parts = []
    for m in ms[:3]:
        f = m.lead
        steps = list(f.evidence.get("undesigned_steps", []))[:2]
        designed, real = float(f.baseline or 0), float(f.value or 0)
        extra = c.t(
            f"; чаще всего вне схемы — {join([_step(s, c) for s in steps], c)}",
            f"; the most common steps outside it: {join([_step(s, c) for s in steps], c)}",
        )
        parts.append(
            c.t(
                f"Воронка {c.q(m.subject['id'])}: по схеме {c.count(designed, 'stage')}, а "
                f"выигранные сделки проходят в среднем {c.count(real, 'step')}"
                f"{extra if steps else ''}.",
                f"Pipeline {c.q(m.subject['id'])}: {c.count(designed, 'stage')} by design, "
                f"won deals take a median of {c.count(real, 'step')}"
                f"{extra if steps else ''}.",
            )
        )
    f = ms[0].lead
    return Wording(
        title=c.t(
            "Сделки идут не по схеме воронки",
            "Deals do not follow the designed pipeline",
        ),
        number=c.count(float(f.value or 0), "step"),
        comparison=c.t(
            f"по схеме {c.count(float(f.baseline or 0), 'stage')}",
            f"{c.count(float(f.baseline or 0), 'stage')} by design",
        ),
        text=" ".join(parts),
        action=c.t(
            "Добавьте эти шаги в воронку CRM (или уберите лишний этап), чтобы отчёты и сроки "
            "этапов отражали реальную работу.",
            "Add these steps to the CRM pipeline (or drop the stage nobody uses) so that "
            "reports and stage deadlines match how deals are really won.",
        ),
    )


@template("abc_concentration")
def abc_concentration(ms: list[Member], c: Ctx) -> Wording:
    """Most revenue comes from large clients who buy irregularly (A × Z)."""
    f = ms[0].lead
    cells = list(f.evidence.get("matrix", []))
    noun = "client" if f.subject.get("type") == "client" else "product"
    az = next(x for x in cells if (x["abc"], x["xyz"]) == ("A", "Z"))
    share_a = sum(float(x["value_share"]) for x in cells if x["abc"] == "A")
    return Wording(
        title=c.t(
            "Выручка держится на крупных нерегулярных клиентах",
            "Revenue rests on large clients who buy irregularly",
        ),
        number=c.money(f.value),
        comparison=c.t(
            f"{c.pct(az['value_share'])} выручки за год",
            f"{c.pct(az['value_share'])} of revenue",
        ),
        text=c.t(
            f"Группа A даёт {c.pct(share_a)} выручки; нерегулярных покупателей (AZ) в ней — "
            f"{c.count(int(az['items']), noun)} на {c.money(f.value)} за год.",
            f"Group A brings {c.pct(share_a)} of revenue; irregular buyers (AZ) in it: "
            f"{c.count(int(az['items']), noun)}, worth {c.money(f.value)} a year.",
        ),
        action=c.t(
            "Закрепите за AZ-клиентами ответственных и договоритесь о графике поставок, "
            "чтобы выручка стала предсказуемой.",
            "Give AZ clients a named owner and agree a delivery schedule so that their "
            "revenue becomes predictable.",
        ),
    )


@template("hidden_help")
def hidden_help(ms: list[Member], c: Ctx) -> Wording:
    """A manager who helps win others' deals that the owner-only bonus does not see."""
    f = ms[0].lead
    e, who = f.evidence, c.who(f.subject)
    deals, rev = int(e["deals_of_others"]), e["revenue_of_others"]
    return Wording(
        title=c.t(
            f"Командную работу не видит премия: {who}",
            f"Team work the bonus does not see: {who}",
        ),
        number=c.money(f.value),
        comparison=c.t("больше при командном зачёте", "more under team credit"),
        text=c.t(
            f"{who} — участник выигранных сделок других менеджеров: {c.count(deals, 'deal')} на "
            f"{c.money(rev)}; при оплате только владельцу сделки это не засчитывается. При "
            f"командном зачёте (поровну между участниками) — на {c.money(f.value)} больше.",
            f"{who} took part in {c.count(deals, 'deal')} won by others, worth {c.money(rev)}; "
            f"owner-only credit counts none of it. Team credit (split equally) would credit "
            f"{c.money(f.value)} more.",
        ),
        action=c.t(
            "Прежде чем менять систему премий, обсудите командный зачёт: сравните схемы "
            "(crmlens managers credit --compare) и проверьте, кто теряет.",
            "Before changing the bonus plan, discuss team credit: compare the schemes "
            "(crmlens managers credit --compare) and check who loses.",
        ),
    )
