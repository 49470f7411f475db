"""Acceptance of the dataset presets on the public data in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

import crmlens


def test_maven_crm(shared_data: Path, tmp_path: Path) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    report = wh.import_files(
        [shared_data / "maven_crm_sales_opportunities"], preset="maven_crm"
    )
    counts = wh.deals.group_by("status").aggregate(n=wh.deals.count()).to_pyarrow()
    status = {r["status"]: r["n"] for r in counts.to_pylist()}
    assert status == {"won": 4238, "lost": 2473, "open": 2089}
    messages = " ".join(w["message"] for w in report.warnings)
    assert '"GTXPro"' in messages
    assert '"GTX Pro"' in messages
    assert [s["file"] for s in report.skipped] == ["data_dictionary.csv"]


def test_olist_funnel_conversion(shared_data: Path, tmp_path: Path) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files([shared_data / "olist_marketing_funnel"], preset="olist_funnel")
    leads, deals = wh.leads.count().execute(), wh.deals.count().execute()
    assert (leads, deals) == (8000, 842)
    converted = (
        wh.deals.filter(wh.deals.lead_id.isin(wh.leads.lead_id)).count().execute()
    )
    assert converted / leads == 0.10525


def test_x_education(shared_data: Path, tmp_path: Path) -> None:
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files(
        [shared_data / "x_education_leads" / "Leads.csv"], preset="x_education"
    )
    assert wh.leads.count().execute() == 9240
    assert wh.leads.filter(wh.leads.status == "converted").count().execute() == 3561
    assert "total_time_spent_on_website" in wh.columns("leads")


def test_online_retail_head_matches_pandas(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "uci_online_retail_head" / "Online Retail.xlsx"
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files([path], preset="online_retail")
    raw = _calamine_frame(path)
    with_customer = raw[raw["CustomerID"].notna()]
    orders = wh.orders.to_pyarrow().to_pandas()
    assert orders.order_id.nunique() == with_customer["InvoiceNo"].astype(str).nunique()
    assert orders.account_id.nunique() == with_customer["CustomerID"].nunique()
    assert len(orders) == orders.order_id.nunique()


def _calamine_frame(path: Path) -> pd.DataFrame:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    frame = pd.DataFrame(rows[1:], columns=rows[0])
    frame["CustomerID"] = frame["CustomerID"].replace("", None)
    return frame
