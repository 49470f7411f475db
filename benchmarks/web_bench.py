"""Load benchmark of ``crmlens serve``: concurrent clients on 127.0.0.1, cached vs uncached.

Goal of issue 11 at scale 200: p95 ≤ 300 ms with the cache warm, 0 errors, for 50 clients
during 60 s. The server runs as ``crmlens serve`` in its own process, twice over the same
demo warehouse: once with the cache off (``--cache-size 0``, the baseline: every request
computes its analysis) and once with it on. Each phase first requests every URL once
(the cold latency per URL), then lets the clients loop over the URL mix — bounded by time
(``--seconds``) and by count (``--max-requests``); a request slower than ``--timeout`` is an
error. Clients are httpx async clients with API tokens of a head of sales and of a manager.

Usage: python benchmarks/web_bench.py [--scale 200] [--clients 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import ROOT, demo_data

GOAL_P95 = 0.300
#: The URL mix: pages, htmx fragments and API calls of the dashboards.
PATHS = [
    "/",
    "/funnel",
    "/managers",
    "/section/lights",
    "/section/numbers",
    "/fragment/funnel?rows=30",
    "/fragment/managers_kpis?rows=30",
    "/fragment/customers_rfm?rows=30",
    "/api/analysis/funnel",
    "/api/analysis/managers_kpis",
    "/api/analysis/plan",
    "/api/analysis/leads_sources",
    "/api/analysis/campaigns",
    "/drill/deals?status=won",
]


def warehouse(scale: float) -> Path:
    """The demo at `scale` imported once into bench-out/demo-s{scale}.duckdb."""
    path = ROOT / "bench-out" / f"demo-s{scale:g}.duckdb"
    if not path.exists():
        import crmlens

        data = demo_data(scale)
        print(f"importing the demo into {path} …", flush=True)
        wh = crmlens.open(path)
        wh.import_files([data])
        wh.close()
    return path


def users(folder: Path) -> tuple[Path, dict[str, str]]:
    """A users file with a head of sales and a manager, and an API token of each."""
    from crmlens.web.users import UserStore

    store = UserStore(folder / "users.sqlite")
    store.add("head", "bench-pass-1", role="head")
    store.add("manager", "bench-pass-1", role="manager", scope_id="M05")
    return store.path, {name: store.new_token(name) for name in ("head", "manager")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``crmlens serve`` in a child process."""

    def __init__(self, wh: Path, users_db: Path, cache_size: int) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "CRMLENS_SECRET_KEY": "bench-" + "k" * 32}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from crmlens.cli.app import main; main()",
                "serve",
                "--warehouse",
                str(wh),
                "--users",
                str(users_db),
                "--port",
                str(self.port),
                "--cache-size",
                str(cache_size),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def wait(self, timeout: float = 300) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(
                    f"the server stopped: {self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            try:
                if httpx.get(self.base + "/login", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        sys.exit("the server did not start in time")

    def peak_mib(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


@dataclass
class Stats:
    """Latencies (seconds) and errors of one phase."""

    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1

    def line(self, name: str, seconds: float) -> str:
        lat = sorted(self.latencies)
        if not lat:
            return f"{name:9s} no successful request; errors {self.errors}"
        p50 = statistics.median(lat)
        p95 = lat[min(len(lat) - 1, int(0.95 * len(lat)))]
        return (
            f"{name:9s} {len(lat):6d} ok  {sum(self.errors.values()):4d} errors  "
            f"p50 {1000 * p50:8.1f} ms  p95 {1000 * p95:8.1f} ms  max {1000 * lat[-1]:8.1f} ms  "
            f"{len(lat) / seconds:7.1f} req/s"
        )

    def p(self, q: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("inf")


async def one(
    client: object, url: str, token: str, stats: Stats, timeout: float
) -> None:
    import httpx

    assert isinstance(client, httpx.AsyncClient)
    start = time.perf_counter()
    try:
        r = await client.get(
            url, headers={"Authorization": f"Bearer {token}"}, timeout=timeout
        )
    except httpx.TimeoutException:
        stats.error("timeout")
        return
    except httpx.HTTPError as e:
        stats.error(type(e).__name__)
        return
    if r.status_code != 200:
        stats.error(f"HTTP {r.status_code}")
        return
    stats.latencies.append(time.perf_counter() - start)


async def cold(
    base: str, tokens: dict[str, str], timeout: float
) -> list[tuple[str, str, float]]:
    """Every URL once per user, one after another: the first (cold) latency of each."""
    import httpx

    out = []
    async with httpx.AsyncClient(base_url=base) as client:
        for user, token in tokens.items():
            for path in PATHS:
                stats = Stats()
                await one(client, path, token, stats, timeout)
                out.append(
                    (
                        user,
                        path,
                        stats.latencies[0] if stats.latencies else float("nan"),
                    )
                )
    return out


async def load(
    base: str,
    tokens: dict[str, str],
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    timeout: float,
) -> tuple[Stats, float]:
    """`clients` clients looping over the URL mix until `seconds` or `max_requests`."""
    import httpx

    stats = Stats()
    started = [0]
    stop_at = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(n: int) -> None:
        rng = random.Random(n)
        token = tokens["head" if n % 2 == 0 else "manager"]
        async with httpx.AsyncClient(base_url=base, limits=limits) as client:
            while time.monotonic() < stop_at and started[0] < max_requests:
                started[0] += 1
                await one(client, rng.choice(PATHS), token, stats, timeout)

    begin = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(clients)))
    return stats, time.monotonic() - begin


def phase(
    name: str,
    wh: Path,
    users_db: Path,
    tokens: dict[str, str],
    cache_size: int,
    args: argparse.Namespace,
) -> Stats:
    server = Server(wh, users_db, cache_size)
    try:
        server.wait()
        t0 = time.perf_counter()
        firsts = asyncio.run(cold(server.base, tokens, args.cold_timeout))
        print(
            f"\n== {name} (--cache-size {cache_size}); first request of each URL "
            f"({time.perf_counter() - t0:.1f} s in all):"
        )
        for user, path, sec in firsts:
            print(f"   {user:8s} {path:40s} {1000 * sec:9.1f} ms")
        stats, took = asyncio.run(
            load(
                server.base,
                tokens,
                clients=args.clients,
                seconds=args.seconds,
                max_requests=args.max_requests,
                timeout=args.timeout,
            )
        )
        print(stats.line(name, took) + f"  ({args.clients} clients, {took:.1f} s)")
        print(f"          server peak memory {server.peak_mib():.0f} MiB")
        return stats
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=200.0)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="Per request, under load."
    )
    parser.add_argument(
        "--cold-timeout",
        type=float,
        default=900.0,
        help="Per request of the first (cold) pass, which computes every analysis.",
    )
    parser.add_argument(
        "--skip-uncached", action="store_true", help="Only the cached phase."
    )
    args = parser.parse_args()
    wh = warehouse(args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        users_db, tokens = users(Path(tmp))
        print(
            f"scale {args.scale:g}: {wh}; {args.clients} clients, {args.seconds:g} s, "
            f"at most {args.max_requests} requests, timeout {args.timeout:g} s"
        )
        base = None
        if not args.skip_uncached:
            base = phase("uncached", wh, users_db, tokens, 0, args)
        cached = phase("cached", wh, users_db, tokens, 256, args)
    p95 = cached.p(0.95)
    errors = sum(cached.errors.values())
    verdict = "ok" if p95 <= GOAL_P95 and errors == 0 else "MISSED"
    print(
        f"\ncached p95 {1000 * p95:.1f} ms, {errors} errors; goal p95 ≤ "
        f"{1000 * GOAL_P95:.0f} ms and 0 errors at scale 200: {verdict}"
    )
    if base is not None and base.latencies and cached.latencies:
        ratio = statistics.median(base.latencies) / statistics.median(cached.latencies)
        print(f"uncached / cached p50: x{ratio:.1f}")


if __name__ == "__main__":
    main()
