"""Stage histories of deals: a vectorised walk through a pipeline, cut at ``as_of``.

Each deal moves from stage to stage with a probability per transition (scaled by the
deal's win factor), spends a log-normal time in each stage, and ends won, lost or still
open at the cut-off. Journeys the design lacks (skipped qualification, a second
proposal, a re-opened deal) are added as extra rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from crmlens.demo import clock
from crmlens.demo import entities as ent

#: Stage codes: the main stages, its won and lost stages, then the service pipeline.
STAGES: tuple[str, ...] = (
    *ent.MAIN_STAGES,
    ent.MAIN_WON,
    ent.MAIN_LOST,
    *ent.SERVICE_STAGES,
    ent.SERVICE_WON,
    ent.SERVICE_LOST,
)
OPEN, WON, LOST = 0, 1, 2
MIN_STEP = 600


@dataclass(frozen=True)
class PipelineSpec:
    """A pipeline as the walk needs it: stage codes, conversions and stage times."""

    first_code: int
    won_code: int
    lost_code: int
    p: np.ndarray
    days: np.ndarray


MAIN = PipelineSpec(0, 6, 7, ent.MAIN_P, ent.MAIN_DAYS)
SERVICE = PipelineSpec(8, 11, 12, ent.SERVICE_P, ent.SERVICE_DAYS)


@dataclass
class Walk:
    """Stage rows of a set of deals (sorted by deal, time) and each deal's outcome."""

    deal: np.ndarray
    stage: np.ndarray
    time: np.ndarray
    status: np.ndarray
    closed_at: np.ndarray
    lost_step: np.ndarray
    extras: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class _Rows:
    deal: list[np.ndarray] = field(default_factory=list)
    stage: list[np.ndarray] = field(default_factory=list)
    time: list[np.ndarray] = field(default_factory=list)

    def add(self, mask: np.ndarray, code: int, time: np.ndarray) -> None:
        idx = np.flatnonzero(mask)
        self.deal.append(idx)
        self.stage.append(np.full(len(idx), code, dtype=np.int16))
        self.time.append(time[idx])


def _step(
    rng: np.random.Generator, t: np.ndarray, median_days: float, sigma: float = 0.7
) -> np.ndarray:
    d = clock.lognormal_days(rng, median_days, sigma, len(t))
    return clock.snap_to_work(t + np.maximum(d, MIN_STEP), rng)


def walk(
    rng: np.random.Generator,
    created: np.ndarray,
    factor: np.ndarray,
    spec: PipelineSpec,
    *,
    drop: bool = False,
    skip: np.ndarray | None = None,
    second: np.ndarray | None = None,
    reopen: float = 0.0,
) -> Walk:
    """Walk deals through a pipeline.

    Parameters
    ----------
    rng
        Random generator.
    created
        Creation time of each deal (seconds).
    factor
        Multiplier of each deal's win probability, spread evenly over transitions.
    spec
        The pipeline.
    drop
        Plant the stage drop (`entities.DROP_STAGE`) for deals entering it from
        `entities.DROP_FROM`.
    skip, second
        Per deal: skip the second stage; make a second proposal after "Переговоры".
    reopen
        Share of deals lost late that are re-opened into "Переговоры".
    """
    n = len(created)
    k = len(spec.p)
    f = factor ** (1.0 / k)
    rows = _Rows()
    t = created.astype(np.int64).copy()
    alive = np.ones(n, dtype=bool)
    rows.add(alive, spec.first_code, t)
    lost_at = np.full(n, -1, dtype=np.int64)
    lost_step = np.full(n, -1, dtype=np.int64)
    drop_ts = clock.ts_of(ent.DROP_FROM)
    for s in range(k):
        if second is not None and s == 4:
            t = _second_proposal(rng, rows, alive & second, t, spec)
        p = spec.p[s] * f
        if drop and s == ent.DROP_STAGE:
            p = np.where(t >= drop_ts, ent.DROP_AFTER * f, p)
        go = alive & (rng.random(n) < np.minimum(p, 0.985))
        fail = alive & ~go
        lost_at = np.where(fail, _step(rng, t, 6.0 + 2.0 * s, 0.8), lost_at)
        lost_step[fail] = s
        t_next = _step(rng, t, spec.days[s])
        visible = go if (skip is None or s != 0) else go & ~skip
        rows.add(
            visible, spec.first_code + s + 1 if s + 1 < k else spec.won_code, t_next
        )
        t = np.where(go, t_next, t)
        alive = go
    rows.add(lost_at >= 0, spec.lost_code, lost_at)
    if reopen > 0:
        _reopen(rng, rows, (lost_step >= 4) & (rng.random(n) < reopen), lost_at, spec)
    return _finish(rows, n, spec, lost_step)


def _second_proposal(
    rng: np.random.Generator,
    rows: _Rows,
    mask: np.ndarray,
    t: np.ndarray,
    spec: PipelineSpec,
) -> np.ndarray:
    t_kp = _step(rng, t, 4.0)
    rows.add(mask, spec.first_code + 3, t_kp)
    t_neg = _step(rng, t_kp, 4.0)
    rows.add(mask, spec.first_code + 4, t_neg)
    return np.where(mask, t_neg, t)


def _reopen(
    rng: np.random.Generator,
    rows: _Rows,
    mask: np.ndarray,
    lost_at: np.ndarray,
    spec: PipelineSpec,
) -> None:
    n = len(mask)
    t_back = clock.snap_to_work(
        lost_at + rng.integers(10, 60, n) * clock.DAY + rng.integers(0, 3600, n), rng
    )
    rows.add(mask, spec.first_code + 4, t_back)
    t_end = _step(rng, t_back, 10.0)
    win = rng.random(n) < 0.45
    rows.add(mask & win, spec.won_code, t_end)
    rows.add(mask & ~win, spec.lost_code, t_end)


def _finish(rows: _Rows, n: int, spec: PipelineSpec, lost_step: np.ndarray) -> Walk:
    deal = np.concatenate(rows.deal)
    stage = np.concatenate(rows.stage)
    time = np.concatenate(rows.time)
    slot = np.concatenate([np.full(len(d), i) for i, d in enumerate(rows.deal)])
    keep = time < clock.CUTOFF
    deal, stage, time, slot = deal[keep], stage[keep], time[keep], slot[keep]
    order = np.lexsort((slot, time, deal))
    deal, stage, time = deal[order], stage[order], time[order]
    last = np.r_[deal[1:] != deal[:-1], True] if len(deal) else np.zeros(0, bool)
    status = np.full(n, OPEN, dtype=np.int8)
    closed_at = np.full(n, -1, dtype=np.int64)
    ld, ls, lt = deal[last], stage[last], time[last]
    status[ld[ls == spec.won_code]] = WON
    status[ld[ls == spec.lost_code]] = LOST
    closed = (ls == spec.won_code) | (ls == spec.lost_code)
    closed_at[ld[closed]] = lt[closed]
    return Walk(deal, stage, time, status, closed_at, lost_step)
