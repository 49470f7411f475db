"""The catalogue of data-quality checks, each tagged with the requirement it serves.

Every check turns the canonical tables into its *population*: one row per record it looks
at, with ``record_id`` (string), ``manager_id`` (the manager who owns the record, may be
NULL) and ``failed`` (boolean). Most checks look at the rows of one table (or of one
derived table) and say which rows they count (``where``) and which of those fail: they are
:class:`Rows`, and :mod:`crmlens.analytics.quality` counts all the :class:`Rows` checks of
one table in a single pass. The others build their population with a join or a window.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from crmlens.analytics import normalise_names as nn

Tables = Mapping[str, ir.Table]
REQUIREMENTS = (
    "accessibility", "accuracy", "interconnectedness", "completeness", "consistency",
    "relevance", "reliability", "timeliness", "uniqueness", "process",
)  # fmt: skip


@dataclass(frozen=True)
class Context:
    """The date and thresholds every check sees."""

    as_of: dt.date
    sla_hours: float = 4.0
    log_lag_hours: float = 24.0
    stale_days: int = 30
    import_age_days: int = 30
    #: The warehouse refuses a repeated key at import (crmlens' DuckDB and Parquet
    #: warehouses quarantine such rows), so duplicate-key checks need not look.
    keys_unique: bool = False

    @property
    def end(self) -> dt.datetime:
        """The first instant after `as_of` (records before it are 'known')."""
        return dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time())

    def ago(self, *, hours: float = 0.0, days: float = 0.0) -> ir.TimestampScalar:
        """The instant `hours`/`days` before the end of `as_of`, as an Ibis literal."""
        return ibis.timestamp(self.end - dt.timedelta(hours=hours, days=days))


Builder = Callable[[Tables, Context], ir.Table]
#: A row test of a :class:`Rows` check: (rows of its source, all tables, context).
RowTest = Callable[[ir.Table, Tables, Context], ir.BooleanValue]
#: Where a :class:`Rows` check reads: a table name or a function deriving a table.
Source = str | Callable[[Tables, Context], ir.Table]


@dataclass(frozen=True)
class Rows:
    """A check over the rows of one source: the population is the rows that match `where`
    (all rows when None), failing when they match `failed` (NULL counts as no).

    Calling it builds the population, so it is a :data:`Builder`; checks of the same source
    and owner column are counted together in one pass over the source.
    """

    source: Source
    key: str
    manager: str | None
    failed: RowTest
    where: RowTest | None = None

    def base(self, t: Tables, c: Context) -> ir.Table:
        """The rows of the source."""
        return t[self.source] if isinstance(self.source, str) else self.source(t, c)

    def tests(
        self, x: ir.Table, t: Tables, c: Context
    ) -> tuple[ir.BooleanValue | None, ir.BooleanValue]:
        """(counted, failed) for the rows `x` of the source, NULLs as False; counted is
        None when every row counts."""
        failed = self.failed(x, t, c).fill_null(False)
        if self.where is None:
            return None, failed
        counted = self.where(x, t, c).fill_null(False)
        # The failure test first: DuckDB evaluates the right side of AND only on the rows
        # the left one kept, and that path makes a long test (the INN checksum) 4× slower.
        return counted, failed & counted

    def __call__(self, t: Tables, c: Context) -> ir.Table:
        x = self.base(t, c)
        if self.where is not None:
            x = x.filter(self.where(x, t, c))
        return pop(x, self.key, self.manager, self.failed(x, t, c))


@dataclass(frozen=True)
class Check:
    """One check: its name, requirement, table, column, severity and population builder."""

    name: str
    requirement: str
    table: str
    column: str
    severity: str
    build: Builder
    needs: tuple[str, ...] = ()


def pop(
    t: ir.Table, key: str, manager: str | None, failed: ir.BooleanValue
) -> ir.Table:
    """The population of a check: record_id, manager_id, failed (NULL counts as passed)."""
    owner = t[manager].cast("string") if manager else ibis.null().cast("string")
    return t.select(
        record_id=t[key].cast("string"),
        manager_id=owner,
        failed=failed.fill_null(False).cast("boolean"),
    )


def _secs(a: ir.TimestampValue, b: ir.TimestampValue) -> ir.IntegerValue:
    return a.epoch_seconds() - b.epoch_seconds()


def _keys(t: ir.Table, column: str) -> ir.Column:
    return t.filter(t[column].notnull())[column]


# ---- accessibility -------------------------------------------------------------------


def table_counts(t: Tables, c: Context, names: tuple[str, ...]) -> ir.Table:
    """One row per canonical table: failed when it holds no rows."""
    parts = [
        t[n].aggregate(n_rows=t[n].count()).mutate(record_id=ibis.literal(n))
        for n in names
    ]
    u = ibis.union(*parts)
    return pop(u, "record_id", None, u.n_rows == 0)


def import_age(t: Tables, c: Context) -> ir.Table:
    """The last successful import is older than ``import_age_days`` before `as_of`."""
    imp = t["imports"]
    last = imp.aggregate(last=imp.finished_at.max()).mutate(
        record_id=ibis.literal("imports")
    )
    return pop(last, "record_id", None, last["last"] < c.ago(days=c.import_age_days))


# ---- accuracy ------------------------------------------------------------------------


def format_check(table: str, key: str, manager: str | None, column: str,
                 valid: Callable[[ir.StringValue], ir.BooleanValue]) -> Builder:  # fmt: skip
    """Non-empty values of `column` that fail the format test `valid`."""
    return Rows(
        table, key, manager,
        failed=lambda x, t, c: ~valid(x[column]),
        where=lambda x, t, c: x[column].notnull() & nn.filled_expr(x[column]),
    )  # fmt: skip


def amount_not_positive(table: str, key: str, manager: str) -> Builder:
    """Amounts given but zero or negative."""
    return Rows(table, key, manager, failed=lambda x, t, c: x.amount <= 0,
                where=lambda x, t, c: x.amount.notnull())  # fmt: skip


def amount_outlier(table: str, key: str, manager: str, *, k: float = 3.0) -> Builder:
    """Robust outliers: log10(amount) beyond the quartiles ± k·IQR of positive amounts."""

    def build(t: Tables, c: Context) -> ir.Table:
        x = t[table].filter(t[table].amount > 0)
        x = x.mutate(lg=x.amount.log10())
        q = x.aggregate(q1=x.lg.quantile(0.25), q3=x.lg.quantile(0.75))
        j = x.cross_join(q)
        iqr = j.q3 - j.q1
        return pop(j, key, manager, (j.lg > j.q3 + k * iqr) | (j.lg < j.q1 - k * iqr))

    return build


def future_dates(table: str, key: str, manager: str | None, column: str) -> Builder:
    """Dates after `as_of` (the day the data describes)."""
    return Rows(
        table, key, manager,
        failed=lambda x, t, c: x[column].cast("timestamp") >= ibis.timestamp(c.end),
        where=lambda x, t, c: x[column].notnull(),
    )  # fmt: skip


#: Accounts created in the CRM before the company was founded.
before_founded = Rows(
    "accounts", "account_id", "owner_id",
    failed=lambda x, t, c: x.created_at.year() < x.founded_year,
    where=lambda x, t, c: x.founded_year.notnull(),
)  # fmt: skip


def deals_before_founded(t: Tables, c: Context) -> ir.Table:
    """Deals dated before their client company was founded."""
    a = t["accounts"].select("account_id", "founded_year")
    d = t["deals"].inner_join(a, "account_id")
    d = d.filter(d.founded_year.notnull())
    return pop(d, "deal_id", "owner_id", d.created_at.year() < d.founded_year)


# ---- interconnectedness --------------------------------------------------------------


def dangling(table: str, key: str, manager: str | None, column: str,
             target: str, target_key: str) -> Builder:  # fmt: skip
    """Non-empty references `table.column` with no row `target.target_key`."""
    return Rows(
        table, key, manager,
        failed=lambda x, t, c: ~x[column].isin(_keys(t[target], target_key)),
        where=lambda x, t, c: x[column].notnull(),
    )  # fmt: skip


# ---- completeness --------------------------------------------------------------------


def empty(table: str, key: str, manager: str | None, column: str,
          where: Callable[[ir.Table], ir.BooleanValue] | None = None) -> Builder:  # fmt: skip
    """Empty (NULL or blank) `column` among the rows of `table` matching `where`."""

    def blank(x: ir.Table, t: Tables, c: Context) -> ir.BooleanValue:
        value = x[column]
        if value.type().is_string():
            return value.isnull() | ~nn.filled_expr(value)
        return value.isnull()

    return Rows(table, key, manager, failed=blank,
                where=None if where is None else lambda x, t, c: where(x))  # fmt: skip


#: Deals with no row in deal_stages.
no_stage_history = Rows(
    "deals", "deal_id", "owner_id",
    failed=lambda x, t, c: ~x.deal_id.isin(_keys(t["deal_stages"], "deal_id")),
)  # fmt: skip


def contacts_with_owner(t: Tables, c: Context) -> ir.Table:
    """Contacts with the owner of their account (``owner_id``, NULL without one)."""
    return t["contacts"].left_join(
        t["accounts"].select("account_id", "owner_id"), "account_id"
    )


#: Contacts with neither a phone nor an e-mail.
contact_unreachable = Rows(
    contacts_with_owner, "contact_id", "owner_id",
    failed=lambda x, t, c: x.phone.isnull() & x.email.isnull(),
)  # fmt: skip
