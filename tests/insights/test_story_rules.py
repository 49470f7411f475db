"""The story's rules on hand-made findings: said once, grouped, ranked, worded, skipped."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from crmlens.errors import InputError, WarehouseError
from crmlens.insights import registry, roles
from crmlens.insights.findings import Finding
from crmlens.insights.narrative import (
    Collected,
    build_story,
    check_scope,
    collect,
    group_findings,
    tell,
)
from crmlens.insights.registry import AnalysisResult
from crmlens.insights.roles import ROLES, RoleSpec, analyses_for
from crmlens.warehouse.scope import Scope

DAY = dt.date(2025, 12, 15)
PLACEHOLDERS = ("{", "}", "None", "nan", "NaN", "inf")


def make(
    kind: str,
    subject: dict[str, Any],
    *,
    analysis: str = "x",
    impact: float | None = None,
    severity: str = "high",
    value: float | str | None = 0.5,
    baseline: float | str | None = 0.6,
    metric: str = "m",
    period: str | None = "2025-12",
    evidence: dict[str, Any] | None = None,
) -> Finding:
    return Finding(
        analysis=analysis,
        kind=kind,
        severity=severity,  # type: ignore[arg-type]
        subject=subject,
        metric=metric,
        value=value,
        baseline=baseline,
        impact=impact,
        period=period,
        text={"ru": f"Текст {kind}. Дальше.", "en": f"Text {kind}. More."},
        action={"ru": f"Действие {kind}.", "en": f"Action {kind}."},
        evidence=evidence or {},
    )


def silent(acc: str, stake: float, analysis: str = "customers_churn") -> Finding:
    if analysis == "customers_churn":
        return make(
            "silent_client",
            {"type": "account", "id": acc},
            analysis=analysis,
            impact=stake,
            value=120,
            baseline=30.0,
            metric="days_since_last_order",
            evidence={"last_order_date": "2025-08-15"},
        )
    return make(
        "valuable_client_at_risk",
        {"type": "account", "id": acc, "name": "ООО «Ромашка»"},
        analysis=analysis,
        impact=stake,
        value=0.04,
        baseline=0.5,
        metric="p_alive",
        evidence={"days_since_last_order": 266, "historical_value": 3e6},
    )


def collected(findings: list[Finding], **kw: Any) -> Collected:
    return Collected(
        role=kw.get("role", "head"),
        scope=kw.get("scope"),
        as_of=DAY,
        findings=findings,
        skipped=[],
        seconds={},
        names=kw.get("names", {}),
    )


def test_same_client_from_two_analyses_is_said_once() -> None:
    fs = [silent("A1", 100.0), silent("A1", 80.0, "customers_clv"), silent("A2", 50.0)]
    groups = group_findings(fs)
    assert [g.theme for g in groups] == ["client_leaving"]
    (g,) = groups
    assert [m.subject["id"] for m in g.members] == ["A1", "A2"]
    assert len(g.members[0].findings) == 2
    assert g.stake == 150.0  # A1 counted once (the larger), plus A2


def test_identical_findings_are_deduplicated() -> None:
    f = make(
        "stage_drop", {"type": "stage", "id": "КП", "next": "Переговоры"}, impact=5.0
    )
    (g,) = group_findings([f, f])
    assert len(g.members) == 1
    assert len(g.members[0].findings) == 1


def test_ranking_weights_money_by_severity_and_nature() -> None:
    high = make("stage_drop", {"type": "stage", "id": "A", "next": "B"}, impact=60.0)
    medium = make(
        "worst_payback",
        {"type": "campaign", "id": "C1"},
        impact=100.0,
        severity="medium",
    )
    upside = make("best_payback", {"type": "campaign", "id": "C2"}, impact=1000.0)
    fact = make("abc_concentration", {"type": "client", "id": "AZ"}, impact=1e9)
    quiet = make("journey_gap", {"type": "pipeline", "id": "main"}, severity="low")
    groups = group_findings([fact, quiet, upside, medium, high])
    assert [g.theme for g in groups] == [
        "campaign_payback",  # 100 at stake (medium) + 1000 to win at a quarter: 175
        "stage_drop",  # 60 at stake, high
        "abc_concentration",  # a size, not money at stake: after the money, by severity
        "journey_gap",
    ]
    assert groups[0].stake == 100.0
    assert groups[2].stake == 0.0


def test_discipline_notes_join_the_item_about_the_same_manager() -> None:
    m09 = {"type": "manager", "id": "M09", "name": "Павел Титов"}
    cost = make(
        "slow_answers_cost",
        {"type": "company", "id": None},
        analysis="managers_response",
        impact=54e6,
        value=0.2205,
        baseline=0.277,
        evidence={"slow_leads": 4902, "fast_leads": 10368},
    )
    slow = make(
        "slow_response", m09, analysis="managers_response", value=21.1, baseline=0.5
    )
    overdue = make(
        "overdue_tasks", m09, analysis="managers_kpis", value=225, baseline=25
    )
    helper = make(
        "hidden_help",
        {"type": "manager", "id": "M09"},
        analysis="managers_credit",
        impact=1e8,
    )
    groups = group_findings([overdue, helper, slow, cost])
    assert [g.theme for g in groups] == ["slow_response", "hidden_help"]
    assert groups[0].related == [overdue]
    story = tell(collected([overdue, helper, slow, cost]), lang="ru", top=5)
    first = story.items[0]
    assert "Павел Титов (M09) — 21,1 ч" in first.text
    assert "просроченных задач — 225" in first.text
    assert "277 сделок" in first.text  # (0.277 - 0.2205) x 4902 lost
    assert first.evidence.command == "crmlens managers response --as-of 2025-12-15"
    assert {f.kind for f in first.related} == {"slow_response", "overdue_tasks"}


def test_in_a_managers_own_story_every_finding_keeps_its_item() -> None:
    m = {"type": "manager", "id": "M09"}
    plan = make(
        "plan_at_risk",
        m,
        analysis="plan",
        impact=1e6,
        value=0.3,
        baseline=0.8,
        evidence={"target_amount": 2e6, "forecast_amount": 1.5e6, "gap_amount": 5e5},
    )
    overdue = make("overdue_tasks", m, analysis="managers_kpis", value=225, baseline=25)
    assert len(group_findings([plan, overdue])) == 1  # company story: a note
    assert len(group_findings([plan, overdue], scope="manager:M09")) == 2


def test_unknown_kind_keeps_its_own_words_and_a_broken_one_too() -> None:
    odd = make("mystery", {"type": "thing", "id": "T1"}, impact=10.0)
    broken = make("stage_drop", {"type": "stage", "id": "A"}, impact=5.0)  # no "next"
    story = tell(collected([odd, broken]), lang="en", top=5)
    assert [i.text for i in story.items] == [
        "Text mystery. More.",
        "Text stage_drop. More.",
    ]
    assert story.items[0].title == "Text mystery"
    assert story.items[0].action == "Action mystery."
    assert story.headline.startswith("2 problems put RUB")


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_headline_without_money_and_without_findings(lang: str) -> None:
    quiet = make("journey_gap", {"type": "pipeline", "id": "main"}, severity="low")
    story = tell(collected([quiet]), lang=lang)
    assert story.headline.startswith(
        "1 вывод; главный" if lang == "ru" else "1 finding;"
    )
    empty = tell(collected([]), lang=lang)
    assert empty.items == []
    assert empty.headline in (
        "Существенных проблем не найдено.",
        "No significant problems found.",
    )
    assert empty.headline in empty.to_text()
    assert empty.headline in empty.to_markdown()


def test_story_renders_as_text_markdown_and_json() -> None:
    fs = [silent("A1", 2_864_390.0), silent("A2", 1_000_000.0, "customers_clv")]
    story = tell(
        collected(fs, names={("account", "A1"): "ООО «Энергоимпорт»"}), lang="ru"
    )
    data = json.loads(json.dumps(story.to_dict(), ensure_ascii=False))
    assert data["items"][0]["evidence"] == {
        "analysis": "customers_churn",
        "command": "crmlens customers churn --as-of 2025-12-15",
        "link": "/analysis/customers_churn",
    }
    assert data["items"][0]["finding"]["kind"] == "silent_client"
    md = story.to_markdown()
    assert md.startswith("# 1 проблема — под угрозой 3,9\xa0млн\xa0₽")
    assert "## 1. Ключевые клиенты уходят" in md
    assert (
        "ООО «Энергоимпорт» (A1) — 120 дней без заказов при обычном интервале в 30 дней"
        in md
    )
    assert "ООО «Ромашка» (A2) — 266 дней без заказов" in md
    assert "`crmlens customers churn --as-of 2025-12-15`" in md
    words = [data["headline"]] + [
        item[k]
        for item in data["items"]
        for k in ("title", "number", "comparison", "text")
    ]
    for out in (md, story.to_text(), *words):
        assert not any(p in out for p in PLACEHOLDERS)


def test_usd_warehouse_speaks_dollars() -> None:
    f = make(
        "worst_payback",
        {"type": "campaign", "id": "C7"},
        analysis="campaigns",
        impact=14e6,
        value=-0.65,
        baseline=0.77,
        evidence={"cost_amount": 21.5e6, "revenue_amount": 7.5e6},
    )
    c = collected([f])
    c.currency = "USD"
    story = tell(c, lang="en")
    assert "$21.5M" in story.items[0].text
    assert "RUB" not in story.to_text()


def test_roles_list_registered_analyses_and_need_scopes() -> None:
    names = set(registry.names())
    for role in ROLES:
        assert analyses_for(role), role
        assert set(analyses_for(role)) <= names, role
    assert roles.scope_required("regional") == "region"
    assert roles.scope_required("manager") == "manager"
    assert analyses_for("admin") == analyses_for("head")
    with pytest.raises(InputError, match="needs --scope with a manager"):
        check_scope("manager", None)
    with pytest.raises(InputError, match="needs --scope with a region"):
        check_scope("regional", Scope("manager", "M05"))
    with pytest.raises(InputError, match="unknown role 'boss'"):
        analyses_for("boss")


def test_a_failing_analysis_is_skipped_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import crmlens

    def broken(wh: Any, **_: Any) -> AnalysisResult:
        raise WarehouseError(
            "table deal_stages is missing in schema crm of postgres://…"
        )

    def fine(wh: Any, **_: Any) -> AnalysisResult:
        import pyarrow as pa

        f = make(
            "stage_drop", {"type": "stage", "id": "КП", "next": "Счёт"}, impact=1e6
        )
        return AnalysisResult("t_fine", {}, pa.table({}), [f])

    registry.names()
    monkeypatch.setitem(
        registry.REGISTRY, "t_broken", registry.Analysis("t_broken", broken, "")
    )
    monkeypatch.setitem(
        registry.REGISTRY, "t_fine", registry.Analysis("t_fine", fine, "")
    )
    spec = RoleSpec(
        "t", {"ru": "т", "en": "t"}, {"t_broken": {}, "t_fine": {}, "t_gone": {}}
    )
    monkeypatch.setitem(ROLES, "t", spec)
    wh = crmlens.open(":memory:")
    story = build_story(wh, role="t", lang="en", as_of=DAY)
    assert [(s.analysis, s.reason) for s in story.skipped] == [
        ("t_broken", "table deal_stages is missing in schema crm of postgres://…"),
        ("t_gone", "not installed"),
    ]
    assert len(story.items) == 1
    assert "t_broken: table deal_stages is missing" in story.to_text()
    assert set(story.seconds) == {"t_broken", "t_fine"}
    progress: list[tuple[str, int, int]] = []
    collect(wh, role="t", as_of=DAY, progress=lambda *a: progress.append(a))
    assert progress[0] == ("t_broken", 0, 3)
    assert progress[-1] == ("", 3, 3)
