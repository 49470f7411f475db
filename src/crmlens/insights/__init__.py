"""Insights: findings from analytics results, ranked by money at stake, narrated in RU/EN."""

from __future__ import annotations
