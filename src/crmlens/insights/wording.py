"""The wording of the story: a catalogue of finding kinds and templates in RU and EN.

Each known finding kind has a *theme* (findings of one theme about one subject are said
once: a silent client found by churn and by CLV is one client), a *nature* (``risk``: its
impact is money at stake; ``opportunity``: money to win; ``fact``: a size or a past change,
not at stake) and, through its theme, a template. A template is a function of the theme's
members (one per subject) and a :class:`Ctx` (language, currency, names) that returns a
:class:`Wording`; numbers go through :mod:`crmlens.insights.i18n`, so plurals and formats are
right and no placeholder can leak. A kind that is not catalogued keeps its finding's own
text and action.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from crmlens.insights import i18n
from crmlens.insights.findings import Finding

Nature = Literal["risk", "opportunity", "fact"]

#: kind -> (theme, nature). Kinds of one theme about one subject are said once.
KINDS: dict[str, tuple[str, Nature]] = {
    "stage_drop": ("stage_drop", "risk"),
    "segment_gap": ("segment_gap", "risk"),
    "plan_at_risk": ("plan_at_risk", "risk"),
    "low_pipeline_coverage": ("plan_at_risk", "risk"),
    "silent_client": ("client_leaving", "risk"),
    "valuable_client_at_risk": ("client_leaving", "risk"),
    "rfm_segment": ("client_leaving", "risk"),
    "slow_answers_cost": ("slow_response", "risk"),
    "slow_response": ("slow_response", "risk"),
    "key_checklist_item": ("key_checklist_item", "risk"),
    "hidden_weakness": ("manager_mix", "risk"),
    "hidden_strength": ("manager_mix", "opportunity"),
    "worst_payback": ("campaign_payback", "risk"),
    "best_payback": ("campaign_payback", "opportunity"),
    "negative_romi": ("source_payback", "risk"),
    "best_romi": ("source_payback", "opportunity"),
    "overdue_tasks": ("overdue_tasks", "risk"),
    "seasonal_client": ("seasonal_client", "opportunity"),
    "revenue_factor": ("revenue_factor", "fact"),
    "abc_concentration": ("abc_concentration", "fact"),
    "hidden_help": ("hidden_help", "fact"),
    "strongest_signal": ("lead_signals", "opportunity"),
    "weakest_signal": ("lead_signals", "risk"),
    "no_signal": ("lead_signals", "fact"),
    "manager": ("crm_discipline", "risk"),
    "check": ("data_checks", "risk"),
    "score": ("data_score", "fact"),
    "journey_gap": ("journey_gap", "fact"),
}

#: Themes said inside another item about the same subject (a manager's overdue tasks in
#: the item on his slow answers) rather than as an item of their own, when they carry no
#: money at stake.
ATTACHABLE = frozenset({"overdue_tasks", "crm_discipline", "slow_response"})


def finite(x: object) -> bool:
    """True for a real number (not None, NaN or infinite)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def number(x: object) -> float | None:
    """`x` as a float: numbers and numeric texts; None for anything else or NaN."""
    if isinstance(x, bool):
        return None
    if isinstance(x, (int, float)):
        return float(x) if math.isfinite(x) else None
    if isinstance(x, str):
        try:
            return number(float(x))
        except ValueError:
            return None
    return None


def known(f: Finding) -> bool:
    """True when a template words `f`'s theme (its title starts with a common word)."""
    return theme_of(f) in TEMPLATES


def theme_of(f: Finding) -> str:
    """The theme of `f` (its kind when the kind is not catalogued)."""
    return KINDS.get(f.kind, (f.kind, "risk"))[0]


def nature_of(f: Finding) -> Nature:
    """Whether `f`'s impact is money at stake, money to win or neither."""
    return KINDS.get(f.kind, (f.kind, "risk"))[1]


def subject_key(subject: dict[str, Any]) -> str:
    """One subject, whatever analysis names it (its display name left out)."""
    return json.dumps(
        {k: v for k, v in subject.items() if k != "name"}, sort_keys=True, default=str
    )


@dataclass
class Member:
    """One subject of a theme and the findings about it, most important first."""

    subject: dict[str, Any]
    findings: list[Finding]

    @property
    def lead(self) -> Finding:
        """The most important finding about the subject."""
        return self.findings[0]

    def money(self, nature: Nature = "risk") -> float:
        """Money of `nature` about this subject (largest of its findings: not summed)."""
        values = [
            abs(number(f.impact) or 0.0)
            for f in self.findings
            if nature_of(f) == nature
        ]
        return max(values, default=0.0)

    def get(self, kind: str) -> Finding | None:
        """This subject's finding of `kind`, if any."""
        return next((f for f in self.findings if f.kind == kind), None)


@dataclass
class Wording:
    """What a story item says."""

    title: str
    number: str
    comparison: str
    text: str
    action: str
    notes: list[str] = field(default_factory=list)


@dataclass
class Ctx:
    """Language, currency and display names of subjects for templates."""

    lang: str
    currency: str = "RUB"
    names: dict[tuple[str, str], str] = field(default_factory=dict)

    def t(self, ru: str, en: str) -> str:
        """The text in the story's language."""
        return ru if self.lang == "ru" else en

    def money(self, x: object) -> str:
        """A compact amount in the story's currency."""
        return i18n.fmt_money_short(number(x), self.lang, self.currency)

    def pct(self, x: object, digits: int = 0) -> str:
        """A share as a percentage."""
        return i18n.fmt_pct(number(x), self.lang, digits)

    def num(self, x: object, digits: int = 0) -> str:
        """A number."""
        return i18n.fmt_number(number(x), self.lang, digits)

    def count(self, n: float, noun: str, *, gen: bool = False) -> str:
        """A number with its noun in the right form (`gen`: Russian genitive)."""
        return i18n.count(n, noun, self.lang, case="gen" if gen else "nom")

    def word(self, n: float, noun: str) -> str:
        """The noun's form for `n`."""
        return i18n.word(n, noun, self.lang)

    def q(self, text: object) -> str:
        """Quoted: «…» in ru, “…” in en."""
        return f"«{text}»" if self.lang == "ru" else f"“{text}”"

    def month(
        self, month: str | None, prep: Literal["since", "before"] | None = None
    ) -> str:
        """A month in words (or the text itself when it is not a month)."""
        try:
            return i18n.fmt_month(month, self.lang, prep=prep)
        except ValueError:
            return str(month)

    def name(self, kind: str, ident: object) -> str | None:
        """The display name of a subject from the warehouse, if known."""
        return self.names.get((kind, str(ident)))

    def who(self, subject: dict[str, Any]) -> str:
        """A subject as a person reads it: ``Павел Титов (M09)``, ``«Акция» (C07)``."""
        kind, ident = str(subject.get("type")), subject.get("id")
        name = subject.get("name") or self.name(kind, ident)
        if kind in ("manager", "account", "client") and name:
            return f"{name} ({ident})"
        if kind == "campaign":
            return f"{self.q(name)} ({ident})" if name else str(ident)
        if kind in ("source", "stage", "tag"):
            return self.q(ident)
        if kind == "month":
            return self.month(str(ident))
        if kind == "company" or ident is None:
            return self.t("компания", "the company")
        return str(ident)


Template = Callable[[list[Member], Ctx], Wording]
TEMPLATES: dict[str, Template] = {}


def template(theme: str) -> Callable[[Template], Template]:
    """Register the template of `theme`."""

    def wrap(fn: Template) -> Template:
        TEMPLATES[theme] = fn
        return fn

    return wrap


def word_it(theme: str, members: list[Member], ctx: Ctx) -> Wording:
    """The wording of a theme's members: its template, or the findings' own words."""
    fn = TEMPLATES.get(theme)
    if fn is not None:
        try:
            return fn(members, ctx)
        except (KeyError, TypeError, ValueError, ZeroDivisionError):
            pass  # a finding without the fields its template reads: its own words
    return own_words(members, ctx)


def own_words(members: list[Member], ctx: Ctx) -> Wording:
    """The findings' own text and action (kinds the catalogue does not know)."""
    lead = members[0].lead
    lang = ctx.lang
    text = lead.text[lang]
    if len(members) > 1:
        text = " ".join(m.lead.text[lang] for m in members[:3])
        rest = len(members) - 3
        if rest > 0:
            text += ctx.t(f" И ещё {rest}.", f" And {rest} more.")
    return Wording(
        title=_sentence(lead.text[lang]),
        number=_value(lead, ctx),
        comparison=_baseline(lead, ctx),
        text=text,
        action=lead.action[lang],
    )


def _sentence(text: str, limit: int = 90) -> str:
    first = text.split(". ")[0].split("; ")[0].rstrip(".")
    return first if len(first) <= limit else first[: limit - 1].rsplit(" ", 1)[0] + "…"


def _fmt_metric(metric: str, x: float | str | None, ctx: Ctx) -> str:
    if x is None:
        return i18n.DASH
    if isinstance(x, str):
        return x
    if metric.endswith(("_rate", "_share", "probability", "share")) or metric in (
        "romi",
        "p_alive",
        "conversion_rate",
    ):
        return ctx.pct(x)
    if metric.endswith(("_amount", "_effect", "value", "monetary", "gain_equal")):
        return ctx.money(x)
    digits = 0 if abs(x) >= 100 or float(x).is_integer() else 1 if abs(x) >= 10 else 2
    return ctx.num(x, digits)


def _value(f: Finding, ctx: Ctx) -> str:
    if f.value is None and f.impact is not None:
        return ctx.money(f.impact)
    return _fmt_metric(f.metric, f.value, ctx)


def _baseline(f: Finding, ctx: Ctx) -> str:
    if f.baseline is None:
        return ""
    return ctx.t("против ", "vs ") + _fmt_metric(f.metric, f.baseline, ctx)


def join(items: list[str], ctx: Ctx) -> str:
    """``a, b и c`` / ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + ctx.t(" и ", " and ") + items[-1]


def days(n: float, ctx: Ctx, *, gen: bool = False) -> str:
    """A number of days in words."""
    return ctx.count(round(n), "day", gen=gen)


TYPE_NOUNS = {"region": "region", "manager": "manager", "team": "team"}


def cap(text: str) -> str:
    """The first letter upper-case, the rest as it is."""
    return text[:1].upper() + text[1:]


def more(members: list[Member], shown: int, ctx: Ctx, noun: str) -> str:
    """`` И ещё 3 пункта.`` for the members not shown."""
    rest = len(members) - shown
    if rest <= 0:
        return ""
    return ctx.t(
        f" И ещё {ctx.count(rest, noun)}.",
        f" And {ctx.num(rest)} more {ctx.word(rest, noun)}.",
    )


def more_typed(members: list[Member], shown: int, ctx: Ctx) -> str:
    """`` И ещё 2 региона и 5 менеджеров.`` for the members not shown."""
    rest = members[shown:]
    if not rest:
        return ""
    kinds: list[str] = []
    for m in rest:
        kind = str(m.subject.get("type"))
        kinds += [] if kind in kinds else [kind]
    if any(k not in TYPE_NOUNS for k in kinds):
        return ctx.t(
            f" И ещё {ctx.num(len(rest))}.", f" Plus {ctx.num(len(rest))} more."
        )
    parts = [
        ctx.count(sum(1 for m in rest if m.subject.get("type") == k), TYPE_NOUNS[k])
        for k in kinds
    ]
    return ctx.t(f" И ещё {join(parts, ctx)}.", f" Plus {join(parts, ctx)}.")
