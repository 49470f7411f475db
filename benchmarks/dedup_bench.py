"""Benchmark of ``dedup`` and ``quality`` (issue 7).

- dedup: N synthetic accounts (default 100k) with 3 % planted duplicates (variant names,
  phones written differently, INN kept half the time): time (goal ≤ 60 s) and pair F1.
- quality: the full audit on the demo at ``--scale`` (default 200; goal ≤ 30 s), on a
  DuckDB warehouse cached in bench-out/.

Usage: python benchmarks/dedup_bench.py [--accounts 100000] [--scale 200]
"""

from __future__ import annotations

import argparse
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


def run_quality(path: str) -> int:
    """The full audit by manager; returns the number of findings."""
    import crmlens
    from crmlens.insights.registry import run

    return len(run("quality", crmlens.open(path), by="manager").findings)


def main() -> None:
    """Run both phases and print times, goals and peak memory."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=100_000)
    ap.add_argument("--scale", type=float, default=200)
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    secs, rss, m = measure(run_dedup, args.accounts)
    print(f"dedup {args.accounts} accounts: {secs:.1f} s (goal 60 s, ratio "
          f"{secs / 60:.2f}), peak {rss:.0f} MiB; precision {m['precision']:.4f} "
          f"recall {m['recall']:.4f} F1 {m['f1']:.4f}")  # fmt: skip
    path = demo_warehouse(args.scale)
    secs, rss, n = measure(run_quality, str(path))
    print(f"quality on demo scale {args.scale:g}: {secs:.1f} s (goal 30 s, ratio "
          f"{secs / 30:.2f}), peak {rss:.0f} MiB, {n} findings")  # fmt: skip


if __name__ == "__main__":
    main()
