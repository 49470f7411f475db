"""RFM, ABC/XYZ and cohorts: hand-computed cases, engine parity, UCI vs pandas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmlens.analytics.customers import abc_xyz, abc_xyz_matrix, cohorts, rfm_scores
from tests.backends import assert_same_rows

AS_OF = dt.date(2024, 3, 31)
ORDERS = """order_id,account_id,order_date,amount
o1,a,2024-03-30,100
o2,a,2024-02-10,200
o3,a,2024-01-05,300
o4,b,2024-03-01,50
o5,b,2023-12-20,-20
o6,c,2023-06-01,1000
o7,c,2024-01-15,400
o8,d,2022-01-01,999
o9,e,2024-03-31,-10
"""


@pytest.fixture
def wh(open_wh, tmp_path: Path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS)
    w = open_wh()
    w.import_files([path], table="orders")
    return w


def rows(expr, key: str) -> list[dict]:
    return sorted(expr.to_pyarrow().to_pylist(), key=lambda r: str(r[key]))


def test_rfm_hand_computed(wh) -> None:
    got = {
        r["account_id"]: r
        for r in rows(rfm_scores(wh.orders, as_of=AS_OF), "account_id")
    }
    assert set(got) == {"a", "b", "c"}  # d outside the window, e only a return
    assert got["a"]["days_since_last_order"] == 1
    assert (got["a"]["frequency"], got["a"]["monetary"]) == (3, 600.0)
    assert (got["b"]["frequency"], got["b"]["monetary"]) == (1, 30.0)  # 50 - 20
    assert got["c"]["days_since_last_order"] == 76
    # r: a best (rank 2 of 3 -> 1+floor(10/3)=4), b 1+floor(5/3)=2, c 1
    assert [got[k]["r_score"] for k in "abc"] == [4, 2, 1]
    assert [got[k]["f_score"] for k in "abc"] == [4, 1, 2]  # c: 2 purchases
    assert got["c"]["monetary"] == 1400.0
    assert got["a"]["segment"] == "loyal"


def test_abc_xyz_hand_computed(wh) -> None:
    got = {
        r["account_id"]: r
        for r in rows(abc_xyz(wh.orders, as_of=AS_OF, months=3), "account_id")
    }
    # Jan..Mar 2024: a 600, c 400, b 50, e -10 -> total positive 1050
    assert got["a"]["cumulative_share"] == pytest.approx(600 / 1050)
    # c: cumulative 1000/1050 = 0.952 > 0.95 -> C
    assert [got[k]["abc"] for k in "acbe"] == ["A", "C", "C", "C"]
    assert got["a"]["cv"] == pytest.approx(pd.Series([300, 200, 100]).std(ddof=0) / 200)
    assert got["a"]["xyz"] == "Z"
    matrix = rows(abc_xyz_matrix(abc_xyz(wh.orders, as_of=AS_OF, months=3)), "abc")
    assert sum(m["items"] for m in matrix) == 4


def test_cohorts_hand_computed(wh) -> None:
    got = rows(cohorts(wh.orders, as_of=AS_OF), "cohort")
    cells = {(str(r["cohort"]), r["period_index"]): r for r in got}
    # c: first purchase 2023-06, again 2024-01 (k = 7)
    assert cells[("2023-06-01", 7)]["clients"] == 1
    # b's return of 2023-12 precedes its first purchase (2024-03): left out
    assert cells[("2024-03-01", 0)]["revenue"] == 50.0
    assert cells[("2024-03-01", 0)]["cohort_size"] == 1  # b only: e never purchased
    assert cells[("2024-01-01", 2)]["retention_rate"] == 1.0


def test_engines_agree(wh) -> None:
    import crmlens

    ref = crmlens.open(":memory:")
    for expr_of in (
        lambda o: rfm_scores(o, as_of=AS_OF),
        lambda o: abc_xyz(o, as_of=AS_OF, months=6),
        lambda o: cohorts(o, as_of=AS_OF, period="quarter"),
    ):
        mine = expr_of(wh.orders).to_pyarrow().to_pylist()
        other = expr_of(_memtable(wh)).to_pyarrow().to_pylist()
        assert_same_rows(mine, other)
    ref.close()


def _memtable(wh):
    import ibis

    return ibis.memtable(wh.orders.to_pyarrow())


@settings(max_examples=15)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abcdefg"), st.integers(0, 400), st.integers(-50, 500)
        ),
        min_size=1,
        max_size=40,
    )
)
def test_abc_shares_and_scores_bounded(orders: list[tuple[str, int, int]]) -> None:
    import ibis

    frame = pd.DataFrame(orders, columns=["account_id", "d", "amount"])
    frame["order_date"] = [
        dt.date(2024, 1, 1) + dt.timedelta(days=int(d)) for d in frame.d
    ]
    frame["amount"] = frame.amount.astype(float)
    t = ibis.memtable(frame.drop(columns="d"))
    abc = abc_xyz(t, as_of=dt.date(2025, 2, 1), months=14).to_pyarrow().to_pandas()
    assert abc.share.sum() == pytest.approx(1.0) or abc.value.clip(lower=0).sum() == 0
    rfm = rfm_scores(t, as_of=dt.date(2025, 2, 1)).to_pyarrow().to_pandas()
    for col in ("r_score", "f_score", "m_score"):
        assert rfm[col].between(1, 5).all()


@pytest.fixture(scope="module")
def uci(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    import crmlens

    path = shared_data / "uci_online_retail" / "online_retail.parquet"
    wh = crmlens.open(tmp_path_factory.mktemp("uci") / "w.duckdb")
    wh.import_files([path], preset="online_retail")
    raw = pd.read_parquet(path)
    return wh, raw


def _uci_orders(raw: pd.DataFrame) -> pd.DataFrame:
    """Independent pandas: invoices with a customer, amount = sum(qty x price)."""
    lines = raw[raw.CustomerID.notna()].copy()
    lines["amount"] = lines.Quantity.astype(float) * lines.UnitPrice.astype(float)
    lines["day"] = pd.to_datetime(lines.InvoiceDate).dt.normalize()
    inv = lines.groupby("InvoiceNo").agg(
        account_id=("CustomerID", "first"),
        day=("day", "first"),
        amount=("amount", "sum"),
    )
    inv["account_id"] = inv.account_id.astype(float).astype(int).astype(str)
    return inv.reset_index()


def test_rfm_and_cohorts_match_pandas_on_uci(uci) -> None:
    wh, raw = uci
    inv = _uci_orders(raw)
    as_of = dt.date(2011, 12, 9)
    got = (
        rfm_scores(wh.orders, as_of=as_of)
        .to_pyarrow()
        .to_pandas()
        .set_index("account_id")
    )
    day0 = pd.Timestamp(as_of) - pd.Timedelta(days=365)
    win = inv[(inv.day > day0) & (inv.day <= pd.Timestamp(as_of))]
    buys = win[win.amount > 0]
    exp = pd.DataFrame(
        {
            "days_since_last_order": (
                pd.Timestamp(as_of) - buys.groupby("account_id").day.max()
            ).dt.days,
            "frequency": buys.groupby("account_id").size(),
            "monetary": win.groupby("account_id").amount.sum(),
        }
    ).dropna(subset=["frequency"])
    got = got.loc[exp.index.sort_values()]
    assert len(got) == len(exp) > 4000
    assert (
        got.days_since_last_order.to_numpy()
        == exp.sort_index().days_since_last_order.to_numpy()
    ).all()
    assert (got.frequency.to_numpy() == exp.sort_index().frequency.to_numpy()).all()
    assert got.monetary.to_numpy() == pytest.approx(
        exp.sort_index().monetary.to_numpy(), abs=1e-6
    )
    # quintile scores: 1 + floor(5 * min-rank / n)
    n = len(exp)
    r = (
        1
        + (
            5
            * (
                exp.sort_index().days_since_last_order.rank(
                    method="min", ascending=False
                )
                - 1
            )
        )
        // n
    )
    assert (got.r_score.to_numpy() == r.astype(int).to_numpy()).all()
    _check_cohorts(wh, inv, as_of)


def _check_cohorts(wh, inv: pd.DataFrame, as_of: dt.date) -> None:
    got = cohorts(wh.orders, as_of=as_of).to_pyarrow().to_pandas()
    inv = inv.assign(m=inv.day.dt.year * 12 + inv.day.dt.month - 1)
    first = inv[inv.amount > 0].groupby("account_id").m.min().rename("c")
    joined = inv.join(first, on="account_id", how="inner")
    joined["k"] = joined.m - joined.c
    joined = joined[joined.k >= 0]
    exp_rev = joined.groupby(["c", "k"]).amount.sum()
    exp_cli = joined[joined.amount > 0].groupby(["c", "k"]).account_id.nunique()
    got["c"] = (
        pd.to_datetime(got.cohort).dt.year * 12
        + pd.to_datetime(got.cohort).dt.month
        - 1
    )
    got = got.set_index(["c", "period_index"]).sort_index()
    assert len(got) == len(exp_rev)
    assert got.revenue.to_numpy() == pytest.approx(
        exp_rev.sort_index().to_numpy(), abs=1e-6
    )
    cli = exp_cli.reindex(exp_rev.index, fill_value=0).sort_index()
    assert (got.clients.to_numpy() == cli.to_numpy()).all()
    assert got.clients.groupby(level=0).first().sum() == first.size
