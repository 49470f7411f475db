"""What the routes call: the warehouse seen by a user, analyses, the story, drill-downs.

The scope is applied here, once, for every request: :meth:`WebService.view` wraps the
warehouse with :func:`crmlens.warehouse.scope.scoped` for the user's role and then narrows
it by the page's filters; every analysis, story, export and drill-down runs on that view.

Analyses run in a small thread pool (DuckDB already uses every core for one query, so a
few at a time is enough) and their results are cached per (analysis, params, scope,
filters, warehouse version). Each pool thread reads DuckDB through its own cursor; Spark
and Postgres warehouses run one analysis at a time.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from crmlens.errors import CrmlensError, InputError, WarehouseError
from crmlens.insights import registry
from crmlens.warehouse import Warehouse, open_warehouse, parse_url
from crmlens.warehouse.scope import scoped
from crmlens.web.access import can_drill, can_run, story_role
from crmlens.web.cache import ResultCache
from crmlens.web.drill import CRITERIA, DrillQuery, drill_rows
from crmlens.web.filters import Filters, narrow
from crmlens.web.params import ParamSpec, parse_params, specs_of

if TYPE_CHECKING:
    import pyarrow as pa

    from crmlens.insights.narrative import Collected
    from crmlens.insights.registry import AnalysisResult
    from crmlens.insights.story import Story
    from crmlens.web.users import User

T = TypeVar("T")
log = logging.getLogger("crmlens.web")
VERSION_TTL = 1.0  # seconds a warehouse version is trusted before it is read again


class NotFound(CrmlensError):
    """An unknown analysis, page or table."""

    status = 404


class Forbidden(CrmlensError):
    """The user's role may not open this."""

    status = 403


def drill_query(
    table: str, query: Mapping[str, str], *, user: User | None = None
) -> DrillQuery:
    """The drill-down into `table` that `query` asks for.

    NotFound when `table` has no drill-down; given `user`, Forbidden when the role may
    not open its rows — both before the query's values are checked (a 400).
    """
    if table not in CRITERIA:
        raise NotFound(f"no drill-down into {table!r}")
    if user is not None and not can_drill(user, table):
        raise Forbidden(f"the role {user.role} cannot open the rows of {table}")
    return DrillQuery.parse(table, query)


@dataclass
class Outcome:
    """A result, its cache key and whether it came from the cache."""

    result: AnalysisResult
    cached: bool
    seconds: float
    key: tuple[Any, ...]


class WebService:
    """The warehouse, the analysis pool and the result cache of one app."""

    def __init__(
        self, warehouse_url: str, *, cache_size: int = 256, workers: int = 2
    ) -> None:
        url = parse_url(warehouse_url)
        path = url.path if url.backend == "duckdb" else None
        if path is not None and str(path) != ":memory:" and not path.exists():
            raise WarehouseError(
                f"no warehouse at {url.path}: create it with crmlens import or "
                "crmlens demo first"
            )
        self.url = warehouse_url
        self.root = open_warehouse(warehouse_url)
        self.cache = ResultCache(cache_size)
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="crmlens-analysis")
        self._local = threading.local()
        self._root_lock = threading.RLock()
        self._version: tuple[float, str] = (0.0, "")
        self._cursors: list[Any] = []
        registry.names()  # load the built-in analyses once

    # the warehouse -------------------------------------------------------------------
    def version(self, *, fresh: bool = False) -> str:
        """The warehouse version (re-read at most once a second, or now if `fresh`)."""
        stamp, value = self._version
        if fresh or time.monotonic() - stamp > VERSION_TTL:
            with self._root_lock:
                stamp, value = self._version  # another thread may have just read it
                if fresh or time.monotonic() - stamp > VERSION_TTL:
                    value = self.root.version
                    self._version = (time.monotonic(), value)
        return value

    def fresh_version(self, max_age: float = VERSION_TTL) -> str | None:
        """The warehouse version when it was read less than `max_age` seconds ago,
        else None (never queries: safe on the event loop)."""
        stamp, value = self._version
        return value if value and time.monotonic() - stamp <= max_age else None

    def base(self) -> Warehouse:
        """This thread's warehouse (its own DuckDB cursor; the shared one otherwise)."""
        from crmlens.warehouse.storage import DuckDBStorage

        storage = self.root.storage
        if self.root.backend != "duckdb" or not isinstance(storage, DuckDBStorage):
            return self.root
        wh: Warehouse | None = getattr(self._local, "wh", None)
        version = self.version()
        if wh is None:
            from crmlens.warehouse.duckdb_backend import DuckDBBackend

            with self._root_lock:  # the root connection may be reading the version
                cursor = storage.con.cursor()
                self._cursors.append(cursor)
            wh = Warehouse(self.root.url, DuckDBBackend.from_connection(cursor), None)
            self._local.wh = wh
        if getattr(self._local, "version", None) != version:
            wh.refresh()
            self._local.version = version
        return wh

    def view(self, user: User, filters: Filters) -> Warehouse:
        """The warehouse as `user` may see it, narrowed by `filters`."""
        return narrow(scoped(self.base(), user.scope), filters)

    def _execute(self, fn: Callable[[], T]) -> T:
        """Run `fn` in the analysis pool and wait for it."""
        if self.root.backend == "duckdb":
            return self.pool.submit(fn).result()

        def locked() -> T:
            with self._root_lock:
                return fn()

        return self.pool.submit(locked).result()

    # analyses ------------------------------------------------------------------------
    def analysis(self, user: User, name: str) -> registry.Analysis:
        """The registered analysis `name` if `user` may open it."""
        found = registry.REGISTRY.get(name)
        if found is None:
            raise NotFound(f"no analysis {name!r}")
        if not can_run(user, name):
            raise Forbidden(f"the role {user.role} cannot open {name}")
        return found

    def specs(self, name: str) -> tuple[ParamSpec, ...]:
        """The web parameters of analysis `name`."""
        return specs_of(registry.REGISTRY[name].run)

    def params(
        self, user: User, name: str, query: Mapping[str, str], filters: Filters
    ) -> dict[str, Any]:
        """Typed parameters of `name` from `query`, the period filled in from `filters`.

        Without a date, ``as_of`` is the warehouse's last day with data, the same for
        every scope (a manager's own last deal does not move their dashboard's date).
        The plan's level (``scope``) defaults to the rows the user has targets for:
        regions for the company, managers inside a region, team or for a manager.
        """
        specs = self.specs(name)
        accepted = {s.name for s in specs}
        params = parse_params(specs, query)
        params.update(filters.period_params(accepted, params))
        if "as_of" in accepted and "as_of" not in params:
            params["as_of"] = self.default_as_of()
        if name.startswith("plan") and "scope" in accepted and "scope" not in params:
            params["scope"] = "region" if user.scope.kind == "company" else "manager"
        return params

    def default_as_of(self) -> str:
        """The last day with data in the whole warehouse (cached per version)."""

        def compute() -> str:
            from crmlens.insights.params import resolve_as_of

            def read() -> str:
                return resolve_as_of(self.base(), None).isoformat()

            return self._execute(read)

        value, _ = self.cache.get_or_compute(("as_of", self.version()), compute)
        return str(value)

    def run(
        self, user: User, name: str, query: Mapping[str, str], filters: Filters
    ) -> Outcome:
        """Run (or fetch from the cache) analysis `name` for `user`."""
        self.analysis(user, name)
        params = self.params(user, name, query, filters)
        key = (
            "analysis",
            name,
            tuple(sorted((k, repr(v)) for k, v in params.items())),
            str(user.scope),
            filters.key(),
            self.version(),
        )
        start = time.perf_counter()

        def compute() -> AnalysisResult:
            return self._execute(lambda: self._run(user, name, params, filters))

        result, cached = self.cache.get_or_compute(key, compute)
        return Outcome(result, cached, time.perf_counter() - start, key)

    def chart(self, outcome: Outcome, lang: str) -> str | None:
        """The result's Plotly chart as JSON (None when it has none), cached."""

        def draw() -> str | None:
            from crmlens.reports.charts import figure_for

            result = outcome.result
            figure = figure_for(
                result.analysis, result.rows, lang=lang, params=result.params
            )
            if figure is None:
                return None
            # Safe inside <script type="application/json">: "<" only occurs in JSON
            # strings, where \u003c means the same; no "</script>" or "<!--" remains.
            return str(figure.to_json()).replace("<", "\\u003c")

        value, _ = self.cache.get_or_compute((*outcome.key, "chart", lang), draw)
        return value  # type: ignore[no-any-return]

    def _run(
        self, user: User, name: str, params: dict[str, Any], filters: Filters
    ) -> AnalysisResult:
        wh = self.view(user, filters)
        try:
            return registry.run(name, wh, **params)
        except CrmlensError:
            raise
        except ValueError as e:
            raise InputError(f"{name}: {e}") from e

    # the story -----------------------------------------------------------------------
    def story(self, user: User, filters: Filters, *, lang: str, top: int = 5) -> Story:
        """The story of :mod:`crmlens.insights.narrative` for `user`'s role and scope.

        The role's analyses run on the user's scoped (and filtered) view: a benchmark
        the narrative would run on the whole company runs inside the scope too, so no
        finding names a manager outside it. Region, team and manager filters of a user
        who already has a scope give way to that scope in the story.
        """
        from crmlens.insights.narrative import tell

        role, scope = story_role(user)
        key = ("story", role, str(user.scope), filters.key(), self.version())

        def compute() -> Collected:
            from crmlens.insights.narrative import collect

            as_of = self.default_as_of()
            return self._execute(
                lambda: collect(
                    self.view(user, filters), role=role, scope=scope, as_of=as_of
                )
            )

        collected, _ = self.cache.get_or_compute(key, compute)
        return tell(collected, lang=lang, top=top)

    # drill-down ----------------------------------------------------------------------
    def drill(
        self, user: User, q: DrillQuery, filters: Filters, *, limit: int = 500
    ) -> tuple[pa.Table, int]:
        """Base rows of `q.table` in `user`'s scope, and how many match in all."""
        if not can_drill(user, q.table):
            raise Forbidden(f"the role {user.role} cannot open the rows of {q.table}")
        key = ("drill", q.key(), limit, str(user.scope), filters.key(), self.version())

        def compute() -> tuple[pa.Table, int]:
            return self._execute(
                lambda: drill_rows(self.view(user, filters), q, limit=limit)
            )

        value, _ = self.cache.get_or_compute(key, compute)
        return value  # type: ignore[no-any-return]

    def options(self, user: User) -> dict[str, Any]:
        """Values for the filter menus (and managers' names), from the user's scope."""
        key = ("options", str(user.scope), self.version())

        def compute() -> dict[str, Any]:
            def read() -> dict[str, Any]:
                wh = self.view(user, Filters())
                m = wh.table("managers")
                leads = wh.table("leads")
                names = m.select("manager_id", "name").to_pyarrow().to_pylist()
                return {
                    "region": _distinct(m.region),
                    "team": _distinct(m.team),
                    "manager": _distinct(m.manager_id),
                    "source": _distinct(leads.source),
                    "names": {r["manager_id"]: r["name"] for r in names},
                }

            return self._execute(read)

        value, _ = self.cache.get_or_compute(key, compute)
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the pool (interrupting running queries) and close the warehouse."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        for cursor in self._cursors:
            with contextlib.suppress(Exception):  # a closed cursor has nothing to stop
                cursor.interrupt()
        # a pool or page thread may still be inside a call on the warehouse (DuckDB
        # refuses to close a busy connection): the interrupted call ends soon; retry
        deadline = time.monotonic() + 30
        while True:
            try:
                self.root.close()
                return
            except Exception as e:
                if "busy" not in str(e) or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def _distinct(column: Any) -> list[str]:
    values = column.name("v").as_table().distinct().to_pyarrow()["v"].to_pylist()
    return sorted(str(v) for v in values if v is not None)
