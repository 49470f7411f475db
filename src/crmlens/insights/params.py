"""Parameters shared by analyses: the `as_of` date and period parsing."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from crmlens.errors import InputError

if TYPE_CHECKING:
    from crmlens.warehouse import Warehouse

DATED = (
    ("deals", "created_at"),
    ("leads", "created_at"),
    ("orders", "order_date"),
    ("activities", "created_at"),
    ("deal_stages", "entered_at"),
)


def parse_date(text: str | dt.date | None, *, name: str = "--as-of") -> dt.date | None:
    """A date from ``YYYY-MM-DD`` or ``DD.MM.YYYY`` (None stays None)."""
    if text is None or isinstance(text, dt.date):
        return text if not isinstance(text, dt.datetime) else text.date()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise InputError(
        f"{name} {text!r} is not a date", reason="expected e.g. 2025-06-30"
    )


def resolve_as_of(wh: Warehouse, as_of: str | dt.date | None) -> dt.date:
    """The given date, or the last day that has data (deals, leads, orders, activities)."""
    given = parse_date(as_of)
    if given is not None:
        return given
    last: dt.date | None = None
    for table, column in DATED:
        t = wh.table(table)
        value = t.aggregate(m=t[column].max()).to_pyarrow()["m"][0].as_py()
        if value is not None:
            day = value.date() if isinstance(value, dt.datetime) else value
            last = day if last is None or day > last else last
    return last or dt.date.today()
