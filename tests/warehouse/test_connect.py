"""Warehouse URLs and what each backend allows."""

from __future__ import annotations

from pathlib import Path

import pytest

import crmlens
from crmlens.errors import WarehouseError
from crmlens.model import TABLES
from crmlens.warehouse.connect import Warehouse, parse_url


def test_default_and_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRMLENS_WAREHOUSE", raising=False)
    assert parse_url(None).path == Path("./crmlens.duckdb")
    monkeypatch.setenv("CRMLENS_WAREHOUSE", "duckdb:///tmp/x.duckdb")
    url = parse_url(None)
    assert (url.backend, url.path) == ("duckdb", Path("/tmp/x.duckdb"))


def test_spark_and_postgres_urls() -> None:
    spark = parse_url("spark://local?path=/data/wh")
    assert (spark.backend, spark.path) == ("spark", Path("/data/wh"))
    pg = parse_url("postgres://ann:s%40cret@db.local:6543/crm?schema=sales")
    assert pg.backend == "postgres"
    assert pg.options == {
        "user": "ann",
        "password": "s@cret",
        "host": "db.local",
        "port": "6543",
        "database": "crm",
        "schema": "sales",
    }
    assert "s%40cret" not in pg.raw


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("spark://cluster:7077?path=x", "unsupported Spark master"),
        ("spark://local", "give the Parquet directory"),
        ("mysql://x/y", "unknown warehouse URL"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(WarehouseError, match=message):
        parse_url(url)


def test_all_canonical_tables_with_types(tmp_path: Path) -> None:
    wh = crmlens.open(tmp_path / "w.duckdb")
    for name, spec in TABLES.items():
        schema = wh.table(name).schema()
        assert list(schema.names) == spec.column_names
    assert str(wh.deals.schema()["amount"]) == "float64"
    assert str(wh.orders.schema()["order_date"]) == "date"
    assert wh.version == "empty"


def test_read_only_backend_refuses_import() -> None:
    wh = crmlens.open(":memory:")
    ro = Warehouse(parse_url("postgres://u:p@h/db"), wh.con, None)
    with pytest.raises(WarehouseError, match="read-only"):
        ro.import_files([Path("x.csv")])
