"""The finding: one schema for every analysis (DESIGN.md, "Interfaces").

A finding is a plain conclusion with a recommended action, in Russian and English, with the
number behind it, what it was compared with, the money at stake and the evidence. Findings
of every analysis share this shape so that insights, reports, alerts and the web rank and
show them the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["high", "medium", "low"]
SEVERITY_RANK = {"high": 0, "medium": 1, "low": 2}

FINDING_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "crmlens finding",
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id",
        "analysis",
        "kind",
        "severity",
        "subject",
        "metric",
        "value",
        "baseline",
        "impact",
        "period",
        "text",
        "action",
        "evidence",
    ],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "analysis": {"type": "string", "minLength": 1},
        "kind": {"type": "string", "minLength": 1},
        "severity": {"enum": ["high", "medium", "low"]},
        "subject": {
            "type": "object",
            "required": ["type", "id"],
            "properties": {
                "type": {"type": "string"},
                "id": {"type": ["string", "null"]},
            },
        },
        "metric": {"type": "string"},
        "value": {"type": ["number", "string", "null"]},
        "baseline": {"type": ["number", "string", "null"]},
        "impact": {"type": ["number", "null"]},
        "period": {"type": ["string", "null"]},
        "text": {"$ref": "#/$defs/bilingual"},
        "action": {"$ref": "#/$defs/bilingual"},
        "evidence": {"type": "object"},
    },
    "$defs": {
        "bilingual": {
            "type": "object",
            "additionalProperties": False,
            "required": ["ru", "en"],
            "properties": {
                "ru": {"type": "string", "minLength": 1},
                "en": {"type": "string", "minLength": 1},
            },
        }
    },
}


@dataclass(frozen=True)
class Finding:
    """One conclusion of an analysis, with its action, in RU and EN."""

    analysis: str
    kind: str
    severity: Severity
    subject: dict[str, Any]
    metric: str
    value: float | str | None
    baseline: float | str | None
    impact: float | None
    period: str | None
    text: dict[str, str]
    action: dict[str, str]
    evidence: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """A stable id: the same finding gets the same id on the next run."""
        key = json.dumps(
            [self.analysis, self.kind, self.subject, self.metric, self.period],
            sort_keys=True,
            default=str,
        )
        return (
            f"{self.analysis}:{self.kind}:{hashlib.sha1(key.encode()).hexdigest()[:10]}"
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data in the order of the schema."""
        data = asdict(self)
        return {"id": self.id, **data}


def rank(findings: list[Finding]) -> list[Finding]:
    """Findings ordered by money at stake, then severity (largest, most severe first)."""
    return sorted(
        findings,
        key=lambda f: (
            -(f.impact or 0.0),
            SEVERITY_RANK[f.severity],
            f.analysis,
            f.kind,
        ),
    )


def validate(data: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError when `data` is not a finding."""
    import jsonschema

    jsonschema.validate(data, FINDING_SCHEMA)


def dedupe(findings: list[Finding]) -> list[Finding]:
    """Drop findings with an id already seen (the same conclusion from two analyses)."""
    seen: set[str] = set()
    out = []
    for f in findings:
        if f.id not in seen:
            seen.add(f.id)
            out.append(f)
    return out
