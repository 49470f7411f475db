"""Ingest: read CRM exports, map their headers onto the canonical model, type and validate.

Readers turn a CSV/XLSX/Parquet file into a raw DuckDB table of text with the spreadsheet row
number of every record; presets map raw columns onto canonical tables (staging: rename and
derive); the normaliser types the values and names every value it cannot use. Loading into
the warehouse (merge, transaction, bookkeeping) is the warehouse layer's job.
"""

from __future__ import annotations
