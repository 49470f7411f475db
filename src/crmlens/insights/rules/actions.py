"""Next best actions: today's list per manager, capacity, lead handling, outcome review.

Registers ``actions`` (the ranked lists), ``actions_capacity`` (actions and leads per
manager against capacity), ``leads_handling`` (leads rejected or never touched, by
source) and ``actions_review`` (what came of stored or replayed lists).
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError
from crmlens.insights.findings import Finding
from crmlens.insights.params import parse_date, resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._actions_build import (
    Context,
    Progress,
    build_items,
    capacities,
)
from crmlens.insights.rules._money import both, money

if TYPE_CHECKING:
    import pyarrow as pa

    from crmlens.warehouse import Warehouse

ROW_COLUMNS = ("list_date", "manager_id", "manager_name", "rank", "list", "capacity",
               "kind", "account_id", "account_name", "lead_id", "deal_id", "product_id",
               "probability", "amount", "expected_value", "reason_ru", "reason_en",
               "evidence", "action_id")  # fmt: skip
KIND_WORDS = {
    "call_lead": ("звонки лидам", "lead calls"),
    "push_deal": ("застрявшие сделки", "stuck deals"),
    "seasonal_order": ("сезонные заказы", "seasonal orders"),
    "win_back": ("возврат молчащих клиентов", "win-backs"),
    "offer_product": ("предложения товаров", "product offers"),
}


def list_date(wh: Warehouse, date: str | dt.date | None, as_of: Any = None) -> dt.date:
    """The day a list is for: `date`, else the day after `as_of` / the data's last day."""
    given = parse_date(date, name="--date")
    if given is not None:
        return given
    return resolve_as_of(wh, as_of) + dt.timedelta(days=1)


def parse_kinds(kinds: Any) -> tuple[str, ...]:
    """Kinds from a tuple or a comma-separated text; every kind when empty."""
    from crmlens.analytics.actions import KINDS

    if not kinds:
        return KINDS
    items = kinds.split(",") if isinstance(kinds, str) else list(kinds)
    chosen = tuple(k.strip() for k in items if k.strip())
    bad = [k for k in chosen if k not in KINDS]
    if bad:
        raise InputError(f"unknown action kind(s) {', '.join(bad)}",
                         reason=f"use {', '.join(KINDS)}")  # fmt: skip
    return chosen


def manager_names(wh: Warehouse) -> dict[str, tuple[str, bool]]:
    """manager_id → (name, active)."""
    rows = wh.managers.select("manager_id", "name", "active").to_pyarrow().to_pylist()
    return {
        r["manager_id"]: (r["name"] or r["manager_id"], r["active"] is not False)
        for r in rows
    }


def ranked_actions(
    wh: Warehouse,
    day: dt.date,
    *,
    kinds: tuple[str, ...],
    capacity: int | None = None,
    seed: int = 0,
    model: str = "auto",
    progress: Progress | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Every manager's ranked items for `day` and the capacities used."""
    from crmlens.analytics.actions import rank_actions

    ctx = Context(wh, day, seed=seed, model=model)
    items = build_items(ctx, kinds, progress)
    caps, fallback = capacities(ctx)
    ranked = rank_actions(items, caps, default_capacity=fallback, override=capacity)
    used = {r["manager_id"]: r["capacity"] for r in ranked}
    return ranked, used


def rows_table(
    items: list[dict[str, Any]], names: dict[str, tuple[str, bool]]
) -> pa.Table:
    """The items as Arrow rows (evidence as JSON text)."""
    import pyarrow as pa

    data = []
    for it in items:
        row = {c: it.get(c) for c in ROW_COLUMNS}
        row["manager_name"] = names.get(it["manager_id"], (it["manager_id"], True))[0]
        row["evidence"] = json.dumps(it.get("evidence") or {}, ensure_ascii=False,
                                     default=str)  # fmt: skip
        data.append(row)
    schema = pa.schema(
        [
            ("list_date", pa.date32()), ("manager_id", pa.string()),
            ("manager_name", pa.string()), ("rank", pa.int64()), ("list", pa.string()),
            ("capacity", pa.int64()), ("kind", pa.string()), ("account_id", pa.string()),
            ("account_name", pa.string()), ("lead_id", pa.string()),
            ("deal_id", pa.string()), ("product_id", pa.string()),
            ("probability", pa.float64()), ("amount", pa.float64()),
            ("expected_value", pa.float64()), ("reason_ru", pa.string()),
            ("reason_en", pa.string()), ("evidence", pa.string()),
            ("action_id", pa.string()),
        ]
    )  # fmt: skip
    return pa.Table.from_pylist(data, schema=schema)


@register(
    "actions",
    "Next best actions: one ranked list per manager, today's part sized to capacity",
    in_overview=False,
)
def actions(
    wh: Warehouse,
    *,
    date: str | dt.date | None = None,
    as_of: str | dt.date | None = None,
    manager: str | None = None,
    capacity: int | None = None,
    kinds: Any = None,
    store: bool = False,
    seed: int = 0,
    model: str = "auto",
    progress: Progress | None = None,
    **_: Any,
) -> AnalysisResult:
    """Ranked items of every manager (or one); ``store`` saves them to action_lists."""
    if capacity is not None and capacity < 1:
        raise InputError(f"--capacity {capacity}", reason="give 1 or more")
    day = list_date(wh, date, as_of)
    chosen = parse_kinds(kinds)
    names = manager_names(wh)
    ranked, caps = ranked_actions(wh, day, kinds=chosen, capacity=capacity, seed=seed,
                                  model=model, progress=progress)  # fmt: skip
    if manager:
        if manager not in names and manager not in caps:
            raise InputError(f"unknown manager {manager!r}",
                             reason=f"use one of {', '.join(sorted(names))}")  # fmt: skip
        ranked = [r for r in ranked if r["manager_id"] == manager]
        caps = {manager: caps.get(manager, capacity or 0)} if ranked else {}
    params: dict[str, Any] = {
        "date": day.isoformat(),
        "as_of": (day - dt.timedelta(days=1)).isoformat(),
        "manager": manager,
        "kinds": list(chosen),
        "capacity": caps,
        "capacity_source": "given" if capacity else
        "median calls + meetings per working day, last 90 days",
    }  # fmt: skip
    if store:
        params["stored"] = _store(wh, ranked, day, manager, names)
    findings = list_findings(ranked, names, day)
    return AnalysisResult("actions", params, rows_table(ranked, names), findings)


def _store(
    wh: Warehouse,
    ranked: list[dict[str, Any]],
    day: dt.date,
    manager: str | None,
    names: dict[str, tuple[str, bool]],
) -> int | str:
    from crmlens.warehouse.action_lists import save_action_list

    if wh.storage is None:
        return "not stored: the warehouse is read-only"
    who = [manager] if manager else sorted({*names, *(r["manager_id"] for r in ranked)})
    return save_action_list(wh, ranked, list_date=day, managers=who)


def deeds(n: int) -> str:
    """``n`` дело / дела / дел, as Russian counts them."""
    if n % 10 == 1 and n % 100 != 11:
        word = "дело"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "дела"
    else:
        word = "дел"
    return f"{n} {word}"


def list_findings(
    ranked: list[dict[str, Any]], names: dict[str, tuple[str, bool]], day: dt.date
) -> list[Finding]:
    """Per manager: today's list, its expected value and what waits for later."""
    per: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in ranked:
        per[r["manager_id"]].append(r)
    found = []
    for m, items in sorted(per.items()):
        today = [r for r in items if r["list"] == "today"]
        later = [r for r in items if r["list"] == "later"]
        ev_t = sum(r["expected_value"] for r in today)
        ev_l = sum(r["expected_value"] for r in later)
        name = names.get(m, (m, True))[0]
        cap = items[0]["capacity"]
        kinds = sorted({r["kind"] for r in today})
        ru_k = ", ".join(KIND_WORDS[k][0] for k in kinds)
        en_k = ", ".join(KIND_WORDS[k][1] for k in kinds)
        found.append(
            Finding(
                "actions", "todays_list", "medium" if ev_t >= 1e6 else "low",
                {"type": "manager", "id": m, "name": name}, "expected_value_today",
                round(ev_t, 2), cap, round(ev_t, 2), day.isoformat(),
                both(
                    f"{name}: на {day:%d.%m.%Y} — {deeds(len(today))} (по силам {cap} в "
                    f"день: {ru_k}) с ожидаемой выручкой {money(ev_t, 'ru')}; ещё "
                    f"{deeds(len(later))} на {money(ev_l, 'ru')} — в списке «позже».",
                    f"{name}: {len(today)} action{'s' * (len(today) != 1)} for "
                    f"{day:%Y-%m-%d} (capacity {cap} a day: {en_k}) worth "
                    f"{money(ev_t, 'en')} expected; {len(later)} more worth "
                    f"{money(ev_l, 'en')} in the later list.",
                ),
                both(
                    f"Начните с первого пункта: {today[0]['reason_ru']}" if today else
                    "Сегодня срочных дел нет.",
                    f"Start with the first one: {today[0]['reason_en']}" if today else
                    "Nothing urgent today.",
                ),
                {"today": len(today), "later": len(later),
                 "expected_value_later": round(ev_l, 2),
                 "first_action": today[0]["action_id"] if today else None},
            )
        )  # fmt: skip
    return found


from crmlens.insights.rules import _actions_more  # noqa: E402, F401  (registers the rest)
