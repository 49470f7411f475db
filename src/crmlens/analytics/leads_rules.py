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

from crmlens.analytics.scoring import ScoredLeads, top_reasons
from crmlens.analytics.scoring_models import (
    EMPTY,
    TARGET,
    category_codes,
    pow2_lower,
)
from crmlens.errors import InputError, NotFittedError

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

    @property
    def attributes(self) -> list[str]:
        """The attributes the file gives points for (categories, then numbers)."""
        return [
            *self.categories,
            *(a for a in self.numbers if a not in self.categories),
        ]

    def point_matrix(self, frame: pd.DataFrame) -> tuple[list[str], np.ndarray]:
        """Points of each lead per attribute of the file that `frame` has.

        Returns the attribute names and a (leads × attributes) matrix; a category value
        the file does not list gets its ``(other)`` points (0 when absent), a number its
        bin's points, or ``(other)``.
        """
        names, cols = [], []
        for attr, table in self.categories.items():
            if attr in frame.columns:
                names.append(attr)
                cols.append(_lookup(*category_codes(frame[attr]), table))
        for attr, table in self.numbers.items():
            if attr in frame.columns:
                lower = pow2_lower(
                    frame[attr].to_numpy(dtype="float64", na_value=np.nan)
                )
                names.append(attr)
                cols.append(_lookup_bins(lower, table))
        matrix = np.column_stack(cols) if cols else np.zeros((len(frame), 0))
        return names, matrix

    def check_no_leakage(self) -> RuleModel:
        """Refuse points on outcome fields and on fields filled in while it is worked."""
        from crmlens.analytics.leads import is_later, is_leaky
        from crmlens.analytics.scoring import LeakageError

        bad = [a for a in self.attributes if is_leaky(a) or is_later(a)]
        if bad:
            raise LeakageError(
                f"the rule file gives points for {', '.join(bad)}, known only after "
                "the lead's outcome",
                reason="remove them from the rule file",
            )
        return self

    def missing(self, columns: list[str]) -> list[str]:
        """Attributes of the file that are not among `columns` (they give 0 points)."""
        return [a for a in self.attributes if a not in columns]

    def points(self, frame: pd.DataFrame) -> np.ndarray:
        """Total points of each lead (attributes missing from `frame` give 0)."""
        return np.asarray(self.point_matrix(frame)[1].sum(axis=1), dtype=float)

    def calibrate(self, frame: pd.DataFrame) -> RuleModel:
        """Fit only the logistic map from points to probability on labelled leads."""
        from sklearn.linear_model import LogisticRegression

        pts = self.points(frame)
        y = frame[TARGET].to_numpy(dtype="float64")
        if 0 < y.sum() < len(y):
            lr = LogisticRegression(C=1e6).fit(pts.reshape(-1, 1), y)
            self.calibration = {
                "intercept": float(lr.intercept_[0]),
                "slope": float(lr.coef_[0][0]),
            }
        elif len(y):
            rate = min(max(float(y.mean()), 1e-6), 1 - 1e-6)
            self.calibration = {"intercept": math.log(rate / (1 - rate)), "slope": 0.0}
        return self

    def fit(
        self, frame: pd.DataFrame, *, shares: tuple[float, float] = (0.2, 0.3)
    ) -> RuleModel:
        """Fit the logistic map and A/B thresholds (top shares) on labelled leads."""
        self.calibrate(frame)
        pts = self.points(frame)
        if len(pts):
            self.thresholds = {
                "A": float(np.quantile(pts, 1 - shares[0])),
                "B": float(np.quantile(pts, 1 - shares[0] - shares[1])),
            }
        return self

    def _check(self) -> None:
        if not self.calibration:
            raise NotFittedError(type(self).__name__)

    def proba_of_points(self, pts: np.ndarray) -> np.ndarray:
        """Probability of point totals through the logistic map."""
        self._check()
        z = self.calibration["intercept"] + self.calibration["slope"] * pts
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -700, 700))))

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Probability from points through the logistic map."""
        return self.proba_of_points(self.points(frame))

    def grades_of_points(self, pts: np.ndarray) -> np.ndarray:
        """A when points ≥ thresholds['A'], B when ≥ thresholds['B'], else C."""
        return np.where(
            pts >= self.thresholds["A"],
            "A",
            np.where(pts >= self.thresholds["B"], "B", "C"),
        ).astype(object)

    def grades(self, frame: pd.DataFrame) -> np.ndarray:
        """A when points ≥ thresholds['A'], B when ≥ thresholds['B'], else C."""
        return self.grades_of_points(self.points(frame))

    def score(self, frame: pd.DataFrame, *, default_amount: float) -> RuleScores:
        """Points, probability, expected value, grade and top-3 rules of every lead.

        Expected value = probability × potential amount (`default_amount` when empty);
        the reasons are the three attributes with the most points (by absolute value).
        """
        names, matrix = self.point_matrix(frame)
        pts = matrix.sum(axis=1)
        proba = self.proba_of_points(pts)
        if "potential_amount" in frame.columns:
            amount = frame["potential_amount"].to_numpy(
                dtype="float64", na_value=np.nan
            )
            amount = np.where(np.isnan(amount), default_amount, amount)
        else:
            amount = np.full(len(frame), default_amount)
        idx = top_reasons(matrix, 3)
        weights = np.take_along_axis(matrix, np.maximum(idx, 0), axis=1)
        return RuleScores(
            names,
            pts,
            ScoredLeads(
                proba,
                proba * amount,
                self.grades_of_points(pts),
                idx,
                np.where(idx < 0, 0.0, weights),
            ),
        )

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
        """Read a rule file's data, naming what is wrong.

        A file without ``calibration`` gives a model to :meth:`calibrate` first.
        """
        if not isinstance(data, dict) or data.get("version") != 1:
            raise InputError("not a crmlens rule file", reason="expected version: 1")
        try:
            model = cls(
                _tables(data.get("categories")),
                _tables(data.get("numbers")),
                {k: float(v) for k, v in data["thresholds"].items()},
                {k: float(v) for k, v in (data.get("calibration") or {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InputError(
                f"bad rule file: {e}",
                reason="points must be whole numbers; thresholds need A and B",
            ) from e
        if not {"A", "B"} <= set(model.thresholds):
            raise InputError(
                "bad rule file: thresholds need A and B",
                reason="e.g. thresholds: {A: 12, B: 0}",
            )
        if model.thresholds["A"] < model.thresholds["B"]:
            raise InputError(
                "bad rule file: threshold A is below threshold B",
                reason="A leads need at least as many points as B leads",
            )
        if model.calibration and not {"intercept", "slope"} <= set(model.calibration):
            raise InputError(
                "bad rule file: calibration needs intercept and slope",
                reason="or leave calibration out to learn it from the labelled leads",
            )
        return model


@dataclass(frozen=True)
class RuleScores:
    """Rule scores of a set of leads: attributes used, points and the scores."""

    attributes: list[str]
    points: np.ndarray
    scored: ScoredLeads


def _tables(raw: Any) -> dict[str, dict[str, int]]:
    if raw is None:
        return {}
    out = {}
    for attr, table in raw.items():
        points = {}
        for k, v in (table or {}).items():
            if isinstance(v, bool) or float(v) != int(v):
                raise ValueError(f"{attr}: {k}: {v!r} is not a whole number")
            points[_key(k)] = int(v)
        out[str(attr)] = points
    return out


def _key(k: Any) -> str:
    """A YAML key as the value strings of signals (true/false, 512 for 512.0)."""
    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, float):
        return f"{k:g}"
    return EMPTY if k is None else str(k)


def _lookup(codes: np.ndarray, labels: np.ndarray, table: dict[str, int]) -> np.ndarray:
    """Points of category values (``(other)`` for values the table does not list)."""
    other = float(table.get("(other)", 0))
    points = np.array([float(table.get(str(v), other)) for v in labels], dtype=float)
    return points[codes]


def _lookup_bins(lower: np.ndarray, table: dict[str, int]) -> np.ndarray:
    """Points of numbers by the lower edge of their bin (NaN: ``(empty)``)."""
    import pandas as pd

    other = float(table.get("(other)", 0))
    codes, uniq = pd.factorize(lower, use_na_sentinel=True)
    keys = [f"{v:g}" for v in uniq] + [EMPTY]
    points = np.array([float(table.get(k, other)) for k in keys], dtype=float)
    return points[np.where(codes < 0, len(keys) - 1, codes)]


def _is_number_attr(signals: list[dict[str, Any]], attr: str) -> bool:
    return any(
        r["attribute"] == attr
        and r["bin_lower"] is not None
        and not (isinstance(r["bin_lower"], float) and math.isnan(r["bin_lower"]))
        for r in signals
    )
