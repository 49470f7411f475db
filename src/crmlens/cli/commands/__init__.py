"""One module per command group; each has ``register(app)``."""

from __future__ import annotations
