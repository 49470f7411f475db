"""Command-line interface (Typer + Rich): each command parses, calls one function, renders."""

from __future__ import annotations
