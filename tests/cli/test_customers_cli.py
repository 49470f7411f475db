"""``crmlens customers …`` on the demo: every subcommand runs and prints JSON."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from crmlens.cli.app import app

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["rfm"],
        ["rfm", "--compare", "2025-06-30", "2025-12-14"],
        ["abc", "--matrix"],
        ["xyz", "--level", "product", "--by", "margin"],
        ["cohorts", "--period", "quarter", "--metric", "revenue"],
        ["clusters", "--k", "3"],
        ["seasonality"],
        ["churn"],
        ["factors", "--period", "quarter"],
    ],
)
def test_customers_commands(args: list[str], demo_wh) -> None:
    path = demo_wh.url.raw
    result = runner.invoke(app, ["customers", *args, "-w", path, "-f", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["analysis"].startswith("customers_")
    assert data["rows"]
    for f in data["findings"]:
        assert f["text"]["ru"]
        assert f["text"]["en"]


def test_help_lists_subcommands() -> None:
    result = runner.invoke(app, ["customers", "--help"])
    assert result.exit_code == 0, result.output
    for name in (
        "rfm",
        "abc",
        "xyz",
        "cohorts",
        "clusters",
        "seasonality",
        "churn",
        "factors",
    ):
        assert name in result.output
