"""Benchmark of ``dedup`` and ``quality`` (issue 7).

- dedup: N synthetic accounts (default 100k) with 3 % planted duplicates (variant names,
  phones written differently, INN kept half the time): time (goal ≤ 60 s) and pair F1.
- quality: the full audit by manager on the demo at ``--scale`` (default 200; goal ≤ 30 s),
  on a DuckDB warehouse cached in bench-out/ (or ``--warehouse``). With ``--baseline`` the
  same checks also run assembled as the audit first did it: one population per check,
  unioned, then aggregated, and examples by a window over every failing record. The
  scores must be the same (asserted); the ratio shows what counting the row checks of a
  table in one pass and fetching examples only for failing checks buy. (The checks
  themselves got cheaper too, so this is not the before/after of the whole change.)

Each phase runs in a fresh process; the load average is printed with it, since other
work on the machine stretches the times, and so are the CPU seconds of the audit (all
threads), which the load stretches far less.

Usage: python benchmarks/dedup_bench.py [--phase all|dedup|quality] [--accounts 100000]
       [--scale 200] [--warehouse FILE] [--baseline]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import demo_data, measure

OUT = Path(__file__).resolve().parents[1] / "bench-out"
FORMS = [
    "ООО «{}»",
    'ООО "{}"',
    "{} ООО",
    "Общество с ограниченной ответственностью «{}»",
]
STEMS = [
    "Гранит",
    "Север",
    "Нефте",
    "Металл",
    "Агро",
    "Транс",
    "Строй",
    "Техно",
    "Вектор",
]
TAILS = [
    "систем",
    "ресурс",
    "торг",
    "пром",
    "деталь",
    "маш",
    "инвест",
    "сервис",
    "логистик",
]


def planted(n: int, seed: int = 1) -> tuple[Any, list[tuple[str, str]]]:
    """`n` accounts, 3 % of them duplicates of another; (frame, true pairs)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    base = int(n / 1.03)
    names = [f"{STEMS[i % 9]}{TAILS[(i // 9) % 9]}-{i // 81}" for i in range(base)]
    phones = [f"+7 (9{i % 100:02d}) {i // 100 % 1000:03d}-{i % 97:02d}-{i % 89:02d}"
              for i in range(base)]  # fmt: skip
    rows = [(f"A{i:07d}", FORMS[0].format(names[i]), phones[i], f"city{i % 50}")
            for i in range(base)]  # fmt: skip
    truth = []
    for k, src in enumerate(rng.choice(base, n - base, replace=False)):
        name = FORMS[rng.integers(1, 4)].format(
            names[src].upper() if k % 2 else names[src]
        )
        digits = "".join(ch for ch in phones[src] if ch.isdigit())
        rows.append((f"B{k:07d}", name, "8" + digits[1:], f"city{src % 50}"))
        truth.append((f"A{src:07d}", f"B{k:07d}"))
    df = pd.DataFrame(rows, columns=["account_id", "name", "phone", "city"])
    return df.assign(inn=None, email=None, website=None), truth


def run_dedup(n: int) -> dict[str, float]:
    """Prepare + Splink predict + cluster on `n` planted accounts; pair metrics."""
    from crmlens.analytics import dedup as d

    df, truth = planted(n)
    pairs, _ = d.predict_pairs(d.prepare("accounts", df), d.ACCOUNT_SPEC, threshold=0.9)
    return d.pair_f1(list(zip(pairs.left_id, pairs.right_id, strict=True)), truth)


def demo_warehouse(scale: float) -> Path:
    """The demo at `scale` imported once into bench-out/demo-s{scale}.duckdb."""
    import crmlens

    path = OUT / f"demo-s{scale:g}.duckdb"
    if not path.exists():
        wh = crmlens.open(path)
        wh.import_files([demo_data(scale)])
        wh.close()
    return path


def _cpu() -> float:
    """CPU seconds of this process so far, every thread (DuckDB's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_quality(path: str) -> tuple[int, dict[str, Any], float]:
    """The full audit by manager: (findings, scores overall / per requirement / table,
    CPU seconds of the audit)."""
    import crmlens
    from crmlens.insights.registry import run

    start = _cpu()
    res = run("quality", crmlens.open(path), by="manager")
    return len(res.findings), res.params["scores"], _cpu() - start


def run_quality_baseline(path: str) -> tuple[int, dict[str, Any], float]:
    """The same checks assembled one population per check, unioned, aggregated, with
    examples by a window over every failing record. (0, the scores, CPU seconds)."""
    import ibis

    import crmlens
    from crmlens.analytics import quality as q
    from crmlens.analytics.quality_checks import Context
    from crmlens.insights.params import resolve_as_of
    from crmlens.insights.rules.quality import _scores, _tables

    start = _cpu()
    wh = crmlens.open(path)
    tables, available = _tables(wh)
    checks = q.applicable(q.catalogue(), available)
    ctx = Context(as_of=resolve_as_of(wh, None))
    pop = q.populations(tables, checks, ctx=ctx)
    by_m = q.check_summary(pop, by_manager=True).to_pyarrow()
    q.failing_records(pop, limit_per_check=5).to_pyarrow()
    summary = ibis.memtable(q.roll_up(ibis.memtable(by_m)).to_pyarrow())
    scores = {k: _scores(q.scores(summary, col)) for k, col in
              (("overall", None), ("requirement", "requirement"), ("table", "table"))}  # fmt: skip
    return 0, scores, _cpu() - start


def _load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def bench_dedup(n: int) -> None:
    """Time and pair F1 of dedup on `n` planted accounts."""
    secs, rss, m = measure(run_dedup, n)
    print(f"dedup {n} accounts: {secs:.1f} s (goal 60 s, ratio {secs / 60:.2f}), peak "
          f"{rss:.0f} MiB; precision {m['precision']:.4f} recall {m['recall']:.4f} "
          f"F1 {m['f1']:.4f} ({_load()})")  # fmt: skip


def bench_quality(path: Path, label: str, *, baseline: bool) -> None:
    """Time of the audit on `path`; with `baseline` also the old way's, same scores.

    Wall time moves with the load of the machine (other work shares its 2 cores), so the
    CPU seconds (all threads) are printed too: on an idle machine DuckDB spreads them
    over both cores.
    """
    secs, rss, (n, scores, cpu) = measure(run_quality, str(path))
    print(f"quality on {label}: {secs:.1f} s (goal 30 s, ratio {secs / 30:.2f}), CPU "
          f"{cpu:.1f} s, peak {rss:.0f} MiB, {n} findings ({_load()})")  # fmt: skip
    if not baseline:
        return
    old, old_rss, (_, old_scores, old_cpu) = measure(run_quality_baseline, str(path))
    same = "same scores" if old_scores == scores else "SCORES DIFFER"
    print(f"quality baseline (one population per check) on {label}: {old:.1f} s, CPU "
          f"{old_cpu:.1f} s, peak {old_rss:.0f} MiB; {same}; speed-up {old / secs:.2f}x "
          f"(CPU {old_cpu / cpu:.2f}x) ({_load()})")  # fmt: skip
    if old_scores != scores:
        sys.exit(f"the scores differ: {scores} vs the baseline's {old_scores}")


def main() -> None:
    """Run the phases and print times, goals, ratios and peak memory."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--phase", choices=["all", "dedup", "quality"], default="all")
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--scale", type=float, default=200)
    ap.add_argument("--warehouse", type=Path, help="audit this DuckDB file instead")
    ap.add_argument("--baseline", action="store_true",
                    help="also time the audit the old way (one population per check)")  # fmt: skip
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    if args.phase in ("all", "dedup"):
        bench_dedup(args.accounts)
    if args.phase in ("all", "quality"):
        path = args.warehouse or demo_warehouse(args.scale)
        label = str(path) if args.warehouse else f"demo scale {args.scale:g}"
        bench_quality(path, label, baseline=args.baseline)


if __name__ == "__main__":
    main()
