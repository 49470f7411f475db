"""Deliver alerts once per recipient: claim, send with retries, mark sent or release.

E-mail recipients get one message per alert, or one digest per run when
``smtp.digest`` is true; webhooks get one POST per alert. A failed attempt is retried
``delivery.attempts`` times in all, waiting ``backoff_seconds`` and twice as long each
time after; a permanent failure (refused recipient, HTTP 4xx) is not retried in the run.
A delivery that fails is reported and never marked sent, so the next run tries again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from crmlens.alerts.channels import DeliveryError
from crmlens.alerts.message import Email, compose, headline

if TYPE_CHECKING:
    from crmlens.alerts.alert import Alert
    from crmlens.alerts.rules import DeliverySettings, Recipient, RuleSet
    from crmlens.alerts.state import StateStore

Status = Literal["sent", "already_sent", "failed", "would_send", "claimed_elsewhere"]
Progress = Callable[[str, int, int], None]


@dataclass
class Delivery:
    """The fate of one alert for one recipient in a run."""

    alert: Alert
    recipient: Recipient
    status: Status
    subject: str
    attempts: int = 0
    error: str | None = None

    def row(self) -> dict[str, Any]:
        """A plain row for tables and JSON."""
        a = self.alert
        return {
            "status": self.status,
            "rule": a.rule.name,
            "kind": a.rule.kind,
            "severity": a.severity,
            "subject": a.subject_label,
            "recipient": self.recipient.address,
            "channel": self.recipient.channel,
            "attempts": self.attempts,
            "error": self.error,
            "message": self.subject,
            "text": a.text,
            "action": a.action,
            "alert": a.key,
        }


@dataclass
class _Message:
    recipient: Recipient
    alerts: list[Alert]


def deliver(
    alerts: list[Alert],
    ruleset: RuleSet,
    store: StateStore,
    *,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> list[Delivery]:
    """Send every alert not yet delivered to each recipient of its rule."""
    done: list[Delivery] = []
    pending: list[tuple[Alert, Recipient]] = []
    for a in alerts:
        for r in a.rule.recipients:
            if store.is_sent(a.key, r.address):
                done.append(Delivery(a, r, "already_sent", headline(a)))
            else:
                pending.append((a, r))
    messages = _messages(pending, digest=bool(ruleset.smtp and ruleset.smtp.digest))
    password = None
    if (
        not dry_run
        and ruleset.smtp
        and any(m.recipient.channel == "email" for m in messages)
    ):
        password = ruleset.smtp.password()
    for i, m in enumerate(messages):
        if progress:
            progress(m.recipient.address, i, len(messages))
        email = compose(m.alerts) if m.recipient.channel == "email" else None
        if dry_run:
            done += [_would(a, m.recipient, email) for a in m.alerts]
            continue
        done += _send(m, email, ruleset, store, password, sleep)
    if progress:
        progress("", len(messages), len(messages))
    return done


def _messages(
    pending: list[tuple[Alert, Recipient]], *, digest: bool
) -> list[_Message]:
    """One message per (alert, recipient); e-mail digests group by address and language."""
    out: list[_Message] = []
    grouped: dict[tuple[str, str], _Message] = {}
    for a, r in pending:
        if digest and r.channel == "email":
            key = (r.address, a.lang)
            if key not in grouped:
                grouped[key] = _Message(r, [])
                out.append(grouped[key])
            grouped[key].alerts.append(a)
        else:
            out.append(_Message(r, [a]))
    return out


def _would(a: Alert, r: Recipient, email: Email | None) -> Delivery:
    return Delivery(a, r, "would_send", email.subject if email else headline(a))


def _send(
    m: _Message,
    email: Email | None,
    ruleset: RuleSet,
    store: StateStore,
    password: str | None,
    sleep: Callable[[float], None],
) -> list[Delivery]:
    to = m.recipient.address
    claimed = [
        a
        for a in m.alerts
        if store.claim(a.key, to, rule=a.rule.name, channel=m.recipient.channel)
    ]
    keys = {a.key for a in claimed}
    out = [
        Delivery(a, m.recipient, "claimed_elsewhere", headline(a))
        for a in m.alerts
        if a.key not in keys
    ]
    if not claimed:
        return out
    if email is not None and len(claimed) != len(m.alerts):
        email = compose(claimed)
    send = _sender(m.recipient, claimed, email, ruleset, password)
    ok, attempts, error = with_retries(send, ruleset.delivery, sleep)
    for a in claimed:
        if ok:
            store.mark_sent(a.key, to, attempts=attempts)
        else:
            store.release(a.key, to, attempts=attempts, error=error or "")
        subject = email.subject if email else headline(a)
        status: Status = "sent" if ok else "failed"
        out.append(Delivery(a, m.recipient, status, subject, attempts, error))
    return out


def _sender(
    r: Recipient,
    alerts: list[Alert],
    email: Email | None,
    ruleset: RuleSet,
    password: str | None,
) -> Callable[[], None]:
    if r.channel == "email":
        from crmlens.alerts.channels import smtp

        assert email is not None
        assert ruleset.smtp is not None
        settings = ruleset.smtp
        keys = [a.key for a in alerts]
        return lambda: smtp.send(settings, password, r.address, email, keys)
    from crmlens.alerts.channels import webhook

    (alert,) = alerts
    hook = ruleset.webhook

    def post() -> None:
        webhook.send(
            r.address, alert.payload(), timeout=hook.timeout_seconds, token=hook.token()
        )

    return post


def with_retries(
    send: Callable[[], None],
    settings: DeliverySettings,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[bool, int, str | None]:
    """Call `send` up to ``settings.attempts`` times: (delivered, attempts, last error)."""
    error = None
    for attempt in range(1, settings.attempts + 1):
        try:
            send()
            return True, attempt, None
        except DeliveryError as e:
            error = str(e)
            if e.permanent:
                return False, attempt, error
            if attempt < settings.attempts:
                sleep(settings.backoff_seconds * 2 ** (attempt - 1))
    return False, settings.attempts, error
