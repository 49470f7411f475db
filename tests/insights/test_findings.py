"""The finding schema: defined once, validated, ranked by money at stake."""

from __future__ import annotations

import jsonschema
import pytest

from crmlens.insights.findings import FINDING_SCHEMA, Finding, rank, validate


def make(
    kind: str = "stage_drop", impact: float | None = 1000.0, severity: str = "high"
) -> Finding:
    return Finding(
        analysis="funnel",
        kind=kind,
        severity=severity,  # type: ignore[arg-type]
        subject={"type": "stage", "id": "КП", "next": "Переговоры"},
        metric="conversion_to_next",
        value=0.38,
        baseline=0.62,
        impact=impact,
        period="2025-05",
        text={"ru": "Конверсия упала", "en": "Conversion dropped"},
        action={"ru": "Разберите сделки", "en": "Review the deals"},
        evidence={"p_value": 0.001},
    )


def test_finding_matches_schema() -> None:
    data = make().to_dict()
    validate(data)
    assert list(data) == ["id", *[k for k in FINDING_SCHEMA["required"] if k != "id"]]


def test_id_is_stable_and_distinct() -> None:
    assert make().id == make().id
    assert make().id != make(kind="segment_gap").id


@pytest.mark.parametrize(
    "broken",
    [
        {"severity": "critical"},
        {"text": {"ru": "только по-русски"}},
        {"subject": {"id": "x"}},
        {"impact": "много"},
        {"extra": 1},
    ],
)
def test_schema_rejects_broken_findings(broken: dict[str, object]) -> None:
    data = {**make().to_dict(), **broken}
    with pytest.raises(jsonschema.ValidationError):
        validate(data)


def test_rank_by_money_then_severity() -> None:
    low = make(kind="a", impact=10.0, severity="low")
    big = make(kind="b", impact=5000.0, severity="low")
    none_high = make(kind="c", impact=None, severity="high")
    none_low = make(kind="d", impact=None, severity="low")
    assert rank([none_low, low, none_high, big]) == [big, low, none_high, none_low]
