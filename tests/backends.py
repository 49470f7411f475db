"""The engine-parity harness (after splink's ``mark_with_dialects_excluding``).

A test that takes the ``engine`` fixture runs once per engine: on DuckDB always, and on local
PySpark when selected with ``-m spark`` (the Spark parameter carries the ``spark`` marker).
Results are compared with one golden value or file shared by both engines, or with
:func:`assert_same_rows` inside one test. A known gap of an engine is recorded with
:func:`notyet`, a strict xfail that names the reason, so a fixed gap shows up.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

ENGINES = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param("spark", id="spark", marks=pytest.mark.spark),
]


def open_engine(engine: str, path: Path) -> Any:
    """A fresh warehouse of `engine` stored under `path`."""
    import crmlens

    if engine == "duckdb":
        return crmlens.open(path.with_suffix(".duckdb"))
    if engine == "spark":
        return crmlens.open(f"spark://local?path={path}")
    raise ValueError(f"unknown engine {engine!r}")


def notyet(engines: list[str], *, raises: type[BaseException], reason: str) -> Any:
    """Mark a known engine gap: a strict xfail on those engines only."""

    def mark(request: pytest.FixtureRequest) -> None:
        if request.node.callspec.params.get("engine") in engines:
            request.node.add_marker(
                pytest.mark.xfail(raises=raises, reason=reason, strict=True)
            )

    return mark


def normalise_rows(
    rows: list[dict[str, Any]], *, digits: int = 9
) -> list[dict[str, Any]]:
    """Rows with floats rounded and sorted, so engines can be compared exactly."""

    def fix(v: Any) -> Any:
        if isinstance(v, float):
            return None if math.isnan(v) else round(v, digits)
        return v

    fixed = [{k: fix(v) for k, v in r.items()} for r in rows]
    return sorted(fixed, key=lambda r: [str(r[k]) for k in sorted(r)])


def assert_same_rows(left: list[dict[str, Any]], right: list[dict[str, Any]]) -> None:
    """Both engines gave the same rows (order-insensitive, floats to 1e-9)."""
    assert normalise_rows(left) == normalise_rows(right)
