"""docs/alerts.md: its sample rules file is valid and matches --init; scheduling examples."""

from __future__ import annotations

import re
from pathlib import Path

from crmlens.alerts.rules import KINDS, example_rules, parse_rules

DOC = (Path(__file__).resolve().parents[2] / "docs" / "alerts.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def test_the_sample_rules_file_is_valid_and_is_the_init_file() -> None:
    (sample,) = blocks("yaml")
    rs = parse_rules(sample, file="docs/alerts.md")
    assert {r.kind for r in rs.rules} == set(KINDS)
    init = parse_rules(example_rules())
    assert [(r.name, r.kind, r.options) for r in rs.rules] == [
        (r.name, r.kind, r.options) for r in init.rules
    ]
    assert rs.smtp == init.smtp


def test_a_cron_line_and_a_systemd_service_and_timer() -> None:
    (cron,) = blocks("cron")
    assert re.match(r"^[\d,*/-]+ [\d,*/-]+ \S+ \S+ \S+ .*crmlens alerts ", cron)
    units = "\n".join(blocks("ini"))
    assert "[Service]" in units
    assert "Type=oneshot" in units
    assert "[Timer]" in units
    assert "OnCalendar=" in units
    assert "ExecStart=/opt/crmlens/.venv/bin/crmlens alerts --rules" in units
