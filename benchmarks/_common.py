"""Helpers for benchmarks: run a phase in a child process, report wall time and peak RSS."""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from queue import Empty as queue_empty
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _child(fn: Callable[..., Any], args: tuple[Any, ...], queue: Any) -> None:
    start = time.perf_counter()
    result = fn(*args)
    seconds = time.perf_counter() - start
    queue.put((seconds, _peak_mib(), result))


def _peak_mib() -> float:
    """Peak resident memory of this process in MiB.

    VmHWM belongs to the process image, so it starts afresh at exec; ru_maxrss does not
    (Linux keeps it across exec), which would charge each phase with the parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(fn: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """Run `fn(*args)` in a fresh process: (seconds, peak RSS in MiB, result)."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(fn, args, queue))
    proc.start()
    while True:  # a child that dies (an exception, the OOM killer) never puts a result
        try:
            seconds, peak, result = queue.get(timeout=5)
            break
        except queue_empty:
            if not proc.is_alive():
                sys.exit(
                    f"benchmark phase {fn.__name__} died with exit code {proc.exitcode}"
                )
    proc.join()
    if proc.exitcode:
        sys.exit(f"benchmark phase {fn.__name__} failed with exit code {proc.exitcode}")
    return seconds, peak, result


def demo_data(scale: float, seed: int = 42) -> Path:
    """The demo CSVs at `scale`, generated once under bench-out/."""
    out = ROOT / "bench-out" / f"demo-s{scale:g}-seed{seed}"
    if not (out / "truth.json").exists():
        from crmlens.demo import generate

        print(f"generating the demo at scale {scale:g} in {out} …", flush=True)
        start = time.perf_counter()
        generate(out, seed=seed, scale=scale)
        print(f"  generated in {time.perf_counter() - start:.1f} s", flush=True)
    return out
