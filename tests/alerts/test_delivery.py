"""Alerts on the demo delivered to a local SMTP server and webhook: exactly once.

The receivers are started by ``conftest.py`` on 127.0.0.1. The demo is seen as of the
truth file's day; each expected alert is checked against what the demo planted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from crmlens.alerts import run_alerts
from crmlens.alerts.deliver import deliver
from crmlens.alerts.evaluate import Evaluation, evaluate, now_for
from crmlens.alerts.rules import RuleSet, parse_rules
from crmlens.alerts.state import StateStore
from crmlens.errors import InputError
from tests.alerts.conftest import Hook, Inbox

SLA_HOURS = 4


def rules_text(smtp: Inbox, hook: Hook, **smtp_extra: Any) -> str:
    extra = "".join(f"\n  {k}: {v}" for k, v in smtp_extra.items())
    return f"""
smtp:
  host: {smtp.host}
  port: {smtp.port}
  from: crmlens@example.com{extra}
delivery:
  attempts: 3
  backoff_seconds: 0.01
rules:
  - name: plan
    kind: plan_at_risk
    level: region
    language: ru
    recipients: [head@example.com, {hook.url}]
  - name: sla
    kind: lead_unanswered
    sla_hours: {SLA_HOURS}
    recipients: [sales@example.com]
  - name: key-clients
    kind: key_client_silent
    language: ru
    recipients: [head@example.com, {hook.url}]
  - name: tasks
    kind: overdue_tasks
    above: 100
    recipients: [head@example.com, {hook.url}]
  - name: funnel
    kind: stage_drop
    recipients: [{hook.url}]
"""


_EVALUATIONS: dict[tuple[str, str], Evaluation] = {}


def evaluated(wh: Any, rs: RuleSet, as_of: dt.date) -> Evaluation:
    """The demo's alerts, evaluated once per engine and rules (the slow part)."""
    key = (wh.backend, repr(rs))
    if key not in _EVALUATIONS:
        _EVALUATIONS[key] = evaluate(wh, rs, as_of=as_of, now=now_for(as_of))
    return _EVALUATIONS[key]


def expected_pairs(ev: Evaluation, channel: str) -> Counter[tuple[str, str]]:
    return Counter(
        (a.key, r.address)
        for a in ev.alerts
        for r in a.rule.recipients
        if r.channel == channel
    )


def unanswered_oracle(demo_dir: Path, now: dt.datetime) -> set[str]:
    """Leads waiting past the SLA, computed with pandas from the demo's CSV files."""
    leads = pd.read_csv(demo_dir / "leads.csv", parse_dates=["created_at",
                        "first_response_at", "qualified_at"])  # fmt: skip
    acts = pd.read_csv(
        demo_dir / "activities.csv", parse_dates=["created_at", "done_at"]
    )
    new = leads[
        (leads.created_at >= now - pd.Timedelta(days=7))
        & (leads.created_at < now - pd.Timedelta(hours=SLA_HOURS))
        & leads.deal_id.isna()
        & ~leads.status.isin(["converted", "disqualified"])
        & (leads.first_response_at.isna() | (leads.first_response_at > now))
        & (leads.qualified_at.isna() | (leads.qualified_at > now))
    ]
    done = acts.done_at.fillna(acts.created_at.where(acts.type != "task"))
    acts = acts.assign(act_at=done).dropna(subset=["act_at", "lead_id"])
    j = new.merge(acts, on="lead_id", suffixes=("", "_act"))
    answered = j[
        (j.manager_id == j.owner_id) & (j.act_at >= j.created_at) & (j.act_at <= now)
    ]
    return set(new.lead_id) - set(answered.lead_id)


def check_alerts_against_the_truth(
    ev: Evaluation, truth: dict[str, Any], demo_dir: Path, now: dt.datetime
) -> None:
    by_rule: dict[str, list[Any]] = {}
    for a in ev.alerts:
        by_rule.setdefault(a.rule.name, []).append(a)
    assert set(by_rule) == {"plan", "sla", "key-clients", "tasks", "funnel"}
    plan = {a.finding.subject["id"]: a for a in by_rule["plan"]}
    assert truth["plan"]["behind_region"] in plan
    assert plan[truth["plan"]["behind_region"]].severity == "high"
    assert truth["plan"]["ahead_region"] not in plan
    assert [a.finding.subject["id"] for a in by_rule["tasks"]] == [
        m for m, n in truth["careless"]["overdue_tasks_by_manager"].items() if n > 100
    ]
    assert by_rule["tasks"][0].finding.value == truth["careless"]["overdue_tasks"]
    (drop,) = by_rule["funnel"]
    assert drop.finding.subject["id"] == truth["stage_drop"]["stage"]
    assert drop.finding.subject["next"] == truth["stage_drop"]["next"]
    leads = {a.finding.subject["id"] for a in by_rule["sla"]}
    assert leads == unanswered_oracle(demo_dir, now)
    assert leads
    churned = {c["account_id"] for c in truth["churned_clients"]}
    silent = {a.finding.subject["id"] for a in by_rule["key-clients"]}
    assert silent & churned
    assert all(a.finding.kind == "silent_client" for a in by_rule["key-clients"])
    assert len({a.key for a in ev.alerts}) == len(ev.alerts)


@pytest.mark.slow
def test_each_alert_arrives_once_and_not_again(
    demo_wh: Any,
    demo_truth: dict[str, Any],
    demo_dir: Path,
    smtp_server: Inbox,
    webhook: Hook,
    tmp_path: Path,
) -> None:
    as_of = dt.date.fromisoformat(demo_truth["as_of"])
    rs = parse_rules(rules_text(smtp_server, webhook))
    state = tmp_path / "state.sqlite"
    first = run_alerts(demo_wh, rs, as_of=as_of, state=state)
    check_alerts_against_the_truth(first.evaluation, demo_truth, demo_dir, first.now)
    assert first.now == dt.datetime(2025, 12, 16)
    mails = expected_pairs(first.evaluation, "email")
    hooks = expected_pairs(first.evaluation, "webhook")
    assert Counter(smtp_server.deliveries()) == mails
    assert Counter((k, webhook.url) for k in webhook.alert_keys()) == hooks
    assert set(mails.values()) == {1}
    assert set(hooks.values()) == {1}
    assert first.summary()["sent"] == sum(mails.values()) + sum(hooks.values())
    assert first.failed == []

    second = run_alerts(demo_wh, rs, as_of=as_of, state=state)
    assert [a.key for a in second.evaluation.alerts] == [
        a.key for a in first.evaluation.alerts
    ]
    assert {d.status for d in second.deliveries} == {"already_sent"}
    assert Counter(smtp_server.deliveries()) == mails  # nothing new arrived
    assert len(webhook.received) == sum(hooks.values())


@pytest.mark.parametrize("engine", ["duckdb"])
def test_the_messages(
    demo_wh: Any, demo_truth: dict[str, Any], smtp_server: Inbox, webhook: Hook,
    tmp_path: Path,
) -> None:  # fmt: skip
    as_of = dt.date.fromisoformat(demo_truth["as_of"])
    rs = parse_rules(rules_text(smtp_server, webhook))
    ev = evaluated(demo_wh, rs, as_of)
    with StateStore(tmp_path / "s.sqlite") as store:
        deliver(ev.alerts, rs, store)
    south = truth_region = demo_truth["plan"]["behind_region"]
    (rcpts, msg), *_ = [
        m
        for m in smtp_server.messages
        if f"region={south}:" in str(m[1]["X-Crmlens-Alert"])
    ]
    assert rcpts == ["head@example.com"]
    assert (
        msg["Subject"] == f"crmlens · Срочно · План под угрозой: регион {truth_region}"
    )
    text = (
        msg.get_body(("plain",))
        .get_content()
        .replace("\xa0", " ")
        .replace("\u202f", " ")
    )
    html = (
        msg.get_body(("html",))
        .get_content()
        .replace("\xa0", " ")
        .replace("\u202f", " ")
    )
    assert "Что сделать: Дожмите сделки" in text
    assert "Данные на: 15 декабря 2025 г." in text
    assert "<b>Что сделать:</b>" in html
    assert f"регион {truth_region}" in html
    (payload,) = [p for p in webhook.received if p["rule"] == "funnel"]
    assert set(payload) >= {"alert", "rule", "severity", "text", "action", "finding"}
    assert payload["finding"]["kind"] == "stage_drop"
    assert payload["text"] == payload["finding"]["text"]["en"]
    assert payload["severity"] == payload["finding"]["severity"]
    headers = next(
        h
        for h, p in zip(webhook.headers, webhook.received, strict=True)
        if p["rule"] == "funnel"
    )
    expected = hashlib.sha256(f"{payload['alert']}\n{webhook.url}".encode()).hexdigest()
    assert headers["Idempotency-Key"] == expected[:32]
    leads = [
        m for _, m in smtp_server.messages if "lead_unanswered" in m["X-Crmlens-Alert"]
    ]
    assert leads
    assert all(m["Subject"].startswith("crmlens · ") for m in leads)
    assert all("Lead L" in m.get_body(("plain",)).get_content() for m in leads)


@pytest.mark.parametrize("engine", ["duckdb"])
def test_a_failing_webhook_is_retried(
    demo_wh: Any, demo_truth: dict[str, Any], smtp_server: Inbox, webhook: Hook,
    tmp_path: Path,
) -> None:  # fmt: skip
    rs = parse_rules(rules_text(smtp_server, webhook))
    ev = evaluated(demo_wh, rs, dt.date.fromisoformat(demo_truth["as_of"]))
    webhook.fail_next = 2
    waits: list[float] = []
    with StateStore(tmp_path / "s.sqlite") as store:
        done = deliver(ev.alerts, rs, store, sleep=waits.append)
    to_hook = [d for d in done if d.recipient.channel == "webhook"]
    assert [d.attempts for d in to_hook] == [3] + [1] * (len(to_hook) - 1)
    assert {d.status for d in done} == {"sent"}
    assert waits == [0.01, 0.02]
    assert webhook.calls == len(to_hook) + 2
    assert Counter(webhook.alert_keys()) == Counter(d.alert.key for d in to_hook)


@pytest.mark.parametrize("engine", ["duckdb"])
def test_a_delivery_failing_every_attempt_goes_next_run(
    demo_wh: Any, demo_truth: dict[str, Any], smtp_server: Inbox, webhook: Hook,
    tmp_path: Path,
) -> None:  # fmt: skip
    rs = parse_rules(rules_text(smtp_server, webhook))
    ev = evaluated(demo_wh, rs, dt.date.fromisoformat(demo_truth["as_of"]))
    state = tmp_path / "s.sqlite"
    webhook.fail_next = 3
    with StateStore(state) as store:
        first = deliver(ev.alerts, rs, store, sleep=lambda s: None)
    (failed,) = [d for d in first if d.status == "failed"]
    assert failed.recipient.address == webhook.url
    assert (failed.attempts, failed.error) == (
        3,
        f"{webhook.url}: HTTP 500 Internal Server Error",
    )
    assert all(d.status == "sent" for d in first if d is not failed)
    assert failed.alert.key not in webhook.alert_keys()
    with StateStore(state) as store:
        assert not store.is_sent(failed.alert.key, webhook.url)
        assert [f["attempts"] for f in store.failures()] == [3]
        second = deliver(ev.alerts, rs, store, sleep=lambda s: None)
    (again,) = [d for d in second if d.status != "already_sent"]
    assert (again.alert.key, again.status, again.attempts) == (
        failed.alert.key,
        "sent",
        1,
    )
    assert Counter(webhook.alert_keys()) == Counter(
        a.key for a in ev.alerts for r in a.rule.recipients if r.channel == "webhook"
    )
    assert set(Counter(smtp_server.deliveries()).values()) == {1}


@pytest.mark.parametrize("engine", ["duckdb"])
def test_a_permanent_failure_is_not_retried(
    demo_wh: Any, demo_truth: dict[str, Any], smtp_server: Inbox, webhook: Hook,
    tmp_path: Path,
) -> None:  # fmt: skip
    rs = parse_rules(rules_text(smtp_server, webhook))
    ev = evaluated(demo_wh, rs, dt.date.fromisoformat(demo_truth["as_of"]))
    webhook.fail_next, webhook.fail_status = 1, 404
    with StateStore(tmp_path / "s.sqlite") as store:
        done = deliver(ev.alerts, rs, store, sleep=lambda s: None)
    (failed,) = [d for d in done if d.status == "failed"]
    assert failed.attempts == 1
    assert "HTTP 404" in (failed.error or "")


@pytest.mark.parametrize("engine", ["duckdb"])
def test_dry_run_sends_and_marks_nothing(
    demo_wh: Any, demo_truth: dict[str, Any], smtp_server: Inbox, webhook: Hook,
    tmp_path: Path,
) -> None:  # fmt: skip
    rs = parse_rules(rules_text(smtp_server, webhook))
    ev = evaluated(demo_wh, rs, dt.date.fromisoformat(demo_truth["as_of"]))
    state = tmp_path / "s.sqlite"
    with StateStore(state, read_only=True) as store:
        dry = deliver(ev.alerts, rs, store, dry_run=True)
    n = sum(len(a.rule.recipients) for a in ev.alerts)
    assert [d.status for d in dry] == ["would_send"] * n
    assert all(d.subject for d in dry)
    assert not state.exists()
    assert smtp_server.messages == []
    assert webhook.calls == 0
    with StateStore(state) as store:
        deliver(ev.alerts, rs, store)
    before = state.read_bytes()
    smtp_server.clear()
    webhook.clear()
    with StateStore(state, read_only=True) as store:
        dry = deliver(ev.alerts, rs, store, dry_run=True)
    assert {d.status for d in dry} == {"already_sent"}
    assert state.read_bytes() == before
    assert smtp_server.messages == []
    assert webhook.calls == 0


@pytest.mark.parametrize("engine", ["duckdb"])
def test_a_digest_per_recipient(
    demo_wh: Any, demo_truth: dict[str, Any], smtp_server: Inbox, webhook: Hook,
    tmp_path: Path,
) -> None:  # fmt: skip
    as_of = dt.date.fromisoformat(demo_truth["as_of"])
    rs = parse_rules(rules_text(smtp_server, webhook, digest="true"))
    ev = evaluated(demo_wh, parse_rules(rules_text(smtp_server, webhook)), as_of)
    by_name = {r.name: r for r in rs.rules}
    alerts = [type(a)(a.key, by_name[a.rule.name], a.finding, a.as_of, a.label)
              for a in ev.alerts]  # fmt: skip
    with StateStore(tmp_path / "s.sqlite") as store:
        done = deliver(alerts, rs, store)
    assert {d.status for d in done} == {"sent"}
    # One e-mail per recipient and language: head@ gets one in Russian (plan, key
    # clients) and one in English (tasks); sales@ one in English (the leads).
    count = Counter(a.rule.name for a in ev.alerts)
    subjects = sorted((r[0], m["Subject"]) for r, m in smtp_server.messages)
    ru = count["plan"] + count["key-clients"]
    urgent = sum(
        a.severity == "high"
        for a in ev.alerts
        if a.rule.name in ("plan", "key-clients")
    )
    assert subjects[0][1].startswith(f"crmlens · {ru} ")
    assert subjects[0][1].endswith(f" (срочно: {urgent})")
    assert [s[0] for s in subjects] == ["head@example.com"] * 2 + ["sales@example.com"]
    assert subjects[2][1].startswith(f"crmlens · {count['sla']} new alerts")
    assert Counter(smtp_server.deliveries()) == expected_pairs(ev, "email")


@pytest.mark.parametrize("engine", ["duckdb"])
def test_smtp_login_with_the_password_from_the_environment(
    demo_wh: Any, demo_truth: dict[str, Any], smtp_server: Inbox, webhook: Hook,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    as_of = dt.date.fromisoformat(demo_truth["as_of"])
    ev = evaluated(demo_wh, parse_rules(rules_text(smtp_server, webhook)), as_of)
    (tasks,) = [a for a in ev.alerts if a.rule.name == "tasks"]
    rs = parse_rules(
        rules_text(smtp_server, webhook, user="crm", password_env="T_SMTP_PW")
    )
    rule = next(r for r in rs.rules if r.name == "tasks")
    alert = type(tasks)(tasks.key, rule, tasks.finding, tasks.as_of, tasks.label)
    monkeypatch.delenv("T_SMTP_PW", raising=False)
    with (
        StateStore(tmp_path / "s.sqlite") as store,
        pytest.raises(InputError, match="T_SMTP_PW is not set"),
    ):
        deliver([alert], rs, store)
    assert smtp_server.messages == []
    assert webhook.calls == 0
    monkeypatch.setenv("T_SMTP_PW", "wrong")
    with StateStore(tmp_path / "s.sqlite") as store:
        done = deliver([alert], rs, store, sleep=lambda s: None)
        mail = [d for d in done if d.recipient.channel == "email"]
        assert [(d.status, d.attempts) for d in mail] == [("failed", 1)], mail[0].error
        assert "535" in (mail[0].error or "")
        monkeypatch.setenv("T_SMTP_PW", "s3cret")
        done = deliver([alert], rs, store)
    assert [d.status for d in done if d.recipient.channel == "email"] == ["sent"]
    # smtplib tries each mechanism the server offers (PLAIN, then LOGIN) before failing
    assert set(smtp_server.logins) == {("crm", "wrong"), ("crm", "s3cret")}
    assert smtp_server.logins[-1] == ("crm", "s3cret")
    assert [r for r, _ in smtp_server.messages] == [["head@example.com"]]
