"""``crmlens alerts`` end to end: --init, a run, the next run, --dry-run, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.alerts.conftest import Hook, Inbox
from tests.warehouse.test_fuzz import run_cli


def rules(path: Path, smtp: Inbox, hook: Hook) -> Path:
    path.write_text(
        f"""
smtp: {{host: {smtp.host}, port: {smtp.port}, from: crmlens@example.com}}
delivery: {{attempts: 2, backoff_seconds: 0.01}}
rules:
  - {{name: tasks, kind: overdue_tasks, above: 100, recipients: [{hook.url}]}}
  - {{name: sla, kind: lead_unanswered, sla_hours: 4, language: ru,
      scope: "region:Сибирь", recipients: [siberia@example.com]}}
""",
        encoding="utf-8",
    )
    return path


def test_init_writes_a_starting_file_once(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yaml"
    code, out, _ = run_cli(["alerts", "--init", "--rules", str(path)])
    assert code == 0
    # Rich wraps a long path anywhere (even at a dot): compare without whitespace
    assert f"wrote{path}" in "".join(out.split())
    assert "password_env: CRMLENS_SMTP_PASSWORD" in path.read_text(encoding="utf-8")
    code, _, err = run_cli(["alerts", "--init", "--rules", str(path)])
    assert code == 1
    assert err.startswith("error:")
    assert "already exists" in " ".join(err.split())


def test_a_bad_rules_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("rules:\n  - kind: lead_unanswered\n    recipients: [nobody]\n")
    code, out, err = run_cli(["alerts", "--rules", str(path), "-w",
                              str(tmp_path / "w.duckdb"), "-f", "json"])  # fmt: skip
    assert code == 1
    assert "rule 1, field 'recipients': 'nobody' is neither" in err
    assert json.loads(out)["ok"] is False


@pytest.mark.parametrize("engine", ["duckdb"])
def test_run_again_and_dry_run(
    demo_wh: Any, smtp_server: Inbox, webhook: Hook, tmp_path: Path
) -> None:
    path = rules(tmp_path / "alerts.yaml", smtp_server, webhook)
    state = tmp_path / "state.sqlite"
    base = ["alerts", "--rules", str(path), "-w", str(demo_wh.url.path),
            "--as-of", "2025-12-15", "--state", str(state)]  # fmt: skip

    code, out, err = run_cli([*base, "--dry-run"])
    assert code == 0, err
    assert "Dry run" in out
    assert "→ siberia@example.com" in out
    assert "Заявка без ответа" in out
    assert "Overdue tasks: " in out
    assert not state.exists()
    assert smtp_server.messages == []
    assert webhook.calls == 0

    code, out, err = run_cli([*base, "-f", "json"])
    assert code == 0, err
    data = json.loads(out)
    assert data["analysis"] == "alerts"
    assert {r["status"] for r in data["rows"]} == {"sent"}
    assert data["summary"]["sent"] == len(data["rows"]) == data["summary"]["alerts"]
    assert {f["alert"] for f in data["findings"]} == {r["alert"] for r in data["rows"]}
    siberia = [r for r in data["rows"] if r["rule"] == "sla"]
    assert len(smtp_server.messages) == len(siberia) > 0
    assert webhook.alert_keys() == ["tasks:overdue_tasks:manager=M09:2025-W51"]

    code, out, err = run_cli(base)
    assert code == 0, err
    assert f"sent 0, already sent {len(data['rows'])}, failed 0" in out
    assert len(smtp_server.messages) == len(siberia)
    assert webhook.calls == 1


@pytest.mark.parametrize("engine", ["duckdb"])
def test_a_failed_delivery_exits_3_and_goes_next_run(
    demo_wh: Any, smtp_server: Inbox, webhook: Hook, tmp_path: Path
) -> None:
    path = rules(tmp_path / "alerts.yaml", smtp_server, webhook)
    base = ["alerts", "--rules", str(path), "-w", str(demo_wh.url.path),
            "--as-of", "2025-12-15", "--state", str(tmp_path / "s.sqlite")]  # fmt: skip
    webhook.fail_next = 2
    code, out, err = run_cli(base)
    assert code == 3
    assert "failed" in out
    assert "HTTP 500" in out
    assert "1 deliveries failed after every attempt" in err
    assert webhook.received == []
    code, out, err = run_cli([*base, "-f", "json"])
    assert code == 0, err
    rows = json.loads(out)["rows"]
    assert [r["status"] for r in rows if r["rule"] == "tasks"] == ["sent"]
    assert {r["status"] for r in rows if r["rule"] == "sla"} == {"already_sent"}
    assert webhook.alert_keys() == ["tasks:overdue_tasks:manager=M09:2025-W51"]
