"""The built-in presets besides the generic one (CRM exports and public datasets)."""

from __future__ import annotations

from crmlens.ingest.presets.base import Preset
from crmlens.ingest.presets.maven_crm import MavenCrm

PRESETS: list[Preset] = [MavenCrm()]
