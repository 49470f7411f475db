"""Tiny helpers to write DuckDB SQL safely: literals and identifiers."""

from __future__ import annotations


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def ident(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'
