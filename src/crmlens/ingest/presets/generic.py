"""Generic preset: canonical names and RU/EN synonyms, one file per table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.errors import InputError
from crmlens.ingest.headers import guess_table, map_headers, table_for_stem
from crmlens.ingest.presets.base import Output, col
from crmlens.model import TABLES

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile


class Generic:
    """Headers in canonical names or their Russian/English synonyms."""

    name = "generic"
    description = (
        "canonical column names or their Russian/English synonyms, one table per file"
    )

    def score(self, raw: RawFile) -> float:
        """A fair fit when a table can be named from the file or guessed from headers."""
        table = self._table(raw, None, strict=False)
        return 0.5 if table else 0.0

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """One output: the named or guessed table, headers mapped by synonyms."""
        name = self._table(raw, table, strict=True)
        assert name is not None
        mapping = map_headers(name, raw.columns)
        return [
            Output(name, {c: col(h) for c, h in mapping.items()}, custom=True),
        ]

    def _table(self, raw: RawFile, table: str | None, *, strict: bool) -> str | None:
        if table:
            return table
        named = table_for_stem(raw.path.stem)
        if named:
            return named
        guessed, _ = guess_table(raw.columns)
        if guessed or not strict:
            return guessed
        raise InputError(
            "cannot tell which table this file is",
            file=raw.name,
            reason="name the file after a table (deals.csv, сделки.xlsx…) or pass "
            f"--table with one of: {', '.join(TABLES)}",
        )
