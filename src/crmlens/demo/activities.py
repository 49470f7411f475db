"""Activities (calls, meetings, visits, e-mails, tasks, notes) and call reviews.

Everything is generated as numpy columns first (about ten rows per deal and one or two
per lead), sorted by the time the activity was logged, and written in chunks.
"""

from __future__ import annotations

import numpy as np

from crmlens.demo import clock, funnel
from crmlens.demo import entities as ent
from crmlens.demo.accounts import Cols, concat
from crmlens.demo.sales import Plan

CALL, MEETING, VISIT, EMAIL, TASK, NOTE = range(6)
#: Activities of each type per stage a deal went through.
PER_STAGE = np.array([0.5, 0.12, 0.04, 0.22, 0.25, 0.15])
OUTCOMES = (
    "Дозвонился",
    "Не дозвонился",
    "Перезвонить",
    "Проведена",
    "Перенесена",
    "Проведён",
    "Отправлено",
    "Выполнена",
)
REVIEW_ITEMS = (
    "greeting",
    "needs_identified",
    "objections_handled",
    "next_step_agreed",
    "summary_sent",
)
REVIEW_PASS = np.array([0.9, 0.72, 0.6, 0.0, 0.55])
NONE = -1


def _block(n: int) -> Cols:
    return {
        "type": np.zeros(n, dtype=np.int8),
        "at": np.zeros(n, dtype=np.int64),
        "manager": np.zeros(n, dtype=np.int64),
        "account": np.full(n, NONE, dtype=np.int64),
        "deal": np.full(n, NONE, dtype=np.int64),
        "lead": np.full(n, NONE, dtype=np.int64),
    }


def deal_activities(
    rng: np.random.Generator, deals: Cols, stage_rows: np.ndarray, plan: Plan
) -> Cols:
    """Activities of the deal owners during each deal's life."""
    n = len(deals["created"])
    k = np.bincount(stage_rows, minlength=n).astype(float)
    lam = k[:, None] * PER_STAGE[None, :]
    won = deals["status"] == funnel.WON
    if plan.has("journeys"):
        lam[:, MEETING] += np.where(won & (deals["pipeline"] == 0), 1.6, 0.0)
    counts = rng.poisson(lam)
    types = np.repeat(np.tile(np.arange(6, dtype=np.int8), n), counts.ravel())
    deal = np.repeat(np.arange(n), counts.sum(axis=1))
    out = _block(len(deal))
    end = np.where(deals["closed"] >= 0, deals["closed"], clock.CUTOFF)
    span = np.maximum(end - deals["created"], clock.HOUR)[deal]
    out["at"] = clock.snap_to_work(
        deals["created"][deal] + (rng.random(len(deal)) * span).astype(np.int64), rng
    )
    out["type"] = types
    out["deal"] = deal
    out["manager"] = deals["owner"][deal]
    out["account"] = deals["account"][deal]
    return out


def helper_activities(rng: np.random.Generator, deals: Cols, plan: Plan) -> Cols:
    """Meetings and calls the helper manager logs on won deals of colleagues."""
    won = np.flatnonzero(
        (deals["status"] == funnel.WON) & (deals["owner"] != ent.HELPER)
    )
    share = 0.35 if plan.has("team_credit") else 0.0
    chosen = won[rng.random(len(won)) < share]
    deal = np.repeat(chosen, rng.integers(1, 3, len(chosen)))
    out = _block(len(deal))
    span = np.maximum(deals["closed"][deal] - deals["created"][deal], clock.HOUR)
    out["at"] = clock.snap_to_work(
        deals["created"][deal] + (rng.random(len(deal)) * span).astype(np.int64), rng
    )
    out["type"] = np.where(rng.random(len(deal)) < 0.6, MEETING, CALL).astype(np.int8)
    out["deal"] = deal
    out["manager"] = np.full(len(deal), ent.HELPER)
    out["account"] = deals["account"][deal]
    return out


def lead_activities(rng: np.random.Generator, leads: Cols) -> Cols:
    """The first response call to each lead and a few follow-ups."""
    n = len(leads["created"])
    first = leads["first_response"]
    late = clock.snap_to_work(
        leads["created"] + (leads["hours"] * clock.HOUR).astype(np.int64), rng
    )
    has_first = (first >= 0) | (rng.random(n) < 0.5)
    first_at = np.where(first >= 0, first, late)
    idx = np.flatnonzero(has_first)
    follow = rng.poisson(0.3, n)
    fidx = np.repeat(np.arange(n), follow)
    span = np.where(
        leads["deal_at"] >= 0, leads["deal_at"] - leads["created"], 14 * clock.DAY
    )[fidx]
    f_at = clock.snap_to_work(
        first_at[fidx]
        + (rng.random(len(fidx)) * np.maximum(span, clock.HOUR)).astype(np.int64),
        rng,
    )
    lead = np.concatenate([idx, fidx])
    out = _block(len(lead))
    out["at"] = np.concatenate([first_at[idx], f_at])
    out["type"] = np.concatenate(
        [np.full(len(idx), CALL), np.where(rng.random(len(fidx)) < 0.5, CALL, EMAIL)]
    ).astype(np.int8)
    out["lead"] = lead
    out["manager"] = leads["owner"][lead]
    out["account"] = leads["account"][lead]
    return out


def next_tasks(rng: np.random.Generator, deals: Cols, plan: Plan) -> Cols:
    """Planned tasks of open deals (careless managers often have none)."""
    open_ = deals["status"] == funnel.OPEN
    careless = (deals["owner"] == ent.CARELESS) & plan.has("careless_manager")
    keep = open_ & (rng.random(len(open_)) < np.where(careless, 0.3, 0.9))
    deal = np.flatnonzero(keep)
    out = _block(len(deal))
    back = rng.integers(1, 10, len(deal)) * clock.DAY
    out["at"] = clock.snap_to_work(
        np.maximum(clock.CUTOFF - back, deals["created"][deal] + 600), rng
    )
    out["type"] = np.full(len(deal), TASK, dtype=np.int8)
    out["deal"] = deal
    out["manager"] = deals["owner"][deal]
    out["account"] = deals["account"][deal]
    out["planned"] = np.ones(len(deal), dtype=bool)
    return out


def finish(rng: np.random.Generator, act: Cols, deals: Cols, plan: Plan) -> Cols:
    """Logging times, due and done times, durations, outcomes, reviews; sorted."""
    n = len(act["at"])
    t = act["type"]
    careless = (act["manager"] == ent.CARELESS) & plan.has("careless_manager")
    lag = rng.exponential(8 * 60, n).astype(np.int64)
    late = careless & (rng.random(n) < 0.6)
    lag = np.where(late, rng.integers(1, 8, n) * clock.DAY + lag, lag)
    task = t == TASK
    created = np.where(task, act["at"], act["at"] + lag)
    created = np.where(late, clock.snap_to_work(created, rng), created)
    due = clock.snap_to_work(act["at"] + rng.integers(1, 8, n) * clock.DAY, rng)
    planned = act["planned"]
    due = np.where(
        planned,
        clock.CUTOFF + rng.integers(0, 10, n) * clock.DAY + clock.work_seconds(rng, n),
        due,
    )
    p_done = np.where(careless, 0.5, 0.965)
    done_task = (rng.random(n) < p_done) & ~planned
    task_done = due + rng.integers(-36, 24, n) * clock.HOUR
    task_done = clock.snap_to_work(np.maximum(task_done, created + 600), rng)
    done = np.where(task, np.where(done_task, task_done, -1), act["at"])
    done = np.where((t == NOTE) | (done >= clock.CUTOFF), -1, done)
    del lag, late, p_done, done_task, task_done
    act["created"] = created
    act["due"] = np.where(task, due, -1)
    act["done"] = done
    del created, due, done, task, careless
    keep = np.flatnonzero(act["created"] < clock.CUTOFF)
    order = np.lexsort((act["deal"][keep], act["lead"][keep], act["created"][keep]))
    keep = keep[order]
    del order
    for k in list(act):
        act[k] = act[k][keep]
    _details(rng, act, deals, plan)
    return act


def _details(rng: np.random.Generator, out: Cols, deals: Cols, plan: Plan) -> None:
    n = len(out["created"])
    t = out["type"]
    reached = rng.random(n) < 0.78
    duration = np.where(reached, np.round(rng.lognormal(np.log(4.5), 0.7, n), 1), 0.0)
    out["duration"] = np.where(t == CALL, duration, np.nan)
    outcome = np.full(n, NONE, dtype=np.int64)
    call_out = np.where(reached, 0, np.where(rng.random(n) < 0.6, 1, 2))
    outcome = np.where(t == CALL, call_out, outcome)
    outcome = np.where(t == MEETING, np.where(rng.random(n) < 0.9, 3, 4), outcome)
    outcome = np.where(t == VISIT, 5, outcome)
    outcome = np.where(t == EMAIL, 6, outcome)
    outcome = np.where((t == TASK) & (out["done"] >= 0), 7, outcome)
    out["outcome"] = outcome
    on_deal = (out["deal"] >= 0) & (t == CALL) & reached
    out["reviewed"] = on_deal & (rng.random(n) < 0.25)


def all_activities(
    rng: np.random.Generator,
    deals: Cols,
    stage_deal: np.ndarray,
    leads: Cols,
    plan: Plan,
) -> Cols:
    """Every activity of the demo CRM, sorted by logging time."""
    parts = [
        deal_activities(rng, deals, stage_deal, plan),
        helper_activities(rng, deals, plan),
        lead_activities(rng, leads),
        next_tasks(rng, deals, plan),
    ]
    for p in parts:
        p.setdefault("planned", np.zeros(len(p["at"]), dtype=bool))
        p["manager"] = p["manager"].astype(np.int8)
        for key in ("account", "deal", "lead"):
            p[key] = p[key].astype(np.int32)
    act = concat(parts)
    del parts
    return finish(rng, act, deals, plan)


def reviews(rng: np.random.Generator, act: Cols, deals: Cols) -> tuple[np.ndarray, ...]:
    """Checklist answers of the reviewed calls: activity row, item, passed."""
    rows = np.flatnonzero(act["reviewed"])
    n = len(rows)
    flag = deals["next_step"][act["deal"][rows]]
    passed = rng.random((n, len(REVIEW_ITEMS))) < REVIEW_PASS[None, :]
    nsa = REVIEW_ITEMS.index("next_step_agreed")
    passed[:, nsa] = rng.random(n) < np.where(flag, 0.92, 0.12)
    return (
        np.repeat(rows, len(REVIEW_ITEMS)),
        np.tile(np.arange(len(REVIEW_ITEMS)), n),
        passed.ravel(),
    )
