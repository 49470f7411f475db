"""The rules file: what it accepts, and errors that name the file, rule and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmlens.alerts.rules import example_rules, load_rules, parse_rules, write_example
from crmlens.errors import InputError

GOOD = """
smtp:
  host: mail.example.com
  port: 587
  from: "crmlens <crm@example.com>"
  starttls: true
  user: crm@example.com
  password_env: CRM_SMTP_PASSWORD
delivery: {attempts: 4, backoff_seconds: 0.5}
rules:
  - name: south-plan
    kind: plan_at_risk
    scope: region:Юг
    level: manager
    language: ru
    min_severity: high
    recipients: [head@example.com, https://hooks.example.com/a]
  - kind: lead_unanswered
    sla_hours: 1.5
    recipients: sales@example.com
  - kind: overdue_tasks
    above: 10
    recipients: [https://hooks.example.com/a]
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(InputError) as e:
        parse_rules(text, file="alerts.yaml")
    return e.value.errors


def test_a_good_file() -> None:
    rs = parse_rules(GOOD, file="alerts.yaml")
    plan, leads, tasks = rs.rules
    assert (plan.name, str(plan.scope), plan.language, plan.min_severity) == (
        "south-plan", "region:Юг", "ru", "high"
    )  # fmt: skip
    assert [r.channel for r in plan.recipients] == ["email", "webhook"]
    assert plan.options == {"level": "manager", "period": None}
    assert (leads.name, leads.language, leads.repeat) == (
        "lead_unanswered-2",
        "en",
        "once",
    )
    assert leads.options == {"sla_hours": 1.5, "max_age_days": 7.0}
    assert (tasks.repeat, tasks.options["above"]) == ("week", 10)
    assert rs.smtp is not None
    assert (rs.smtp.port, rs.smtp.starttls) == (587, True)
    assert (rs.delivery.attempts, rs.delivery.backoff_seconds) == (4, 0.5)
    assert plan.admits("high")
    assert not plan.admits("medium")


def test_every_problem_is_named_at_once() -> None:
    errors = errors_of("""
rules:
  - name: a
    kind: plan_at_risc
    recipients: [boss@example.com]
  - name: b
    kind: lead_unanswered
    sla_hours: two
    recipients: [bob, ftp://x.example.com/]
    scope: regio:Юг
    langauge: ru
  - kind: overdue_tasks
    recipients: [https://hooks.example.com/x]
""")
    assert errors == [
        "alerts.yaml, rule 1 'a', field 'kind': 'plan_at_risc' is not a rule kind (did "
        "you mean 'plan_at_risk'? use one of plan_at_risk, lead_unanswered, "
        "key_client_silent, overdue_tasks, stage_drop)",
        "alerts.yaml, rule 2 'b', field 'langauge': unknown field (did you mean "
        "'language'?); allowed: name, kind, recipients, scope, language, min_severity, "
        "repeat, sla_hours, max_age_days",
        "alerts.yaml, rule 2 'b', field 'recipients': 'bob' is neither an e-mail "
        "address nor an http(s) URL",
        "alerts.yaml, rule 2 'b', field 'recipients': 'ftp://x.example.com/' is "
        "neither an e-mail address nor an http(s) URL",
        "alerts.yaml, rule 2 'b', field 'scope': unknown scope 'regio' (use one of "
        "company, region, team, manager)",
        "alerts.yaml, rule 2 'b', field 'sla_hours': 'two': expected a number above 0",
        "alerts.yaml, rule 3, field 'above': required for overdue_tasks rules",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [", "alerts.yaml, line 1: not valid YAML"),
        ("- kind: stage_drop", "expected a mapping with a 'rules' list at the top"),
        ("rules: []", "field 'rules': expected a non-empty list of rules"),
        (
            "rules:\n  - kind: stage_drop\n    recipients: [a@example.com]",
            "rule 'stage_drop-1', field 'recipients': sends e-mail to a@example.com but "
            "the file has no 'smtp' section",
        ),
        (
            "rules:\n  - kind: stage_drop\n    recipients: []",
            "rule 1, field 'recipients': expected a list",
        ),
        (
            "rules:\n  - {kind: stage_drop, name: x, recipients: [http://h.example]}\n"
            "  - {kind: stage_drop, name: x, recipients: [http://h.example]}",
            "rule 'x', field 'name': used by two rules",
        ),
        (
            "rules:\n  - {kind: plan_at_risk, period: 2025-13, recipients: [http://h.ex]}",
            "field 'period': '2025-13': expected a month YYYY-MM",
        ),
        (
            "rules:\n  - {kind: overdue_tasks, above: -1, recipients: [http://h.ex]}",
            "field 'above': -1: expected a whole number, 0 or more",
        ),
        (
            "rules:\n  - {kind: stage_drop, min_severity: urgent, recipients: [http://h.ex]}",
            "field 'min_severity': 'urgent': use one of low, medium, high",
        ),
        (
            "rules:\n  - {kind: stage_drop, repeat: hourly, recipients: [http://h.ex]}",
            "field 'repeat': 'hourly': use one of once, day, week, month",
        ),
        (
            "delivery: {attempts: 0}\nrules:\n  - {kind: stage_drop, recipients: [http://h.ex]}",
            "alerts.yaml, delivery, field 'attempts': 0: expected 1 to 20",
        ),
    ],
)
def test_one_problem(text: str, message: str) -> None:
    errors = errors_of(text)
    assert len(errors) == 1
    assert message in errors[0]
    assert errors[0].startswith("alerts.yaml")


def test_the_password_never_in_the_file() -> None:
    errors = errors_of("""
smtp: {host: h.example.com, from: a@example.com, user: a, password: hunter2}
rules: [{kind: stage_drop, recipients: [a@example.com]}]
""")
    assert errors == [
        "alerts.yaml, smtp, field 'password': never store the password in the file: put "
        "it in an environment variable and name it in password_env",
        "alerts.yaml, smtp, field 'password_env': required with user: the name of the "
        "environment variable that holds the password",
    ]


def test_smtp_fields() -> None:
    errors = errors_of("""
smtp: {port: 99999, from: nobody, starttls: "yes", ssl: true, password_env: "1X"}
rules: [{kind: stage_drop, recipients: [a@example.com]}]
""")
    assert [e.split(": ")[0] for e in errors] == [
        "alerts.yaml, smtp, field 'host'",
        "alerts.yaml, smtp, field 'from'",
        "alerts.yaml, smtp, field 'starttls'",
        "alerts.yaml, smtp, field 'port'",
        "alerts.yaml, smtp, field 'password_env'",
    ]


def test_the_message_names_the_file_and_counts(tmp_path: Path) -> None:
    path = tmp_path / "my-alerts.yaml"
    path.write_text("rules:\n  - kind: x\n    recipients: [y]\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_rules(path)
    assert e.value.message.startswith(
        f"{path} has 2 problems: {path}, rule 1, field 'kind'"
    )
    with pytest.raises(InputError, match=r"no such rules file.*crmlens alerts --init"):
        load_rules(tmp_path / "missing.yaml")


def test_the_starting_file_is_valid_and_not_overwritten(tmp_path: Path) -> None:
    path = write_example(tmp_path / "alerts.yaml")
    assert path.read_text(encoding="utf-8") == example_rules()
    rs = load_rules(path)
    assert {r.kind for r in rs.rules} == {
        "plan_at_risk", "lead_unanswered", "key_client_silent", "overdue_tasks",
        "stage_drop",
    }  # fmt: skip
    assert rs.smtp is not None
    assert rs.smtp.password_env == "CRMLENS_SMTP_PASSWORD"
    with pytest.raises(InputError, match="already exists"):
        write_example(path)
    path.write_text("changed", encoding="utf-8")
    write_example(path, force=True)
    assert path.read_text(encoding="utf-8") == example_rules()
