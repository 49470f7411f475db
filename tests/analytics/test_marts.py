"""Marts change speed, never a number: each analysis gives the same rows with and without."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from crmlens.analytics.funnel import stage_funnel
from crmlens.analytics.journeys import deal_event_log, directly_follows, variants
from crmlens.errors import WarehouseError
from crmlens.insights.rules.funnel import inputs_of
from crmlens.warehouse.marts import builders
from crmlens.warehouse.scope import Scope, scoped
from tests.backends import assert_same_rows

MARTS = {
    "deal_facts",
    "stage_times",
    "stage_entries",
    "lead_links",
    "stage_cases",
    "stage_transitions",
}


@pytest.fixture
def wh(demo_wh, engine: str):
    if engine != "duckdb":
        pytest.skip("marts are kept by DuckDB warehouses only")
    return demo_wh


@pytest.fixture
def as_of(demo_truth) -> dt.date:
    return dt.date.fromisoformat(demo_truth["as_of"])


def test_builders_are_installed() -> None:
    assert set(builders()) >= MARTS


def test_a_mart_covers_only_dates_after_its_data(wh, as_of: dt.date) -> None:
    for name in MARTS:
        assert wh.mart(name, as_of) is not None
        assert wh.mart(name, dt.date(2024, 6, 30)) is None
    last = wh.imports.import_id.max().execute()
    meta = wh.table("marts").to_pyarrow().to_pylist()
    assert {m["import_id"] for m in meta} == {last}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"by": "manager"},
        {"by": "month"},
        {"pipeline": "main"},
        {"start": dt.date(2024, 1, 1), "end": dt.date(2024, 12, 31)},
    ],
    ids=["all", "by-manager", "by-month", "pipeline", "window"],
)
def test_funnel_is_the_same_with_and_without_marts(wh, as_of, params) -> None:
    inputs = inputs_of(wh)
    fast = stage_funnel(inputs, as_of=as_of, **params).to_pyarrow().to_pylist()
    slow = stage_funnel(dataclasses.replace(inputs, mart=None), as_of=as_of, **params)
    assert_same_rows(fast, slow.to_pyarrow().to_pylist())
    assert fast  # not vacuous


def test_journeys_are_the_same_with_and_without_marts(wh, as_of) -> None:
    log = deal_event_log(
        wh.deals,
        wh.deal_stages,
        wh.pipelines,
        wh.activities,
        as_of=as_of,
        events="stages",
    )
    cases, steps = wh.mart("stage_cases", as_of), wh.mart("stage_transitions", as_of)
    assert_same_rows(
        variants(log, cases=cases).to_pyarrow().to_pylist(),
        variants(log).to_pyarrow().to_pylist(),
    )
    assert_same_rows(
        directly_follows(log, steps=steps).to_pyarrow().to_pylist(),
        directly_follows(log).to_pyarrow().to_pylist(),
    )


def test_a_scoped_view_never_reads_a_mart(wh, as_of) -> None:
    view = scoped(wh, Scope("manager", "M05"))
    assert view.mart("deal_facts", as_of) is None
    with pytest.raises(WarehouseError, match="every owner"):
        view.table("mart_deal_facts")


def test_a_failed_import_leaves_the_marts_as_they_were(
    open_wh, engine: str, demo_dir: Path
) -> None:
    if engine != "duckdb":
        pytest.skip("marts are kept by DuckDB warehouses only")
    w = open_wh()
    w.import_files([demo_dir / "deals.csv", demo_dir / "pipelines.csv"])
    before = w.table("marts").to_pyarrow().to_pylist()
    with pytest.raises(Exception, match="fail"):
        w.import_files([demo_dir / "deal_stages.csv"], fail_after="deal_stages")
    w.refresh()
    assert w.table("marts").to_pyarrow().to_pylist() == before
