"""Writing canonical tables as clean CSV files, chunk by chunk, with pyarrow.

The Arrow schema of a table follows its canonical column types in `crmlens.model`;
numeric helpers turn the generator's int64 seconds/days and NaN-as-missing floats into
Arrow arrays with nulls.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from crmlens.model import TABLES

ARROW_TYPES: Mapping[str, pa.DataType] = {
    "string": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "timestamp": pa.timestamp("s"),
    "date": pa.date32(),
}
#: Custom (non-canonical) columns that the demo CRM keeps on leads.
LEAD_CUSTOM: dict[str, pa.DataType] = {
    "company_size": pa.int64(),
    "industry": pa.string(),
    "contact_position": pa.string(),
    "budget_declared": pa.bool_(),
    "pages_viewed": pa.int64(),
    "form_fields_filled": pa.int64(),
}


def table_schema(name: str) -> pa.Schema:
    """Arrow schema of a canonical table as the demo writes it."""
    fields = [pa.field(c.name, ARROW_TYPES[c.type]) for c in TABLES[name].columns]
    if name == "leads":
        fields += [pa.field(k, v) for k, v in LEAD_CUSTOM.items()]
    return pa.schema(fields)


def ts_array(ts: np.ndarray, valid: np.ndarray | None = None) -> pa.Array:
    """Arrow timestamps from int64 seconds; rows where ``valid`` is false are null."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(ts, dtype=np.int64), type=pa.timestamp("s"), mask=mask)


def date_array(days: np.ndarray) -> pa.Array:
    """Arrow dates from int64 days since 1970."""
    return pa.array(np.asarray(days, dtype=np.int32), type=pa.date32())


def money(values: np.ndarray) -> pa.Array:
    """Arrow floats rounded to kopecks; NaN becomes null."""
    v = np.round(np.asarray(values, dtype=np.float64), 2)
    return pa.array(v, mask=np.isnan(v))


def str_or_null(values: pa.Array, valid: np.ndarray) -> pa.Array:
    """Strings where ``valid`` is true, null elsewhere."""
    return pa.compute.if_else(pa.array(np.asarray(valid, dtype=bool)), values, None)


class TableWriter:
    """Appends chunks of one canonical table to ``<out_dir>/<table>.csv``."""

    def __init__(self, out_dir: Path, name: str) -> None:
        self.name = name
        self.schema = table_schema(name)
        self.path = Path(out_dir) / f"{name}.csv"
        self._writer = pacsv.CSVWriter(str(self.path), self.schema)
        self.rows = 0

    def write(self, columns: Mapping[str, Any]) -> None:
        """Write one chunk given as column name -> Arrow array, numpy array or list."""
        n = None
        arrays = []
        for field in self.schema:
            value = columns.get(field.name)
            if value is None:
                if n is None:
                    n = len(next(v for v in columns.values() if v is not None))
                arrays.append(pa.nulls(n, field.type))
                continue
            arr = value if isinstance(value, pa.Array | pa.ChunkedArray) else None
            arr = pa.array(value, type=field.type) if arr is None else arr
            if arr.type != field.type:
                arr = arr.cast(field.type)
            arrays.append(arr)
            n = len(arr)
        batch = pa.Table.from_arrays(arrays, schema=self.schema)
        self._writer.write_table(batch)
        self.rows += batch.num_rows

    def close(self) -> None:
        """Flush and close the file."""
        self._writer.close()

    def __enter__(self) -> TableWriter:
        """Use as a context manager that closes the file."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Close the file."""
        self.close()


def write_table(out_dir: Path, name: str, columns: Mapping[str, Any]) -> int:
    """Write a whole (small) table at once; returns its row count."""
    with TableWriter(out_dir, name) as w:
        w.write(columns)
        return w.rows
