"""An alert: a finding that a rule sends, with the stable key that makes it sent once."""

from __future__ import annotations

import datetime as dt
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmlens.alerts.rules import Repeat, Rule
    from crmlens.insights.findings import Finding

#: Headline of each rule kind (ru, en).
TITLES: dict[str, tuple[str, str]] = {
    "plan_at_risk": ("План под угрозой", "Plan at risk"),
    "lead_unanswered": ("Заявка без ответа", "Lead not answered"),
    "key_client_silent": ("Ключевой клиент молчит", "Key client silent"),
    "overdue_tasks": ("Просроченные задачи", "Overdue tasks"),
    "stage_drop": ("Провал на этапе воронки", "Funnel stage drop"),
}
SEVERITY_WORDS: dict[str, tuple[str, str]] = {
    "high": ("высокая", "high"),
    "medium": ("средняя", "medium"),
    "low": ("низкая", "low"),
}


@dataclass(frozen=True)
class Alert:
    """What one rule says about one subject, as of one day.

    `key` is stable: the same rule, subject and period give the same key on every run,
    so the state store can tell that it was already delivered.
    """

    key: str
    rule: Rule
    finding: Finding
    as_of: dt.date
    label: dict[str, str]

    @property
    def severity(self) -> str:
        """high, medium or low (the finding's)."""
        return self.finding.severity

    @property
    def lang(self) -> str:
        """The rule's language."""
        return self.rule.language

    @property
    def title(self) -> str:
        """The rule kind's headline in the rule's language."""
        ru, en = TITLES[self.rule.kind]
        return ru if self.lang == "ru" else en

    @property
    def subject_label(self) -> str:
        """Who or what the alert is about, in words."""
        return self.label[self.lang]

    @property
    def text(self) -> str:
        """The finding's text in the rule's language."""
        return self.finding.text[self.lang]

    @property
    def action(self) -> str:
        """The recommended action in the rule's language."""
        return self.finding.action[self.lang]

    def payload(self) -> dict[str, Any]:
        """The JSON a webhook receives."""
        return {
            "alert": self.key,
            "rule": self.rule.name,
            "kind": self.rule.kind,
            "severity": self.severity,
            "language": self.lang,
            "scope": str(self.rule.scope),
            "as_of": self.as_of.isoformat(),
            "subject": self.subject_label,
            "text": self.text,
            "action": self.action,
            "finding": plain(self.finding.to_dict()),
        }


def bucket(repeat: Repeat, as_of: dt.date) -> str | None:
    """The period an alert repeats in: None (once), the day, ISO week or month of as_of.

    >>> bucket("week", dt.date(2025, 12, 15)), bucket("once", dt.date(2025, 12, 15))
    ('2025-W51', None)
    """
    if repeat == "day":
        return as_of.isoformat()
    if repeat == "week":
        year, week, _ = as_of.isocalendar()
        return f"{year}-W{week:02d}"
    if repeat == "month":
        return f"{as_of:%Y-%m}"
    return None


def alert_key(rule: Rule, subject: str, as_of: dt.date, *parts: str) -> str:
    """``rule:kind:subject[:part…][:bucket]`` — the identity of an alert."""
    tail = [p for p in (*parts, bucket(rule.repeat, as_of)) if p]
    return ":".join([rule.name, rule.kind, subject, *tail])


def plain(value: Any) -> Any:
    """JSON-ready data: dates as ISO text, NaN as None, numpy scalars as numbers."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return plain(value.item())
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return json.loads(json.dumps(value, default=str))
