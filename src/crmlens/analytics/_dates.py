"""Date helpers shared by analyses."""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir


def next_midnight(day: dt.date) -> ir.TimestampScalar:
    """The first instant after `day`: rows dated before it are known at `day`.

    >>> next_midnight(dt.date(2025, 12, 15)).execute()
    Timestamp('2025-12-16 00:00:00')
    """
    return ibis.timestamp(dt.datetime.combine(day + dt.timedelta(days=1), dt.time()))
