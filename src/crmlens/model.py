"""The canonical CRM model (the data contract): 13 tables, typed columns, keys, values.

It sits outside the layers (like errors.py) because both ingest and the warehouse need it:
importers map exports onto it, the warehouse creates its tables from it and analyses rely
on its column names. Plain data only, no engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

ColumnType = Literal["string", "int", "float", "bool", "timestamp", "date"]

#: SQL (DuckDB) type of each canonical column type.
DUCKDB_TYPES: Mapping[ColumnType, str] = {
    "string": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
}

#: Ibis dtype name of each canonical column type.
IBIS_TYPES: Mapping[ColumnType, str] = {
    "string": "string",
    "int": "int64",
    "float": "float64",
    "bool": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}


@dataclass(frozen=True)
class Column:
    """One canonical column: name, type, whether a row needs it, allowed values."""

    name: str
    type: ColumnType
    required: bool = False
    values: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Table:
    """One canonical table: its columns, key, and the date column that dates its rows."""

    name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    date_column: str | None = None
    description: str = ""
    refs: Mapping[str, str] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        """Names of the canonical columns, in contract order."""
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError when the table has none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name} has no canonical column {name!r}")

    @property
    def required(self) -> list[str]:
        """Names of the required columns."""
        return [c.name for c in self.columns if c.required]


def _c(
    name: str,
    type_: ColumnType = "string",
    *,
    req: bool = False,
    values: tuple[str, ...] = (),
    doc: str = "",
) -> Column:
    return Column(name, type_, req, values, doc)


CHANNELS = ("inbound", "outbound", "mixed")
DEAL_STATUSES = ("open", "won", "lost")
ACTIVITY_TYPES = ("call", "meeting", "visit", "email", "task", "note")
SCOPE_TYPES = ("company", "region", "team", "manager")

TABLES: dict[str, Table] = {
    t.name: t
    for t in [
        Table(
            "managers",
            (
                _c("manager_id", req=True),
                _c("name", req=True),
                _c("team"),
                _c("region"),
                _c("role"),
                _c("hired_at", "timestamp"),
                _c("active", "bool"),
            ),
            key=("manager_id",),
            date_column="hired_at",
            description="Sales people and their teams and regions.",
        ),
        Table(
            "accounts",
            (
                _c("account_id", req=True),
                _c("name", req=True),
                _c("inn"),
                _c("industry"),
                _c("size_segment"),
                _c("city"),
                _c("region"),
                _c("website"),
                _c("phone"),
                _c("email"),
                _c("source"),
                _c("owner_id"),
                _c("created_at", "timestamp", req=True),
                _c("founded_year", "int"),
                _c("status"),
            ),
            key=("account_id",),
            date_column="created_at",
            description="Client companies.",
            refs={"owner_id": "managers"},
        ),
        Table(
            "contacts",
            (
                _c("contact_id", req=True),
                _c("account_id"),
                _c("full_name", req=True),
                _c("position"),
                _c("phone"),
                _c("email"),
                _c("created_at", "timestamp"),
                _c("still_employed", "bool"),
            ),
            key=("contact_id",),
            date_column="created_at",
            description="People at client companies.",
            refs={"account_id": "accounts"},
        ),
        Table(
            "leads",
            (
                _c("lead_id", req=True),
                _c("created_at", "timestamp", req=True),
                _c("account_id"),
                _c("contact_id"),
                _c("source"),
                _c("channel", values=CHANNELS),
                _c("campaign_id"),
                _c("owner_id"),
                _c("need_type"),
                _c("potential_amount", "float"),
                _c("first_response_at", "timestamp"),
                _c("qualified_at", "timestamp"),
                _c("status"),
                _c("lost_reason"),
                _c("deal_id"),
            ),
            key=("lead_id",),
            date_column="created_at",
            description="Incoming and generated leads.",
            refs={
                "account_id": "accounts",
                "contact_id": "contacts",
                "campaign_id": "campaigns",
                "owner_id": "managers",
                "deal_id": "deals",
            },
        ),
        Table(
            "pipelines",
            (
                _c("pipeline_id", req=True),
                _c("stage", req=True),
                _c("position", "int", req=True),
                _c("is_won", "bool"),
                _c("is_lost", "bool"),
            ),
            key=("pipeline_id", "stage"),
            description="The funnel as designed: stages of each pipeline in order.",
        ),
        Table(
            "deals",
            (
                _c("deal_id", req=True),
                _c("created_at", "timestamp", req=True),
                _c("pipeline_id", req=True),
                _c("account_id"),
                _c("lead_id"),
                _c("owner_id"),
                _c("amount", "float"),
                _c("currency"),
                _c("status", req=True, values=DEAL_STATUSES),
                _c("closed_at", "timestamp"),
                _c("lost_reason"),
                _c("product_id"),
            ),
            key=("deal_id",),
            date_column="created_at",
            description="Deals (opportunities).",
            refs={
                "account_id": "accounts",
                "lead_id": "leads",
                "owner_id": "managers",
                "product_id": "products",
            },
        ),
        Table(
            "deal_stages",
            (
                _c("deal_id", req=True),
                _c("stage", req=True),
                _c("entered_at", "timestamp", req=True),
            ),
            key=("deal_id", "stage", "entered_at"),
            date_column="entered_at",
            description="Stage history: one row per entry of a deal into a stage.",
            refs={"deal_id": "deals"},
        ),
        Table(
            "activities",
            (
                _c("activity_id", req=True),
                _c("type", req=True, values=ACTIVITY_TYPES),
                _c("created_at", "timestamp", req=True),
                _c("manager_id"),
                _c("account_id"),
                _c("deal_id"),
                _c("lead_id"),
                _c("due_at", "timestamp"),
                _c("done_at", "timestamp"),
                _c("duration_min", "float"),
                _c("outcome"),
            ),
            key=("activity_id",),
            date_column="created_at",
            description="Calls, meetings, visits, e-mails, tasks and notes.",
            refs={
                "manager_id": "managers",
                "account_id": "accounts",
                "deal_id": "deals",
                "lead_id": "leads",
            },
        ),
        Table(
            "orders",
            (
                _c("order_id", req=True),
                _c("account_id", req=True),
                _c("order_date", "date", req=True),
                _c("amount", "float", req=True),
                _c("cost", "float"),
                _c("product_id"),
                _c("quantity", "float"),
                _c("deal_id"),
                _c("manager_id"),
            ),
            key=("order_id",),
            date_column="order_date",
            description="Orders (shipments, invoices) of client companies.",
            refs={
                "account_id": "accounts",
                "product_id": "products",
                "deal_id": "deals",
                "manager_id": "managers",
            },
        ),
        Table(
            "products",
            (
                _c("product_id", req=True),
                _c("name", req=True),
                _c("category"),
                _c("price", "float"),
                _c("cost", "float"),
            ),
            key=("product_id",),
            description="Products and services sold.",
        ),
        Table(
            "campaigns",
            (
                _c("campaign_id", req=True),
                _c("tag", req=True),
                _c("name"),
                _c("goal"),
                _c("description"),
                _c("channel"),
                _c("started_at", "timestamp"),
                _c("ended_at", "timestamp"),
                _c("cost", "float"),
                _c("planned_leads", "float"),
                _c("planned_revenue", "float"),
            ),
            key=("campaign_id",),
            date_column="started_at",
            description="Marketing campaigns with cost and plan.",
        ),
        Table(
            "targets",
            (
                _c("period", req=True, doc="YYYY-MM, YYYY-Qn or YYYY"),
                _c("scope_type", req=True, values=SCOPE_TYPES),
                _c("scope_id"),
                _c("metric", req=True),
                _c("value", "float", req=True),
            ),
            key=("period", "scope_type", "scope_id", "metric"),
            description="Plans: a value of a metric for a period and a scope.",
        ),
        Table(
            "call_reviews",
            (
                _c("activity_id", req=True),
                _c("item", req=True),
                _c("passed", "bool", req=True),
            ),
            key=("activity_id", "item"),
            description="Call-quality checklist answers.",
            refs={"activity_id": "activities"},
        ),
    ]
}

TABLE_NAMES: tuple[str, ...] = tuple(TABLES)


def get_table(name: str) -> Table:
    """The canonical table called `name`, with a clear error for unknown names."""
    from crmlens.errors import InputError

    try:
        return TABLES[name]
    except KeyError:
        known = ", ".join(TABLE_NAMES)
        raise InputError(
            f"unknown table {name!r}", reason=f"the canonical tables are: {known}"
        ) from None


#: Accepted spellings of enumerated values (lower-cased, trimmed) -> canonical value.
ENUM_SYNONYMS: dict[str, dict[str, str]] = {
    "status": {
        "open": "open",
        "opened": "open",
        "in progress": "open",
        "in_progress": "open",
        "active": "open",
        "открыта": "open",
        "открыто": "open",
        "открытая": "open",
        "в работе": "open",
        "в процессе": "open",
        "новая": "open",
        "p": "open",
        "won": "won",
        "closed won": "won",
        "closed_won": "won",
        "closedwon": "won",
        "выиграна": "won",
        "выиграно": "won",
        "успешно": "won",
        "успешна": "won",
        "успешно реализовано": "won",
        "сделка успешна": "won",
        "s": "won",
        "142": "won",
        "lost": "lost",
        "closed lost": "lost",
        "closed_lost": "lost",
        "closedlost": "lost",
        "проиграна": "lost",
        "проиграно": "lost",
        "закрыто и не реализовано": "lost",
        "провалена": "lost",
        "отказ": "lost",
        "сделка провалена": "lost",
        "f": "lost",
        "143": "lost",
    },
    "channel": {
        "inbound": "inbound",
        "входящий": "inbound",
        "входящие": "inbound",
        "входящая": "inbound",
        "in": "inbound",
        "outbound": "outbound",
        "исходящий": "outbound",
        "исходящие": "outbound",
        "исходящая": "outbound",
        "холодный": "outbound",
        "out": "outbound",
        "mixed": "mixed",
        "смешанный": "mixed",
        "смешанная": "mixed",
    },
    "type": {
        "call": "call",
        "звонок": "call",
        "phone call": "call",
        "calls": "call",
        "meeting": "meeting",
        "встреча": "meeting",
        "visit": "visit",
        "визит": "visit",
        "выезд": "visit",
        "email": "email",
        "e-mail": "email",
        "письмо": "email",
        "почта": "email",
        "task": "task",
        "задача": "task",
        "todo": "task",
        "note": "note",
        "заметка": "note",
        "примечание": "note",
        "комментарий": "note",
    },
    "scope_type": {
        "company": "company",
        "компания": "company",
        "вся компания": "company",
        "region": "region",
        "регион": "region",
        "team": "team",
        "команда": "team",
        "отдел": "team",
        "manager": "manager",
        "менеджер": "manager",
    },
}

#: Spellings of booleans accepted in any boolean column (lower-cased, trimmed).
TRUE_WORDS = ("true", "yes", "y", "1", "да", "д", "истина", "+", "t", "1.0", "passed")
FALSE_WORDS = ("false", "no", "n", "0", "нет", "н", "ложь", "-", "f", "0.0", "failed")
