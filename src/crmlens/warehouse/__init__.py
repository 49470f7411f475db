"""Warehouse: the canonical CRM model in a backend chosen by URL (DuckDB, Spark, Postgres)."""

from __future__ import annotations

from crmlens.warehouse.connect import Warehouse, open_warehouse, parse_url

__all__ = ["Warehouse", "open_warehouse", "parse_url"]
