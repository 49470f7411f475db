"""Time helpers of the demo generator: seconds since 1970, working hours, seasonality.

Every timestamp inside the generator is an ``int64`` number of seconds since
1970-01-01 00:00:00 (naive local time); dates are ``int64`` days since the same epoch.
Arrays are converted to Arrow timestamps and dates only when written.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

DAY = 86_400
HOUR = 3_600
START = dt.date(2023, 1, 1)
AS_OF = dt.date(2025, 12, 15)
EPOCH = dt.date(1970, 1, 1)
#: Business seasonality of the whole company, January..December (mean 1.0).
SEASON = np.array(
    [0.72, 0.92, 1.10, 1.05, 0.88, 1.0, 0.92, 0.90, 1.10, 1.15, 1.14, 1.12]
)
WORK_START = 9 * HOUR
WORK_END = 19 * HOUR


def day_of(date: dt.date) -> int:
    """Days since 1970-01-01 of a date."""
    return (date - EPOCH).days


def ts_of(date: dt.date) -> int:
    """Seconds since 1970-01-01 of a date's midnight."""
    return day_of(date) * DAY


START_DAY = day_of(START)
CUTOFF_DAY = day_of(AS_OF)
#: No event happens at or after this moment (the morning of ``as_of``).
CUTOFF = CUTOFF_DAY * DAY
START_TS = START_DAY * DAY


def weekday(days: np.ndarray) -> np.ndarray:
    """Weekday of days since 1970 (Monday = 0); 1970-01-01 was a Thursday."""
    return (days + 3) % 7


def month_index(ts: np.ndarray) -> np.ndarray:
    """Months since January 1970 of timestamps (seconds)."""
    months = ts.astype("datetime64[s]").astype("datetime64[M]")
    return months.astype(np.int64)


def month_of_year(ts: np.ndarray) -> np.ndarray:
    """Calendar month 1..12 of timestamps (seconds)."""
    return month_index(ts) % 12 + 1


def month_index_of(date: dt.date) -> int:
    """Months since January 1970 of a date."""
    return (date.year - 1970) * 12 + date.month - 1


def month_label(index: int) -> str:
    """``YYYY-MM`` of a month index (months since January 1970)."""
    return f"{1970 + index // 12:04d}-{index % 12 + 1:02d}"


def day_weights(first_day: int, last_day: int, *, trend: float = 0.12) -> np.ndarray:
    """Relative business activity of each day in ``[first_day, last_day)``.

    Weekdays count fully, Saturdays a little, Sundays almost not; the New Year and May
    holidays are quiet; months follow `SEASON`; activity grows by `trend` a year.
    """
    days = np.arange(first_day, last_day, dtype=np.int64)
    ts = days * DAY
    w = SEASON[month_of_year(ts) - 1].copy()
    w *= np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.08, 0.04])[weekday(days)]
    dates = days.astype("datetime64[D]")
    doy = (dates - dates.astype("datetime64[Y]")).astype(np.int64)
    w[doy < 8] *= 0.1
    may = (month_of_year(ts) == 5) & ((dates - dates.astype("datetime64[M]")) < 10)
    w[may] *= 0.5
    w *= 1.0 + trend * (days - START_DAY) / 365.0
    return w


def sample_days(
    rng: np.random.Generator, n: int, first_day: int, last_day: int
) -> np.ndarray:
    """``n`` days in ``[first_day, last_day)`` drawn by business activity."""
    w = day_weights(first_day, last_day)
    cum = np.cumsum(w)
    idx = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
    return first_day + np.minimum(idx, len(w) - 1)


def work_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds after midnight during working hours, busiest late morning."""
    hours = rng.choice(
        np.arange(9, 19),
        size=n,
        p=np.array([6, 10, 12, 11, 7, 10, 11, 10, 8, 5]) / 90.0,
    )
    return hours * HOUR + rng.integers(0, HOUR, size=n)


def sample_times(
    rng: np.random.Generator, n: int, first_day: int, last_day: int
) -> np.ndarray:
    """``n`` timestamps on business days in ``[first_day, last_day)``, working hours."""
    return sample_days(rng, n, first_day, last_day) * DAY + work_seconds(rng, n)


def snap_to_work(ts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move timestamps outside working hours to the next working morning.

    Evenings go to the next morning, nights to the same morning, weekends to Monday;
    the new time is between 9:00 and 11:00.
    """
    ts = np.asarray(ts, dtype=np.int64)
    day = ts // DAY
    sec = ts - day * DAY
    late = sec >= WORK_END
    off = late | (sec < WORK_START)
    day = day + late
    wd = weekday(day)
    weekend = wd >= 5
    day = day + np.where(weekend, 7 - wd, 0)
    moved = off | weekend
    morning = WORK_START + rng.integers(0, 2 * HOUR, size=ts.shape)
    return np.where(moved, day * DAY + np.where(off, morning, sec), ts)


def lognormal_days(
    rng: np.random.Generator, median: float | np.ndarray, sigma: float, n: int
) -> np.ndarray:
    """Durations in seconds, log-normal with a median in days."""
    return (np.asarray(median) * DAY * rng.lognormal(0.0, sigma, size=n)).astype(
        np.int64
    )
