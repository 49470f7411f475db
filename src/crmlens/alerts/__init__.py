"""Alerts: rules evaluated as of now, each alert delivered once by e-mail and/or webhook.

>>> from crmlens.alerts.rules import parse_rules
>>> rs = parse_rules('''
... rules:
...   - kind: overdue_tasks
...     above: 10
...     recipients: [https://hooks.example.com/crm]
... ''')
>>> rs.rules[0].name, rs.rules[0].repeat
('overdue_tasks-1', 'week')
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from crmlens.alerts.deliver import Delivery, deliver
from crmlens.alerts.evaluate import Evaluation, evaluate, now_for
from crmlens.alerts.rules import RuleSet, load_rules, parse_rules
from crmlens.alerts.state import StateStore, default_state_path

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse

__all__ = [
    "AlertRun",
    "RuleSet",
    "StateStore",
    "default_state_path",
    "load_rules",
    "parse_rules",
    "run_alerts",
]

Progress = Callable[[str, int, int], None]


@dataclass
class AlertRun:
    """What a run found and what became of each delivery."""

    as_of: dt.date
    now: dt.datetime
    state: Path
    dry_run: bool
    evaluation: Evaluation
    deliveries: list[Delivery] = field(default_factory=list)

    def count(self, status: str) -> int:
        """Deliveries with `status`."""
        return sum(d.status == status for d in self.deliveries)

    @property
    def failed(self) -> list[Delivery]:
        """Deliveries that failed after every attempt."""
        return [d for d in self.deliveries if d.status == "failed"]

    def summary(self) -> dict[str, int]:
        """Counts per status, and of alerts."""
        statuses = ("sent", "already_sent", "failed", "would_send", "claimed_elsewhere")
        return {"alerts": len(self.evaluation.alerts)} | {
            s: self.count(s) for s in statuses
        }


def run_alerts(
    wh: Warehouse,
    ruleset: RuleSet,
    *,
    as_of: str | dt.date | None = None,
    state: str | Path | None = None,
    dry_run: bool = False,
    clock: dt.datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
    progress: Progress | None = None,
) -> AlertRun:
    """Evaluate `ruleset` on `wh` as of `as_of` (default: the data's last day) and deliver.

    `state` is the SQLite file of sent alerts (default :func:`default_state_path`);
    `dry_run` sends nothing and writes nothing; `clock` stands in for the wall clock.
    """
    from crmlens.insights.params import resolve_as_of

    day = resolve_as_of(wh, as_of)
    now = now_for(day, clock)
    path = Path(state) if state is not None else default_state_path(wh.url)
    evaluation = evaluate(wh, ruleset, as_of=day, now=now, progress=progress)
    with StateStore(
        path,
        read_only=dry_run,
        claim_timeout_minutes=ruleset.delivery.claim_timeout_minutes,
    ) as store:
        deliveries = deliver(
            evaluation.alerts, ruleset, store, dry_run=dry_run, sleep=sleep,
            progress=progress,
        )  # fmt: skip
    return AlertRun(day, now, path, dry_run, evaluation, deliveries)
