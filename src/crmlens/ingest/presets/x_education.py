"""Preset ``x_education``: the X Education lead-scoring data set (``Leads.csv``).

What it maps
------------
``Leads.csv`` -> **leads**: lead_id = ``Prospect ID``, source = ``Lead Source``,
status = ``converted`` / ``not_converted`` from ``Converted`` (1 / 0), created_at =
:data:`PLACEHOLDER_CREATED_AT`. Every other column (Lead Number, Lead Origin, TotalVisits,
Do Not Email, Tags, Lead Quality, City, …, and Converted itself) is kept as a custom
field; the loader types them from their values (counts and times numeric, Yes/No
columns boolean), so they can be used as features. The empty trailing column of this
copy (every line ends with a comma) is dropped by the reader. ``Leads Data
Dictionary.xlsx`` is ignored.

Judgement calls
---------------
- *created_at.* The data set has no date at all, yet leads.created_at is required. All
  leads get the same documented placeholder, 2020-01-01 (the data set circulated as an
  upGrad case study around then; the exact date is unknown and irrelevant). Every lead
  is one cohort: conversion and feature analyses are meaningful, time-based ones
  (trends, speed to lead, ageing) are not.
- *channel* is left empty: ``Lead Origin`` (Landing Page Submission, API, Lead Add
  Form, Lead Import, Quick Add Form) describes the capture mechanism, not inbound vs
  outbound; it stays a custom field.
- *'Select'* (the form's unchosen placeholder, documented as missing in the data
  dictionary) occurs only in custom fields (Specialization 1,942, How did you hear about
  X Education 5,043, Lead Profile 4,146, City 2,249; never in Lead Source). The loader
  copies custom fields verbatim, so 'Select' stays there as a category of its own: a
  preset cannot rewrite a custom field without a loader option (per-output
  missing-value markers, e.g. ``Output(..., missing=("Select",))``).
- The raw ``Converted`` (0/1) also stays as an integer custom field next to status,
  so that it can be used directly as a model target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.ingest.presets.base import Output, col, const, has_headers

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

#: created_at of every X Education lead (the data set has no dates).
PLACEHOLDER_CREATED_AT = "2020-01-01"
HEADERS = ("Prospect ID", "Lead Number", "Lead Origin", "Lead Source", "Converted")


class XEducation:
    """X Education leads with their Converted label."""

    name = "x_education"
    description = "X Education lead-scoring data set (Leads.csv; Converted label)"

    def score(self, raw: RawFile) -> float:
        """0.95 when the file has the X Education headers."""
        return 0.95 if has_headers(raw, *HEADERS) else 0.0

    def outputs(self, raw: RawFile, *, table: str | None) -> list[Output]:
        """One leads output (see the module docstring); [] for other files."""
        if not has_headers(raw, *HEADERS):
            return []
        converted = col("Converted")
        status = (
            f"CASE WHEN {converted} IN ('1', '1.0') THEN 'converted' "
            f"WHEN {converted} IN ('0', '0.0') THEN 'not_converted' END"
        )
        return [
            Output(
                "leads",
                {
                    "lead_id": col("Prospect ID"),
                    "created_at": const(PLACEHOLDER_CREATED_AT),
                    "source": col("Lead Source"),
                    "status": status,
                },
                custom=True,
            )
        ]
