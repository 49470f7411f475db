"""The result cache: LRU, single flight, keyed by scope and warehouse version."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import new_client, sign_in

from crmlens.web.cache import ResultCache


def test_lru_evicts_the_least_recently_used() -> None:
    cache = ResultCache(maxsize=2)
    cache.get_or_compute("a", lambda: 1)
    cache.get_or_compute("b", lambda: 2)
    assert cache.get_or_compute("a", lambda: 0) == (1, True)  # a is now the newest
    cache.get_or_compute("c", lambda: 3)
    assert cache.get_or_compute("b", lambda: 20) == (20, False)  # b was evicted
    assert cache.get_or_compute("c", lambda: 0) == (3, True)
    assert len(cache) == 2  # storing b again evicted a, the least recently used
    assert cache.get_or_compute("a", lambda: 10) == (10, False)


def test_size_zero_turns_the_cache_off() -> None:
    cache = ResultCache(maxsize=0)
    assert cache.get_or_compute("a", lambda: 1) == (1, False)
    assert cache.get_or_compute("a", lambda: 2) == (2, False)
    assert cache.stats()["misses"] == 2


def test_bytes_bound_the_cache() -> None:
    cache = ResultCache(maxsize=10, max_bytes=10)
    cache.get_or_compute("a", lambda: "x" * 6)
    cache.get_or_compute("b", lambda: "y" * 6)
    assert len(cache) == 1
    assert cache.stats()["bytes"] == 6
    cache.get_or_compute("huge", lambda: "z" * 11)  # larger than the bound: not kept
    assert cache.get_or_compute("huge", lambda: "again") == ("again", False)


def test_concurrent_misses_compute_once() -> None:
    cache = ResultCache()
    calls = []
    release = threading.Event()

    def slow() -> int:
        calls.append(1)
        release.wait(5)
        return 42

    results: list[tuple[int, bool]] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_compute("k", slow)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    time.sleep(0.2)
    release.set()
    for t in threads:
        t.join(5)
    assert len(calls) == 1
    assert [value for value, _ in results] == [42] * 8
    assert sum(not hit for _, hit in results) == 1


def test_errors_are_not_cached() -> None:
    cache = ResultCache()

    def boom() -> int:
        raise ValueError("no")

    with pytest.raises(ValueError, match="no"):
        cache.get_or_compute("k", boom)
    assert cache.get_or_compute("k", lambda: 7) == (7, False)


def test_results_are_cached_per_scope(app: Any, client_as: Any) -> None:
    service = app.state.crmlens.service
    head = client_as("head")
    first = head.get("/api/analysis/customers_factors")
    before = service.cache.stats()
    # the second answer replays the first's bytes (the response cache in front)
    again = head.get("/api/analysis/customers_factors")
    after = service.cache.stats()
    assert again.headers["x-crmlens-cache"] == "hit"
    assert again.content == first.content
    assert after["misses"] == before["misses"]
    # another page over the same result computes nothing either
    before = service.cache.stats()
    head.get("/fragment/customers_factors?rows=5")
    after = service.cache.stats()
    assert after["hits"] > before["hits"]
    # the same analysis for another scope is another entry
    manager = client_as("manager").get("/api/analysis/customers_factors").json()
    everyone = head.get("/api/analysis/customers_factors").json()
    assert manager["rows"] != everyone["rows"]


def _tiny_warehouse(folder: Path) -> Path:
    import crmlens

    (folder / "data").mkdir()
    (folder / "data" / "managers.csv").write_text(
        "manager_id,name,team,region\nM01,Анна,T1,Юг\n", encoding="utf-8"
    )
    (folder / "data" / "deals.csv").write_text(
        "deal_id,created_at,pipeline_id,owner_id,amount,status\n"
        "D1,2025-01-10,main,M01,100,won\n",
        encoding="utf-8",
    )
    path = folder / "tiny.duckdb"
    wh = crmlens.open(path)
    wh.import_files([folder / "data"])
    wh.close()
    return path


def test_an_import_invalidates_the_cache(tmp_path: Path) -> None:
    from crmlens.web.app import create_app
    from crmlens.web.users import UserStore

    path = _tiny_warehouse(tmp_path)
    store = UserStore(tmp_path / "users.sqlite")
    store.add("head", "pass-head-1", role="head")
    app = create_app(str(path), users_db=store.path)
    service = app.state.crmlens.service
    try:
        client = new_client(app)
        assert sign_in(client, "head", "pass-head-1").status_code == 303

        answers: list[str] = []

        def deals() -> int:
            answer = client.get("/api/analysis/tables")
            answers.append(answer.headers["x-crmlens-cache"])
            rows = answer.json()["rows"]
            return next(r["row_count"] for r in rows if r["table_name"] == "deals")

        assert deals() == 1
        assert deals() == 1
        assert answers == ["miss", "hit"]  # the second answer replays the first
        more = tmp_path / "more.csv"
        more.write_text(
            "deal_id,created_at,pipeline_id,owner_id,amount,status\n"
            "D2,2025-02-10,main,M01,200,lost\n",
            encoding="utf-8",
        )
        old = service.version(fresh=True)
        service.root.import_files([more], table="deals")
        assert service.version(fresh=True) != old
        assert deals() == 2  # a new version: the cached answer is not used
        assert answers[-1] == "miss"
    finally:
        service.close()
