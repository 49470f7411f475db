"""``crmlens insights`` through Typer's CliRunner: every format and the clear errors."""

from __future__ import annotations

import json
import re
from itertools import takewhile
from typing import Any

import pytest
from typer.testing import CliRunner

from crmlens.cli.app import app
from crmlens.insights import narrative
from tests.insights import story_cache

runner = CliRunner()
AS_OF = story_cache.AS_OF


@pytest.fixture
def cached_collect(
    demo_wh: Any, monkeypatch: pytest.MonkeyPatch
) -> list[dict[str, Any]]:
    """`collect` answering from one real run per role (the CLI's own path is unchanged)."""
    calls: list[dict[str, Any]] = []

    def collect(wh: Any, **kw: Any) -> narrative.Collected:
        calls.append(kw)
        assert kw["as_of"] == AS_OF
        return story_cache.collected(demo_wh, kw["role"], kw.get("scope"))

    monkeypatch.setattr(narrative, "collect", collect)
    return calls


def invoke(*args: str) -> Any:
    return runner.invoke(app, ["insights", *args])


def test_json_envelope_of_the_whole_run(demo_wh: Any) -> None:
    result = invoke(
        "-w", demo_wh.url.raw, "--as-of", AS_OF, "--lang", "en", "-f", "json"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data) >= {"analysis", "params", "rows", "findings", "story"}
    assert data["analysis"] == "insights"
    assert data["params"] == {
        "role": "head",
        "scope": None,
        "lang": "en",
        "top": 5,
        "as_of": AS_OF,
    }
    assert [r["rank"] for r in data["rows"]] == [1, 2, 3, 4, 5]
    assert data["rows"][0]["title"] == data["story"]["items"][0]["title"]
    assert len(data["findings"]) == 5
    assert data["story"]["headline"].startswith("5 problems put RUB")
    assert data["story"]["skipped"] == []
    assert set(data["story"]["seconds"]) == set(narrative.role_spec("head").analyses)


def test_text_and_markdown(demo_wh: Any, cached_collect: list[dict[str, Any]]) -> None:
    path = demo_wh.url.raw
    text = invoke("-w", path, "--as-of", AS_OF, "--lang", "ru", "--top", "3")
    assert text.exit_code == 0, text.output
    assert "3 проблемы — под угрозой" in text.output
    assert "→ " in text.output
    assert "crmlens funnel --as-of 2025-12-15" in text.output
    assert re.search(r"\n1\. Ключевые клиенты уходят", text.output)
    md = invoke("-w", path, "--as-of", AS_OF, "--lang", "en", "-f", "markdown")
    assert md.exit_code == 0, md.output
    assert md.output.startswith("# 5 problems put RUB")
    assert "## 5. The December 2025 plan is at risk" in md.output
    assert "**Action:**" in md.output
    assert cached_collect[0]["role"] == "head"
    assert cached_collect[0]["scope"] is None


def test_roles_and_bare_scope_ids(
    demo_wh: Any, cached_collect: list[dict[str, Any]]
) -> None:
    path = demo_wh.url.raw
    result = invoke(
        "-w",
        path,
        "--as-of",
        AS_OF,
        "--role",
        "manager",
        "--scope",
        "M05",
        "-f",
        "json",
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["params"]["scope"] == "manager:M05"
    assert set(re.findall(r"\bM\d\d\b", result.output)) == {"M05"}
    assert str(cached_collect[-1]["scope"]) == "manager:M05"
    result = invoke("-w", path, "--as-of", AS_OF, "--role", "regional", "--scope", "Юг")
    assert result.exit_code == 0, result.output
    assert "Регион Юг:" in result.output or "Region Юг:" in result.output


def test_every_evidence_command_exists(
    demo_wh: Any, cached_collect: list[dict[str, Any]]
) -> None:
    result = invoke("-w", demo_wh.url.raw, "--as-of", AS_OF, "--top", "7", "-f", "json")
    assert result.exit_code == 0, result.output
    commands = [
        i["evidence"]["command"] for i in json.loads(result.output)["story"]["items"]
    ]
    assert len(commands) == 7
    for command in commands:
        words = command.split()
        assert words[0] == "crmlens"
        sub = list(takewhile(lambda w: not w.startswith("-"), words[1:]))
        help_ = runner.invoke(app, [*sub, "--help"])
        assert help_.exit_code == 0, (command, help_.output)
        options = [w for w in words if w.startswith("--")]
        for option in options:
            assert option in help_.output, (command, option)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "regional"], "role regional needs --scope with a region"),
        (["--role", "manager"], "role manager needs --scope with a manager"),
        (["--role", "boss"], "unknown role 'boss'"),
        (["--lang", "de"], "unknown language 'de'"),
        (["--top", "0"], "--top 0 is out of range"),
        (["--scope", "Юг"], "--scope 'Юг' needs a kind for role head"),
        (["--scope", "planet:Mars"], "unknown scope 'planet'"),
        (
            ["--role", "manager", "--scope", "M99"],
            "no manager 'M99' among the managers",
        ),
        (["--as-of", "15/12/2025"], "--as-of '15/12/2025' is not a date"),
    ],
)
def test_clear_errors(demo_wh: Any, args: list[str], message: str) -> None:
    from tests.warehouse.test_fuzz import run_cli

    code, out, err = run_cli(["insights", "-w", demo_wh.url.raw, *args, "-f", "json"])
    assert code == 1, (out, err)
    assert err.startswith("error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err
    assert json.loads(out)["ok"] is False


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["insights", "--help"])
    assert result.exit_code == 0
    for word in (
        "--role",
        "--scope",
        "--lang",
        "--top",
        "--as-of",
        "--format",
        "Examples",
    ):
        assert word in result.output
