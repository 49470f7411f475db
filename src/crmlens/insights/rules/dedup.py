"""``dedup``: duplicate accounts, contacts or leads (Splink), the merge map and findings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmlens.errors import InputError, WarehouseError
from crmlens.insights.findings import Finding
from crmlens.insights.registry import AnalysisResult, register

if TYPE_CHECKING:
    import pandas as pd

    from crmlens.warehouse import Warehouse

COLUMNS = {
    "accounts": ["account_id", "name", "inn", "phone", "email", "website", "city"],
    "contacts": ["contact_id", "account_id", "full_name", "phone", "email"],
    "leads": [
        "lead_id",
        "created_at",
        "account_id",
        "contact_id",
        "need_type",
        "source",
    ],
}


def merges_table(entity: str) -> str:
    """Name of the merge-map table of `entity` (accounts → account_merges)."""
    return f"{entity.removesuffix('s')}_merges"


@register("dedup", "Duplicate accounts, contacts or leads (Splink)", in_overview=False)
def run(
    wh: Warehouse,
    *,
    entity: str = "accounts",
    threshold: float = 0.9,
    apply: bool = False,
    undo: bool = False,
    **_: Any,
) -> AnalysisResult:
    """Find duplicate pairs and clusters; `apply` writes the merge map, `undo` drops it."""
    import pyarrow as pa

    from crmlens.analytics import dedup as d

    if entity not in d.ENTITIES:
        raise InputError(
            f"unknown entity {entity!r}", reason="use accounts, contacts or leads"
        )
    params: dict[str, Any] = {"entity": entity, "threshold": threshold}
    if undo:
        params["undone"] = _drop(wh, merges_table(entity))
        return AnalysisResult(
            "dedup", params, pa.table({"left_id": pa.array([], pa.string())})
        )
    records = wh.table(entity).select(*COLUMNS[entity]).to_pandas()
    pairs, clusters = d.predict_pairs(
        d.prepare(entity, records), d.SPECS[entity], threshold=threshold,
        db_api=_splink_api(wh),
    )  # fmt: skip
    params["clusters"] = int(clusters["cluster_id"].nunique()) if len(clusters) else 0
    if apply:
        params["applied"] = _write(wh, merges_table(entity), clusters)
    findings = _findings(wh, entity, pairs, clusters)
    return AnalysisResult("dedup", params, _rows(pairs, clusters), findings)


def _splink_api(wh: Warehouse) -> Any:
    """Splink's backend for `wh`: Spark on the Spark warehouse, DuckDB otherwise."""
    from crmlens.analytics.dedup import duckdb_api, spark_api

    if wh.backend == "spark":
        from crmlens.warehouse.spark import spark_session

        return spark_api(spark_session())
    return duckdb_api()


def _rows(pairs: pd.DataFrame, clusters: pd.DataFrame) -> Any:
    import pyarrow as pa

    cid = dict(zip(clusters["record_id"], clusters["cluster_id"], strict=True))
    out = pairs.assign(cluster_id=pairs["left_id"].map(cid))
    return pa.Table.from_pandas(out, preserve_index=False)


def _storage(wh: Warehouse) -> Any:
    """The storage the merge map is written to, in one transaction (both engines)."""
    if wh.storage is None:
        raise WarehouseError(
            f"{wh.url.raw} is read-only: crmlens never writes to a CRM's database; import "
            "it into a DuckDB file or a Spark warehouse to keep a merge map"
        )
    return wh.storage


def _write(wh: Warehouse, name: str, clusters: pd.DataFrame) -> int:
    storage = _storage(wh)
    merge_map = clusters.rename(columns={"cluster_id": "canonical_id"})
    with storage.transaction() as tx:
        tx.con.execute(
            f'CREATE OR REPLACE TABLE "{name}" (record_id VARCHAR, canonical_id VARCHAR)'
        )
        tx.con.register("crmlens_merge_map", merge_map)
        tx.con.execute(
            f'INSERT INTO "{name}" SELECT record_id, canonical_id FROM crmlens_merge_map'
        )
        tx.con.unregister("crmlens_merge_map")
        tx.touch(name)
    wh.refresh()
    return len(clusters)


def _drop(wh: Warehouse, name: str) -> bool:
    storage = _storage(wh)
    with storage.transaction() as tx:
        existed = bool(
            tx.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?",
                [name],
            ).fetchone()[0]  # type: ignore[index]
        )
        tx.con.execute(f'DROP TABLE IF EXISTS "{name}"')
        tx.touch(name)
    wh.refresh()
    return existed


def _split(wh: Warehouse, clusters: pd.DataFrame) -> tuple[int, float]:
    """Deals and won revenue of accounts that sit in duplicate clusters."""
    ids = list(clusters["record_id"])
    if not ids:
        return 0, 0.0
    deals = wh.table("deals")
    d = deals.filter(deals.account_id.isin(ids))
    won = (d.status == "won").ifelse(d.amount, 0.0).sum()
    row = d.aggregate(n=d.count(), won=won).to_pyarrow().to_pylist()[0]
    return int(row["n"]), float(row["won"] or 0.0)


def _findings(wh: Warehouse, entity: str, pairs: pd.DataFrame,
              clusters: pd.DataFrame) -> list[Finding]:  # fmt: skip
    n_clusters = int(clusters["cluster_id"].nunique()) if len(clusters) else 0
    if n_clusters == 0:
        return []
    deals, revenue = _split(wh, clusters) if entity == "accounts" else (0, 0.0)
    money = f"{revenue:,.0f}".replace(",", " ")
    extra_ru = (
        f" На них приходится {deals} сделок и {money} ₽ выигранной выручки."
        if deals
        else ""
    )
    extra_en = (
        f" They carry {deals} deals and RUB {money} of won revenue." if deals else ""
    )
    return [Finding(
        "dedup", "duplicates", "high" if n_clusters >= 10 else "medium",
        {"type": entity, "id": None}, "duplicate_clusters", n_clusters, 0, revenue or None,
        None,
        {"ru": f"Найдено {n_clusters} групп дублей ({len(clusters)} записей, "
               f"{len(pairs)} пар).{extra_ru}",
         "en": f"Found {n_clusters} duplicate clusters ({len(clusters)} records, "
               f"{len(pairs)} pairs).{extra_en}"},
        {"ru": f"Проверьте пары и объедините дубли: crmlens dedup {entity} --apply "
               "(записи не удаляются, отмена — --undo).",
         "en": f"Review the pairs and merge: crmlens dedup {entity} --apply (no rows are "
               "deleted; revert with --undo)."},
        {"records": len(clusters), "pairs": len(pairs), "deals": deals},
    )]  # fmt: skip
