"""Lead-scoring building blocks: metrics, calibration and the baselines to beat.

Metrics (docs/metrics.md#lead-scoring)
--------------------------------------
- **AUC**: area under the ROC curve; **PR-AUC**: average precision.
- **Brier**: mean of (p − y)²; **ECE**: Σ over 10 equal-width bins of p of
  (leads in bin / leads) × |mean p − share converted|.
- **Lift in the top 20 %**: conversion among the 20 % highest-scored leads / overall.

Baselines
---------
- :class:`SourceBaseline`: the conversion rate of the lead's source in training.
- :class:`NaiveBayesBaseline`: Odoo's predictive lead scoring — frequency tables of
  won/lost per value of each field with +0.1 smoothing, combined by naive Bayes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from crmlens.errors import NotFittedError

if TYPE_CHECKING:
    import pandas as pd

TARGET = "is_converted"
EMPTY = "(empty)"


def category_values(series: pd.Series) -> np.ndarray:
    """Values as the strings signals use: booleans 'true'/'false', nulls '(empty)'."""
    if series.dtype.kind == "b" or str(series.dtype) == "boolean":
        series = series.map({True: "true", False: "false"})
    elif series.dtype == object:
        series = series.map(
            lambda v: (
                v
                if v is None or isinstance(v, str)
                else ("true" if v else "false")
                if isinstance(v, bool)
                else str(v)
            )
        )
    return np.asarray(series.astype("string").fillna(EMPTY).astype(object))


def pow2_lower(values: np.ndarray) -> np.ndarray:
    """Lower edge of each value's power-of-two bin (NaN stays NaN); see number_bin."""
    x = np.asarray(values, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.floor(np.log2(np.where(x >= 1, x, 1.0)))
    lower = np.where(x >= 1, np.power(2.0, np.minimum(k, 47)), 0.0)
    lower = np.where(x < 0, -np.inf, lower)
    return np.where(np.isnan(x), np.nan, lower)


def binned_strings(values: np.ndarray) -> np.ndarray:
    """A number's bin as a category string ('(empty)' for NaN)."""
    lower = pow2_lower(values)
    out = np.array([f"{v:g}" for v in lower], dtype=object)
    out[np.isnan(lower)] = EMPTY
    return out


def roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    """Area under the ROC curve (NaN when only one class is present)."""
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan")


def expected_calibration_error(y: np.ndarray, p: np.ndarray, bins: int = 10) -> float:
    """ECE over `bins` equal-width bins of the predicted probability."""
    table = reliability_table(y, p, bins=bins)
    n = len(y)
    return float(
        sum(
            r["leads"] / n * abs(r["mean_predicted"] - r["observed_rate"])
            for r in table
        )
    )


def reliability_table(
    y: np.ndarray, p: np.ndarray, bins: int = 10
) -> list[dict[str, Any]]:
    """Per bin of predicted probability: leads, mean predicted, observed rate."""
    idx = np.minimum((np.asarray(p) * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append(
                {
                    "bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}",
                    "leads": int(m.sum()),
                    "mean_predicted": float(p[m].mean()),
                    "observed_rate": float(y[m].mean()),
                }
            )
    return rows


def lift_at(y: np.ndarray, p: np.ndarray, share: float = 0.2) -> float:
    """Conversion among the top `share` by score divided by the overall rate."""
    k = max(1, math.ceil(len(p) * share))
    top = np.argsort(-p, kind="stable")[:k]
    overall = y.mean()
    return float(y[top].mean() / overall) if overall > 0 else float("nan")


def evaluate(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """AUC, PR-AUC, Brier, ECE and lift in the top 20 % of `p` against `y`."""
    from sklearn.metrics import average_precision_score

    y = np.asarray(y, dtype="float64")
    p = np.clip(np.asarray(p, dtype="float64"), 0.0, 1.0)
    return {
        "auc": roc_auc(y, p),
        "pr_auc": float(average_precision_score(y, p)) if y.sum() else float("nan"),
        "brier": float(np.mean((p - y) ** 2)),
        "ece": expected_calibration_error(y, p),
        "lift_top20": lift_at(y, p, 0.2),
    }


CalibrationMethod = Literal["auto", "isotonic", "platt"]


@dataclass
class Calibrator:
    """Maps raw scores to probabilities: isotonic (≥ 2,000 leads) or Platt scaling."""

    method: CalibrationMethod = "auto"

    def fit(self, raw: np.ndarray, y: np.ndarray) -> Calibrator:
        """Fit on held-out raw scores (log-odds scale) and outcomes."""
        method = self.method
        if method == "auto":
            method = "isotonic" if len(y) >= 2000 else "platt"
        self.method_ = method
        if method == "isotonic":
            from sklearn.isotonic import IsotonicRegression

            self.model_: Any = IsotonicRegression(
                y_min=0.0, y_max=1.0, out_of_bounds="clip"
            ).fit(raw, y)
        else:
            from sklearn.linear_model import LogisticRegression

            self.model_ = LogisticRegression(C=1e6).fit(raw.reshape(-1, 1), y)
        return self

    def predict(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of `raw` scores."""
        if not hasattr(self, "model_"):
            raise NotFittedError(type(self).__name__)
        if self.method_ == "isotonic":
            return np.asarray(self.model_.predict(raw), dtype="float64")
        return np.asarray(self.model_.predict_proba(raw.reshape(-1, 1))[:, 1])


def _categorised(frame: pd.DataFrame, features: list[str]) -> dict[str, np.ndarray]:
    out = {}
    for f in features:
        col = frame[f]
        out[f] = (
            binned_strings(col.to_numpy(dtype="float64", na_value=np.nan))
            if col.dtype.kind in "iuf"
            else category_values(col)
        )
    return out


@dataclass
class SourceBaseline:
    """Probability = smoothed conversion rate of the lead's source in training."""

    field: str = "source"
    prior_weight: float = 10.0

    def fit(self, frame: pd.DataFrame) -> SourceBaseline:
        """Count conversions per source."""
        y = frame[TARGET].to_numpy(dtype="float64")
        values = category_values(frame[self.field])
        self.prior_ = float(y.mean())
        rates = {}
        for v in np.unique(values):
            m = values == v
            rates[v] = (y[m].sum() + self.prior_weight * self.prior_) / (
                m.sum() + self.prior_weight
            )
        self.rates_ = rates
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Rate of each lead's source (the overall rate for an unseen source)."""
        if not hasattr(self, "rates_"):
            raise NotFittedError(type(self).__name__)
        values = category_values(frame[self.field])
        return np.array([self.rates_.get(v, self.prior_) for v in values])


@dataclass
class NaiveBayesBaseline:
    """Odoo-style naive Bayes: per-field won/lost frequency tables, +0.1 smoothing."""

    features: list[str] | None = None
    smoothing: float = 0.1

    def fit(self, frame: pd.DataFrame) -> NaiveBayesBaseline:
        """Count won and lost leads per value of every field."""
        y = frame[TARGET].to_numpy(dtype=bool)
        feats = self.features or [c for c in frame.columns if c != TARGET]
        self.features_ = feats
        self.won_, self.lost_ = int(y.sum()), int((~y).sum())
        self.tables_: dict[str, dict[str, tuple[float, float]]] = {}
        for f, values in _categorised(frame, feats).items():
            table = {}
            for v in np.unique(values):
                m = values == v
                table[v] = (float(y[m].sum()), float((~y[m]).sum()))
            self.tables_[f] = table
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """P(won | values) by Bayes' rule with independent fields."""
        if not hasattr(self, "tables_"):
            raise NotFittedError(type(self).__name__)
        s = self.smoothing
        log_won = np.full(len(frame), math.log(self.won_ + s))
        log_lost = np.full(len(frame), math.log(self.lost_ + s))
        for f, values in _categorised(frame, self.features_).items():
            table = self.tables_[f]
            k = len(table) + 1
            won = np.array([table.get(v, (0.0, 0.0))[0] for v in values])
            lost = np.array([table.get(v, (0.0, 0.0))[1] for v in values])
            log_won += np.log((won + s) / (self.won_ + s * k))
            log_lost += np.log((lost + s) / (self.lost_ + s * k))
        return 1.0 / (1.0 + np.exp(np.clip(log_lost - log_won, -700, 700)))
