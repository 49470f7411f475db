"""crmlens' DuckDB backend returns what Ibis' own returns, without importing pandas."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import textwrap
from decimal import Decimal

import duckdb
import ibis
import pyarrow as pa
import pytest

from crmlens.warehouse.duckdb_backend import DuckDBBackend

ROWS = """
CREATE TABLE t AS SELECT * FROM (VALUES
  (1, 'a', 1.5, DATE '2025-01-02', TIMESTAMP '2025-01-02 03:04:05', TRUE,
   12.34::DECIMAL(18,2), [1, 2], {'k': 1}, NULL),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 'в', -0.0, DATE '1999-12-31', TIMESTAMP '1999-12-31 23:59:59', FALSE,
   -1.00::DECIMAL(18,2), [], {'k': NULL}, NULL)
) v(i, s, f, d, ts, b, m, l, st, n)
"""


@pytest.fixture(scope="module")
def pair() -> tuple[ibis.BaseBackend, ibis.BaseBackend]:
    con = duckdb.connect()
    con.execute(ROWS)
    return DuckDBBackend.from_connection(con), ibis.duckdb.from_connection(con)


def expressions(con: ibis.BaseBackend) -> dict[str, ibis.Expr]:
    """One expression of each shape and type the analyses return."""
    t = con.table("t")
    mem = ibis.memtable({"i": [1, 3], "label": ["one", "three"]})
    exprs = {
        "table": t.order_by("i"),
        "null column": t.select("i", nothing=ibis.null()).order_by("i"),
        "typed null": t.select("i", none=ibis.null().cast("string")).order_by("i"),
        "column": t.order_by("i").s,
        "scalar": t.f.sum(),
        "null scalar": t.filter(t.i > 9).f.max(),
        "date scalar": t.d.max(),
        "memtable join": t.join(mem, "i").order_by("i"),
        "limit": t.order_by("i").limit(1),
        "aggregate": t.group_by("b").agg(n=t.count(), m=t.m.sum()).order_by("b"),
    }
    assert sorted(exprs) == sorted(NAMES)
    return exprs


NAMES = [
    "table", "null column", "typed null", "column", "scalar", "null scalar",
    "date scalar", "memtable join", "limit", "aggregate",
]  # fmt: skip


@pytest.mark.parametrize("name", NAMES)
def test_same_result_as_ibis(
    pair: tuple[ibis.BaseBackend, ibis.BaseBackend], name: str
) -> None:
    ours, theirs = (expressions(con)[name] for con in pair)
    got, want = ours.to_pyarrow(), theirs.to_pyarrow()
    assert type(got) is type(want)
    if isinstance(want, pa.Table):
        assert got.schema == want.schema
    else:
        assert got.type == want.type
    assert got.equals(want)


def test_values_survive(pair: tuple[ibis.BaseBackend, ibis.BaseBackend]) -> None:
    row = pair[0].table("t").order_by("i").to_pyarrow().slice(0, 1).to_pylist()[0]
    assert row["d"] == dt.date(2025, 1, 2)
    assert row["m"] == Decimal("12.34")
    assert row["l"] == [1, 2]
    assert row["n"] is None


def test_arrow_results_do_not_import_pandas(tmp_path) -> None:  # type: ignore[no-untyped-def]
    script = textwrap.dedent(
        f"""
        import sys, datetime as dt
        import crmlens
        wh = crmlens.open({str(tmp_path / "w.duckdb")!r})
        wh.orders.count().to_pyarrow()
        wh.deals.select("deal_id", "amount").to_pyarrow()
        print("pandas" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False", out.stderr
