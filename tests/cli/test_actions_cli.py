"""``crmlens actions`` and ``crmlens customers affinity``: the demo acceptance, storing
lists, the review of stored and replayed lists, exports and errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmlens.cli.app import app

runner = CliRunner()
KINDS = {"call_lead", "push_deal", "seasonal_order", "win_back", "offer_product"}


def _run(*args: str) -> dict:
    from crmlens.insights.findings import validate

    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    for f in data["findings"]:
        validate(f)  # the one finding schema
    return data


def test_demo_list_sized_to_capacity(demo_wh, demo_truth) -> None:
    data = _run("actions", "-w", demo_wh.url.raw, "--manager", "M05", "--date",
                demo_truth["as_of"], "--format", "json", "--dry-run")  # fmt: skip
    cap = data["params"]["capacity"]["M05"]
    assert cap >= 1
    assert len(data["rows"]) == cap
    assert data["later"]
    assert "stored" not in data["params"]
    values = [r["expected_value"] for r in data["rows"] + data["later"]]
    assert values == sorted(values, reverse=True)
    for r in data["rows"]:
        assert r["kind"] in KINDS
        assert r["manager_id"] == "M05"
        assert r["list"] == "today"
        assert r["account_id"] or r["lead_id"] or r["deal_id"]
        assert r["expected_value"] > 0
        assert r["reason_ru"]
        assert r["reason_en"]
        assert r["evidence"]["analysis"]
    assert {r["kind"] for r in data["rows"] + data["later"]} == KINDS
    assert data["findings"][0]["subject"]["id"] == "M05"


def test_demo_replayed_review(demo_wh) -> None:
    data = _run("actions", "-w", demo_wh.url.raw, "--review", "--replay", "--from",
                "2025-11-10", "--to", "2025-11-10", "--format", "json")  # fmt: skip
    assert data["params"]["replayed_dates"] == ["2025-11-10"]
    rows = {(r["kind"], r["is_followed"]): r for r in data["rows"]}
    assert rows[("all", 1)]["actions"] > 0
    assert rows[("all", 0)]["actions"] > 0
    for r in data["rows"]:
        assert r["conversion_rate"] == pytest.approx(r["outcomes"] / r["actions"])
    kinds = {f["kind"] for f in data["findings"]}
    assert {"followed_vs_not", "ranking", "follow_rate"} <= kinds


def test_demo_capacity_report(demo_wh, demo_truth) -> None:
    data = _run("actions", "-w", demo_wh.url.raw, "--capacity-report", "--date",
                demo_truth["as_of"], "--format", "json")  # fmt: skip
    managers = {r["manager_id"]: r for r in data["rows"]}
    assert {"M01", "M05", "M12"} <= set(managers)
    m05 = managers["M05"]
    assert m05["capacity"] >= 1
    assert m05["actions"] >= m05["urgent_actions"] > 0
    assert m05["days_to_clear"] == pytest.approx(
        m05["urgent_actions"] / m05["capacity"]
    )
    sources = {r["source"]: r for r in data["sources"]}
    worst = demo_truth["sources"]["worst"]
    assert sources[worst]["rejected_rate"] == max(
        r["rejected_rate"] for r in sources.values()
    )
    assert "leads_vs_capacity" in {f["kind"] for f in data["findings"]}


def test_demo_affinity_backtest_printed(demo_wh) -> None:
    result = runner.invoke(app, ["customers", "affinity", "-w", demo_wh.url.raw])
    assert result.exit_code == 0, result.output
    assert "popularity" in result.output
    assert "item_to_item" in result.output
    data = _run("customers", "affinity", "-w", demo_wh.url.raw, "--level", "category",
                "-f", "json")  # fmt: skip
    assert {r["model"] for r in data["backtest"]} == {"item_to_item", "popularity"}
    assert data["rows"][0]["level"] == "category"


MANAGERS = "manager_id,name,active\nM1,Anna,true\nM2,Boris,true\n"
ACCOUNTS = """account_id,name,owner_id,created_at
A1,Alpha,M1,2023-01-01
A2,Beta,M1,2023-01-01
A3,Gamma,M2,2023-01-01
A4,Delta,M2,2023-01-01
"""


def _tiny(folder: Path) -> None:
    """Alpha orders every 10 days until autumn 2023, then stops; the others go on."""
    folder.mkdir()
    (folder / "managers.csv").write_text(MANAGERS)
    (folder / "accounts.csv").write_text(ACCOUNTS)
    orders = ["order_id,account_id,order_date,amount,product_id"]
    start = dt.date(2023, 1, 5)
    for i in range(60):
        day = start + dt.timedelta(days=10 * i)
        if i < 30:
            orders.append(f"a{i},A1,{day},100,{'P1' if i % 2 else 'P2'}")
        orders.append(f"b{i},A2,{day},200,P1")
        orders.append(f"c{i},A3,{day},150,{'P2' if i % 3 else 'P3'}")
    (folder / "orders.csv").write_text("\n".join(orders) + "\n")
    acts = ["activity_id,type,created_at,manager_id,account_id"]
    for d in range(1, 29):
        day = dt.date(2024, 8, 1) + dt.timedelta(days=d)
        if day.weekday() < 5:
            acts += [f"x{d}{j},call,{day} 1{j}:00,M1,A2" for j in range(3)]
            acts.append(f"y{d},meeting,{day} 15:00,M2,A3")
    acts.append("z1,call,2024-09-03 10:00,M1,A1")  # Alpha is called after the list
    (folder / "activities.csv").write_text("\n".join(acts) + "\n")


@pytest.fixture
def tiny(open_wh, tmp_path: Path):
    _tiny(tmp_path / "crm")
    w = open_wh()
    w.import_files([tmp_path / "crm"])
    return w


def test_store_then_review_and_export(tiny, tmp_path: Path) -> None:
    url = tiny.url.raw
    first = _run("actions", "-w", url, "--date", "2024-08-30", "-f", "json")
    stored = first["params"]["stored"]
    assert stored == len(first["rows"]) + len(first["later"]) > 0
    win = [r for r in first["rows"] if r["kind"] == "win_back"]
    assert [r["account_id"] for r in win] == ["A1"]
    again = _run("actions", "-w", url, "--date", "2024-08-30", "-f", "json")
    assert again["params"]["stored"] == stored  # the day's list replaced, not doubled
    review = _run("actions", "-w", url, "--review", "--from", "2024-08-30", "--to",
                  "2024-08-30", "--follow-days", "7", "-f", "json")  # fmt: skip
    assert review["params"]["actions"] == stored
    rows = {(r["kind"], r["is_followed"]): r for r in review["rows"]}
    assert rows[("win_back", 1)]["actions"] == 1  # the call on 2024-09-03
    out = tmp_path / "lists.xlsx"
    result = runner.invoke(app, ["actions", "-w", url, "--date", "2024-08-30",
                                 "--format", "xlsx", "--out", str(out), "--dry-run",
                                 "--lang", "ru"])  # fmt: skip
    assert result.exit_code == 0, result.output
    import openpyxl

    book = openpyxl.load_workbook(out)
    managers = sorted({r["manager_id"] for r in first["rows"] + first["later"]})
    assert [s.split()[0] for s in book.sheetnames] == managers
    sheet = book[book.sheetnames[0]]
    assert sheet.cell(1, 3).value == "дело"
    assert sheet.cell(2, 2).value == "today"
    csv_out = tmp_path / "lists.csv"
    result = runner.invoke(app, ["actions", "-w", url, "--date", "2024-08-30",
                                 "-f", "csv", "--out", str(csv_out), "--dry-run",
                                 "--lang", "en"])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert csv_out.read_text().splitlines()[0].startswith("list_date,manager_id")


def test_review_without_lists_is_one_clear_line(tiny) -> None:
    result = runner.invoke(app, ["actions", "-w", tiny.url.raw, "--review", "--from",
                                 "2024-01-01", "--to", "2024-01-31"])  # fmt: skip
    assert result.exit_code != 0
    assert "no stored action lists" in str(result.exception or result.output)


def test_unknown_manager_and_bad_kind(tiny) -> None:
    from crmlens.cli.app import main

    for args in (["--manager", "M99"], ["--kinds", "call_lead,dance"]):
        with pytest.raises(SystemExit) as exc:
            main(["actions", "-w", tiny.url.raw, "--dry-run", *args])
        assert exc.value.code == 1


def test_replay_dates_skip_weekends() -> None:
    from crmlens.errors import InputError
    from crmlens.insights.rules._actions_more import replay_dates

    days = replay_dates(dt.date(2025, 11, 1), dt.date(2025, 11, 20), 7)  # a Saturday
    assert days == [dt.date(2025, 11, 3), dt.date(2025, 11, 10), dt.date(2025, 11, 17)]
    assert replay_dates(dt.date(2025, 11, 3), dt.date(2025, 11, 3), 1) == [
        dt.date(2025, 11, 3)
    ]
    with pytest.raises(InputError):
        replay_dates(dt.date(2025, 11, 3), dt.date(2025, 11, 4), 0)
