"""Working time between two moments: hours counted only within business hours.

A **business calendar** is a daily working window ``[start, end)`` (e.g. 9:00–18:00) on
chosen weekdays (e.g. Monday to Friday). The business hours between two moments are the
hours of the working windows that fall between them: a lead that arrives on Friday at 17:00
and is answered on Monday at 10:00 waited 2 business hours (17–18 on Friday, 9–10 on
Monday); one that arrives on Saturday and is answered on Monday at 9:30 waited half an hour.
Holidays are not modelled: every chosen weekday is a working day.

The computation is closed-form, so it is one expression on every engine (no per-row
Python, no calendar table): each moment is mapped to the **working seconds elapsed since a
fixed Monday** (whole weeks × the working seconds of a week, plus the working days before
it in its week, plus the part of its own day inside the window), and the business time
between two moments is the difference of the two. Timestamps are read as local time of the
CRM (the fields of the timestamp, no time-zone conversion).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir

from crmlens.errors import InputError

#: A Monday long before any CRM data; working seconds are counted from it.
ANCHOR = dt.date(1900, 1, 1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class BusinessHours:
    """A working window ``[start, end)`` on the weekdays `days` (Monday = 0).

    ``end = dt.time.max`` means 24:00 (work until midnight).

    >>> BusinessHours().week_seconds / 3600
    45.0
    """

    start: dt.time = dt.time(9)
    end: dt.time = dt.time(18)
    days: frozenset[int] = frozenset(range(5))

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise InputError(
                f"working hours {self.start:%H:%M}-{self.end:%H:%M} end before they start",
                reason="use e.g. 9-18; a window across midnight is not supported",
            )
        if not self.days or not set(self.days) <= set(range(7)):
            raise InputError(
                "working days must be some of Monday (0) to Sunday (6)",
                reason="use e.g. mon-fri",
            )

    @property
    def day_seconds(self) -> int:
        """Working seconds of one working day."""
        return _seconds(self.end) - _seconds(self.start)

    @property
    def week_seconds(self) -> int:
        """Working seconds of one week."""
        return self.day_seconds * len(self.days)

    def describe(self) -> str:
        """E.g. ``"mon,tue,wed,thu,fri 09:00-18:00"``."""
        names = ",".join(WEEKDAYS[d] for d in sorted(self.days))
        end = "24:00" if self.end == dt.time.max else f"{self.end:%H:%M}"
        return f"{names} {self.start:%H:%M}-{end}"


def _seconds(t: dt.time) -> int:
    """Seconds since midnight; ``dt.time.max`` stands for 24:00, the end of the day."""
    if t == dt.time.max:
        return 86400
    return t.hour * 3600 + t.minute * 60 + t.second


def working_seconds(ts: ir.TimestampValue, calendar: BusinessHours) -> ir.IntegerValue:
    """Working seconds from ``ANCHOR`` (a Monday, 00:00) to `ts` under `calendar`.

    >>> import ibis
    >>> t = ibis.timestamp("1900-01-02 10:30:00")  # the Tuesday after ANCHOR
    >>> int(working_seconds(t, BusinessHours()).execute()) / 3600  # 9 h Monday + 1.5 h
    10.5
    """
    start, day = _seconds(calendar.start), calendar.day_seconds
    days = ts.date().delta(ibis.date(ANCHOR), unit="day").cast("int64")
    weekday = days % 7
    before = [
        (weekday == d, sum(day for w in calendar.days if w < d)) for d in range(1, 7)
    ]
    earlier_days = ibis.cases(*before, else_=0)
    clock = ts.hour() * 3600 + ts.minute() * 60 + ts.second()
    inside = ibis.greatest(ibis.least(clock - start, day), 0)
    today = ibis.ifelse(weekday.isin(sorted(calendar.days)), inside, 0)
    return ((days // 7) * calendar.week_seconds + earlier_days + today).cast("int64")


def business_hours_between(
    later: ir.TimestampValue, earlier: ir.TimestampValue, calendar: BusinessHours
) -> ir.FloatingValue:
    """Hours of `calendar`'s working windows between `earlier` and `later` (float).

    Negative when `later` is before `earlier`; NULL when either is NULL.
    """
    secs = working_seconds(later, calendar) - working_seconds(earlier, calendar)
    return secs.cast("float64") / 3600.0
