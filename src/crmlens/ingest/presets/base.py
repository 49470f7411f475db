"""What a preset is: staging that renames and derives raw columns onto canonical tables.

A preset looks at one raw file (its name and headers) and returns the outputs it makes:
for each canonical table, a SQL expression over the raw columns for every canonical column
it fills (plain text; typing is the normaliser's job). Staging only renames and derives,
as dbt's ``stg_`` models do; it never drops a row. A file may feed several tables (Maven's
pipeline file gives deals, stage history, accounts, managers and products).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from crmlens.ingest.sql import ident

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile


@dataclass(frozen=True)
class Output:
    """Rows for one canonical table made from one raw file.

    Parameters
    ----------
    table
        Canonical table name.
    columns
        Canonical column -> SQL expression over the raw columns (use :func:`col`).
    where
        Optional SQL condition: only raw rows where it holds make a row here.
    derived
        The rows describe a secondary entity repeated on many raw rows (the account of
        each deal): they are de-duplicated silently and only fill keys that are missing.
    custom
        Raw columns that no output maps are kept as custom fields of this output.
    """

    table: str
    columns: Mapping[str, str]
    where: str | None = None
    derived: bool = False
    custom: bool = False
    notes: tuple[str, ...] = field(default=())


class Preset(Protocol):
    """A mapping of one CRM's (or dataset's) exports onto the canonical model."""

    name: str
    description: str

    def score(self, raw: RawFile) -> float:
        """How well this preset fits the file, 0 (not at all) .. 1 (certainly)."""
        ...

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """The canonical rows this file gives (`table` is the user's --table, if any)."""
        ...


def col(name: str) -> str:
    """SQL of a raw column, as text with empty strings as NULL."""
    return f"NULLIF(trim(CAST({ident(name)} AS VARCHAR)), '')"


def const(value: str) -> str:
    """SQL of a constant text."""
    return "'" + value.replace("'", "''") + "'"


def has_headers(raw: RawFile, *names: str) -> bool:
    """True when the file has every header in `names` (exact spelling)."""
    present = set(raw.columns)
    return all(n in present for n in names)
