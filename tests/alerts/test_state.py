"""The state store: sent once, claims between overlapping runs, failures never marked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmlens.alerts.state import StateStore, default_state_path
from crmlens.errors import WarehouseError
from crmlens.warehouse import parse_url


def test_claim_send_mark(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with StateStore(path) as one:
        assert not one.is_sent("k", "a@x.example")
        assert one.claim("k", "a@x.example", rule="r", channel="email")
        assert one.claim("k", "a@x.example")  # the same run may claim again
        one.mark_sent("k", "a@x.example", attempts=2)
        assert one.is_sent("k", "a@x.example")
        assert not one.claim("k", "a@x.example")
    with StateStore(path) as two:  # the next run
        assert two.is_sent("k", "a@x.example")
        assert not two.is_sent("k", "b@x.example")
        assert not two.claim("k", "a@x.example")
        assert two.sent() == [("k", "a@x.example")]


def test_a_claim_keeps_an_overlapping_run_out_until_it_is_stale(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    first = StateStore(path)
    second = StateStore(path)
    assert first.claim("k", "r")
    assert not second.claim("k", "r")  # first is sending it
    stale = StateStore(path, claim_timeout_minutes=1e-9)
    assert stale.claim("k", "r")  # first died long ago (by this run's clock)
    with pytest.raises(WarehouseError, match="claim of this run was lost"):
        first.mark_sent("k", "r", attempts=1)
    stale.mark_sent("k", "r", attempts=1)
    assert second.is_sent("k", "r")
    for s in (first, second, stale):
        s.close()


def test_a_failure_releases_the_claim_and_is_logged(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    with StateStore(path) as one:
        assert one.claim("k", "r")
        one.release("k", "r", attempts=3, error="HTTP 500")
        assert not one.is_sent("k", "r")
        assert one.sent() == []
        (failure,) = one.failures()
        assert failure["alert_key"] == "k"
        assert (failure["attempts"], failure["error"]) == (3, "HTTP 500")
        dt.datetime.fromisoformat(failure["failed_at"])
    with StateStore(path) as two:  # released: the next run may send it at once
        assert two.claim("k", "r")


def test_read_only_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "none" / "s.sqlite"
    with StateStore(path, read_only=True) as ro:
        assert not ro.is_sent("k", "r")
        assert ro.sent() == []
        with pytest.raises(WarehouseError, match="read-only"):
            ro.claim("k", "r")
    assert not path.parent.exists()


def test_default_paths(tmp_path: Path) -> None:
    assert default_state_path(parse_url(str(tmp_path / "crm.duckdb"))) == (
        tmp_path / "crm.duckdb.alerts.sqlite"
    )
    home = Path.home() / ".crmlens" / "alerts.sqlite"
    assert default_state_path(parse_url("spark://local?path=/data/wh")) == home
    assert default_state_path(parse_url("postgres://u:p@h/db")) == home
    assert default_state_path(parse_url(":memory:")) == home
