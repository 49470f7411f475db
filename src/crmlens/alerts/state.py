"""The state store: which alert was delivered to which recipient (a small SQLite file).

A delivery goes through three steps, each its own transaction:

1. **claim** ``(alert key, recipient)``: refused when it is already ``sent``, or claimed by
   another run less than ``claim_timeout`` ago (two overlapping runs never both send);
2. send (outside the store);
3. **mark sent** on success, or **release** the claim on failure — a failed delivery is
   never marked sent, so the next run tries again.

A run that dies between claim and mark leaves a stale claim; after ``claim_timeout`` the
next run takes it over and sends (the receiver gets an ``Idempotency-Key``/alert key to
tell a repeat in that rare case).

The default file lies beside a DuckDB warehouse (``<warehouse>.alerts.sqlite``); for Spark
and Postgres URLs it is ``~/.crmlens/alerts.sqlite``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmlens.errors import WarehouseError

if TYPE_CHECKING:
    from crmlens.warehouse.connect import WarehouseURL

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    alert_key  TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('sending', 'sent')),
    rule       TEXT,
    channel    TEXT,
    run_id     TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    sent_at    TEXT,
    attempts   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (alert_key, recipient)
);
CREATE TABLE IF NOT EXISTS failures (
    alert_key TEXT NOT NULL,
    recipient TEXT NOT NULL,
    run_id    TEXT NOT NULL,
    failed_at TEXT NOT NULL,
    attempts  INTEGER NOT NULL,
    error     TEXT NOT NULL
);
"""


def default_state_path(url: WarehouseURL) -> Path:
    """``<warehouse>.alerts.sqlite`` beside a DuckDB file, else ``~/.crmlens/alerts.sqlite``."""
    if url.backend == "duckdb" and url.path is not None and str(url.path) != ":memory:":
        return url.path.with_name(url.path.name + ".alerts.sqlite")
    return Path.home() / ".crmlens" / "alerts.sqlite"


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


class StateStore:
    """What was sent, per (alert key, recipient); see the module docstring."""

    def __init__(
        self,
        path: str | Path,
        *,
        read_only: bool = False,
        claim_timeout_minutes: float = 30.0,
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.claim_timeout = dt.timedelta(minutes=claim_timeout_minutes)
        self.run_id = uuid.uuid4().hex
        self._con: sqlite3.Connection | None = None
        if not read_only:
            self._open()

    def _open(self) -> sqlite3.Connection:
        if self._con is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                con = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
                con.executescript(SCHEMA)
            except (OSError, sqlite3.Error) as e:
                raise WarehouseError(
                    f"cannot open the alert state {self.path}: {e}"
                ) from e
            self._con = con
        return self._con

    def _read(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Rows of a query; a read-only store that has no file yet has no rows."""
        if self.read_only and self._con is None:
            if not self.path.is_file():
                return []
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._con = sqlite3.connect(uri, uri=True, timeout=30.0)
        con = self._con if self.read_only else self._open()
        assert con is not None
        try:
            return con.execute(sql, args).fetchall()
        except sqlite3.OperationalError as e:
            if "no such table" in str(e):
                return []
            raise

    def close(self) -> None:
        """Close the file."""
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def is_sent(self, key: str, recipient: str) -> bool:
        """Whether `key` was delivered to `recipient`."""
        rows = self._read(
            "SELECT 1 FROM deliveries WHERE alert_key = ? AND recipient = ? "
            "AND status = 'sent'",
            (key, recipient),
        )
        return bool(rows)

    def claim(
        self, key: str, recipient: str, *, rule: str = "", channel: str = ""
    ) -> bool:
        """Reserve (`key`, `recipient`) for this run; False when sent or claimed elsewhere."""
        con = self._writable()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.execute("BEGIN IMMEDIATE")
        try:
            row = con.execute(
                "SELECT status, run_id, claimed_at FROM deliveries "
                "WHERE alert_key = ? AND recipient = ?",
                (key, recipient),
            ).fetchone()
            if row is not None:
                status, run_id, claimed_at = row
                fresh = now - dt.datetime.fromisoformat(claimed_at) < self.claim_timeout
                if status == "sent" or (run_id != self.run_id and fresh):
                    con.execute("ROLLBACK")
                    return False
            con.execute(
                "INSERT OR REPLACE INTO deliveries (alert_key, recipient, status, rule, "
                "channel, run_id, claimed_at) VALUES (?, ?, 'sending', ?, ?, ?, ?)",
                (key, recipient, rule, channel, self.run_id, now.isoformat()),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return True

    def mark_sent(self, key: str, recipient: str, *, attempts: int) -> None:
        """Record the delivery of this run's claim."""
        cur = self._writable().execute(
            "UPDATE deliveries SET status = 'sent', sent_at = ?, attempts = ? "
            "WHERE alert_key = ? AND recipient = ? AND run_id = ?",
            (_now(), attempts, key, recipient, self.run_id),
        )
        if cur.rowcount != 1:
            raise WarehouseError(
                f"alert {key} to {recipient}: the claim of this run was lost in "
                f"{self.path} (another run took it over)"
            )

    def release(self, key: str, recipient: str, *, attempts: int, error: str) -> None:
        """Drop this run's claim after a failed delivery and log the failure."""
        con = self._writable()
        con.execute("BEGIN IMMEDIATE")
        try:
            con.execute(
                "DELETE FROM deliveries WHERE alert_key = ? AND recipient = ? "
                "AND run_id = ? AND status = 'sending'",
                (key, recipient, self.run_id),
            )
            con.execute(
                "INSERT INTO failures (alert_key, recipient, run_id, failed_at, "
                "attempts, error) VALUES (?, ?, ?, ?, ?, ?)",
                (key, recipient, self.run_id, _now(), attempts, error),
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def sent(self) -> list[tuple[str, str]]:
        """Every delivered (alert key, recipient), sorted."""
        return [
            (str(k), str(r))
            for k, r in self._read(
                "SELECT alert_key, recipient FROM deliveries WHERE status = 'sent' "
                "ORDER BY alert_key, recipient",
                (),
            )
        ]

    def failures(self) -> list[dict[str, Any]]:
        """The failure log, oldest first."""
        rows = self._read(
            "SELECT alert_key, recipient, failed_at, attempts, error FROM failures "
            "ORDER BY rowid",
            (),
        )
        cols = ("alert_key", "recipient", "failed_at", "attempts", "error")
        return [dict(zip(cols, r, strict=True)) for r in rows]

    def _writable(self) -> sqlite3.Connection:
        if self.read_only:
            raise WarehouseError(f"the alert state {self.path} is open read-only")
        return self._open()
