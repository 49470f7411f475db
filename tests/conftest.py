"""Shared fixtures: paths to ../shared/data, hypothesis profiles, engines, the demo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.backends import ENGINES, open_engine

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

settings.register_profile("dev", max_examples=50, deadline=None)
# `make test` (and so CI) runs the same examples every time: a red run is reproducible and
# never a roll of the dice; `dev` keeps exploring new examples on each run.
settings.register_profile(
    "ci",
    max_examples=50,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "deep",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# The Spark tests run hundreds of small queries on tiny tables: the JVM's quick compiler
# alone, one GC thread, no whole-stage code generation and no adaptive re-planning take
# about a fifth off their time (measured: 130 s → 100 s for the funnel and trend tests).
# A larger local job wants Spark's defaults, so these are the tests' settings, not
# crmlens'. CRMLENS_SPARK_CONF set by the caller wins.
os.environ.setdefault(
    "CRMLENS_SPARK_CONF",
    "spark.driver.extraJavaOptions=-XX:TieredStopAtLevel=1 -XX:+UseSerialGC;"
    "spark.sql.codegen.wholeStage=false;spark.sql.adaptive.enabled=false",
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the repository (skip when this checkout has none)."""
    if not SHARED_DATA.is_dir():
        pytest.skip(
            f"{SHARED_DATA} is missing: the public datasets live beside the repo"
        )
    return SHARED_DATA


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The engine a parity test runs on: duckdb, and spark under `-m spark`."""
    return str(request.param)


@pytest.fixture
def open_wh(engine: str, tmp_path: Path):
    """Open a fresh, empty warehouse of the current engine."""

    def _open(name: str = "wh"):
        return open_engine(engine, tmp_path / name)

    return _open


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo CRM (seed 42, scale 1) generated once per session."""
    from crmlens.demo import generate

    out = tmp_path_factory.mktemp("demo42")
    generate(out, seed=42, scale=1.0)
    return out


_DEMO_WAREHOUSES: dict[str, object] = {}


@pytest.fixture
def demo_wh(engine: str, demo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The demo (seed 42, scale 1) imported into a warehouse of the current engine.

    Built once per engine per session; treat it as read-only.
    """
    if engine not in _DEMO_WAREHOUSES:
        wh = open_engine(engine, tmp_path_factory.mktemp(f"demo-{engine}") / "wh")
        wh.import_files([demo_dir])
        wh.import_files([demo_dir / "messy" / "deals_export.csv"], table="deals")
        _DEMO_WAREHOUSES[engine] = wh
    return _DEMO_WAREHOUSES[engine]


@pytest.fixture(scope="session")
def demo_truth(demo_dir: Path) -> dict:  # type: ignore[type-arg]
    """truth.json of the session's demo."""
    import json

    return json.loads((demo_dir / "truth.json").read_text())


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Keep every Spark test on one xdist worker (``--dist loadgroup``).

    `make test` runs both suites in one call: one worker drives the single Spark session
    (its JVM starts once) while the others take the DuckDB tests. Measured on 2 cores it
    takes as long as the two suites one after the other (both are CPU-bound), but a
    failing DuckDB test no longer hides the Spark results.
    """
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))
