"""A deterministic demo CRM of a Russian B2B distributor, with planted patterns.

``generate(out_dir, seed=42, scale=1.0, patterns="all")`` writes one clean CSV per
canonical table, a messy amoCRM-like export and ``truth.json``, and returns the `Truth`.
"""

from __future__ import annotations

from crmlens.demo.generator import PATTERNS, generate
from crmlens.demo.truth import Truth

__all__ = ["PATTERNS", "Truth", "generate"]
