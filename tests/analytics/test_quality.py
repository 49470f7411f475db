"""Quality checks: hand-made failing and passing rows per check, on both engines; the demo."""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from pathlib import Path

import ibis
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.analytics import normalise_names as nn
from crmlens.analytics import quality as q
from crmlens.analytics.quality_checks import Context, Rows
from crmlens.model import IBIS_TYPES, TABLES
from tests.backends import normalise_rows

T = dt.datetime
AS_OF = dt.date(2025, 6, 30)
ROWS: dict[str, list[dict]] = {
    "managers": [{"manager_id": "M1", "name": "A"}, {"manager_id": "M2", "name": "B"}],
    "accounts": [
        {"account_id": "A1", "name": "Гранит", "inn": "7707083893", "phone": "+7 495 1234567",
         "email": "a@firm.ru", "website": "www.firm.ru", "owner_id": "M1",
         "created_at": T(2020, 1, 1), "founded_year": 2000, "industry": "x"},
        {"account_id": "A2", "name": "Гранат", "inn": "7707083894", "phone": "12-34",
         "email": "bad@", "website": "not a site", "owner_id": "M2",
         "created_at": T(2020, 1, 1), "founded_year": 2021, "industry": "x"},
    ],
    "deals": [
        {"deal_id": "D1", "created_at": T(2025, 1, 1), "pipeline_id": "p", "account_id": "A1",
         "owner_id": "M1", "amount": 1000.0, "currency": "RUB", "status": "won",
         "closed_at": T(2025, 2, 1)},
        {"deal_id": "D2", "created_at": T(2025, 1, 1), "pipeline_id": "p", "account_id": "AX",
         "owner_id": "M2", "amount": None, "currency": "RUB", "status": "won"},
        {"deal_id": "D3", "created_at": T(2025, 8, 1), "pipeline_id": "p", "account_id": "A1",
         "owner_id": "M2", "amount": -5.0, "currency": "RUB", "status": "lost",
         "closed_at": T(2025, 8, 2)},
        {"deal_id": "D5", "created_at": T(2025, 1, 1), "pipeline_id": "p", "account_id": "A1",
         "owner_id": "M1", "amount": 5.0, "currency": "RUB", "status": "lost",
         "closed_at": T(2025, 2, 1), "lost_reason": "price"},
        {"deal_id": "D4", "created_at": T(2025, 6, 1), "pipeline_id": "p", "account_id": "A1",
         "owner_id": "M1", "amount": 10.0, "currency": "RUB", "status": "open"},
    ],
    "orders": [{"order_id": "O1", "account_id": "A1", "order_date": dt.date(2025, 2, 1),
                "amount": 1000.0, "deal_id": "D1", "manager_id": "M1"}],
    "deal_stages": [{"deal_id": "D5", "stage": "s", "entered_at": T(2025, 1, 1)},{"deal_id": "D1", "stage": "s", "entered_at": T(2025, 1, 1)},
                    {"deal_id": "D4", "stage": "s", "entered_at": T(2025, 6, 1)},
                    {"deal_id": "DX", "stage": "s", "entered_at": T(2025, 1, 1)}],
    "leads": [
        {"lead_id": "L1", "created_at": T(2025, 6, 1, 9), "owner_id": "M1", "source": "web",
         "first_response_at": T(2025, 6, 1, 10), "status": "converted"},
        {"lead_id": "L2", "created_at": T(2025, 6, 1, 9), "owner_id": "M2", "source": None,
         "first_response_at": T(2025, 6, 2, 9), "status": "converted"},
        {"lead_id": "L3", "created_at": T(2025, 6, 1, 9), "owner_id": "M2", "source": "web",
         "status": "in_work"},
    ],
    "activities": [
        {"activity_id": "X1", "type": "task", "created_at": T(2025, 6, 1), "manager_id": "M1",
         "deal_id": "D4", "due_at": T(2025, 7, 5)},
        {"activity_id": "X2", "type": "task", "created_at": T(2025, 5, 1), "manager_id": "M2",
         "deal_id": "D1", "due_at": T(2025, 5, 5)},
        {"activity_id": "X3", "type": "call", "created_at": T(2025, 6, 10), "manager_id": "M2",
         "done_at": T(2025, 6, 1)},
        {"activity_id": "X4", "type": "call", "created_at": T(2025, 6, 1, 1),
         "manager_id": "M1", "done_at": T(2025, 6, 1)},
    ],
}  # fmt: skip
EXPECTED = {
    "accounts.inn_checksum": {"A2"}, "accounts.phone_format": {"A2"},
    "accounts.email_format": {"A2"}, "accounts.website_format": {"A2"},
    "accounts.before_founded": {"A2"}, "deals.amount_not_positive": {"D3"},
    "deals.future_date": {"D3"}, "deals.account_missing": {"D2"},
    "deal_stages.deal_missing": {"DX"}, "deals.amount_empty": {"D2"},
    "leads.source_empty": {"L2"}, "deals.no_stage_history": {"D2", "D3"},
    "deals.status_vs_closed_at": {"D2"}, "activities.logged_late": {"X3"},
    "leads.slow_first_response": {"L2"}, "leads.not_taken": {"L3"},
    "activities.overdue_task": {"X2"}, "deals.without_next_task": set(),
    "accounts.duplicate_key": set(), "deals.lost_reason_empty": {"D3"},
    "deals.won_without_orders": {"D2"}, "deals.mixed_currency": set(),
}  # fmt: skip


def _tables(con, tmp: Path, data: dict[str, list[dict]] = ROWS) -> dict:
    """The hand-made rows as tables of `con` (Parquet files on Spark, as its warehouse)."""
    import pyarrow.parquet as pq

    out = {}
    for name, spec in TABLES.items():
        schema = ibis.schema({c.name: IBIS_TYPES[c.type] for c in spec.columns})
        rows = [{c: r.get(c) for c in schema.names} for r in data.get(name, [])]
        table = pa.Table.from_pylist(rows, schema=schema.to_pyarrow())
        if con.name == "pyspark":
            pq.write_table(table, tmp / f"{name}.parquet")
            out[name] = con.read_parquet(str(tmp / f"{name}.parquet"), table_name=name)
        else:
            out[name] = ibis.memtable(table)
    return out


@pytest.mark.parametrize("check", sorted(EXPECTED))
def test_check_fails_and_passes_hand_made_rows(
    check: str, open_wh, tmp_path: Path
) -> None:
    wh = open_wh()
    checks = {c.name: c for c in q.catalogue()}
    pop = checks[check].build(_tables(wh.con, tmp_path), Context(as_of=AS_OF))
    rows = wh.con.to_pyarrow(pop).to_pylist()
    assert rows, "the population is not empty"
    assert {r["record_id"] for r in rows if r["failed"]} == EXPECTED[check]
    assert any(not r["failed"] for r in rows)


def test_duplicate_keys_and_shared_values(open_wh, tmp_path: Path) -> None:
    def acc(i: str, inn: str | None, owner: str) -> dict:
        return {"account_id": i, "name": i, "inn": inn, "owner_id": owner,
                "created_at": T(2020, 1, 1)}  # fmt: skip

    data = {"accounts": [acc("A1", "7707083893", "M1"), acc("A1", "7707083893", "M2"),
                         acc("A3", " ", "M1"), acc("A4", None, "M1"),
                         acc("A5", "3411690148", "M2")]}  # fmt: skip
    wh = open_wh()
    tables = _tables(wh.con, tmp_path, data)
    checks = {c.name: c for c in q.catalogue()}
    ctx = Context(as_of=AS_OF)
    for name, population, failed in [
        ("accounts.duplicate_key", ["A1", "A1", "A3", "A4", "A5"], ["A1", "A1"]),
        ("accounts.shared_inn", ["A1", "A1", "A5"], ["A1", "A1"]),
    ]:
        rows = wh.con.to_pyarrow(checks[name].build(tables, ctx)).to_pylist()
        assert sorted(r["record_id"] for r in rows) == population, name
        assert sorted(r["record_id"] for r in rows if r["failed"]) == failed, name
    # A warehouse whose import refuses repeated keys: the same population, none looked up.
    unique = Context(as_of=AS_OF, keys_unique=True)
    rows = wh.con.to_pyarrow(
        checks["accounts.duplicate_key"].build(tables, unique)
    ).to_pylist()
    assert sorted(r["record_id"] for r in rows) == ["A1", "A1", "A3", "A4", "A5"]
    assert not any(r["failed"] for r in rows)


def test_crmlens_warehouses_refuse_repeated_keys_and_say_so(
    open_wh, tmp_path: Path
) -> None:
    from crmlens.insights.rules.quality import _keys_unique
    from crmlens.warehouse.scope import Scope, scoped

    (tmp_path / "accounts.csv").write_text(
        "account_id,name,owner_id,created_at\nA1,Альфа,M1,2024-01-01\n"
        "A1,Бета,M1,2024-01-01\nA2,Гамма,M2,2024-01-01\n"
    )
    wh = open_wh()
    wh.import_files([tmp_path / "accounts.csv"])
    assert wh.accounts.count().execute() == 1  # A1 twice, differently: quarantined
    assert wh.quarantine.count().execute() == 2
    assert _keys_unique(wh)
    assert _keys_unique(scoped(wh, Scope("manager", "M1")))


def _summary_both_ways(wh, tables: dict) -> tuple[list, list, list]:
    available = {n for n, rows in ROWS.items() if rows} | {"orders.deal_id"}
    checks = q.applicable(q.catalogue(), available)
    ctx = Context(as_of=AS_OF)
    fused = wh.con.to_pyarrow(q.check_counts(tables, checks, ctx=ctx)).to_pylist()
    pop = q.populations(tables, checks, ctx=ctx)
    one_by_one = q.check_summary(pop, by_manager=True)
    return checks, fused, wh.con.to_pyarrow(one_by_one).to_pylist()


def test_check_counts_equal_the_population_summary(open_wh, tmp_path: Path) -> None:
    """Counting the row checks of a table in one pass changes no number."""
    wh = open_wh()
    tables = _tables(wh.con, tmp_path)
    checks, fused, one_by_one = _summary_both_ways(wh, tables)
    assert normalise_rows(fused) == normalise_rows(one_by_one)
    assert any(isinstance(c.build, Rows) for c in checks)
    assert any(not isinstance(c.build, Rows) for c in checks)
    failed = {r["check"]: r["failed"] for r in q.roll_up(ibis.memtable(
        pa.Table.from_pylist(fused))).to_pyarrow().to_pylist()}  # fmt: skip
    for name, ids in EXPECTED.items():
        assert failed.get(name, 0) == len(ids), name


def test_examples_are_the_first_failing_records(open_wh, tmp_path: Path) -> None:
    wh = open_wh()
    tables = _tables(wh.con, tmp_path)
    available = {n for n, rows in ROWS.items() if rows} | {"orders.deal_id"}
    checks = q.applicable(q.catalogue(), available)
    ctx = Context(as_of=AS_OF)
    got = wh.con.to_pyarrow(q.examples(tables, checks, ctx=ctx, limit=1)).to_pylist()
    pop = q.populations(tables, checks, ctx=ctx)
    want = wh.con.to_pyarrow(q.failing_records(pop, limit_per_check=1)).to_pylist()
    assert sorted((r["check"], r["record_id"]) for r in got) == sorted(
        (r["check"], r["record_id"]) for r in want
    )
    examples = {r["check"]: r["record_id"] for r in got}
    assert examples["deals.no_stage_history"] == "D2"
    assert {name for name, ids in EXPECTED.items() if ids} <= set(examples)


def _phone_ok(raw: str) -> bool:
    """The phone rule written out plainly (the reference for the one-pattern version)."""
    s = raw.strip(string.whitespace)
    if not re.fullmatch(r"\+?[0-9 ()\-.]+", s):
        return False
    digits = "".join(ch for ch in s if ch.isdigit())
    n = len(digits)
    return n == 10 or (n == 11 and digits[0] in "78") or (s[0] == "+" and 8 <= n <= 15)


@given(st.lists(st.text(alphabet="0123456789+ ()-.78a\t\n\x0b", max_size=22), min_size=1,
                max_size=40))  # fmt: skip
def test_phone_pattern_is_the_plain_rule(values: list[str]) -> None:
    t = ibis.memtable(pa.table({"s": pa.array(values, pa.string())}))
    got = t.select(ok=nn.phone_valid_expr(t.s)).to_pyarrow()["ok"].to_pylist()
    assert [bool(x) for x in got] == [_phone_ok(v) for v in values]


@given(st.lists(st.tuples(st.integers(0, 10**12 - 1), st.sampled_from([9, 10, 11, 12]),
                          st.sampled_from(["", " ", "\t"])), min_size=1, max_size=40))  # fmt: skip
def test_inn_expression_is_the_python_checksum(
    values: list[tuple[int, int, str]],
) -> None:
    inns = [pad + f"{body:012d}"[:width] + pad for body, width, pad in values]
    t = ibis.memtable(pa.table({"s": pa.array(inns, pa.string())}))
    got = t.select(ok=nn.inn_valid_expr(t.s)).to_pyarrow()["ok"].to_pylist()
    assert [bool(x) for x in got] == [nn.inn_valid(v.strip()) for v in inns]


def test_scores_weight_shares_by_severity(open_wh) -> None:
    wh = open_wh()
    summary = ibis.memtable({
        "check": ["a", "b"], "requirement": ["r", "r"], "table": ["t", "t"],
        "column": ["c", "c"], "severity": ["high", "low"], "failed": [1, 0],
        "total": [2, 5], "share": [0.5, 0.0]})  # fmt: skip
    row = wh.con.to_pyarrow(q.scores(summary, None)).to_pylist()[0]
    assert row["score"] == pytest.approx(100 * (1 - 3 * 0.5 / 4))


def test_demo_careless_manager_scores_lowest(demo_wh, demo_truth) -> None:
    from crmlens.insights.registry import run

    res = run("quality", demo_wh, by="manager")
    rows = res.rows.to_pylist()
    careless = demo_truth["careless"]["manager_id"]
    assert min(rows, key=lambda r: r["score"])["manager_id"] == careless
    mine = [
        f for f in res.findings if f.kind == "manager" and f.subject["id"] == careless
    ]
    assert mine, "a finding names the careless manager"
    checks = set(mine[0].evidence["checks"])
    assert {"deals.amount_empty", "activities.overdue_task",
            "leads.slow_first_response"} <= checks  # fmt: skip
    share = mine[0].evidence["shares"]["deals.amount_empty"]
    assert share == pytest.approx(
        demo_truth["careless"]["empty_amount_share"], abs=0.05
    )
    others = [
        f for f in res.findings if f.kind == "manager" and f.subject["id"] != careless
    ]
    assert not others, "nothing flagged where nothing was planted"


def test_cli_json_and_xlsx_export(
    demo_wh, demo_truth, tmp_path: Path, engine: str
) -> None:
    if engine != "duckdb":
        pytest.skip(
            "the CLI run is covered on DuckDB; the analysis runs on both engines"
        )
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from crmlens.cli.app import app

    out = tmp_path / "fix.xlsx"
    args = ["quality", "-w", str(demo_wh.storage.path), "--by", "manager", "--format",
            "json", "--export", "xlsx", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["rows"][0]["manager_id"] == demo_truth["careless"]["manager_id"]
    book = load_workbook(out, read_only=True)
    managers = demo_wh.managers.count().execute()
    assert len(book.sheetnames) >= managers
    assert any(
        s.startswith(demo_truth["careless"]["manager_id"]) for s in book.sheetnames
    )
