"""What the demo generator planted, measured on the data it wrote (``truth.json``).

Tests and golden outputs compare analyses with these numbers, so each pattern records
both what was intended (ids, months, factors) and what the data actually shows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from crmlens.demo import activities as actv
from crmlens.demo import clock, funnel
from crmlens.demo import entities as ent
from crmlens.demo.accounts import Cols
from crmlens.demo.sales import Plan


@dataclass(frozen=True)
class Truth(Mapping[str, Any]):
    """The planted facts of a generated demo CRM; reads like the ``truth.json`` dict."""

    data: dict[str, Any]
    out_dir: Path

    def __getitem__(self, key: str) -> Any:
        """Value of a top-level key of ``truth.json``."""
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        """Top-level keys."""
        return iter(self.data)

    def __len__(self) -> int:
        """Number of top-level keys."""
        return len(self.data)


def _rate(num: float, den: float) -> float | None:
    return round(float(num) / float(den), 4) if den else None


def _iso(ts: int) -> str:
    return str(np.datetime64(int(ts), "s").astype("datetime64[D]"))


def measure(world: dict[str, Any], plan: Plan, *, seed: int) -> dict[str, Any]:
    """The truth record of a generated world."""
    from crmlens.demo.generator import PATTERNS

    ids = world["ids"]
    acc_ids = ids["acc"].to_pylist()
    return {
        "seed": seed,
        "scale": plan.scale,
        "start": clock.START.isoformat(),
        "as_of": clock.AS_OF.isoformat(),
        "cutoff": "no event at or after " + clock.AS_OF.isoformat() + " 00:00:00",
        "patterns": [p for p in PATTERNS if plan.has(p)],
        "stage_drop": _stage_drop(world) if plan.has("stage_drop") else None,
        "managers": {
            "cold_strong": "M05",
            "warm_weak": "M07",
            "careless": "M09",
            "helper": "M06",
        },
        "manager_mix": _manager_mix(world),
        "careless": _careless(world),
        "checklist_key_item": "next_step_agreed",
        "checklist": _checklist(world),
        "duplicate_accounts": _duplicates(world["acc"], acc_ids),
        "seasonal_clients": _seasonal(world, acc_ids),
        "churned_clients": _churned(world, acc_ids),
        "campaigns": world["campaign_info"],
        "sources": _sources(world, plan),
        "plan": world["plan_info"],
        "team_credit": _team_credit(world),
        "journeys": _journeys(world, plan),
        "messy": world["messy"],
        "rows": _row_counts(world),
    }


def _stage_drop(world: dict[str, Any]) -> dict[str, Any]:
    deals, rows = world["deals"], world["rows"]
    s_from = ent.DROP_STAGE
    first4 = np.full(len(deals["created"]), -1, dtype=np.int64)
    at4 = rows["stage"] == s_from
    idx = np.flatnonzero(at4)[::-1]
    first4[rows["deal"][idx]] = rows["time"][idx]
    furthest = _furthest_main(world)
    reached = first4 >= 0
    resolved = reached & ((furthest > s_from) | (deals["status"] != funnel.OPEN))
    went = furthest > s_from
    drop_ts = clock.ts_of(ent.DROP_FROM)
    before = resolved & (first4 < drop_ts)
    after = resolved & (first4 >= drop_ts)
    return {
        "pipeline_id": "main",
        "stage": ent.MAIN_STAGES[s_from],
        "next": ent.MAIN_STAGES[s_from + 1],
        "from_month": ent.DROP_FROM.strftime("%Y-%m"),
        "before": _rate((went & before).sum(), before.sum()),
        "after": _rate((went & after).sum(), after.sum()),
        "planned_before": float(ent.MAIN_P[s_from]),
        "planned_after": ent.DROP_AFTER,
        "measured_on": "deals of pipeline main by month of first entry into the "
        "stage, excluding deals still open in it",
    }


def _furthest_main(world: dict[str, Any]) -> np.ndarray:
    """Furthest main-stage index reached by each deal (won counts as 6, lost -1)."""
    rows = world["rows"]
    pos = rows["stage"].astype(np.int64)
    pos = np.where(pos <= 6, pos, -1)
    out = np.full(len(world["deals"]["created"]), -1, dtype=np.int64)
    np.maximum.at(out, rows["deal"], pos)
    return out


def returning_flags(world: dict[str, Any]) -> np.ndarray:
    """Whether each deal's account had a won deal or an order before the deal."""
    deals, orders = world["deals"], world["orders"]
    n_acc = len(world["acc"]["created"])
    first = np.full(n_acc, np.iinfo(np.int64).max)
    np.minimum.at(first, orders["account"], orders["day"] * clock.DAY)
    won = deals["status"] == funnel.WON
    np.minimum.at(first, deals["account"][won], deals["closed"][won])
    return first[deals["account"]] < deals["created"]


def _manager_mix(world: dict[str, Any]) -> dict[str, Any]:
    deals = world["deals"]
    closed = deals["status"] != funnel.OPEN
    won = deals["status"] == funnel.WON
    ret = returning_flags(world)
    seg = ret * 100 + deals["source"] + 1
    out: dict[str, Any] = {
        "segments": "client_type (new/returning: a won deal or an order before the "
        "deal) x lead source (none for deals without a lead)",
        "within_segment_factor": {
            "M05": ent.COLD_STRONG_FACTOR,
            "M07": ent.WARM_WEAK_FACTOR,
        },
    }
    seg_rate = {}
    for s in np.unique(seg[closed]):
        m = closed & (seg == s)
        seg_rate[int(s)] = won[m].sum() / m.sum()
    for j in (ent.COLD_STRONG, ent.WARM_WEAK):
        mine = closed & (deals["owner"] == j)
        expected = np.mean([seg_rate[int(s)] for s in seg[mine]])
        raw = won[mine].mean()
        cold = ent.COLD[np.maximum(deals["source"][mine], 0)] & (
            deals["source"][mine] >= 0
        )
        out[ent.MANAGER_IDS[j]] = {
            "closed_deals": int(mine.sum()),
            "raw_win_rate": round(float(raw), 4),
            "expected_win_rate": round(float(expected), 4),
            "mix_adjusted_index": round(float(raw / expected), 4),
            "share_returning": round(float(ret[mine].mean()), 4),
            "share_cold_source": round(float(cold.mean()), 4),
        }
    out["company_win_rate"] = round(float(won[closed].mean()), 4)
    return out


def _careless(world: dict[str, Any]) -> dict[str, Any]:
    deals, act, leads = world["deals"], world["act"], world["leads"]
    j = ent.CARELESS
    mine = deals["owner"] == j
    task = act["type"] == actv.TASK
    overdue = task & (act["due"] >= 0) & (act["due"] < clock.CUTOFF) & (act["done"] < 0)
    per_manager = np.bincount(act["manager"][overdue], minlength=len(ent.MANAGERS))
    resp = leads["first_response"] >= 0
    hours = (leads["first_response"] - leads["created"]) / clock.HOUR
    med = [
        float(np.median(hours[resp & (leads["owner"] == m)]))
        if (resp & (leads["owner"] == m)).any()
        else None
        for m in range(len(ent.MANAGERS))
    ]
    open_ = deals["status"] == funnel.OPEN
    planned = np.zeros(len(open_), dtype=bool)
    fut = task & (act["done"] < 0) & (act["due"] >= clock.CUTOFF) & (act["deal"] >= 0)
    planned[act["deal"][fut]] = True
    lag = (act["created"] - act["done"]) / clock.HOUR
    logged = (act["done"] >= 0) & ~task
    return {
        "manager_id": ent.MANAGER_IDS[j],
        "empty_amount_share": round(float(np.isnan(deals["amount"][mine]).mean()), 4),
        "empty_amount_share_others": round(
            float(np.isnan(deals["amount"][~mine]).mean()), 4
        ),
        "overdue_tasks": int(per_manager[j]),
        "overdue_tasks_by_manager": dict(
            zip(ent.MANAGER_IDS, per_manager.tolist(), strict=True)
        ),
        "open_deals_without_next_task_share": round(
            float(1 - planned[open_ & mine].mean()), 4
        )
        if (open_ & mine).any()
        else None,
        "median_first_response_hours": (
            round(float(med[j]), 2) if med[j] is not None else None  # type: ignore[arg-type]
        ),
        "median_first_response_hours_by_manager": {
            ent.MANAGER_IDS[m]: (round(v, 2) if v is not None else None)
            for m, v in enumerate(med)
        },
        "median_logging_lag_hours": round(
            float(np.median(lag[logged & (act["manager"] == j)])), 2
        ),
        "median_logging_lag_hours_others": round(
            float(np.median(lag[logged & (act["manager"] != j)])), 2
        ),
    }


def _checklist(world: dict[str, Any]) -> dict[str, Any]:
    act, deals = world["act"], world["deals"]
    rows, item, passed = world["reviews"]
    nsa = item == actv.REVIEW_ITEMS.index("next_step_agreed")
    deal_of = act["deal"][rows]
    n = len(deals["created"])
    reviewed = np.zeros(n, dtype=bool)
    reviewed[deal_of] = True
    ok = np.zeros(n, dtype=bool)
    ok[deal_of[nsa & passed]] = True
    closed = deals["status"] != funnel.OPEN
    won = deals["status"] == funnel.WON
    with_ = reviewed & ok & closed
    without = reviewed & ~ok & closed
    return {
        "item": "next_step_agreed",
        "reviewed_calls": int(nsa.sum()),
        "skipped_share": round(float(1 - passed[nsa].mean()), 4) if nsa.any() else None,
        "win_rate_passed": _rate(won[with_].sum(), with_.sum()),
        "win_rate_skipped": _rate(won[without].sum(), without.sum()),
    }


def _duplicates(acc: Cols, acc_ids: list[str]) -> list[list[str]]:
    dup = np.flatnonzero(acc["dup_of"] >= 0)
    pairs = sorted((int(acc["dup_of"][d]), int(d)) for d in dup)
    return [[acc_ids[a], acc_ids[b]] for a, b in pairs]


def _seasonal(world: dict[str, Any], acc_ids: list[str]) -> list[dict[str, Any]]:
    acc = world["acc"]
    idx = np.flatnonzero(acc["peak"] > 0)
    return [{"account_id": acc_ids[i], "peak_month": int(acc["peak"][i])} for i in idx]


def _churned(world: dict[str, Any], acc_ids: list[str]) -> list[dict[str, Any]]:
    acc, orders = world["acc"], world["orders"]
    last = np.full(len(acc["created"]), -1, dtype=np.int64)
    np.maximum.at(last, orders["account"], orders["day"])
    out = []
    for i in np.flatnonzero(acc["churn"] >= 0):
        quiet = clock.CUTOFF_DAY - last[i]
        if last[i] < 0 or quiet < 3 * acc["gap"][i]:
            continue
        out.append(
            {
                "account_id": acc_ids[i],
                "last_order_date": _iso(int(last[i]) * clock.DAY),
                "usual_gap_days": round(float(acc["gap"][i]), 1),
            }
        )
    return out


def _sources(world: dict[str, Any], plan: Plan) -> dict[str, Any]:
    leads = world["leads"]
    conv = leads["deal"] >= 0
    rates = {
        s: _rate(conv[leads["source"] == i].sum(), (leads["source"] == i).sum())
        for i, s in enumerate(ent.SOURCES)
    }
    return {
        "best": ent.SOURCES[ent.BEST_SOURCE] if plan.has("sources") else None,
        "worst": ent.SOURCES[ent.WORST_SOURCE] if plan.has("sources") else None,
        "lead_to_deal_rate": rates,
        "average_lead_to_deal_rate": _rate(conv.sum(), len(conv)),
        "lead_signals": {
            "company_size": "larger companies convert better (log-odds +0.3 per x10)",
            "industry": "Нефтегаз and Машиностроение better, ЖКХ and Сельское "
            "хозяйство worse",
            "contact_position": "директор > инженер > менеджер/специалист",
            "budget_declared": "log-odds +0.9",
            "pages_viewed": "only for companies of 250+ employees: 5+ pages gives "
            "log-odds +1.4 (non-additive)",
            "first_response": "answered within 1 h +0.4, after 24 h -0.5, "
            "no recorded response -0.5",
            "form_fields_filled": "no effect",
        }
        if plan.has("sources")
        else None,
    }


def _team_credit(world: dict[str, Any]) -> dict[str, Any]:
    act, deals = world["act"], world["deals"]
    won = deals["status"] == funnel.WON
    helper = (act["manager"] == ent.HELPER) & (act["deal"] >= 0)
    touched = np.zeros(len(won), dtype=bool)
    touched[act["deal"][helper]] = True
    others_won = won & (deals["owner"] != ent.HELPER)
    return {
        "manager_id": ent.MANAGER_IDS[ent.HELPER],
        "won_deals_of_others_touched": int((touched & others_won).sum()),
        "share_of_others_won_deals": _rate(
            (touched & others_won).sum(), others_won.sum()
        ),
    }


def _journeys(world: dict[str, Any], plan: Plan) -> dict[str, Any]:
    deals, rows = world["deals"], world["rows"]
    n = len(deals["created"])
    main_won = (deals["status"] == funnel.WON) & (deals["pipeline"] == 0)
    steps = np.bincount(rows["deal"], minlength=n)
    has2 = np.zeros(n, dtype=bool)
    has2[rows["deal"][rows["stage"] == 1]] = True
    kp = np.bincount(rows["deal"][rows["stage"] == 3], minlength=n)
    steps_list = [
        {
            "kind": "repeated_meetings",
            "stage": "Встреча",
            "note": "won deals have two or more meeting activities",
        },
        {
            "kind": "second_proposal",
            "stage": "Коммерческое предложение",
            "after": "Переговоры",
            "share_of_won": _rate((kp[main_won] > 1).sum(), main_won.sum()),
        },
        {
            "kind": "skipped_stage",
            "stage": "Квалификация",
            "share_of_won": _rate((~has2[main_won]).sum(), main_won.sum()),
        },
    ]
    return {
        "undesigned_steps": steps_list if plan.has("journeys") else [],
        "designed_steps_won": len(ent.MAIN_STAGES) + 1,
        "median_steps_won": float(np.median(steps[main_won]))
        if main_won.any()
        else None,
        "reopened_deals": int(_reopened(world)),
    }


def _reopened(world: dict[str, Any]) -> int:
    rows = world["rows"]
    lost = rows["stage"] == funnel.MAIN.lost_code
    nxt = np.r_[rows["deal"][1:] == rows["deal"][:-1], False]
    return int(np.unique(rows["deal"][lost & nxt]).size)


def _row_counts(world: dict[str, Any]) -> dict[str, int]:
    return {
        "accounts": len(world["acc"]["created"]),
        "leads": len(world["leads"]["created"]),
        "deals": len(world["deals"]["created"]),
        "deal_stages": len(world["rows"]["deal"]),
        "activities": len(world["act"]["created"]),
        "orders": len(world["orders"]["at"]),
    }
