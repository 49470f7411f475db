"""The catalogue of data-quality checks, each tagged with the requirement it serves.

Every check turns the canonical tables into its *population*: one row per record it looks
at, with ``record_id`` (string), ``manager_id`` (the manager who owns the record, may be
NULL) and ``failed`` (boolean). :mod:`crmlens.analytics.quality` unions the populations and
aggregates them into shares and scores.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

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

    @property
    def end(self) -> dt.datetime:
        """The first instant after `as_of` (records before it are 'known')."""
        return dt.datetime.combine(self.as_of + dt.timedelta(days=1), dt.time())

    def ago(self, *, hours: float = 0.0, days: float = 0.0) -> ir.TimestampScalar:
        """The instant `hours`/`days` before the end of `as_of`, as an Ibis literal."""
        return ibis.timestamp(self.end - dt.timedelta(hours=hours, days=days))


Builder = Callable[[Tables, Context], ir.Table]


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

    def build(t: Tables, c: Context) -> ir.Table:
        x = t[table]
        x = x.filter(x[column].notnull() & (x[column].strip() != ""))
        return pop(x, key, manager, ~valid(x[column]))

    return build


def amount_not_positive(table: str, key: str, manager: str) -> Builder:
    """Amounts given but zero or negative."""

    def build(t: Tables, c: Context) -> ir.Table:
        x = t[table].filter(t[table].amount.notnull())
        return pop(x, key, manager, x.amount <= 0)

    return build


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

    def build(t: Tables, c: Context) -> ir.Table:
        x = t[table].filter(t[table][column].notnull())
        return pop(
            x, key, manager, x[column].cast("timestamp") >= ibis.timestamp(c.end)
        )

    return build


def before_founded(t: Tables, c: Context) -> ir.Table:
    """Accounts created in the CRM before the company was founded."""
    a = t["accounts"].filter(t["accounts"].founded_year.notnull())
    return pop(a, "account_id", "owner_id", a.created_at.year() < a.founded_year)


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

    def build(t: Tables, c: Context) -> ir.Table:
        x = t[table].filter(t[table][column].notnull())
        return pop(x, key, manager, ~x[column].isin(_keys(t[target], target_key)))

    return build


# ---- completeness --------------------------------------------------------------------


def empty(table: str, key: str, manager: str | None, column: str,
          where: Callable[[ir.Table], ir.BooleanValue] | None = None) -> Builder:  # fmt: skip
    """Empty (NULL or blank) `column` among the rows of `table` matching `where`."""

    def build(t: Tables, c: Context) -> ir.Table:
        x = t[table]
        if where is not None:
            x = x.filter(where(x))
        value = x[column]
        blank = value.isnull()
        if value.type().is_string():
            blank = blank | (value.strip() == "")
        return pop(x, key, manager, blank)

    return build


def no_stage_history(t: Tables, c: Context) -> ir.Table:
    """Deals with no row in deal_stages."""
    d = t["deals"]
    return pop(
        d, "deal_id", "owner_id", ~d.deal_id.isin(_keys(t["deal_stages"], "deal_id"))
    )


def contact_unreachable(t: Tables, c: Context) -> ir.Table:
    """Contacts with neither a phone nor an e-mail."""
    p = t["contacts"].left_join(
        t["accounts"].select("account_id", "owner_id"), "account_id"
    )
    return pop(p, "contact_id", "owner_id", p.phone.isnull() & p.email.isnull())
