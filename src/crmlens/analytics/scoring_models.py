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


def category_codes(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and labels of a column: ``labels[codes]`` equals :func:`category_values`.

    Factorises first and converts only the distinct values, so a column of millions
    of leads with a few dozen values costs one hashing pass.
    """
    import pandas as pd

    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    labels = category_values(pd.Series(uniques, dtype=series.dtype))
    labels = np.append(labels, np.array([EMPTY], dtype=object))
    return np.where(codes < 0, len(labels) - 1, codes), labels


def value_counts(values: np.ndarray) -> pd.Series:
    """Leads per value, most frequent first (ties: values in ascending order)."""
    import pandas as pd

    counts = pd.Series(values, dtype=object).value_counts(sort=False, dropna=False)
    counts = counts.sort_index(kind="stable")
    return counts.sort_values(ascending=False, kind="stable")


def pow2_lower(values: np.ndarray) -> np.ndarray:
    """Lower edge of each value's power-of-two bin (NaN stays NaN); see number_bin."""
    x = np.asarray(values, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        k = np.floor(np.log2(np.where(x >= 1, x, 1.0)))
    lower = np.where(x >= 1, np.power(2.0, np.minimum(k, 47)), 0.0)
    lower = np.where(x < 0, -np.inf, lower)
    return np.where(np.isnan(x), np.nan, lower)


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


def _coded(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Codes and labels of a field as the baselines see it (numbers by their bin)."""
    import pandas as pd

    if col.dtype.kind not in "iuf":
        return category_codes(col)
    lower = pow2_lower(col.to_numpy(dtype="float64", na_value=np.nan))
    codes, uniq = pd.factorize(lower, use_na_sentinel=True)
    labels = np.array([f"{v:g}" for v in uniq] + [EMPTY], dtype=object)
    return np.where(codes < 0, len(labels) - 1, codes), labels


def _counts(
    codes: np.ndarray, labels: np.ndarray, y: np.ndarray
) -> dict[str, tuple[float, float]]:
    """(converted, not converted) leads per label that occurs."""
    won = np.bincount(codes, weights=y.astype("float64"), minlength=len(labels))
    all_ = np.bincount(codes, minlength=len(labels)).astype("float64")
    table: dict[str, tuple[float, float]] = {}
    for label, w, n in zip(labels, won, all_, strict=True):
        if n > 0:
            old_w, old_l = table.get(str(label), (0.0, 0.0))
            table[str(label)] = (old_w + float(w), old_l + float(n - w))
    return table


def _per_lead(
    codes: np.ndarray, labels: np.ndarray, lookup: dict[str, Any], default: Any
) -> np.ndarray:
    """``lookup[label]`` of every lead (`default` for labels not in it)."""
    values = [lookup.get(str(label), default) for label in labels]
    return np.asarray(values, dtype="float64")[codes]


@dataclass
class SourceBaseline:
    """Probability = smoothed conversion rate of the lead's source in training."""

    field: str = "source"
    prior_weight: float = 10.0

    def fit(self, frame: pd.DataFrame) -> SourceBaseline:
        """Count conversions per source."""
        y = frame[TARGET].to_numpy(dtype="float64")
        self.prior_ = float(y.mean())
        k = self.prior_weight
        table = _counts(*category_codes(frame[self.field]), y)
        self.rates_ = {
            v: (won + k * self.prior_) / (won + lost + k)
            for v, (won, lost) in table.items()
        }
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """Rate of each lead's source (the overall rate for an unseen source)."""
        if not hasattr(self, "rates_"):
            raise NotFittedError(type(self).__name__)
        return _per_lead(*category_codes(frame[self.field]), self.rates_, self.prior_)


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
        self.tables_: dict[str, dict[str, tuple[float, float]]] = {
            f: _counts(*_coded(frame[f]), y) for f in feats
        }
        return self

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        """P(won | values) by Bayes' rule with independent fields."""
        if not hasattr(self, "tables_"):
            raise NotFittedError(type(self).__name__)
        s = self.smoothing
        log_won = np.full(len(frame), math.log(self.won_ + s))
        log_lost = np.full(len(frame), math.log(self.lost_ + s))
        for f in self.features_:
            table = self.tables_[f]
            k = len(table) + 1
            codes, labels = _coded(frame[f])
            won = _per_lead(codes, labels, {v: c[0] for v, c in table.items()}, 0.0)
            lost = _per_lead(codes, labels, {v: c[1] for v, c in table.items()}, 0.0)
            log_won += np.log((won + s) / (self.won_ + s * k))
            log_lost += np.log((lost + s) / (self.lost_ + s * k))
        return 1.0 / (1.0 + np.exp(np.clip(log_lost - log_won, -700, 700)))
