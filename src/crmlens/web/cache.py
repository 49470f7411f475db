"""An in-process LRU of analysis results, keyed by (analysis, params, scope, version).

The key holds the warehouse version (``wh.version`` changes with every import), so an
import makes every older entry miss; old entries then age out of the LRU. Concurrent
requests for the same missing key compute it once (the others wait for that result).
Entries are bounded by count and by the Arrow bytes of their rows.

>>> cache = ResultCache(maxsize=2)
>>> cache.get_or_compute(("a",), lambda: 1), cache.get_or_compute(("a",), lambda: 2)
((1, False), (1, True))
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Any


class ResultCache:
    """Thread-safe LRU with single-flight computation; ``maxsize=0`` turns it off."""

    def __init__(self, maxsize: int = 256, max_bytes: int = 512 * 2**20) -> None:
        self.maxsize = maxsize
        self.max_bytes = max_bytes
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._inflight: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._data)

    def get_or_compute(
        self, key: Hashable, compute: Callable[[], Any]
    ) -> tuple[Any, bool]:
        """``(value, True)`` from the cache, or ``(compute(), False)`` stored for next time."""
        if self.maxsize <= 0:
            with self._lock:
                self.misses += 1
            return compute(), False
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key][0], True
            waiting = self._inflight.get(key)
            if waiting is None:
                future: Future[Any] = Future()
                self._inflight[key] = future
                self.misses += 1
        if waiting is not None:
            return waiting.result(), True
        try:
            value = compute()
        except BaseException as e:
            with self._lock:
                del self._inflight[key]
            future.set_exception(e)
            raise
        with self._lock:
            del self._inflight[key]
            self._store(key, value)
        future.set_result(value)
        return value, False

    def peek(self, key: Hashable) -> Any | None:
        """The value under `key` (now the most recently used), or None."""
        with self._lock:
            found = self._data.get(key)
            if found is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        """Keep `value` under `key` (`size` bytes; measured when not given)."""
        if self.maxsize <= 0:
            return
        with self._lock:
            if key in self._data:
                self._bytes -= self._data.pop(key)[1]
            self._store(key, value, size)

    def _store(self, key: Hashable, value: Any, size: int | None = None) -> None:
        size = _size(value) if size is None else size
        if size > self.max_bytes:
            return
        self._data[key] = (value, size)
        self._bytes += size
        while len(self._data) > self.maxsize or self._bytes > self.max_bytes:
            _, (_, dropped) = self._data.popitem(last=False)
            self._bytes -= dropped

    def clear(self) -> None:
        """Forget every entry."""
        with self._lock:
            self._data.clear()
            self._bytes = 0

    def stats(self) -> dict[str, int]:
        """Entries, bytes, hits and misses so far."""
        with self._lock:
            return {
                "entries": len(self._data),
                "bytes": self._bytes,
                "hits": self.hits,
                "misses": self.misses,
            }


def _size(value: Any) -> int:
    if isinstance(value, (str, bytes)):
        return len(value)
    rows = getattr(value, "rows", None)
    nbytes = getattr(rows, "nbytes", None)
    return int(nbytes) if isinstance(nbytes, int) else 1024
