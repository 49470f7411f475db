"""Duplicate detection: probabilistic record linkage with Splink (Fellegi–Sunter).

Definitions (docs/metrics.md#duplicates)
----------------------------------------
- Records are normalised first (:mod:`crmlens.analytics.normalise_names`): legal forms,
  quotes, case, ё→е, punctuation, Russian↔Latin script; phones to E.164; e-mails
  lower-cased; websites to their domain; INNs kept only when the checksum holds.
- Candidate pairs come from **blocking** (INN, phone, e-mail domain, site, name tokens).
- Each pair gets a **match_probability** from a Fellegi–Sunter model: fixed m-probabilities
  per comparison level (how often true duplicates agree) and u-probabilities estimated by
  random sampling (how often random records agree). ``agreed_on`` lists the fields that
  agreed exactly or nearly.
- **Clusters** = connected components of pairs with match_probability ≥ threshold.
  The **merge map** has one row per record of a cluster of two or more:
  ``record_id, canonical_id`` (the smallest id of the cluster).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from crmlens.analytics import normalise_names as nn

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

Kind = Literal["name", "exact", "weak", "code"]
ENTITIES = ("accounts", "contacts", "leads")
KEYS = {"accounts": "account_id", "contacts": "contact_id", "leads": "lead_id"}
#: m-probabilities per kind, one per non-null comparison level (best level first).
M_PROBS: dict[str, list[float]] = {
    "name": [0.70, 0.15, 0.10, 0.05],
    "exact": [0.92, 0.08],
    "weak": [0.55, 0.45],
    "code": [0.80, 0.10, 0.05, 0.05],
}


@dataclass(frozen=True)
class Field:
    """A compared column: ``name`` (Jaro-Winkler), ``exact``, ``weak`` (disagreement
    barely counts) or ``code`` (exact, then Levenshtein 1 and 2)."""

    column: str
    kind: Kind = "exact"


@dataclass(frozen=True)
class Spec:
    """How to match one kind of record: compared fields and blocking keys."""

    fields: tuple[Field, ...]
    blocking: tuple[tuple[str, ...], ...]
    expected_duplicate_share: float = 0.02
    extra: dict[str, Any] = field(default_factory=dict)


ACCOUNT_SPEC = Spec(
    fields=(Field("name_key", "name"), Field("inn", "exact"), Field("phone", "exact"),
            Field("email_domain", "weak"), Field("site", "weak"), Field("city", "exact")),
    blocking=(("inn",), ("phone",), ("email_domain",), ("site",), ("name_tok1", "city"),
              ("name_tok2", "city")),
)  # fmt: skip
CONTACT_SPEC = Spec(
    fields=(Field("name_key", "name"), Field("phone", "exact"), Field("email", "exact"),
            Field("account_id", "exact")),
    blocking=(("phone",), ("email",), ("name_tok1", "account_id"), ("name_key",)),
)  # fmt: skip
LEAD_SPEC = Spec(
    fields=(Field("contact_id", "exact"), Field("account_id", "exact"),
            Field("need_type", "exact"), Field("day", "code"), Field("source", "weak")),
    blocking=(("contact_id",), ("account_id", "need_type")),
)  # fmt: skip
SPECS = {"accounts": ACCOUNT_SPEC, "contacts": CONTACT_SPEC, "leads": LEAD_SPEC}


def _tokens(keys: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = keys.str.split(" ")
    first = parts.str[0].where(keys != "", None)
    second = parts.str[1].where(parts.map(len) > 1, None)
    return first, second


def prepare(entity: str, records: pd.DataFrame) -> pd.DataFrame:
    """The normalised per-record table Splink compares (``unique_id`` + spec fields)."""
    if entity == "accounts":
        return _prepare_accounts(records)
    if entity == "contacts":
        return _prepare_contacts(records)
    return _prepare_leads(records)


def _none(series: pd.Series) -> pd.Series:
    return series.where(series.notna() & (series.astype(str) != ""), None)


def _prepare_accounts(a: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    key = a["name"].map(nn.company_key)
    first, second = _tokens(key)
    return pd.DataFrame({
        "unique_id": a["account_id"].astype(str), "name_key": _none(key),
        "name_tok1": first, "name_tok2": second,
        "inn": a["inn"].map(nn.inn_norm), "phone": a["phone"].map(nn.phone_e164),
        "email_domain": a["email"].map(nn.email_domain),
        "site": a["website"].map(nn.site_domain),
        "city": _none(a["city"].map(nn.basic_text)),
    })  # fmt: skip


def _prepare_contacts(c: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    key = c["full_name"].map(nn.person_key)
    first, _ = _tokens(key)
    return pd.DataFrame({
        "unique_id": c["contact_id"].astype(str), "name_key": _none(key),
        "name_tok1": first, "phone": c["phone"].map(nn.phone_e164),
        "email": c["email"].map(nn.email_norm), "account_id": _none(c["account_id"]),
    })  # fmt: skip


def _prepare_leads(ld: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    day = pd.to_datetime(ld["created_at"]).dt.strftime("%Y%m%d")
    return pd.DataFrame({
        "unique_id": ld["lead_id"].astype(str), "contact_id": _none(ld["contact_id"]),
        "account_id": _none(ld["account_id"]), "need_type": _none(ld["need_type"]),
        "day": _none(day), "source": _none(ld["source"]),
    })  # fmt: skip


def _comparison(f: Field, u: list[float]) -> Any:
    import splink.comparison_library as cl

    comp: Any
    if f.kind == "name":
        comp = cl.JaroWinklerAtThresholds(f.column, [0.95, 0.88])
    elif f.kind == "code":
        comp = cl.LevenshteinAtThresholds(f.column, [1, 2])
    else:
        comp = cl.ExactMatch(f.column)
    return comp.configure(m_probabilities=M_PROBS[f.kind], u_probabilities=u)


def estimate_u(df: pd.DataFrame, spec: Spec, *, sample: int = 50_000, seed: int = 42
               ) -> dict[str, list[float]]:  # fmt: skip
    """u-probabilities per field: how often two random records fall in each level.

    Exact agreement is Σ c_v(c_v − 1) / (N(N − 1)) over the value counts (exact, not sampled); the fuzzy
    levels are measured on `sample` random pairs with DuckDB's Jaro-Winkler/Levenshtein,
    the functions Splink's DuckDB backend uses. ``weak`` fields (sites, e-mail domains,
    shared by group companies and branches) get u = 0.1 for agreement.
    """
    import duckdb
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    n = len(df)
    left, right = rng.integers(0, n, sample), rng.integers(0, n, sample)
    keep = left != right
    out: dict[str, list[float]] = {}
    for f in spec.fields:
        counts = df[f.column].dropna().value_counts()
        total = float(counts.sum())
        same = float((counts * (counts - 1)).sum())
        exact = same / (total * (total - 1)) if total > 1 else 1e-6
        if f.kind == "weak":
            out[f.column] = [0.1, 0.9]
            continue
        if f.kind == "exact":
            out[f.column] = _norm([exact, 1.0 - exact])
            continue
        pairs = pd.DataFrame({"a": df[f.column].to_numpy()[left[keep]],
                              "b": df[f.column].to_numpy()[right[keep]]}).dropna()  # fmt: skip
        fn = (
            "jaro_winkler_similarity(a, b)"
            if f.kind == "name"
            else "-levenshtein(a, b)"
        )
        cuts = (0.95, 0.88) if f.kind == "name" else (-1, -2)
        sim = duckdb.query_df(
            pairs,
            "pairs",
            f"select a = b as same, {fn} as s from pairs".replace(
                "from pairs", "from pairs"
            ),
        ).df()
        diff = sim[~sim["same"]]
        m = max(len(sim), 1)
        lvl1 = float((diff["s"] >= cuts[0]).sum()) / m
        lvl2 = float(((diff["s"] >= cuts[1]) & (diff["s"] < cuts[0])).sum()) / m
        out[f.column] = _norm([exact, lvl1, lvl2, 1.0 - exact - lvl1 - lvl2])
    return out


def _norm(u: list[float]) -> list[float]:
    fixed = [max(x, 1e-6) for x in u]
    total = sum(fixed)
    return [x / total for x in fixed]


def _linker(
    df: pd.DataFrame, spec: Spec, db_api: Any, u: dict[str, list[float]]
) -> Any:
    from splink import Linker, SettingsCreator, block_on

    n = max(len(df), 2)
    prior = max(spec.expected_duplicate_share * n, 1.0) / (n * (n - 1) / 2)
    settings = SettingsCreator(
        link_type="dedupe_only",
        comparisons=[_comparison(f, u[f.column]) for f in spec.fields],
        blocking_rules_to_generate_predictions=[block_on(*b) for b in spec.blocking],
        probability_two_random_records_match=min(prior, 0.5),
        retain_intermediate_calculation_columns=False,
    )
    return Linker(db_api.register(_backend_input(df, db_api)), settings, log_level=None)


def _backend_input(df: pd.DataFrame, db_api: Any) -> Any:
    """`df` as the backend takes it: Spark gets a DataFrame typed from Arrow (all
    strings), because it cannot infer a type for a column that holds only NULLs."""
    spark = getattr(db_api, "spark", None)
    if spark is None:
        return df
    import pyarrow as pa

    schema = pa.schema([(c, pa.string()) for c in df.columns])
    table = pa.Table.from_pandas(df.astype(object), schema=schema, preserve_index=False)
    return spark.createDataFrame(table)


def duckdb_api() -> Any:
    """A Splink DuckDB backend on its own in-memory database."""
    from splink import DuckDBAPI

    return DuckDBAPI()


def spark_api(spark: Any) -> Any:
    """A Splink Spark backend on the session `spark`.

    Splink's string similarities (Jaro-Winkler, ...) are Scala functions in a jar that ships
    with Splink; it is added to the running session once (``ADD JAR``), so a session
    started without it works. Intermediate tables are persisted in memory rather than
    written to a checkpoint directory.
    """
    from pathlib import Path

    from splink import SparkAPI
    from splink.backends.spark import similarity_jar_location

    jar = similarity_jar_location()
    added = {Path(str(r[0])).name for r in spark.sql("LIST JAR").collect()}
    if Path(jar).name not in added:
        spark.sql(f"ADD JAR '{jar}'")
    return SparkAPI(spark_session=spark, break_lineage_method="persist")


def predict_pairs(df: pd.DataFrame, spec: Spec, *, threshold: float = 0.9,
                  db_api: Any = None, seed: int = 42) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Score candidate pairs and cluster them.

    Returns
    -------
    (pairs, clusters)
        pairs: left_id, right_id, match_probability, agreed_on (comma-separated fields),
        ordered by left_id, right_id; clusters: record_id, cluster_id (smallest id) for
        records in clusters of two or more.
    """
    import pandas as pd

    empty = pd.DataFrame(
        columns=["left_id", "right_id", "match_probability", "agreed_on"]
    )
    if len(df) < 2:
        return empty, pd.DataFrame(columns=["record_id", "cluster_id"])
    linker = _linker(df, spec, db_api or duckdb_api(), estimate_u(df, spec, seed=seed))
    scored = linker.inference.predict(threshold_match_probability=threshold)
    raw = scored.as_pandas_dataframe()
    if raw.empty:
        return empty, pd.DataFrame(columns=["record_id", "cluster_id"])
    pairs = _pairs(raw, spec)
    return pairs, connected_components(pairs)


def _pairs(raw: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    import pandas as pd

    lo = raw[["unique_id_l", "unique_id_r"]].min(axis=1)
    hi = raw[["unique_id_l", "unique_id_r"]].max(axis=1)
    agreed = []
    for _, r in raw.iterrows():
        names = [f.column for f in spec.fields
                 if r.get(f"gamma_{f.column}", -1) is not None
                 and r.get(f"gamma_{f.column}", -1) >= _good_level(f)]  # fmt: skip
        agreed.append(",".join(names))
    out = pd.DataFrame({"left_id": lo, "right_id": hi,
                        "match_probability": raw["match_probability"].round(6),
                        "agreed_on": agreed})  # fmt: skip
    return out.sort_values(["left_id", "right_id"]).reset_index(drop=True)


def _good_level(f: Field) -> int:
    """Lowest gamma value that counts as agreement (exact = highest level)."""
    return {"name": 2, "code": 2, "exact": 1, "weak": 1}[f.kind]


def connected_components(pairs: pd.DataFrame) -> pd.DataFrame:
    """Clusters of the pair graph: record_id, cluster_id (smallest record_id)."""
    import pandas as pd

    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in zip(pairs["left_id"], pairs["right_id"], strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    rows = sorted((x, find(x)) for x in parent)
    return pd.DataFrame(rows, columns=["record_id", "cluster_id"])


def pair_f1(found: Sequence[tuple[str, str]], truth: Sequence[tuple[str, str]]
            ) -> dict[str, float]:  # fmt: skip
    """Precision, recall and F1 of found pairs against true pairs (order-insensitive)."""
    f = {tuple(sorted(p)) for p in found}
    t = {tuple(sorted(p)) for p in truth}
    tp = len(f & t)
    precision = tp / len(f) if f else 1.0
    recall = tp / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_positives": tp}


def canonical_account(accounts: ir.Table, merges: ir.Table | None) -> ir.Table:
    """Accounts with ``canonical_id``: the account a duplicate is merged into (itself
    when it is not a duplicate). Count ``canonical_id`` to count a client once.

    Returns
    -------
    ir.Table
        the columns of `accounts` plus canonical_id.
    """
    if merges is None:
        return accounts.mutate(canonical_id=accounts.account_id)
    m = merges.select(merge_id="record_id", merge_to="canonical_id")
    j = accounts.left_join(m, accounts.account_id == m.merge_id)
    return j.mutate(canonical_id=j.merge_to.fill_null(j.account_id)).drop(
        "merge_id", "merge_to"
    )
