"""The e-mail of one alert (or a digest of several): RU/EN subject, plain text and HTML."""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import TYPE_CHECKING

from crmlens.alerts.alert import SEVERITY_WORDS
from crmlens.alerts.texts import scope_words
from crmlens.insights.i18n import fmt_date, fmt_number, plural

if TYPE_CHECKING:
    from crmlens.alerts.alert import Alert

URGENT = {"ru": "Срочно", "en": "Urgent"}
LABELS = {
    "ru": {"do": "Что сделать", "severity": "Важность", "scope": "Срез",
           "as_of": "Данные на", "rule": "Правило", "key": "Ключ оповещения"},
    "en": {"do": "What to do", "severity": "Severity", "scope": "Scope",
           "as_of": "Data as of", "rule": "Rule", "key": "Alert key"},
}  # fmt: skip
FOOTER = {
    "ru": "Это письмо отправил crmlens alerts; каждое оповещение приходит один раз.",
    "en": "Sent by crmlens alerts; each alert is sent once.",
}


@dataclass(frozen=True)
class Email:
    """Subject and bodies of one message."""

    subject: str
    text: str
    html: str


def headline(alert: Alert) -> str:
    """``Срочно · План под угрозой: регион Юг`` (the urgency only for high severity)."""
    head = f"{alert.title}: {alert.subject_label}"
    return f"{URGENT[alert.lang]} · {head}" if alert.severity == "high" else head


def compose(alerts: list[Alert]) -> Email:
    """One alert's message, or a digest of `alerts` (all in the first one's language)."""
    if not alerts:
        raise ValueError("compose() needs at least one alert")
    if len(alerts) == 1:
        a = alerts[0]
        return Email(
            f"crmlens · {headline(a)}",
            _text(a, heading=False) + "\n\n— " + FOOTER[a.lang] + "\n",
            _page(a.lang, headline(a), _html(a, heading=False)),
        )
    lang = alerts[0].lang
    n = len(alerts)
    many = (
        f"{fmt_number(n, 'ru')} "
        + plural(n, "ru", "новое оповещение", "новых оповещения", "новых оповещений")
        if lang == "ru"
        else f"{fmt_number(n, 'en')} new alert{'s' if n != 1 else ''}"
    )
    urgent = sum(a.severity == "high" for a in alerts)
    subject = f"crmlens · {many}" + (
        f" ({URGENT[lang].lower()}: {urgent})" if urgent else ""
    )
    text = "\n\n\n".join(_text(a, heading=True) for a in alerts)
    body = "".join(_html(a, heading=True) for a in alerts)
    return Email(
        subject, text + "\n\n— " + FOOTER[lang] + "\n", _page(lang, many, body)
    )


def _facts(a: Alert) -> list[tuple[str, str]]:
    words = LABELS[a.lang]
    ru, en = SEVERITY_WORDS[a.severity]
    return [
        (words["severity"], ru if a.lang == "ru" else en),
        (words["scope"], scope_words(a.rule.scope.kind, a.rule.scope.id, a.lang)),
        (words["as_of"], fmt_date(a.as_of, a.lang)),
        (words["rule"], a.rule.name),
        (words["key"], a.key),
    ]


def _text(a: Alert, *, heading: bool) -> str:
    lines = [headline(a), ""] if heading else []
    lines += [a.text, "", f"{LABELS[a.lang]['do']}: {a.action}", ""]
    lines += [f"{k}: {v}" for k, v in _facts(a)]
    return "\n".join(lines)


def _html(a: Alert, *, heading: bool) -> str:
    e = html.escape
    colour = {"high": "#b91c1c", "medium": "#b45309", "low": "#1d4ed8"}[a.severity]
    rows = "".join(
        f"<tr><td style='color:#555;padding-right:12px'>{e(k)}</td><td>{e(v)}</td></tr>"
        for k, v in _facts(a)
    )
    head = (
        f"<h2 style='color:{colour};font-size:18px'>{e(headline(a))}</h2>"
        if heading
        else ""
    )
    return (
        f"<section style='margin-bottom:24px'>{head}"
        f"<p style='border-left:4px solid {colour};padding-left:8px'>{e(a.text)}</p>"
        f"<p><b>{e(LABELS[a.lang]['do'])}:</b> {e(a.action)}</p>"
        f"<table style='font-size:13px'>{rows}</table></section>"
    )


def _page(lang: str, title: str, body: str) -> str:
    return (
        f"<!DOCTYPE html><html lang='{lang}'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head>"
        "<body style='font-family:Arial,Helvetica,sans-serif;max-width:680px'>"
        f"<h1 style='font-size:20px'>{html.escape(title)}</h1>{body}"
        f"<p style='color:#777;font-size:12px'>{html.escape(FOOTER[lang])}</p>"
        "</body></html>"
    )
