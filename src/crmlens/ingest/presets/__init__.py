"""Preset registry: built-in presets register here the same way a plugin would."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmlens.errors import InputError
from crmlens.ingest.presets.base import Output, Preset, col, const, has_headers
from crmlens.ingest.presets.generic import Generic

if TYPE_CHECKING:
    from crmlens.ingest.readers import RawFile

__all__ = [
    "PRESETS",
    "Output",
    "Preset",
    "choose",
    "col",
    "const",
    "has_headers",
    "register",
]

PRESETS: dict[str, Preset] = {}


def register(preset: Preset) -> Preset:
    """Register a preset under its name (the hook for third-party presets, too)."""
    PRESETS[preset.name] = preset
    return preset


def choose(name: str, raw: RawFile) -> Preset:
    """The preset called `name`, or with ``auto`` the best-scoring one for this file."""
    _load_builtins()
    if name != "auto":
        try:
            return PRESETS[name]
        except KeyError:
            known = ", ".join(["auto", *sorted(PRESETS)])
            raise InputError(
                f"unknown preset {name!r}", reason=f"known presets: {known}"
            ) from None
    scored = sorted(((p.score(raw), n) for n, p in PRESETS.items()), reverse=True)
    best_score, best = scored[0]
    return PRESETS[best] if best_score > 0 else PRESETS["generic"]


def _load_builtins() -> None:
    if PRESETS:
        return
    register(Generic())
    from crmlens.ingest.presets import builtin

    for preset in builtin.PRESETS:
        register(preset)
