"""Ibis' DuckDB backend, returning Arrow results without importing pandas.

Ibis 12's DuckDB backend imports pandas the first time it hands back any result, even
an Arrow table: ``to_pyarrow`` imports ``ibis.backends.duckdb.converter``, whose module
builds a pandas mapper beside the Arrow one. pandas costs about 0.3 s of CPU (0.4-0.5 s
of wall time on the 2-core machines) and every crmlens command, test and web worker paid
it on its first query although nothing there uses pandas. :class:`DuckDBBackend` is the
same backend with ``to_pyarrow`` converting through Ibis' Arrow mapper only.

Why a subclass rather than a helper at each call site: analyses and interfaces call
``expr.to_pyarrow()`` in more than a hundred places, and Ibis routes every one of them to
the expression's backend, so the change lives here once. It leans on two private Ibis
methods (``_to_duckdb_relation``, which registers in-memory tables and compiles the SQL
just as Ibis' own ``to_pyarrow`` does, and ``__pyarrow_result__``); the Ibis version is
pinned in ``constraints.txt`` and ``tests/warehouse/test_duckdb_backend.py`` compares the
results with Ibis' own method type by type, so an Ibis upgrade that changes them fails
there first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from ibis.backends.duckdb import Backend as _IbisDuckDB
from ibis.formats.pyarrow import PyArrowData

if TYPE_CHECKING:
    import ibis.expr.datatypes as dt
    import ibis.expr.types as ir


class _ArrowData(PyArrowData):
    """Ibis' DuckDB Arrow mapper (``DuckDBPyArrowData``), outside the module importing pandas.

    DuckDB returns a column typed NULL (``SELECT NULL``) as Arrow ``null``; Ibis turns it
    into nulls of the expression's type, and so does this mapper.
    """

    @classmethod
    def convert_scalar(cls, scalar: pa.Scalar, dtype: dt.DataType) -> pa.Scalar:
        if dtype.is_null():
            return pa.scalar(None)
        return super().convert_scalar(scalar, dtype)

    @classmethod
    def convert_column(cls, column: pa.Array, dtype: dt.DataType) -> pa.Array:
        if dtype.is_null():
            return pa.nulls(len(column))
        return super().convert_column(column, dtype)


class DuckDBBackend(_IbisDuckDB):  # type: ignore[misc]
    """Ibis' DuckDB backend whose Arrow results do not import pandas."""

    def to_pyarrow(
        self,
        expr: ir.Expr,
        /,
        *,
        params: Mapping[ir.Scalar, Any] | None = None,
        limit: int | str | None = None,
        **kwargs: Any,
    ) -> Any:
        relation = self._to_duckdb_relation(expr, params=params, limit=limit, **kwargs)
        return expr.__pyarrow_result__(
            relation.to_arrow_table(), data_mapper=_ArrowData
        )
