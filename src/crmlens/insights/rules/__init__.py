"""Findings rules, one module per analysis; each registers its analyses on import.

Every public module here is imported by :func:`crmlens.insights.registry.run`, so a new
analysis registers itself without touching a shared file.
"""

from __future__ import annotations

import importlib
import pkgutil


def load_rules() -> None:
    """Import every rules module (registering its analyses)."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
