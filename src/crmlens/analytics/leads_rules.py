"""The rule model of lead scoring: points per attribute value and A/B/C thresholds.

A rule file (YAML, written by ``crmlens leads rules --init``) holds for each attribute
the points of each value (categories) or bin (numbers, keyed by the bin's lower edge as
in :func:`crmlens.analytics.leads.number_bin`), the A and B thresholds on the total, and
a logistic map from points to probability. Starting points are ``round(10 × WoE)`` of
the values with enough leads, for attributes whose information value is at least
``min_iv`` (docs/metrics.md#lead-signals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from crmlens.analytics.scoring_models import (
    EMPTY,
    TARGET,
    category_values,
    pow2_lower,
)
from crmlens.errors import InputError

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RuleModel:
    """Points per value; grades by thresholds; probability by a logistic map."""

    categories: dict[str, dict[str, int]] = field(default_factory=dict)
    numbers: dict[str, dict[str, int]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=lambda: {"A": 10, "B": 0})
    calibration: dict[str, float] = field(
        default_factory=lambda: {"intercept": 0.0, "slope": 0.1}
    )

    @classmethod
    def from_signals(
        cls, signals: list[dict[str, Any]], *, min_leads: int = 50, min_iv: float = 0.02
    ) -> RuleModel:
        """Starting points from the rows of :func:`lead_signals`."""
        model = cls()
        for row in signals:
            if (row["information_value"] or 0) < min_iv or row["leads"] < min_leads:
                continue
            pts = round(10 * row["woe"])
            if pts == 0:
                continue
            if row["bin_lower"] is None or (
                isinstance(row["bin_lower"], float) and math.isnan(row["bin_lower"])
            ):
                if row["value"] == EMPTY and _is_number_attr(signals, row["attribute"]):
                    model.numbers.setdefault(row["attribute"], {})[EMPTY] = pts
                else:
                    model.categories.setdefault(row["attribute"], {})[row["value"]] = (
                        pts
                    )
            else:
                key = f"{row['bin_lower']:g}"
                model.numbers.setdefault(row["attribute"], {})[key] = pts
        return model

    def points(self, frame: pd.DataFrame) -> np.ndarray:
        """Total points of each lead (attributes missing from `frame` give 0)."""
        total = np.zeros(len(frame))
        for attr, table in self.categories.items():
            if attr in frame.columns:
                values = category_values(frame[attr])
                other = table.get("(other)", 0)
                total += np.array([table.get(v, other) for v in values], dtype=float)
        for attr, table in self.numbers.items():
            if attr in frame.columns:
                lower = pow2_lower(
                    frame[attr].to_numpy(dtype="float64", na_value=np.nan)
                )
                keys = np.where(np.isnan(lower), EMPTY, [f"{v:g}" for v in lower])
                total += np.array([table.get(k, 0) for k in keys], dtype=float)
        return total

    def fit(
        self, frame: pd.DataFrame, *, shares: tuple[float, float] = (0.2, 0.3)
    ) -> RuleModel:
        """Fit the logistic map and A/B thresholds (top shares) on labelled leads."""
        from sklearn.linear_model import LogisticRegression

        pts = self.points(frame)
        y = frame[TARGET].to_numpy(dtype="float64")
        if 0 < y.sum() < len(y):
            lr = LogisticRegression(C=1e6).fit(pts.reshape(-1, 1), y)
            self.calibration = {
                "intercept": float(lr.intercept_[0]),
                "slope": float(lr.coef_[0][0]),
            }
        if len(pts):
            self.thresholds = {
                "A": float(np.quantile(pts, 1 - shares[0])),
                "B": float(np.quantile(pts, 1 - shares[0] - shares[1])),
            }
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability from points through the logistic map."""
        z = self.calibration["intercept"] + self.calibration["slope"] * self.points(
            frame
        )
        return 1.0 / (1.0 + np.exp(-z))

    def grades(self, frame: pd.DataFrame) -> np.ndarray:
        """A when points ≥ thresholds['A'], B when ≥ thresholds['B'], else C."""
        pts = self.points(frame)
        return np.where(
            pts >= self.thresholds["A"],
            "A",
            np.where(pts >= self.thresholds["B"], "B", "C"),
        ).astype(object)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the YAML file."""
        return {
            "version": 1,
            "target": "lead converted into a deal",
            "categories": self.categories,
            "numbers": self.numbers,
            "thresholds": self.thresholds,
            "calibration": self.calibration,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RuleModel:
        """Read a rule file's data, naming what is wrong."""
        if not isinstance(data, dict) or data.get("version") != 1:
            raise InputError("not a crmlens rule file", reason="expected version: 1")
        try:
            return cls(
                {
                    a: {str(k): int(v) for k, v in t.items()}
                    for a, t in (data.get("categories") or {}).items()
                },
                {
                    a: {str(k): int(v) for k, v in t.items()}
                    for a, t in (data.get("numbers") or {}).items()
                },
                {k: float(v) for k, v in data["thresholds"].items()},
                {
                    k: float(v)
                    for k, v in (
                        data.get("calibration") or {"intercept": 0.0, "slope": 0.1}
                    ).items()
                },
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(
                f"bad rule file: {e}", reason="points must be whole numbers"
            ) from e


def _is_number_attr(signals: list[dict[str, Any]], attr: str) -> bool:
    return any(
        r["attribute"] == attr
        and r["bin_lower"] is not None
        and not (isinstance(r["bin_lower"], float) and math.isnan(r["bin_lower"]))
        for r in signals
    )
