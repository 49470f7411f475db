"""Built-in presets on the public data sets (../shared/data) and on CRM export fixtures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import crmlens
from crmlens.ingest.presets import PRESETS, choose
from crmlens.ingest.readers import read_file

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def _data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data set not available: {path}")
    return path


def _import(paths: list[Path], preset: str = "auto") -> tuple[Any, dict[str, Any]]:
    wh = crmlens.open(":memory:")
    report = wh.import_files(paths, preset=preset)
    return wh, report.to_dict()


def _loaded(report: dict[str, Any], table: str) -> int:
    return sum(t["loaded"] for t in report["tables"] if t["table"] == table)


def _preset_of(path: Path) -> str:
    import duckdb

    con = duckdb.connect()
    try:
        raw = read_file(con, path, "_probe")
        return choose("auto", raw).name
    finally:
        con.close()


# --- Maven ---------------------------------------------------------------------------


def test_maven_directory_loads_every_deal_and_flags_gtxpro() -> None:
    folder = _data("maven_crm_sales_opportunities")
    wh, report = _import([folder], preset="maven_crm")
    deals = wh.deals.execute()
    assert len(deals) == 8800
    assert deals.status.value_counts().to_dict() == {
        "won": 4238,
        "lost": 2473,
        "open": 2089,
    }
    assert deals.created_at.isna().sum() == 0
    assert round(deals.loc[deals.status == "won", "amount"].sum()) == 10_005_534
    # Prospecting deals are dated at the snapshot (latest date of the file).
    prospecting = deals[deals.deal_stage == "Prospecting"]
    assert len(prospecting) == 500
    assert set(prospecting.created_at.dt.strftime("%Y-%m-%d")) == {"2017-12-31"}
    stages = wh.deal_stages.execute().stage.value_counts().to_dict()
    assert stages == {"Engaging": 8300, "Won": 4238, "Lost": 2473, "Prospecting": 500}
    pipelines = wh.pipelines.execute().sort_values("position")
    assert list(pipelines.stage) == ["Prospecting", "Engaging", "Won", "Lost"]
    assert list(pipelines.is_won) == [False, False, True, False]
    assert list(pipelines.is_lost) == [False, False, False, True]
    assert len(wh.accounts.execute()) == 85
    assert len(wh.managers.execute()) == 35
    assert sorted(wh.products.execute().product_id)[:3] == [
        "GTK 500",
        "GTX Basic",
        "GTX Plus Basic",
    ]
    assert len(wh.products.execute()) == 7
    messages = [w["message"] for w in report["warnings"]]
    assert any("GTXPro" in m and "GTX Pro" in m for m in messages), messages
    assert report["skipped"] == [
        {
            "file": "data_dictionary.csv",
            "reason": "preset maven_crm has no table for it",
        }
    ]
    assert report["errors"] == []


def test_maven_pipeline_before_products_still_warns() -> None:
    folder = _data("maven_crm_sales_opportunities")
    files = [folder / "sales_pipeline.csv", folder / "products.csv"]
    wh, report = _import(files, preset="maven_crm")
    assert len(wh.products.execute()) == 7  # no "GTXPro" product derived from deals
    assert any("GTXPro" in w["message"] for w in report["warnings"])


def test_maven_accounts_mapping_and_auto_detection() -> None:
    folder = _data("maven_crm_sales_opportunities")
    wh, _ = _import([folder / "accounts.csv"])
    accounts = wh.accounts.execute().set_index("account_id")
    acme = accounts.loc["Acme Corporation"]
    assert (acme.industry, acme.founded_year, acme.region) == (
        "technolgy",
        1996,
        "United States",
    )
    assert acme.revenue == pytest.approx(1100.04)
    assert acme.employees == 2822
    assert str(acme.created_at.date()) == "2016-10-20"
    for name in (
        "sales_pipeline.csv",
        "accounts.csv",
        "products.csv",
        "sales_teams.csv",
    ):
        assert _preset_of(folder / name) == "maven_crm"


def test_maven_cli_reports_spelling_warning(tmp_path: Path) -> None:
    folder = _data("maven_crm_sales_opportunities")
    cli = Path(sys.executable).with_name("crmlens")
    if not cli.exists():
        pytest.skip("crmlens console script not installed in this environment")
    done = subprocess.run(
        [str(cli), "import", str(folder), "--preset", "maven_crm", "--format", "json",
         "--warehouse", str(tmp_path / "wh.duckdb")],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    spelling = [w for w in report["warnings"] if w["kind"] == "spelling"]
    assert any(
        '"GTXPro"' in w["message"] and '"GTX Pro"' in w["message"] for w in spelling
    )


# --- Olist ---------------------------------------------------------------------------


def test_olist_funnel_conversion() -> None:
    folder = _data("olist_marketing_funnel")
    wh, report = _import([folder])
    assert {f["preset"] for f in report["files"]} == {"olist_funnel"}
    leads, deals = wh.leads, wh.deals
    assert leads.count().execute() == 8000
    assert deals.count().execute() == 842
    converted = deals.filter(deals.lead_id.isin(leads.lead_id)).count().execute()
    assert converted / leads.count().execute() == pytest.approx(0.10525)
    assert set(deals.status.execute()) == {"won"}
    origin = leads.execute().source.value_counts().to_dict()
    assert origin["organic_search"] == 2296
    assert origin["paid_search"] == 1586
    assert leads.execute().landing_page_id.nunique() == 495
    managers = wh.managers.execute()
    assert (
        managers.role == "sr"
    ).sum() == 22  # SR ids; 13 of the 32 SDR ids are SRs too
    assert len(managers) == 22 + 32 - 13
    assert {"sdr_id", "seller_id", "business_segment"} <= set(wh.columns("deals"))


# --- X Education ---------------------------------------------------------------------


def test_x_education_leads() -> None:
    path = _data("x_education_leads", "Leads.csv")
    wh, report = _import([path])
    assert report["files"][0]["preset"] == "x_education"
    assert report["files"][0]["dropped_empty_columns"] == ["column37"]
    leads = wh.leads.execute()
    assert len(leads) == 9240
    assert leads.status.value_counts().to_dict() == {
        "not_converted": 5679,
        "converted": 3561,
    }
    assert leads.source.value_counts()["Google"] == 2868
    assert leads.source.isna().sum() == 36
    assert str(leads.totalvisits.dtype).startswith("float")
    assert leads.total_time_spent_on_website.mean() == pytest.approx(487.7, abs=0.05)
    assert leads.do_not_email.dtype == bool
    assert leads.lead_number.nunique() == 9240
    assert set(leads.created_at.dt.strftime("%Y-%m-%d")) == {"2020-01-01"}


# --- UCI Online Retail ----------------------------------------------------------------


def _expected_retail(frame: Any) -> tuple[int, int, float, int]:
    """Invoices with a customer, customers, their net amount, invoices without one."""
    with_customer = frame[frame.CustomerID.notna()]
    amount = float((with_customer.Quantity * with_customer.UnitPrice).sum())
    missing = frame.groupby("InvoiceNo").CustomerID.count().eq(0).sum()
    return (
        with_customer.InvoiceNo.astype(str).nunique(),
        with_customer.CustomerID.nunique(),
        amount,
        int(missing),
    )


def _check_retail(path: Path, frame: Any) -> dict[str, Any]:
    invoices, customers, amount, missing = _expected_retail(frame)
    wh, report = _import([path])
    assert report["files"][0]["preset"] == "online_retail"
    orders = wh.orders.execute()
    assert orders.order_id.nunique() == len(orders) == invoices
    assert orders.account_id.nunique() == customers
    assert orders.amount.sum() == pytest.approx(amount, rel=1e-9)
    quarantined = sum(
        t["quarantined"] for t in report["tables"] if t["table"] == "orders"
    )
    assert quarantined == missing
    assert len(wh.accounts.execute()) == customers
    assert _loaded(report, "products") == frame.StockCode.astype(str).nunique()
    return {"orders": orders, "invoices": invoices, "customers": customers}


def test_online_retail_xlsx_head() -> None:
    import pandas as pd

    path = _data("uci_online_retail_head", "Online Retail.xlsx")
    frame = pd.read_excel(path, engine="openpyxl")  # not the reader's calamine
    assert frame.InvoiceNo.astype(str).nunique() == 303
    got = _check_retail(path, frame)
    assert (got["invoices"], got["customers"]) == (280, 200)
    cancelled = got["orders"][got["orders"].order_id.str.startswith("C")]
    kept = frame[frame.CustomerID.notna()].InvoiceNo.astype(str)
    assert len(cancelled) == kept[kept.str.startswith("C")].nunique()
    assert (cancelled.amount < 0).all()


def test_online_retail_full_parquet() -> None:
    import pandas as pd

    path = _data("uci_online_retail", "online_retail.parquet")
    frame = pd.read_parquet(path)
    assert len(frame) == 541_909
    assert frame.InvoiceNo.nunique() == 25_900
    got = _check_retail(path, frame)
    assert (got["invoices"], got["customers"]) == (22_190, 4_372)


# --- CRM exports ----------------------------------------------------------------------


def _crm(name: str) -> tuple[Any, dict[str, Any]]:
    wh, report = _import([FIXTURES / name])
    assert report["errors"] == []
    return wh, report


def test_amocrm_export() -> None:
    wh, report = _crm("amocrm_deals.csv")
    assert report["files"][0]["preset"] == "amocrm"
    deals = wh.deals.execute().set_index("deal_id")
    assert deals.status.to_dict() == {
        "1001": "won", "1002": "lost", "1003": "open", "1004": "open", "1005": "won",
    }  # fmt: skip
    assert deals.loc["1003", "amount"] == pytest.approx(12500.5)
    assert deals.loc["1002", "lost_reason"] == "Дорого"
    assert deals.loc["1001", "pipeline_id"] == "Продажи"
    assert deals.closed_at.notna().sum() == 3
    assert {"nazvanie_sdelki", "etap_sdelki", "tegi"} <= set(wh.columns("deals"))
    stages = wh.deal_stages.execute().set_index("deal_id")
    assert len(stages) == 5
    assert str(stages.loc["1003", "entered_at"]) == "2024-03-18 10:05:00"  # last edit
    assert str(stages.loc["1004", "entered_at"]) == "2024-03-01 08:00:00"  # creation


def test_bitrix24_export_cp1251_semicolon() -> None:
    wh, report = _crm("bitrix24_deals.csv")
    info = report["files"][0]
    assert (info["preset"], info["encoding"], info["delimiter"]) == (
        "bitrix24",
        "cp1251",
        ";",
    )
    deals = wh.deals.execute().set_index("deal_id")
    assert deals.status.to_dict() == {
        "1": "won", "2": "lost", "3": "won", "4": "open", "5": "lost", "6": "open",
    }  # fmt: skip
    assert deals.loc["1", "amount"] == pytest.approx(150000.50)
    assert deals.loc["2", "pipeline_id"] == "Сервис"
    assert deals.amount.sum() == pytest.approx(322501.25)
    assert deals.closed_at.notna().sum() == 4
    assert len(wh.deal_stages.execute()) == 6
    assert "predpolagaemaya_data_zakrytiya" in wh.columns("deals")


@pytest.mark.parametrize("name", ["hubspot_deals.csv", "hubspot_deals_api.csv"])
def test_hubspot_export(name: str) -> None:
    wh, report = _crm(name)
    assert report["files"][0]["preset"] == "hubspot"
    deals = wh.deals.execute()
    counts = deals.status.value_counts().to_dict()
    expected = {"won": 1, "lost": 1, "open": 2 if name == "hubspot_deals.csv" else 1}
    assert counts == expected
    assert deals.closed_at.notna().sum() == 2
    assert len(wh.deal_stages.execute()) == len(deals)


def test_salesforce_opportunity_and_lead() -> None:
    wh, report = _import(
        [FIXTURES / "salesforce_lead.csv", FIXTURES / "salesforce_opportunity.csv"]
    )
    assert {f["preset"] for f in report["files"]} == {"salesforce"}
    deals = wh.deals.execute().set_index("deal_id")
    assert deals.status.value_counts().to_dict() == {"open": 2, "won": 1, "lost": 1}
    assert deals.loc["0061x00000A1", "account_id"] == "0011x00000B1"
    assert deals.amount.sum() == pytest.approx(45000)
    assert str(deals.loc["0061x00000A1", "created_at"]) == "2024-01-02 09:00:00"
    assert {"stagename", "probability", "leadsource"} <= set(wh.columns("deals"))
    leads = wh.leads.execute().set_index("lead_id")
    assert len(leads) == 3
    assert leads.loc["00Q1x00000L1", "deal_id"] == "0061x00000A1"
    assert leads.deal_id.notna().sum() == 1
    assert leads.source.value_counts()["Web"] == 2
    assert len(wh.deal_stages.execute()) == 4


def test_every_builtin_is_registered_and_fixtures_pick_their_preset() -> None:
    expected = {
        "amocrm_deals.csv": "amocrm",
        "bitrix24_deals.csv": "bitrix24",
        "hubspot_deals.csv": "hubspot",
        "hubspot_deals_api.csv": "hubspot",
        "salesforce_opportunity.csv": "salesforce",
        "salesforce_lead.csv": "salesforce",
    }
    for name, preset in expected.items():
        assert _preset_of(FIXTURES / name) == preset, name
    names = {
        "maven_crm", "olist_funnel", "x_education", "online_retail",
        "amocrm", "bitrix24", "hubspot", "salesforce",
    }  # fmt: skip
    assert names <= set(PRESETS)
