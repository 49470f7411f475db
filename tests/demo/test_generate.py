"""Tests of the demo generator: files, contract, consistency and planted patterns."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from crmlens.demo import generate
from crmlens.demo.names import inn_is_valid
from crmlens.model import TABLES

LEAD_CUSTOM = {
    "company_size",
    "industry",
    "contact_position",
    "budget_declared",
    "pages_viewed",
    "form_fields_filled",
}
AS_OF = "2025-12-15"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_all")
    generate(out, seed=42, scale=1.0)
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("demo_none")
    generate(out, seed=7, scale=1.0, patterns="none")
    return out


def read(out: Path, table: str) -> list[dict[str, Any]]:
    """Rows of a clean CSV, every value as text, missing values as None."""
    with (out / f"{table}.csv").open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    opts = pacsv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()), strings_can_be_null=True
    )
    return pacsv.read_csv(out / f"{table}.csv", convert_options=opts).to_pylist()


def truth(out: Path) -> dict[str, Any]:
    return json.loads((out / "truth.json").read_text(encoding="utf-8"))


def test_deterministic(demo: Path, tmp_path: Path) -> None:
    generate(tmp_path, seed=42, scale=1.0)
    files = sorted(p.relative_to(demo) for p in demo.rglob("*") if p.is_file())
    assert files == sorted(
        p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()
    )
    for f in files:
        assert (demo / f).read_bytes() == (tmp_path / f).read_bytes(), f


def test_tables_and_columns(demo: Path) -> None:
    for name, table in TABLES.items():
        with (demo / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh))
        expected = table.column_names
        assert header[: len(expected)] == expected, name
        extra = set(header[len(expected) :])
        assert extra <= (LEAD_CUSTOM if name == "leads" else set()), name


def test_required_keys_and_enums(demo: Path) -> None:
    for name, table in TABLES.items():
        rows = read(demo, name)
        assert rows, name
        for col in table.required:
            assert all(r[col] not in (None, "") for r in rows), (name, col)
        keys = [tuple(r[k] for k in table.key) for r in rows]
        assert len(keys) == len(set(keys)), name
        for col in table.columns:
            if col.values:
                seen = {r[col.name] for r in rows} - {None}
                assert seen <= set(col.values), (name, col.name, seen)


def test_references_resolve(demo: Path) -> None:
    keys = {n: {r[TABLES[n].key[0]] for r in read(demo, n)} for n in TABLES}
    for name, table in TABLES.items():
        rows = read(demo, name)
        for col, target in table.refs.items():
            values = {r[col] for r in rows} - {None}
            assert values <= keys[target], (name, col, list(values - keys[target])[:3])


def test_no_event_after_as_of(demo: Path) -> None:
    for name, table in TABLES.items():
        cols = [
            c.name
            for c in table.columns
            if c.type in ("timestamp", "date") and c.name != "due_at"
        ]
        if name == "campaigns":
            continue
        for r in read(demo, name):
            for c in cols:
                assert r[c] is None or r[c] < AS_OF, (name, c, r[c])


def test_size_and_formats(demo: Path) -> None:
    deals = read(demo, "deals")
    assert 4000 <= len(deals) <= 6000
    assert all(len(r["created_at"]) == 19 for r in deals)
    orders = read(demo, "orders")
    assert all(len(r["order_date"]) == 10 for r in orders[:100])
    accounts = read(demo, "accounts")
    assert all(inn_is_valid(r["inn"]) for r in accounts if r["inn"])
    assert {r["region"] for r in accounts} == {
        "Москва",
        "Санкт-Петербург",
        "Урал",
        "Сибирь",
        "Юг",
    }


def _history(out: Path) -> dict[str, list[tuple[str, str]]]:
    hist: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for r in read(out, "deal_stages"):
        hist[r["deal_id"]].append((r["entered_at"], r["stage"]))
    for h in hist.values():
        h.sort()
    return hist


def test_stage_history_consistent(demo: Path) -> None:
    pipes = read(demo, "pipelines")
    won = {(p["pipeline_id"], p["stage"]) for p in pipes if p["is_won"] == "true"}
    lost = {(p["pipeline_id"], p["stage"]) for p in pipes if p["is_lost"] == "true"}
    hist = _history(demo)
    singles = reopened = 0
    for d in read(demo, "deals"):
        h = hist[d["deal_id"]]
        assert h[0][0] == d["created_at"]
        last = (d["pipeline_id"], h[-1][1])
        status = "won" if last in won else "lost" if last in lost else "open"
        assert d["status"] == status, d
        if status == "open":
            assert d["closed_at"] is None
        else:
            assert d["closed_at"] == h[-1][0]
        singles += len(h) == 1
        stages = [s for _, s in h]
        reopened += "Закрыто и не реализовано" in stages[:-1]
    assert singles > 0
    assert reopened > 0


def _conversion(out: Path) -> dict[str, tuple[int, int]]:
    """Per month of first entry into КП: (deals resolved, deals that reached next)."""
    order = ["Коммерческое предложение", "Переговоры", "Договор", "Успешно"]
    deals = {d["deal_id"]: d for d in read(out, "deals")}
    out_: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for deal_id, h in _history(out).items():
        if deals[deal_id]["pipeline_id"] != "main":
            continue
        entry = next((t for t, s in h if s == order[0]), None)
        if entry is None:
            continue
        went = any(s in order[1:] for _, s in h)
        if not went and deals[deal_id]["status"] == "open":
            continue
        cell = out_["after" if entry >= "2025-05" else "before"]
        cell[0] += 1
        cell[1] += went
    return {k: (v[0], v[1]) for k, v in out_.items()}


def test_stage_drop_planted(demo: Path) -> None:
    conv = _conversion(demo)
    before = conv["before"][1] / conv["before"][0]
    after = conv["after"][1] / conv["after"][0]
    assert before > 0.55
    assert after < 0.45
    assert before - after > 0.15
    t = truth(demo)["stage_drop"]
    assert t["stage"] == "Коммерческое предложение"
    assert t["from_month"] == "2025-05"


def test_no_stage_drop_without_pattern(plain: Path) -> None:
    conv = _conversion(plain)
    before = conv["before"][1] / conv["before"][0]
    after = conv["after"][1] / conv["after"][0]
    assert abs(before - after) < 0.08
    t = truth(plain)
    assert t["stage_drop"] is None
    assert t["patterns"] == []
    assert t["duplicate_accounts"] == []


def _win_rates(out: Path) -> dict[str, dict[str, float]]:
    deals = read(out, "deals")
    leads = {r["lead_id"]: r["source"] for r in read(out, "leads")}
    first: dict[str, str] = {}
    for o in read(out, "orders"):
        a = o["account_id"]
        first[a] = min(first.get(a, "9999"), o["order_date"])
    for d in deals:
        if d["status"] == "won":
            a = d["account_id"]
            first[a] = min(first.get(a, "9999"), d["closed_at"])
    seg_stats: dict[tuple[bool, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = []
    for d in deals:
        if d["status"] == "open":
            continue
        returning = first.get(d["account_id"], "9999") < d["created_at"]
        seg = (returning, leads.get(d["lead_id"]) or "none")
        won = d["status"] == "won"
        seg_stats[seg][0] += 1
        seg_stats[seg][1] += won
        rows.append((d["owner_id"], seg, won))
    result = {}
    for m in ("M05", "M07"):
        mine = [(s, w) for o, s, w in rows if o == m]
        raw = sum(w for _, w in mine) / len(mine)
        expected = sum(seg_stats[s][1] / seg_stats[s][0] for s, _ in mine) / len(mine)
        result[m] = {"raw": raw, "index": raw / expected}
    return result


def test_manager_mix_reversal(demo: Path) -> None:
    rates = _win_rates(demo)
    assert rates["M07"]["raw"] > rates["M05"]["raw"] + 0.05
    assert rates["M05"]["index"] > 1.15
    assert rates["M07"]["index"] < 0.9


def test_careless_manager(demo: Path) -> None:
    t = truth(demo)["careless"]
    assert t["manager_id"] == "M09"
    assert t["empty_amount_share"] > 0.3
    assert t["median_first_response_hours"] > 5
    others = [
        v
        for k, v in t["median_first_response_hours_by_manager"].items()
        if k != "M09" and v is not None
    ]
    assert max(others) < 1
    by_manager = t["overdue_tasks_by_manager"]
    assert by_manager["M09"] > 3 * statistics.median(by_manager.values())


def test_duplicates(demo: Path) -> None:
    accounts = {r["account_id"]: r for r in read(demo, "accounts")}
    pairs = truth(demo)["duplicate_accounts"]
    assert 0.02 * len(accounts) < len(pairs) < 0.04 * len(accounts)
    for a, b in pairs:
        assert accounts[a]["name"] != accounts[b]["name"]
        assert accounts[a]["created_at"] < accounts[b]["created_at"]
    dup_ids = {b for _, b in pairs}
    assert any(r["account_id"] in dup_ids for r in read(demo, "deals"))
    assert any(r["account_id"] in dup_ids for r in read(demo, "orders"))


def test_seasonal_and_churn(demo: Path) -> None:
    t = truth(demo)
    by_month: dict[str, list[float]] = defaultdict(lambda: [0.0] * 12)
    last: dict[str, str] = {}
    for o in read(demo, "orders"):
        a = o["account_id"]
        by_month[a][int(o["order_date"][5:7]) - 1] += float(o["amount"])
        last[a] = max(last.get(a, ""), o["order_date"])
    seasonal = t["seasonal_clients"]
    assert len(seasonal) >= 20
    for s in seasonal:
        months = by_month[s["account_id"]]
        assert months[s["peak_month"] - 1] >= 2 * (sum(months) / 12), s
    churned = t["churned_clients"]
    assert len(churned) >= 20
    for c in churned:
        assert last[c["account_id"]] == c["last_order_date"]
        quiet = dt.date.fromisoformat(AS_OF) - dt.date.fromisoformat(
            c["last_order_date"]
        )
        assert quiet.days >= 3 * c["usual_gap_days"]


def test_sources_campaigns_checklist_plan(demo: Path) -> None:
    t = truth(demo)
    src = t["sources"]
    avg = src["average_lead_to_deal_rate"]
    assert src["lead_to_deal_rate"][src["best"]] >= 2 * avg
    assert src["lead_to_deal_rate"][src["worst"]] <= 0.4 * avg
    camp = t["campaigns"]
    assert camp["romi"][camp["best"]] > 2
    assert camp["romi"][camp["worst"]] < 0
    chk = t["checklist"]
    assert chk["win_rate_passed"] > 1.3 * chk["win_rate_skipped"]
    assert 0.25 < chk["skipped_share"] < 0.42
    plan = t["plan"]
    assert plan["pace"][plan["ahead_region"]] > 1.6
    assert plan["pace"][plan["behind_region"]] < 0.6
    assert t["journeys"]["median_steps_won"] > t["journeys"]["designed_steps_won"]
    assert t["team_credit"]["share_of_others_won_deals"] > 0.2


def test_campaign_costs_in_file(demo: Path) -> None:
    camps = {r["campaign_id"]: r for r in read(demo, "campaigns")}
    assert len(camps) == 8
    assert float(camps["C07"]["cost"]) > float(camps["C03"]["cost"])


def test_messy_export(demo: Path) -> None:
    t = truth(demo)["messy"]
    raw = (demo / t["file"]).read_bytes()
    assert b"\r\n" in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1251")
    lines = text.split("\r\n")[:-1]
    header = lines[0].split(";")
    assert header[0] == "ID сделки"
    assert len(header) == 11
    assert len(lines) - 1 == t["data_rows"]
    assert 60 <= t["data_rows"] <= 120
    kinds = set()
    for bad in t["bad_rows"]:
        fields = next(csv.reader(io.StringIO(lines[bad["row"] - 1]), delimiter=";"))
        kinds.add(bad["kind"])
        if bad["kind"] == "wrong_field_count":
            assert len(fields) > len(header)
            continue
        assert len(fields) == len(header)
        assert fields[header.index(bad["column"])] == bad["value"]
    assert kinds == {
        "not_a_number",
        "impossible_date",
        "missing_required",
        "bad_enum",
        "key_conflict",
        "wrong_field_count",
    }
    for row in t["duplicate_rows"]:
        assert lines[row - 1] == lines[row - 2]
    ids = [line.split(";")[0] for line in lines[1:]]
    bad_rows = {b["row"] for b in t["bad_rows"]}
    good = {i for n, i in enumerate(ids, start=2) if n not in bad_rows}
    assert len(good) == t["valid_rows"]
    assert "\u00a0" in text
