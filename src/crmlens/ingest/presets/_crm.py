"""Shared building blocks of the CRM export presets (amoCRM, Bitrix24, HubSpot, Salesforce).

A CRM deal export is one row per deal with its *current* stage. Each CRM preset maps it
onto **deals** (unmapped columns kept as custom fields) and one **deal_stages** row per
deal: the current stage, entered at the closing date for a closed deal, otherwise the
CRM's own stage-change date when the export has one, else the last modification date,
else the creation date. These are lower bounds of the stage entry the export can
support; the full history needs the CRM's stage-history export.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from crmlens.ingest.presets.base import Output, col
from crmlens.ingest.sql import lit

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile


def _fold(text: str) -> str:
    return "".join(ch for ch in text.lower().replace("ё", "е") if ch.isalnum())


def pick(raw: RawFile, *names: str) -> str | None:
    """The first header of `names` in the file (exact, then ignoring case and spaces)."""
    present = set(raw.columns)
    for name in names:
        if name in present:
            return name
    folded = {_fold(c): c for c in raw.columns}
    for name in names:
        if _fold(name) in folded:
            return folded[_fold(name)]
    return None


def pick_col(raw: RawFile, *names: str) -> str | None:
    """SQL of the first present header of `names` (see :func:`pick`), or None."""
    header = pick(raw, *names)
    return col(header) if header is not None else None


def low(expr: str) -> str:
    """Lower-cased, trimmed text of `expr`."""
    return f"lower(trim({expr}))"


def in_list(expr: str, values: tuple[str, ...]) -> str:
    """SQL condition: lower-cased `expr` is one of `values` (already lower-case).

    Written as one anchored regular expression, not ``IN (…)``: the normalisers copy a
    status expression into every branch of their synonym CASE, and DuckDB plans dozens
    of copies of a long IN list very slowly (seconds for a handful of rows).
    """
    pattern = "|".join(_escape(v) for v in values)
    return f"coalesce(regexp_full_match({low(expr)}, {lit(pattern)}), false)"


def is_true(expr: str) -> str:
    """SQL condition: `expr` spells yes/true (RU or EN, 1)."""
    return in_list(expr, ("true", "1", "yes", "y", "да", "д", "t"))


def _escape(text: str) -> str:
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


_REGEX_SPECIAL = set(".^$*+?()[]{}|\\")


def deal_outputs(
    columns: Mapping[str, str | None],
    *,
    stage: str | None,
    stage_date: str | None,
) -> list[Output]:
    """The deals output (custom fields kept) and, with a stage, one deal_stages row.

    Parameters
    ----------
    columns
        Canonical deals column -> SQL expression; None entries (headers the file lacks)
        are left out.
    stage
        SQL of the current stage, or None when the export has no stage column.
    stage_date
        SQL of the date the current stage is taken to have been entered.
    """
    mapped = {k: v for k, v in columns.items() if v is not None}
    outputs = [Output("deals", mapped, custom=True)]
    if stage is not None and stage_date is not None and "deal_id" in mapped:
        # Parenthesised so that the raw stage column still counts as unmapped and stays
        # a custom field of the deal (its current stage).
        current = f"({stage})"
        outputs.append(
            Output(
                "deal_stages",
                {
                    "deal_id": mapped["deal_id"],
                    "stage": current,
                    "entered_at": stage_date,
                },
                where=f"{current} IS NOT NULL AND {stage_date} IS NOT NULL",
            )
        )
    return outputs


def coalesce(*exprs: str | None) -> str | None:
    """SQL coalesce of the expressions that exist (None when none does)."""
    present = [e for e in exprs if e is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else f"coalesce({', '.join(present)})"


def closed_only(closed: str, expr: str | None) -> str | None:
    """`expr` where the SQL condition `closed` holds (closed deals), else NULL.

    Keep `closed` small: the normalisers repeat a raw expression several times, and
    DuckDB plans large nested expressions slowly.
    """
    if expr is None:
        return None
    return f"CASE WHEN {closed} THEN {expr} END"
