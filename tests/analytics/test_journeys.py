"""Journeys: hand-computed variants, graph and conformance; BPIC 2012 against pm4py."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from benchmarks.make_pm4py_reference import variants_digest

from crmlens.analytics.journeys import SEPARATOR, directly_follows, endpoints, variants
from tests.analytics.test_funnel import AS_OF, _write_tiny

REFERENCE = Path(__file__).parent / "reference"


@pytest.fixture
def tiny_wh(open_wh, tmp_path: Path):  # type: ignore[no-untyped-def]
    wh = open_wh()
    wh.import_files([_write_tiny(tmp_path)])
    return wh


def _log_table(engine_wh, path: Path, tmp: Path):  # type: ignore[no-untyped-def]
    """A process-mining CSV as an event log of the engine: seq = the file's row order."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pv

    raw = pv.read_csv(
        path,
        convert_options=pv.ConvertOptions(
            column_types={"case:concept:name": pa.string()},
            include_columns=["case:concept:name", "concept:name", "time:timestamp"],
        ),
    )
    ts = pc.cast(raw["time:timestamp"], pa.timestamp("us", tz="UTC"))
    table = pa.table(
        {
            "case_id": raw["case:concept:name"],
            "activity": raw["concept:name"],
            "timestamp": pc.cast(ts, pa.timestamp("us")),
            "seq": pa.array(range(raw.num_rows), pa.int64()),
        }
    )
    import pyarrow.parquet as pq

    name = f"log_{path.name.split('_')[0]}"
    pq.write_table(table, tmp / f"{name}.parquet")
    return engine_wh.con.read_parquet(str(tmp / f"{name}.parquet"), table_name=name)


@pytest.mark.parametrize("log", ["bpic2012", "helpdesk"])
def test_variants_and_dfg_equal_pm4py(
    log: str,
    open_wh,
    shared_data: Path,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    ref = json.loads((REFERENCE / f"{log}_pm4py.json").read_text())
    path = shared_data / "process_mining_logs" / "derived" / f"{log}_events.csv.gz"
    t = _log_table(open_wh(), path, tmp_path)
    got_v = variants(t).select("variant", "deals").to_pyarrow().to_pylist()
    got = sorted(
        ([r["variant"].split(SEPARATOR), r["deals"]] for r in got_v),
        key=lambda x: (-x[1], x[0]),
    )
    assert len(got) == ref["variant_count"]
    assert got[:20] == ref["top_variants"]
    assert variants_digest(got) == ref["variants_sha256"]
    assert sum(r["deals"] for r in got_v) == ref["cases"]
    dfg = directly_follows(t).to_pyarrow().to_pylist()
    got_dfg = sorted([r["from_activity"], r["to_activity"], r["count"]] for r in dfg)
    assert got_dfg == ref["dfg"]
    ends = endpoints(t).to_pyarrow().to_pylist()
    starts = {r["activity"]: r["count"] for r in ends if r["end"] == "start"}
    assert starts == ref["start_activities"]


def test_tiny_variants_graph_conformance(tiny_wh) -> None:  # type: ignore[no-untyped-def]
    from crmlens.analytics.funnel import funnel_facts
    from crmlens.analytics.journeys import deal_event_log
    from crmlens.analytics.journeys_conformance import deal_conformance
    from crmlens.insights.rules.funnel import inputs_of

    wh = tiny_wh
    log = deal_event_log(
        wh.deals,
        wh.deal_stages,
        wh.pipelines,
        wh.activities,
        as_of=AS_OF,
        events="stages",
    )
    v = {r["variant"]: r for r in variants(log).to_pyarrow().to_pylist()}
    assert v["A → B → C → W"]["deals"] == 1
    assert v["A → B → A → B"]["steps"] == 4
    assert v["A"]["share"] == pytest.approx(0.2)
    dfg = {
        (r["from_activity"], r["to_activity"]): r
        for r in directly_follows(log).to_pyarrow().to_pylist()
    }
    assert dfg[("A", "B")]["count"] == 3  # d1, d4 twice
    assert dfg[("B", "A")]["count"] == 1
    assert dfg[("A", "C")]["median_hours_between"] == pytest.approx(96.0)
    design, ev, facts = funnel_facts(inputs_of(wh), as_of=AS_OF)
    conf = {
        r["deal_id"]: r
        for r in deal_conformance(ev, facts, design, log).to_pyarrow().to_pylist()
    }
    assert conf["d1"]["designed_steps"] == 4
    assert conf["d1"]["actual_steps"] == 4
    assert conf["d2"]["skipped_stages"] == 1
    assert conf["d4"]["backward_moves"] == 1
    assert conf["d4"]["repeated_entries"] == 2
    assert conf["d5"]["actual_steps"] == 1
    assert conf["d3"]["designed_steps"] == 1


def test_demo_journeys_designed_vs_actual(demo_wh, demo_truth) -> None:  # type: ignore[no-untyped-def]
    from crmlens.insights.registry import run

    demo_wh.refresh()  # Spark: views are named per table, another warehouse may own them
    truth = demo_truth["journeys"]
    result = run("journeys", demo_wh, top=5)
    assert result.rows.num_rows == 5
    assert result.rows.column("deals").to_pylist() == sorted(
        result.rows.column("deals").to_pylist(), reverse=True
    )
    gaps = [f for f in result.findings if f.kind == "journey_gap"]
    main = next(f for f in gaps if f.subject["id"] == "main")
    assert main.baseline == truth["designed_steps_won"]
    assert main.value == truth["median_steps_won"]
    steps = {(s["kind"], s["stage"]): s for s in main.evidence["undesigned_steps"]}
    second = next(
        s for s in truth["undesigned_steps"] if s["kind"] == "second_proposal"
    )
    got = steps[("repeat", second["stage"])]["share_of_won"]
    assert got == pytest.approx(second["share_of_won"], abs=0.03)
    assert ("extra_meeting", None) in steps


def test_journeys_export(demo_wh, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from crmlens.insights.registry import run

    demo_wh.refresh()  # Spark: views are named per table, another warehouse may own them
    for kind in ("csv", "dot", "xes"):
        out = tmp_path / f"j.{kind}"
        run(
            "journeys",
            demo_wh,
            events="stages",
            export=kind,
            out=str(out),
            as_of=dt.date(2023, 3, 31),
        )
        text = out.read_text(encoding="utf-8")
        assert {"csv": "case_id,activity", "dot": "digraph", "xes": "<trace>"}[
            kind
        ] in text
