"""One module per command group; each has ``register(app)``.

Every public module of this package is a command group and is registered automatically, so
a new analysis adds its own module and touches no shared file.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

#: Groups shown first in ``--help`` (the rest follow by name).
FIRST = ("demo", "ingest", "overview")


def load_commands() -> list[ModuleType]:
    """Import every command module of this package, FIRST ones first."""
    names = [
        m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")
    ]
    ordered = [n for n in FIRST if n in names] + sorted(
        n for n in names if n not in FIRST
    )
    return [importlib.import_module(f"{__name__}.{n}") for n in ordered]
