"""The demo CRM: a Russian B2B distributor of industrial equipment, 2023-01-01..as_of.

`generate` builds every canonical table as numpy columns (deterministic from the seed
and scale), plants the requested patterns, writes one clean CSV per table plus a messy
export, and returns the `Truth` about what it planted.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from crmlens.demo import accounts as accts
from crmlens.demo import activities as actv
from crmlens.demo import clock, funnel, messy, names, plans, sales
from crmlens.demo import entities as ent
from crmlens.demo import orders as ords
from crmlens.demo.accounts import Cols, concat, take
from crmlens.demo.sales import Plan
from crmlens.demo.truth import Truth, measure
from crmlens.demo.writer import TableWriter, date_array, money, ts_array, write_table

PATTERNS = (
    "stage_drop",
    "manager_mix",
    "careless_manager",
    "duplicates",
    "seasonal",
    "churn",
    "campaigns",
    "sources",
    "checklist",
    "plan",
    "team_credit",
    "journeys",
)
CHUNK = 500_000


def _patterns(patterns: str | Iterable[str]) -> frozenset[str]:
    if patterns == "all":
        return frozenset(PATTERNS)
    if patterns == "none":
        return frozenset()
    chosen = frozenset([patterns] if isinstance(patterns, str) else patterns)
    unknown = sorted(chosen - set(PATTERNS))
    if unknown:
        known = ", ".join(PATTERNS)
        raise ValueError(f"unknown patterns {unknown}; known patterns are: {known}")
    return chosen


class _Streams:
    """Independent random generators per part, reproducible from the seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.names: list[str] = []

    def __call__(self, part: str) -> np.random.Generator:
        key = [self.seed, *part.encode()]
        return np.random.default_rng(np.random.SeedSequence(key))


def generate(
    out_dir: str | Path,
    *,
    seed: int = 42,
    scale: float = 1.0,
    patterns: str | Iterable[str] = "all",
) -> Truth:
    """Write a deterministic demo CRM to ``out_dir`` and return the truth about it.

    Parameters
    ----------
    out_dir
        Directory for ``<table>.csv`` files, ``truth.json`` and ``messy/``.
    seed
        Random seed; the same seed and scale give byte-identical files.
    scale
        Size of the company: 1.0 is about 5,000 deals over three years.
    patterns
        ``"all"``, ``"none"`` or a set of pattern names (see `PATTERNS`).

    Returns
    -------
    Truth
        What was planted (also written to ``truth.json``).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plan = Plan(_patterns(patterns), float(scale))
    rng = _Streams(seed)
    world = _build(rng, plan)
    _write_all(out, rng, world, plan)
    data = measure(world, plan, seed=seed)
    truth = Truth(data=data, out_dir=out)
    (out / "truth.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2, sort_keys=False) + "\n",
        encoding="utf-8",
    )
    return truth


def _build(rng: _Streams, plan: Plan) -> dict[str, Any]:
    """Accounts, leads, deals and stage rows, all as numpy column stores."""
    legacy = sales.legacy_accounts(rng("legacy"), plan)
    new_leads, prospects = sales.new_prospect_leads(rng("new_leads"), plan)
    new_leads["account"] += len(legacy["created"])
    acc = concat([legacy, prospects])
    sales.convert_leads(rng("convert_new"), new_leads, acc, plan, 0.22)
    block_a = sales.deal_block(new_leads, 0, lead_offset=0)
    walk_a = sales.walk_deals(rng("walk_a"), block_a, plan)
    first = dict(block_a, status=walk_a.status, closed=walk_a.closed_at)
    pool = sales.choose_clients(rng("clients"), acc, first, plan)
    ret_leads = sales.client_leads(rng("client_leads"), acc, pool, plan)
    sales.convert_leads(rng("convert_ret"), ret_leads, acc, plan, 0.45)
    leads = concat([new_leads, ret_leads])
    n_new = len(new_leads["created"])
    block_b = sales.deal_block(ret_leads, 0, lead_offset=n_new)
    direct = sales.direct_deals(rng("direct"), acc, pool, plan, plan.count(550), 0)
    service = sales.direct_deals(rng("service"), acc, pool, plan, plan.count(400), 1)
    block_b = concat([block_b, direct])
    blocks = [block_a, block_b, service]
    walks = [
        walk_a,
        sales.walk_deals(rng("walk_b"), block_b, plan),
        sales.walk_deals(rng("walk_s"), service, plan),
    ]
    deals, rows = sales.merge_walks(blocks, walks)
    _deal_values(rng("deal_values"), deals, acc, plan)
    acc, deals = _duplicates(rng("duplicates"), acc, deals, pool, plan)
    world = {"acc": acc, "leads": leads, "deals": deals, "rows": rows, "pool": pool}
    _sort_world(world)
    return world


def _deal_values(rng: np.random.Generator, deals: Cols, acc: Cols, plan: Plan) -> None:
    n = len(deals["created"])
    size = acc["size"][deals["account"]]
    amount = rng.lognormal(np.log(380_000), 0.9, n) * (size / 100.0) ** 0.25
    amount *= np.where(deals["pipeline"] == 1, 0.3, 1.0)
    amount = np.round(amount, -2)
    careless = (deals["owner"] == ent.CARELESS) & plan.has("careless_manager")
    empty = rng.random(n) < np.where(careless, 0.42, 0.02)
    deals["amount"] = np.where(empty, np.nan, amount)
    deals["product"] = np.where(rng.random(n) < 0.85, -2, -1)  # chosen at write time
    late = deals["lost_step"] >= 3
    early_r = rng.integers(0, len(ent.LOST_REASONS_EARLY), n)
    late_r = rng.integers(0, len(ent.LOST_REASONS_LATE), n)
    deals["lost_reason"] = np.where(late, late_r + 10, early_r)


def _duplicates(
    rng: np.random.Generator, acc: Cols, deals: Cols, pool: np.ndarray, plan: Plan
) -> tuple[Cols, Cols]:
    n = len(acc["created"])
    acc["dup_of"] = np.full(n, -1, dtype=np.int64)
    if not plan.has("duplicates"):
        return acc, deals
    special = (acc["churn"] >= 0) | (acc["peak"] > 0)
    clients = pool[~special[pool]]
    others = np.setdiff1d(np.arange(n), pool)
    cand = np.concatenate(
        [
            clients,
            rng.choice(others, size=min(len(others), len(clients)), replace=False),
        ]
    )
    acc = accts.plant_duplicates(rng, acc, np.sort(cand), 0.03)
    dup = np.flatnonzero(acc["dup_of"] >= 0)
    dup_of_orig = np.full(len(acc["created"]), -1, dtype=np.int64)
    dup_of_orig[acc["dup_of"][dup]] = dup
    d = dup_of_orig[deals["account"]]
    move = (d >= 0) & (rng.random(len(d)) < 0.35)
    move &= deals["created"] > acc["created"][np.maximum(d, 0)]
    deals["account"] = np.where(move, d, deals["account"])
    acc["dup_target"] = dup_of_orig
    return acc, deals


def _sort_world(world: dict[str, Any]) -> None:
    """Order accounts, leads and deals by creation time and remap references."""
    acc, leads, deals, rows = (
        world["acc"],
        world["leads"],
        world["deals"],
        world["rows"],
    )
    a_order, a_inv = _order(acc["created"])
    l_order, l_inv = _order(leads["created"])
    d_order, d_inv = _order(deals["created"])
    acc = take(acc, a_order)
    for key in ("dup_of", "dup_target"):
        if key in acc:
            acc[key] = np.where(acc[key] >= 0, a_inv[np.maximum(acc[key], 0)], -1)
    leads = take(leads, l_order)
    leads["account"] = a_inv[leads["account"]]
    deals = take(deals, d_order)
    deals["account"] = a_inv[deals["account"]]
    deals["lead"] = np.where(
        deals["lead"] >= 0, l_inv[np.maximum(deals["lead"], 0)], -1
    )
    leads["deal"] = np.full(len(leads["created"]), -1, dtype=np.int64)
    has = deals["lead"] >= 0
    leads["deal"][deals["lead"][has]] = np.flatnonzero(has)
    rows["deal"] = d_inv[rows["deal"]]
    order = np.lexsort((np.arange(len(rows["deal"])), rows["time"], rows["deal"]))
    world.update(
        acc=acc,
        leads=leads,
        deals=deals,
        rows={k: v[order] for k, v in rows.items()},
        pool=np.sort(a_inv[world["pool"]]),
    )


def _order(created: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(created, kind="stable")
    inv = np.empty_like(order)
    inv[order] = np.arange(len(order))
    return order, inv


def _id_arrays(world: dict[str, Any]) -> dict[str, pa.Array]:
    n_acc = len(world["acc"]["created"])
    n_leads = len(world["leads"]["created"])
    n_deals = len(world["deals"]["created"])
    return {
        "acc": names.ids("A", 1, n_acc, names.id_width(6, n_acc)),
        "lead": names.ids("L", 1, n_leads, names.id_width(7, n_leads)),
        "deal": names.ids("D", 1, n_deals, names.id_width(7, n_deals)),
        "manager": pa.array(ent.MANAGER_IDS),
    }


def _ref(ids: pa.Array, idx: np.ndarray) -> pa.Array:
    """Identifiers at ``idx``; -1 gives null."""
    idx = np.asarray(idx, dtype=np.int64)
    return pc.take(ids, pa.array(idx, mask=idx < 0))


def _write_all(out: Path, rng: _Streams, world: dict[str, Any], plan: Plan) -> None:
    ids = _id_arrays(world)
    world["ids"] = ids
    _write_reference(out, rng("reference"), world)
    _write_accounts(out, rng("account_table"), world)
    _write_leads(out, world)
    _write_deals(out, rng("deal_products"), world)
    _write_stages(out, world)
    act = actv.all_activities(
        rng("activities"), world["deals"], world["rows"]["deal"], world["leads"], plan
    )
    world["act"] = act
    _write_activities(out, act, world)
    _write_reviews(out, rng("reviews"), act, world)
    orders = ords.all_orders(
        rng("orders"),
        world["acc"],
        world["pool"],
        world["deals"],
        world["prices"],
        world["costs"],
        world["categories"],
    )
    _move_orders_to_duplicates(rng("dup_orders"), orders, world["acc"])
    world["orders"] = orders
    _write_orders(out, orders, world)
    _write_targets(out, rng("targets"), world, plan)
    cols, world["campaign_info"] = plans.campaigns(
        rng("campaigns"), world["leads"], world["deals"], plan
    )
    write_table(out, "campaigns", cols)
    companies = world["account_names"][:2000]
    lines, world["messy"] = messy.build(rng("messy"), companies)
    messy.write(out, lines)


def _write_reference(
    out: Path, rng: np.random.Generator, world: dict[str, Any]
) -> None:
    m = ent.MANAGERS
    write_table(
        out,
        "managers",
        {
            "manager_id": [x.manager_id for x in m],
            "name": [x.name for x in m],
            "team": [x.team for x in m],
            "region": [x.region for x in m],
            "role": [x.role for x in m],
            "hired_at": ts_array(
                np.array([clock.ts_of(x.hired_at) + 9 * clock.HOUR for x in m])
            ),
            "active": [x.left_at is None for x in m],
        },
    )
    stages = [*ent.MAIN_STAGES, ent.MAIN_WON, ent.MAIN_LOST]
    service = [*ent.SERVICE_STAGES, ent.SERVICE_WON, ent.SERVICE_LOST]
    write_table(
        out,
        "pipelines",
        {
            "pipeline_id": ["main"] * len(stages) + ["service"] * len(service),
            "stage": stages + service,
            "position": list(range(1, len(stages) + 1))
            + list(range(1, len(service) + 1)),
            "is_won": [s in (ent.MAIN_WON, ent.SERVICE_WON) for s in stages + service],
            "is_lost": [
                s in (ent.MAIN_LOST, ent.SERVICE_LOST) for s in stages + service
            ],
        },
    )
    pid: list[str] = []
    pname: list[str] = []
    pcat: list[int] = []
    price: list[float] = []
    for c, (category, items, base) in enumerate(ent.PRODUCT_LINES):
        for item in items:
            for variant in range(2):
                pid.append(f"SKU{len(pid) + 1:04d}")
                code = int(rng.integers(10, 99)) * 10
                pname.append(
                    f"{item} {category[:2].upper()}-{code}"
                    + (" Про" if variant else "")
                )
                pcat.append(c)
                price.append(
                    round(base * rng.lognormal(0, 0.45) * (1.4 if variant else 1), -1)
                )
    prices = np.array(price)
    costs = np.round(prices * rng.uniform(0.6, 0.8, len(prices)), -1)
    world.update(
        prices=prices, costs=costs, categories=np.array(pcat), product_ids=pa.array(pid)
    )
    write_table(
        out,
        "products",
        {
            "product_id": pid,
            "name": pname,
            "category": [ent.PRODUCT_LINES[c][0] for c in pcat],
            "price": prices,
            "cost": costs,
        },
    )


def _write_accounts(out: Path, rng: np.random.Generator, world: dict[str, Any]) -> None:
    acc = world["acc"]
    cols = accts.account_table(rng, acc, world["ids"]["acc"], world["ids"]["manager"])
    world["account_names"] = cols["name"].slice(0, 2000).to_pylist()
    write_table(out, "accounts", cols)
    width = names.id_width(6, int(len(acc["created"]) * 1.7))
    contacts, main_row = accts.contact_table(rng, acc, world["ids"]["acc"], width)
    world["main_contact"] = main_row
    world["contact_ids"] = contacts["contact_id"]
    world["contact_position"] = contacts["position"]
    write_table(out, "contacts", contacts)


def _chunks(n: int) -> Iterable[tuple[int, int]]:
    for lo in range(0, max(n, 1), CHUNK):
        yield lo, min(n, lo + CHUNK)


def _write_leads(out: Path, world: dict[str, Any]) -> None:
    leads, acc, ids = world["leads"], world["acc"], world["ids"]
    statuses = pa.array(["converted", "disqualified", "in_work"])
    src = pa.array(ent.SOURCES)
    chan = pa.array(ent.SOURCE_CHANNEL)
    camp = pa.array([c.campaign_id for c in ent.CAMPAIGNS] + [None], pa.string())
    with TableWriter(out, "leads") as w:
        for lo, hi in _chunks(len(leads["created"])):
            s = slice(lo, hi)
            a = leads["account"][s]
            contact = world["main_contact"][a]
            w.write(
                {
                    "lead_id": ids["lead"][lo:hi],
                    "created_at": ts_array(leads["created"][s]),
                    "account_id": _ref(ids["acc"], a),
                    "contact_id": _ref(world["contact_ids"], contact),
                    "source": pc.take(src, pa.array(leads["source"][s])),
                    "channel": pc.take(chan, pa.array(leads["source"][s])),
                    "campaign_id": pc.take(camp, pa.array(leads["campaign"][s])),
                    "owner_id": _ref(ids["manager"], leads["owner"][s]),
                    "need_type": pc.take(
                        pa.array(ent.NEED_TYPES), pa.array(leads["need"][s])
                    ),
                    "potential_amount": money(leads["potential"][s]),
                    "first_response_at": ts_array(
                        leads["first_response"][s], leads["first_response"][s] >= 0
                    ),
                    "qualified_at": ts_array(
                        leads["qualified"][s], leads["qualified"][s] >= 0
                    ),
                    "status": pc.take(statuses, pa.array(leads["status"][s])),
                    "lost_reason": _ref(
                        pa.array(ent.LEAD_LOST_REASONS), leads["lost_reason"][s]
                    ),
                    "deal_id": _ref(ids["deal"], leads["deal"][s]),
                    "company_size": pa.array(acc["size"][a]),
                    "industry": pc.take(
                        pa.array(names.INDUSTRIES), pa.array(acc["industry"][a])
                    ),
                    "contact_position": _ref(world["contact_position"], contact),
                    "budget_declared": pa.array(leads["budget"][s]),
                    "pages_viewed": pa.array(leads["pages"][s]),
                    "form_fields_filled": pa.array(leads["fields"][s]),
                }
            )


def _write_deals(out: Path, rng: np.random.Generator, world: dict[str, Any]) -> None:
    deals, ids = world["deals"], world["ids"]
    n = len(deals["created"])
    cats = world["categories"]
    service_cat = len(ent.PRODUCT_LINES) - 1
    pick = rng.integers(0, 1 << 30, n)
    goods = np.flatnonzero(cats != service_cat)
    serv = np.flatnonzero(cats == service_cat)
    product = np.where(
        deals["pipeline"] == 1, serv[pick % len(serv)], goods[pick % len(goods)]
    )
    deals["product"] = np.where(deals["product"] == -2, product, -1)
    reasons = pa.array(
        [*ent.LOST_REASONS_EARLY] + [""] * (10 - 3) + [*ent.LOST_REASONS_LATE]
    )
    status = pa.array(["open", "won", "lost"])
    with TableWriter(out, "deals") as w:
        for lo, hi in _chunks(n):
            s = slice(lo, hi)
            lost = deals["status"][s] == funnel.LOST
            w.write(
                {
                    "deal_id": ids["deal"][lo:hi],
                    "created_at": ts_array(deals["created"][s]),
                    "pipeline_id": pc.take(
                        pa.array(["main", "service"]), pa.array(deals["pipeline"][s])
                    ),
                    "account_id": _ref(ids["acc"], deals["account"][s]),
                    "lead_id": _ref(ids["lead"], deals["lead"][s]),
                    "owner_id": _ref(ids["manager"], deals["owner"][s]),
                    "amount": money(deals["amount"][s]),
                    "currency": pa.array(["RUB"] * (hi - lo)),
                    "status": pc.take(status, pa.array(deals["status"][s])),
                    "closed_at": ts_array(deals["closed"][s], deals["closed"][s] >= 0),
                    "lost_reason": _ref(
                        reasons, np.where(lost, deals["lost_reason"][s], -1)
                    ),
                    "product_id": _ref(world["product_ids"], deals["product"][s]),
                }
            )


def _write_stages(out: Path, world: dict[str, Any]) -> None:
    rows, ids = world["rows"], world["ids"]
    stage_names = pa.array(funnel.STAGES)
    with TableWriter(out, "deal_stages") as w:
        for lo, hi in _chunks(len(rows["deal"])):
            w.write(
                {
                    "deal_id": _ref(ids["deal"], rows["deal"][lo:hi]),
                    "stage": pc.take(stage_names, pa.array(rows["stage"][lo:hi])),
                    "entered_at": ts_array(rows["time"][lo:hi]),
                }
            )


def _write_activities(out: Path, act: Cols, world: dict[str, Any]) -> None:
    ids = world["ids"]
    n = len(act["created"])
    width = names.id_width(8, n)
    types = pa.array(list(ent_types()))
    outcomes = pa.array(actv.OUTCOMES)
    with TableWriter(out, "activities") as w:
        for lo, hi in _chunks(n):
            s = slice(lo, hi)
            w.write(
                {
                    "activity_id": names.ids("X", lo + 1, hi - lo, width),
                    "type": pc.take(types, pa.array(act["type"][s].astype(np.int64))),
                    "created_at": ts_array(act["created"][s]),
                    "manager_id": _ref(ids["manager"], act["manager"][s]),
                    "account_id": _ref(ids["acc"], act["account"][s]),
                    "deal_id": _ref(ids["deal"], act["deal"][s]),
                    "lead_id": _ref(ids["lead"], act["lead"][s]),
                    "due_at": ts_array(act["due"][s], act["due"][s] >= 0),
                    "done_at": ts_array(act["done"][s], act["done"][s] >= 0),
                    "duration_min": pa.array(
                        act["duration"][s], mask=np.isnan(act["duration"][s])
                    ),
                    "outcome": _ref(outcomes, act["outcome"][s]),
                }
            )
    world["activity_width"] = width


def ent_types() -> tuple[str, ...]:
    """Activity type names in code order."""
    from crmlens.model import ACTIVITY_TYPES

    return ACTIVITY_TYPES


def _write_reviews(
    out: Path, rng: np.random.Generator, act: Cols, world: dict[str, Any]
) -> None:
    rows, item, passed = actv.reviews(rng, act, world["deals"])
    world["reviews"] = (rows, item, passed)
    width = world["activity_width"]
    with TableWriter(out, "call_reviews") as w:
        for lo, hi in _chunks(len(rows)):
            w.write(
                {
                    "activity_id": names.join(
                        "X",
                        pc.utf8_lpad(
                            pc.cast(pa.array(rows[lo:hi] + 1), pa.string()), width, "0"
                        ),
                    ),
                    "item": pc.take(pa.array(actv.REVIEW_ITEMS), pa.array(item[lo:hi])),
                    "passed": pa.array(passed[lo:hi]),
                }
            )


def _move_orders_to_duplicates(
    rng: np.random.Generator, orders: Cols, acc: Cols
) -> None:
    if "dup_target" not in acc:
        return
    d = acc["dup_target"][orders["account"]]
    move = (d >= 0) & (rng.random(len(d)) < 0.35)
    move &= orders["at"] > acc["created"][np.maximum(d, 0)]
    orders["account"] = np.where(move, d, orders["account"])


def _write_orders(out: Path, orders: Cols, world: dict[str, Any]) -> None:
    ids = world["ids"]
    n = len(orders["at"])
    width = names.id_width(8, n)
    with TableWriter(out, "orders") as w:
        for lo, hi in _chunks(n):
            s = slice(lo, hi)
            w.write(
                {
                    "order_id": names.ids("O", lo + 1, hi - lo, width),
                    "account_id": _ref(ids["acc"], orders["account"][s]),
                    "order_date": date_array(orders["day"][s]),
                    "amount": money(orders["amount"][s]),
                    "cost": money(orders["cost"][s]),
                    "product_id": _ref(world["product_ids"], orders["product"][s]),
                    "quantity": pa.array(orders["quantity"][s].astype(np.float64)),
                    "deal_id": _ref(ids["deal"], orders["deal"][s]),
                    "manager_id": _ref(ids["manager"], orders["manager"][s]),
                }
            )


def _write_targets(
    out: Path, rng: np.random.Generator, world: dict[str, Any], plan: Plan
) -> None:
    orders, deals, act = world["orders"], world["deals"], world["act"]
    revenue = plans.monthly(orders["amount"], orders["at"], orders["manager"])
    won = deals["status"] == funnel.WON
    won_n = plans.monthly(
        np.ones(int(won.sum())), deals["closed"][won], deals["owner"][won]
    )
    calls = act["type"] == actv.CALL
    calls_n = plans.monthly(
        np.ones(int(calls.sum())), act["created"][calls], act["manager"][calls]
    )
    pace = plans.fact_to_date(orders) / plans.elapsed_share()
    cols, info = plans.targets(rng, revenue, won_n, calls_n, plan, pace)
    plans.plan_facts(orders, deals, info)
    world["plan_info"] = info
    write_table(out, "targets", cols)
