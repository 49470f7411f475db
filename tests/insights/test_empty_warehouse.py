"""Every registered analysis on an empty warehouse: no rows and no findings, or a clear error.

An analysis given a warehouse without data either returns an AnalysisResult with 0 rows
and no findings, or raises a :class:`crmlens.errors.CrmlensError` (one plain line for the
CLI and the API) — never another exception. The two analyses that describe the data
itself (``tables``, ``quality``) report the empty tables instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import crmlens
from crmlens.errors import CrmlensError
from crmlens.insights import registry
from crmlens.insights.findings import validate
from crmlens.model import TABLES

registry._load_builtins()

#: Analyses whose rows describe the data itself: they report the empty tables.
ABOUT_THE_DATA = ("tables", "quality")


@pytest.fixture(scope="module")
def empty_wh(tmp_path_factory: pytest.TempPathFactory) -> Any:
    path: Path = tmp_path_factory.mktemp("empty") / "empty.duckdb"
    return crmlens.open(path)


def _run(wh: Any, name: str) -> registry.AnalysisResult | CrmlensError:
    try:
        return registry.REGISTRY[name].run(wh)
    except CrmlensError as err:
        return err


@pytest.mark.parametrize(
    "name", [n for n in sorted(registry.REGISTRY) if n not in ABOUT_THE_DATA]
)
def test_empty_warehouse_gives_no_rows_or_a_clear_error(empty_wh, name: str) -> None:
    out = _run(empty_wh, name)
    if isinstance(out, CrmlensError):
        message = str(out).strip()
        assert message
        assert "\n" not in message  # one line on stderr
        assert out.envelope()["error"] == str(out)
        return
    assert out.analysis == name
    assert out.rows.num_rows == 0, out.rows.slice(0, 3).to_pylist()
    assert out.findings == []


def test_tables_reports_every_table_empty(empty_wh) -> None:
    rows = registry.run("tables", empty_wh).rows.to_pylist()
    assert {r["table_name"] for r in rows} == set(TABLES)
    assert all(r["row_count"] == 0 for r in rows)
    assert all(r["first_at"] is None and r["last_at"] is None for r in rows)


def test_quality_reports_only_the_missing_tables(empty_wh) -> None:
    result = registry.run("quality", empty_wh)
    failed = [r for r in result.rows.to_pylist() if r["failed"]]
    assert [r["check"] for r in failed] == ["tables.present"]
    assert failed[0]["failed"] == failed[0]["total"] == len(TABLES)
    assert result.findings
    for finding in result.findings:
        validate(finding.to_dict())
        assert finding.subject.get("id") in (None, "tables.present")


def test_every_analysis_is_covered() -> None:
    """The special cases name registered analyses."""
    assert set(ABOUT_THE_DATA) <= set(registry.REGISTRY)


def test_scoring_refuses_too_few_outcomes_in_plain_words() -> None:
    import pandas as pd

    from crmlens.errors import InputError
    from crmlens.insights.rules._leads_score import MIN_PER_CLASS, _check_trainable

    few = pd.DataFrame({"is_converted": [1] * 5 + [0] * 100})
    with pytest.raises(InputError, match="5 converted and 100 not"):
        _check_trainable(few)
    enough = pd.DataFrame({"is_converted": [1, 0] * MIN_PER_CLASS})
    _check_trainable(enough)  # does not raise
