"""The story of ``crmlens insights`` on the demo: golden files, the planted problems, scopes.

The golden files are written with ``CRMLENS_UPDATE_GOLDEN=1`` and read by a person: no
template placeholders, numbers formatted for the language, Russian plurals right (the
checks below repeat that reading mechanically).
"""

from __future__ import annotations

import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from crmlens.insights import i18n
from crmlens.insights.narrative import Collected, tell
from crmlens.insights.story import Story
from tests.insights import story_cache

GOLDEN = Path(__file__).resolve().parents[1] / "golden"


def collected(
    wh: Any, engine: str, role: str = "head", scope: str | None = None
) -> Collected:
    """One run of a role's analyses per warehouse and scope for all the story's tests."""
    return story_cache.collected(wh, role, scope)


def words(story: Story) -> list[str]:
    """Every text a person reads in the story."""
    out = [story.headline, story.meta()]
    for item in story.items:
        out += [item.title, item.number, item.comparison, item.text, item.action]
    return out


def assert_reads_well(story: Story) -> None:
    """No placeholders, numbers formatted for the language, Russian plurals agreeing."""
    for text in [*words(story), story.to_markdown(), story.to_text()]:
        assert "{" not in text, text
        assert "}" not in text, text
        assert not re.search(r"\b(None|nan|NaN|inf|null)\b", text), text
        assert not re.search(r"(?<![\d.])\d+\.\d{3,}(?![\d.])", text), (
            text
        )  # a raw float
    for text in words(story):
        assert "  " not in text, text
        assert text == text.strip(), text
    if story.lang == "ru":
        for text in words(story):
            assert not re.search(r"(?<![\d.])\d+\.\d+(?![\d.])", text), (
                text
            )  # 2.4 in ru
            assert not re.search(r"\d,\d{3}\b", text), text  # English thousands
            check_russian_plurals(text)
    else:
        for text in words(story):
            assert not re.search(r"\d,\d(?!\d{2})", text), text  # a decimal comma


def check_russian_plurals(text: str) -> None:
    """Every «number + catalogued noun» takes the form the number asks for."""
    number = r"(\d[\d\xa0]*(?:,\d+)?)"
    for noun, (forms, _) in i18n.NOUNS.items():
        for m in re.finditer(number + r" (" + "|".join(forms) + r")\b", text):
            n = Decimal(m.group(1).replace("\xa0", "").replace(",", "."))
            assert m.group(2) == i18n.word(n, noun, "ru"), (m.group(0), text)


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_golden_story_of_the_demo(demo_wh: Any, engine: str, lang: str) -> None:
    story = tell(collected(demo_wh, engine), lang=lang, top=7)
    assert_reads_well(story)
    path = GOLDEN / f"insights_head_{lang}.md"
    text = story.to_markdown()
    if os.environ.get("CRMLENS_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def theme(item: Any) -> str:
    from crmlens.insights.wording import theme_of

    return theme_of(item.finding)


def planted(item: Any, truth: dict[str, Any]) -> str | None:
    """The pattern of truth.json an item tells, if any."""
    f, subjects = item.finding, [item.finding, *item.related]
    ids = {str(x.subject.get("id")) for x in subjects}
    t = theme(item)
    careless = truth["managers"]["careless"]
    if t == "stage_drop":
        drop = truth["stage_drop"]
        same = (f.subject["id"], f.subject["next"]) == (drop["stage"], drop["next"])
        return "stage_drop" if same and f.period == drop["from_month"] else None
    if t == "plan_at_risk":
        return "plan" if f.subject["id"] == truth["plan"]["behind_region"] else None
    if t == "slow_response":
        return "careless_manager" if careless in ids else None
    if t == "client_leaving":
        churned = {c["account_id"] for c in truth["churned_clients"]}
        return "churn" if churned & ids or f.kind == "rfm_segment" else None
    if t == "campaign_payback":
        return "campaigns" if truth["campaigns"]["worst"] in ids else None
    if t == "key_checklist_item":
        return "checklist" if f.subject["id"] == truth["checklist_key_item"] else None
    if t == "manager_mix":
        mix = {truth["managers"]["cold_strong"], truth["managers"]["warm_weak"]}
        return "manager_mix" if ids <= mix else None
    return None


def test_top_items_are_the_planted_problems(
    demo_wh: Any, engine: str, demo_truth: dict[str, Any]
) -> None:
    found = collected(demo_wh, engine)
    story = tell(found, lang="en", top=7)
    told = [planted(item, demo_truth) for item in story.items]
    assert None not in told, [i.title for i in story.items]
    for must in ("stage_drop", "plan", "careless_manager", "churn", "campaigns"):
        assert must in told, (must, told)
    assert len(story.items) == 7
    first = tell(found, lang="en", top=5)  # the default: five planted problems too
    assert [planted(i, demo_truth) for i in first.items] == told[:5]
    plan = next(i for i in story.items if theme(i) == "plan_at_risk")
    assert plan.text.split(". ")[1].startswith(demo_truth["plan"]["behind_region"])
    slow = next(i for i in story.items if theme(i) == "slow_response")
    assert f"({demo_truth['managers']['careless']})" in slow.text
    assert {f.kind for f in slow.related} >= {"slow_response", "overdue_tasks"}


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_manager_story_mentions_no_other_manager(
    demo_wh: Any, engine: str, lang: str
) -> None:
    story = tell(collected(demo_wh, engine, "manager", "manager:M05"), lang=lang, top=7)
    assert story.scope == "manager:M05"
    assert story.items
    assert_reads_well(story)
    outputs = [story.to_text(), story.to_markdown(), json.dumps(story.to_dict())]
    for out in outputs:
        assert set(re.findall(r"\bM\d\d\b", out)) == {"M05"}, out
    assert story.headline.startswith("Игорь Белов (M05): ")


def test_regional_story_stays_in_its_region(demo_wh: Any, engine: str) -> None:
    story = tell(collected(demo_wh, engine, "regional", "region:Юг"), lang="ru", top=7)
    m = demo_wh.managers.to_pyarrow().to_pylist()
    own = {r["manager_id"] for r in m if r["region"] == "Юг"}
    mentioned = set(re.findall(r"\bM\d\d\b", story.to_markdown()))
    assert mentioned, story.to_markdown()
    assert mentioned <= own, (mentioned, own)
    assert story.headline.startswith("Регион Юг: ")
    assert_reads_well(story)
    plan = next(i for i in story.items if theme(i) == "plan_at_risk")
    assert "Юг" in plan.text


@pytest.mark.slow
def test_every_theme_on_the_demo_reads_well(demo_wh: Any, engine: str) -> None:
    """All findings of every analysis (the analyst's story, 20 items) in both languages."""
    found = collected(demo_wh, engine, "analyst")
    assert not found.skipped, found.skipped
    for lang in ("ru", "en"):
        story = tell(found, lang=lang, top=20)
        assert len(story.items) >= 12
        assert_reads_well(story)
        assert len({i.title for i in story.items}) == len(story.items)
