"""The warehouse's own tables: import log, quarantine, custom columns, import warnings,
and the stored next-best-action lists."""

from __future__ import annotations

from crmlens.model import DUCKDB_TYPES, TABLES

SYSTEM_TABLES: dict[str, str] = {
    "imports": (
        "import_id VARCHAR, file VARCHAR, sha256 VARCHAR, preset VARCHAR, "
        "table_name VARCHAR, mode VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, "
        "rows_read BIGINT, loaded BIGINT, updated BIGINT, unchanged BIGINT, "
        "duplicates BIGINT, quarantined BIGINT, status VARCHAR"
    ),
    "quarantine": (
        "import_id VARCHAR, file VARCHAR, row BIGINT, table_name VARCHAR, "
        "column_name VARCHAR, source_column VARCHAR, value VARCHAR, reason VARCHAR, "
        "record VARCHAR"
    ),
    "custom_columns": (
        "table_name VARCHAR, column_name VARCHAR, source_label VARCHAR, type VARCHAR"
    ),
    "import_warnings": (
        "import_id VARCHAR, file VARCHAR, table_name VARCHAR, column_name VARCHAR, "
        "kind VARCHAR, message VARCHAR"
    ),
    "action_lists": (
        "action_id VARCHAR, list_date DATE, created_at TIMESTAMP, manager_id VARCHAR, "
        "rank BIGINT, list VARCHAR, capacity BIGINT, kind VARCHAR, account_id VARCHAR, "
        "lead_id VARCHAR, deal_id VARCHAR, product_id VARCHAR, probability DOUBLE, "
        "amount DOUBLE, expected_value DOUBLE, reason_ru VARCHAR, reason_en VARCHAR, "
        "evidence VARCHAR"
    ),
}


def canonical_ddl(table: str) -> str:
    """Column definitions of a canonical table in DuckDB SQL."""
    spec = TABLES[table]
    return ", ".join(f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in spec.columns)


def all_ddl() -> dict[str, str]:
    """Every table the warehouse holds -> its column definitions."""
    return {**{t: canonical_ddl(t) for t in TABLES}, **SYSTEM_TABLES}
