"""The built-in presets besides the generic one (CRM exports and public datasets)."""

from __future__ import annotations

from crmlens.ingest.presets.base import Preset

PRESETS: list[Preset] = []
