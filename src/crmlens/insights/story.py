"""The story's data: :class:`Story`, its items and their evidence, rendered as text,
Markdown or plain data (JSON). :mod:`crmlens.insights.narrative` builds it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from crmlens.insights import i18n
from crmlens.insights.findings import Finding
from crmlens.insights.roles import role_spec


@dataclass(frozen=True)
class Evidence:
    """Where the rows behind an item are: the analysis, a CLI command, a web link."""

    analysis: str
    command: str

    @property
    def link(self) -> str:
        """The web page of the analysis."""
        return f"/analysis/{self.analysis}"

    def to_dict(self) -> dict[str, str]:
        """Plain data."""
        return {"analysis": self.analysis, "command": self.command, "link": self.link}


@dataclass
class StoryItem:
    """One item of the story: a conclusion with its number, comparison and action."""

    finding: Finding
    title: str
    number: str
    comparison: str
    text: str
    action: str
    evidence: Evidence
    severity: str = "medium"
    stake: float | None = None
    related: list[Finding] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the words, the evidence and the finding behind the item."""
        return {
            "title": self.title,
            "number": self.number,
            "comparison": self.comparison,
            "text": self.text,
            "action": self.action,
            "severity": self.severity,
            "stake": self.stake,
            "evidence": self.evidence.to_dict(),
            "finding": self.finding.to_dict(),
            "related": [f.id for f in self.related],
        }


@dataclass(frozen=True)
class Skipped:
    """An analysis the story could not run, and why."""

    analysis: str
    reason: str


LABELS = {
    "role": ("Роль", "Role"),
    "scope": ("Область", "Scope"),
    "as_of": ("На дату", "As of"),
    "action": ("Что сделать", "Action"),
    "evidence": ("Данные", "Evidence"),
    "skipped": ("Не удалось выполнить", "Not run"),
    "none": ("Существенных проблем не найдено.", "No significant problems found."),
}


@dataclass
class Story:
    """The narrative: a headline and the ranked items, in one language."""

    headline: str
    lang: str
    role: str
    scope: str | None
    as_of: dt.date
    items: list[StoryItem]
    skipped: list[Skipped] = field(default_factory=list)
    currency: str = "RUB"
    seconds: dict[str, float] = field(default_factory=dict)

    def _label(self, key: str) -> str:
        ru, en = LABELS[key]
        return ru if self.lang == "ru" else en

    def meta(self) -> str:
        """Role, scope and date in one line."""
        title = role_spec(self.role).title[self.lang]
        parts = [f"{self._label('role')}: {title}"]
        if self.scope:
            parts.append(f"{self._label('scope')}: {self.scope}")
        parts.append(f"{self._label('as_of')}: {i18n.fmt_date(self.as_of, self.lang)}")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the JSON of ``crmlens insights --format json``)."""
        return {
            "headline": self.headline,
            "lang": self.lang,
            "role": self.role,
            "scope": self.scope,
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "items": [i.to_dict() for i in self.items],
            "skipped": [
                {"analysis": s.analysis, "reason": s.reason} for s in self.skipped
            ],
            "seconds": {k: round(v, 3) for k, v in self.seconds.items()},
        }

    def to_markdown(self) -> str:
        """The story as Markdown: headline, then one section per item."""
        lines = [f"# {self.headline}", "", f"*{self.meta()}*", ""]
        if not self.items:
            lines += [self._label("none"), ""]
        for n, item in enumerate(self.items, 1):
            lines += [f"## {n}. {item.title}", ""]
            if item.number:
                tail = f" — {item.comparison}" if item.comparison else ""
                lines += [f"**{item.number}**{tail}", ""]
            lines += [
                item.text,
                "",
                f"**{self._label('action')}:** {item.action}",
                "",
                f"{self._label('evidence')}: `{item.evidence.command}` "
                f"([{item.evidence.link}]({item.evidence.link}))",
                "",
            ]
        if self.skipped:
            lines += [f"*{self._label('skipped')}:*", ""]
            lines += [f"- {s.analysis}: {s.reason}" for s in self.skipped] + [""]
        return "\n".join(lines)

    def to_text(self) -> str:
        """The story as plain text (e-mail bodies, logs)."""
        lines = [self.headline, self.meta(), ""]
        if not self.items:
            lines += [self._label("none"), ""]
        for n, item in enumerate(self.items, 1):
            head = f"{n}. {item.title}"
            if item.number:
                head += f" — {item.number}"
                head += f" ({item.comparison})" if item.comparison else ""
            lines += [
                head,
                f"   {item.text}",
                f"   → {item.action}",
                f"   {self._label('evidence')}: {item.evidence.command}",
                "",
            ]
        if self.skipped:
            lines.append(f"{self._label('skipped')}:")
            lines += [f"  - {s.analysis}: {s.reason}" for s in self.skipped]
        return "\n".join(lines).rstrip() + "\n"
