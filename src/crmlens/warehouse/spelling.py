"""Spelling warnings at import: one value written two ways (``GTXPro`` vs ``GTX Pro``).

Two checks, both cheap because they look at distinct values only:

- a reference column (deals.product_id) holds a value that is not a key of the referenced
  table but equals one after squashing case, spaces and punctuation;
- a category column (industry, source, stage…) holds two values that squash to one.

References themselves are not checked at import (exports arrive table by table); these are
warnings, never quarantine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmlens.ingest.sql import ident
from crmlens.model import TABLES

if TYPE_CHECKING:
    import duckdb

    from crmlens.ingest.stage import Staged

CATEGORY_COLUMNS = (
    "industry",
    "size_segment",
    "source",
    "channel",
    "need_type",
    "lost_reason",
    "stage",
    "category",
    "team",
    "region",
    "role",
    "city",
    "currency",
    "type",
    "outcome",
    "item",
)
MAX_DISTINCT = 5000
# References to small lookup tables, where one value spelt two ways is a real defect
# (a product, a manager, a campaign); ids of deals or leads are not words.
SMALL_REFS = ("product_id", "owner_id", "manager_id", "campaign_id")


def _squash(expr: str) -> str:
    return f"lower(regexp_replace(replace({expr}, 'ё', 'е'), '[^[:alnum:]]', '', 'g'))"


def spelling_warnings(
    con: duckdb.DuckDBPyConnection, staged: list[Staged]
) -> list[dict[str, Any]]:
    """Warnings for values spelt two ways in the tables this import touched."""
    warnings: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for batch in staged:
        spec = TABLES[batch.table]
        for column in batch.columns:
            if (batch.table, column) in seen:
                continue
            seen.add((batch.table, column))
            ref = spec.refs.get(column)
            if ref is not None and len(TABLES[ref].key) == 1 and column in SMALL_REFS:
                warnings += _reference(con, batch, column, ref)
            elif column in CATEGORY_COLUMNS or column in batch.custom:
                warnings += _category(con, batch, column)
    return warnings


def _reference(
    con: duckdb.DuckDBPyConnection, batch: Staged, column: str, ref: str
) -> list[dict[str, Any]]:
    key = ident(TABLES[ref].key[0])
    c = ident(column)
    rows = con.execute(
        f"WITH k AS (SELECT DISTINCT {key} AS k FROM {ident(ref)}), "
        f"v AS (SELECT {c} AS v, count(*) AS n FROM {ident(batch.table)} "
        f"WHERE {c} IS NOT NULL AND {c} NOT IN (SELECT k FROM k) GROUP BY 1 LIMIT {MAX_DISTINCT}) "
        f"SELECT v.v, v.n, k.k FROM v JOIN k ON {_squash('v.v')} = {_squash('k.k')} "
        f"ORDER BY v.n DESC LIMIT 20"
    ).fetchall()
    return [
        {
            "file": batch.file,
            "table": batch.table,
            "column": column,
            "kind": "spelling",
            "message": f'{batch.table}.{column} "{value}" ({n} rows) is not in {ref} '
            f'but {ref} has "{known}" — the same value spelt differently?',
        }
        for value, n, known in rows
    ]


def _category(
    con: duckdb.DuckDBPyConnection, batch: Staged, column: str
) -> list[dict[str, Any]]:
    c = ident(column)
    table = ident(batch.table)
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}
    if types.get(column) != "VARCHAR":
        return []
    distinct = con.execute(f"SELECT count(DISTINCT {c}) FROM {table}").fetchone()
    if not distinct or distinct[0] > MAX_DISTINCT:
        return []
    rows = con.execute(
        f"WITH v AS (SELECT {c} AS v, count(*) AS n FROM {table} WHERE {c} IS NOT NULL "
        f"GROUP BY 1) SELECT {_squash('v')} AS s, list(v ORDER BY n DESC), list(n ORDER BY n DESC) "
        f"FROM v GROUP BY 1 HAVING count(*) > 1 ORDER BY sum(n) DESC LIMIT 20"
    ).fetchall()
    out = []
    for _, values, ns in rows:
        shown = " vs ".join(f'"{v}" ({n})' for v, n in zip(values, ns, strict=True))
        out.append(
            {
                "file": batch.file,
                "table": batch.table,
                "column": column,
                "kind": "spelling",
                "message": f"{batch.table}.{column} has one value spelt differently: {shown}",
            }
        )
    return out
