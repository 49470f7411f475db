"""Errors of crmlens: one root class; subclasses also inherit the matching built-in.

An `InputError` carries the file, the row as a spreadsheet shows it (header = row 1), the
column, the raw value and the reason, so that the quarantine table, the CLI and the API all
render the same record.
"""

from __future__ import annotations

from typing import Any


class CrmlensError(Exception):
    """Root of every error crmlens raises on purpose."""

    status = 400

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or [message]

    def envelope(self) -> dict[str, Any]:
        """The one JSON error shape of the CLI and the web API."""
        return {
            "ok": False,
            "error": self.message,
            "errors": self.errors,
            "status": self.status,
        }


class InputError(CrmlensError, ValueError):
    """Bad input: a file, a row, a column or a value that cannot be used."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
        reason: str | None = None,
        errors: list[str] | None = None,
    ) -> None:
        self.file, self.row, self.column = file, row, column
        self.value, self.reason = value, reason
        super().__init__(self._render(message), errors=errors)

    def _render(self, message: str) -> str:
        where = [p for p in (self.file, self._row_text(), self._column_text()) if p]
        text = ", ".join([*where, message]) if where else message
        return f"{text} ({self.reason})" if self.reason else text

    def _row_text(self) -> str | None:
        return f"row {self.row}" if self.row is not None else None

    def _column_text(self) -> str | None:
        return f"column {self.column}" if self.column else None


class SchemaError(CrmlensError, ValueError):
    """A table lacks columns an operation needs, or has them with the wrong type."""


class WarehouseError(CrmlensError, RuntimeError):
    """The warehouse cannot be opened, read or written."""

    status = 500


class UnsupportedOnBackend(CrmlensError, RuntimeError):
    """An engine cannot compute an analysis; there is no silent fallback."""

    def __init__(self, analysis: str, backend: str) -> None:
        super().__init__(f"{analysis} is not supported on the {backend} backend")
        self.analysis, self.backend = analysis, backend


class NotFittedError(CrmlensError, ValueError):
    """A model was used before `fit`."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"This {name} instance is not fitted yet. Call 'fit' with appropriate "
            "arguments before using this estimator."
        )
