"""Analytics: one module per capability; functions from Ibis tables to Ibis tables."""

from __future__ import annotations
