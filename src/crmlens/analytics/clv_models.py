"""Predictive CLV: BG/NBD (purchases and P(alive)) and Gamma-Gamma (value per purchase).

Both are fitted by maximum likelihood with scipy on the small per-client summary of
:func:`crmlens.analytics.clv.clv_summary` (a pandas frame with ``frequency``, ``recency``,
``T`` and ``monetary_value``).

Why our own fitter and not a library: ``lifetimes``, the reference implementation, is
archived (no release since 2020, it pins an old autograd and breaks on current
numpy/pandas, and DESIGN.md measured 11.5 s and 1.9 GB for CLV with it);
``pymc-marketing`` fits the same models but drags in PyMC/PyTensor and by default samples a
Bayesian posterior — heavy machinery for four numbers. The two models are closed-form
log-likelihoods of a few lines, so we maximise them ourselves as lifetimes does: in
log-parameter space (every parameter is positive), with an optional L2 ``penalizer`` on
the parameters, by Nelder-Mead restarted from its own optimum until it stops moving.
The fit reproduces the published CDNOW figures (tests/analytics/test_clv.py).

- **BG/NBD** (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while
  alive a client buys at Poisson rate λ ~ Gamma(r, α); after each purchase it drops out
  with probability p ~ Beta(a, b). Log-likelihood of (x = frequency, t_x = recency, T)::

      ln Γ(r+x) − ln Γ(r) + r ln α + ln B(a, b+x) − ln B(a, b)
      + ln[ (α+T)^−(r+x) + 1{x>0} · a/(b+x−1) · (α+t_x)^−(r+x) ]

- **Gamma-Gamma** (Fader & Hardie 2013, note 025): the value of a purchase is
  Gamma(p, ν), ν ~ Gamma(q, γ) across clients (lifetimes calls γ ``v``). Fitted on clients
  with ``frequency`` > 0 and a positive ``monetary_value`` (mean of x repeat values m)::

      ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(xm+γ)

  Values are divided by their mean before fitting (γ scales with them, p and q do not) so
  that the optimiser starts near the answer whatever the currency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import optimize, special

from crmlens.errors import NotFittedError, SchemaError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd

Array = np.ndarray[Any, np.dtype[np.float64]]


def _column(summary: pd.DataFrame, name: str) -> Array:
    if name not in summary.columns:
        raise SchemaError(
            f"the CLV summary lacks column {name}; found: {', '.join(summary.columns)}"
        )
    return np.asarray(summary[name], dtype=float)


def _minimise(objective: Callable[[Array], float], n: int) -> Array:
    """BFGS in log space from log(1) = 0 (as lifetimes), polished by Nelder-Mead.

    The polish restarts Nelder-Mead from its own optimum until the objective stops
    falling, so a flat ridge (BG/NBD with almost no dropout) still ends at one point.
    """
    with np.errstate(all="ignore"):
        res = optimize.minimize(objective, np.zeros(n), method="BFGS")
        x, best = np.asarray(res.x, dtype=float), float(res.fun)
        if not np.isfinite(best):
            x, best = np.zeros(n), objective(np.zeros(n))
        for _ in range(10):
            res = optimize.minimize(
                objective,
                x,
                method="Nelder-Mead",
                options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 5000},
            )
            if not best - float(res.fun) > 1e-10:
                break
            x, best = np.asarray(res.x, dtype=float), float(res.fun)
    return x


def _std_errors(nll: Callable[[Array], float], theta: Array) -> Array:
    """Standard errors from the numerical Hessian of the total negative log-likelihood."""
    n = len(theta)
    h = 1e-4 * np.maximum(np.abs(theta), 1e-3)
    hess = np.empty((n, n))
    for i in range(n):
        for j in range(n):
            ei, ej = np.eye(n)[i] * h[i], np.eye(n)[j] * h[j]
            hess[i, j] = (
                nll(theta + ei + ej)
                - nll(theta + ei - ej)
                - nll(theta - ei + ej)
                + nll(theta - ei - ej)
            ) / (4 * h[i] * h[j])
    try:
        cov = np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        return np.full(n, np.nan)
    return np.sqrt(np.where(np.diag(cov) > 0, np.diag(cov), np.nan))


def _summary_frame(names: tuple[str, ...], theta: Array, se: Array) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "coef": theta,
            "se(coef)": se,
            "lower 95% bound": theta - 1.96 * se,
            "upper 95% bound": theta + 1.96 * se,
        },
        index=pd.Index(names, name="param"),
    )


class _Fitter:
    """What both estimators share: hyperparameters, the fitted check, ``summary``."""

    NAMES: tuple[str, ...] = ()

    def __init__(self, penalizer: float = 0.0) -> None:
        self.penalizer = penalizer

    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise NotFittedError(type(self).__name__)

    def _theta(self) -> Array:
        self._check_fitted()
        return np.array([self.params_[k] for k in self.NAMES])

    @property
    def summary(self) -> pd.DataFrame:
        """Fitted parameters with standard errors and 95 % bounds (lifetimes' shape)."""
        self._check_fitted()
        return self.summary_

    def _store(self, theta: Array, se: Array, ll: float, n: int) -> None:
        self.params_: dict[str, float] = {
            k: float(v) for k, v in zip(self.NAMES, theta, strict=True)
        }
        self.log_likelihood_ = float(ll)
        self.n_clients_ = int(n)
        self.summary_ = _summary_frame(self.NAMES, theta, se)


class BetaGeo(_Fitter):
    """The BG/NBD model of repeat purchases (Fader, Hardie & Lee 2005).

    Parameters
    ----------
    penalizer
        L2 penalty on the parameters added to the mean negative log-likelihood, as in
        lifetimes' ``penalizer_coef`` (0: plain maximum likelihood).

    Attributes
    ----------
    params_ : dict
        r, alpha, a, b.
    log_likelihood_ : float
        Total log-likelihood at the optimum.
    n_clients_ : int
        Clients the model was fitted on.
    """

    NAMES = ("r", "alpha", "a", "b")

    def fit(self, summary: pd.DataFrame) -> BetaGeo:
        """Fit on a summary with columns frequency, recency and T."""
        x, t_x, big_t = (_column(summary, c) for c in ("frequency", "recency", "T"))
        if len(x) == 0:
            raise SchemaError("cannot fit BG/NBD on an empty summary")

        def objective(log_theta: Array) -> float:
            theta = np.exp(log_theta)
            ll = bgnbd_log_likelihood(theta, x, t_x, big_t)
            return float(-ll.mean() + self.penalizer * np.sum(theta**2))

        theta = np.exp(_minimise(objective, 4))

        def nll(th: Array) -> float:
            return float(-bgnbd_log_likelihood(th, x, t_x, big_t).sum())

        self._store(theta, _std_errors(nll, theta), -nll(theta), len(x))
        return self

    def p_alive(self, summary: pd.DataFrame) -> Array:
        """P(the client is still active) given its frequency, recency and T."""
        r, alpha, a, b = self._theta()
        x, t_x, big_t = (_column(summary, c) for c in ("frequency", "recency", "T"))
        return np.exp(-_log_one_plus_dropout_odds(r, alpha, a, b, x, t_x, big_t))

    def expected_purchases(self, summary: pd.DataFrame, *, t: float) -> Array:
        """Expected transactions of each client in the next `t` time units."""
        return self.expected_purchases_if_alive(summary, t=t) * self.p_alive(summary)

    def expected_purchases_if_alive(self, summary: pd.DataFrame, *, t: float) -> Array:
        """Expected transactions in the next `t` units if the client is still active."""
        r, alpha, a, b = self._theta()
        x, big_t = _column(summary, "frequency"), _column(summary, "T")
        ln_hyp = _ln_hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + big_t + t))
        first = (a + b + x - 1) / (a - 1)
        ratio = np.log((alpha + big_t) / (alpha + big_t + t))
        return np.asarray(first * (1 - np.exp(ln_hyp + (r + x) * ratio)), dtype=float)

    def expected_purchases_new(self, t: Array | float) -> Array:
        """E[X(t)]: expected transactions of a new client in its first `t` units."""
        r, alpha, a, b = self._theta()
        t = np.asarray(t, dtype=float)
        hyp = special.hyp2f1(r, b, a + b - 1, t / (alpha + t))
        return np.asarray(
            (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp), dtype=float
        )


def bgnbd_log_likelihood(theta: Array, x: Array, t_x: Array, big_t: Array) -> Array:
    """BG/NBD log-likelihood of each client at parameters (r, alpha, a, b)."""
    with np.errstate(all="ignore"):
        return _bgnbd_ll(theta, x, t_x, big_t)


def _bgnbd_ll(theta: Array, x: Array, t_x: Array, big_t: Array) -> Array:
    r, alpha, a, b = theta
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = (
        special.gammaln(a + b)
        + special.gammaln(b + x)
        - special.gammaln(b)
        - special.gammaln(a + b + x)
    )
    a3 = -(r + x) * np.log(alpha + big_t)
    a4 = np.log(a) - np.log(b + x - 1) - (r + x) * np.log(alpha + t_x)
    a4 = np.where(x > 0, a4, -np.inf)
    return np.asarray(a1 + a2 + np.logaddexp(a3, a4), dtype=float)


def _log_one_plus_dropout_odds(
    r: float, alpha: float, a: float, b: float, x: Array, t_x: Array, big_t: Array
) -> Array:
    """ln(1 + 1{x>0} · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x)) = −ln P(alive)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        log_term = (
            np.log(a)
            - np.log(b + x - 1)
            + (r + x) * (np.log(alpha + big_t) - np.log(alpha + t_x))
        )
    log_term = np.where(x > 0, log_term, -np.inf)
    return np.asarray(np.logaddexp(0.0, log_term), dtype=float)


def _ln_hyp2f1(a: Array, b: Array, c: Array, z: Array | float) -> Array:
    """ln 2F1(a, b; c; z), by Euler's transformation where the series overflows."""
    with np.errstate(all="ignore"):
        direct = np.log(special.hyp2f1(a, b, c, z))
        alt = np.log(special.hyp2f1(c - a, c - b, c, z)) + (c - a - b) * np.log(1 - z)
    return np.asarray(np.where(np.isfinite(direct), direct, alt), dtype=float)


class GammaGamma(_Fitter):
    """The Gamma-Gamma model of the value per transaction (Fader & Hardie 2013).

    Parameters
    ----------
    penalizer
        L2 penalty on (p, q, γ of the values divided by their mean).

    Attributes
    ----------
    params_ : dict
        p, q, gamma (lifetimes' ``v``), in the currency of ``monetary_value``.
    log_likelihood_ : float
        Total log-likelihood at the optimum (of the values in their own currency).
    n_clients_ : int
        Clients with repeat transactions and a positive value it was fitted on.
    """

    NAMES = ("p", "q", "gamma")

    def fit(self, summary: pd.DataFrame) -> GammaGamma:
        """Fit on clients of `summary` with frequency > 0 and monetary_value > 0."""
        x, m = _column(summary, "frequency"), _column(summary, "monetary_value")
        keep = (x > 0) & (m > 0)
        x, m = x[keep], m[keep]
        if len(x) == 0:
            raise SchemaError(
                "cannot fit Gamma-Gamma: no client has repeat orders of positive value"
            )
        scale = float(m.mean())
        ms = m / scale

        def objective(log_theta: Array) -> float:
            theta = np.exp(log_theta)
            ll = gamma_gamma_log_likelihood(theta, x, ms)
            return float(-ll.mean() + self.penalizer * np.sum(theta**2))

        p, q, g = np.exp(_minimise(objective, 3))
        theta = np.array([p, q, g * scale])

        def nll(th: Array) -> float:
            return float(-gamma_gamma_log_likelihood(th, x, m).sum())

        self._store(theta, _std_errors(nll, theta), -nll(theta), len(x))
        return self

    def expected_average_value(self, summary: pd.DataFrame) -> Array:
        """E[value per transaction | client]; the population mean for new clients."""
        p, q, g = self._theta()
        x, m = _column(summary, "frequency"), _column(summary, "monetary_value")
        x = np.where(m > 0, x, 0.0)
        weight = p * x / (p * x + q - 1)
        population = p * g / (q - 1)
        return np.asarray((1 - weight) * population + weight * np.maximum(m, 0.0))


def gamma_gamma_log_likelihood(theta: Array, x: Array, m: Array) -> Array:
    """Gamma-Gamma log-likelihood of each client at parameters (p, q, gamma)."""
    p, q, g = theta
    px = p * x
    with np.errstate(all="ignore"):
        return _gg_ll(px, q, g, x, m)


def _gg_ll(px: Array, q: float, g: float, x: Array, m: Array) -> Array:
    return np.asarray(
        special.gammaln(px + q)
        - special.gammaln(px)
        - special.gammaln(q)
        + q * np.log(g)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(x * m + g),
        dtype=float,
    )


def expected_value(
    bg: BetaGeo,
    gg: GammaGamma,
    summary: pd.DataFrame,
    *,
    horizon: float,
    steps: int,
    discount_rate: float = 0.0,
    if_active: bool = False,
) -> Array:
    """Expected value of each client over `horizon` time units, discounted per step.

    The horizon is cut into `steps` equal steps (months); the expected transactions of
    step i times the expected value per transaction is discounted by
    (1 + `discount_rate`)^i, as lifetimes' ``customer_lifetime_value`` does. With
    `if_active`, the value if the client is still active (not weighted by P(alive)).
    """
    purchases = bg.expected_purchases_if_alive if if_active else bg.expected_purchases
    per_tx = gg.expected_average_value(summary)
    total = np.zeros(len(summary))
    previous = np.zeros(len(summary))
    for i in range(1, steps + 1):
        cumulative = purchases(summary, t=horizon * i / steps)
        total += (cumulative - previous) * per_tx / (1 + discount_rate) ** i
        previous = cumulative
    return total


MIN_CLIENTS = 30
MIN_REPEAT_CLIENTS = 10
DAYS_PER_MONTH = 365.25 / 12
FREQUENCY_BUCKETS = ((0, 0), (1, 1), (2, 2), (3, 4), (5, 9), (10, 19), (20, 49))


def not_enough_history(summary: pd.DataFrame) -> str | None:
    """Why the models cannot be fitted on `summary` (None when they can)."""
    n = len(summary)
    repeat = int(((summary["frequency"] > 0) & (summary["monetary_value"] > 0)).sum())
    if n >= MIN_CLIENTS and repeat >= MIN_REPEAT_CLIENTS:
        return None
    return (
        f"{n} clients, {repeat} with repeat orders of positive value; the models need "
        f"at least {MIN_CLIENTS} and {MIN_REPEAT_CLIENTS}"
    )


def fit_clv(
    summary: pd.DataFrame, *, penalizer: float = 0.0
) -> tuple[BetaGeo, GammaGamma]:
    """BG/NBD and Gamma-Gamma fitted on the per-client summary."""
    return (
        BetaGeo(penalizer=penalizer).fit(summary),
        GammaGamma(penalizer=penalizer).fit(summary),
    )


def predict_clv(
    summary: pd.DataFrame,
    bg: BetaGeo,
    gg: GammaGamma,
    *,
    horizon_months: int,
    time_unit_days: float = 7.0,
    discount_rate: float = 0.0,
) -> pd.DataFrame:
    """`summary` with the predictive columns over the next `horizon_months`.

    Adds p_alive, expected_orders (transaction days), expected_average_value (per
    transaction, Gamma-Gamma), expected_value (discounted monthly by `discount_rate`)
    and expected_value_if_active (what the client brings over the horizon if it is still
    active: the value at stake when it is not).
    """
    t = horizon_months * DAYS_PER_MONTH / time_unit_days
    per_tx = gg.expected_average_value(summary)
    value, if_active = (
        expected_value(
            bg,
            gg,
            summary,
            horizon=t,
            steps=horizon_months,
            discount_rate=discount_rate,
            if_active=active,
        )
        for active in (False, True)
    )
    return summary.assign(
        p_alive=bg.p_alive(summary),
        expected_orders=bg.expected_purchases(summary, t=t),
        expected_average_value=per_tx,
        expected_value=value,
        expected_value_if_active=if_active,
    )


def holdout_check(
    calibration: pd.DataFrame, bg: BetaGeo, *, holdout: float
) -> pd.DataFrame:
    """Predicted vs actual transactions in the holdout period, by calibration frequency.

    `calibration` is the summary at the cut-off with ``holdout_frequency``; `bg` was
    fitted on it; `holdout` is the length of the holdout period in time units.

    Returns
    -------
    pandas.DataFrame
        frequency_bucket ("0", "1", "2", "3-4", …, "50+", then "all"), clients_count,
        actual_orders and predicted_orders (means per client), error_rate
        ((predicted − actual) / actual).
    """
    import pandas as pd

    predicted = bg.expected_purchases(calibration, t=holdout)
    actual = calibration["holdout_frequency"].to_numpy(float)
    x = calibration["frequency"].to_numpy()
    bounds = [*FREQUENCY_BUCKETS, (FREQUENCY_BUCKETS[-1][1] + 1, np.inf)]
    rows = []
    for low, high in [*bounds, (0, np.inf)]:
        inside = (x >= low) & (x <= high)
        if (low, high) != (0, np.inf) and not inside.any():
            continue
        rows.append(
            _bucket_row(_bucket_label(low, high), predicted[inside], actual[inside])
        )
    return pd.DataFrame(rows)


def _bucket_label(low: float, high: float) -> str:
    if (low, high) == (0, np.inf):
        return "all"
    if high == np.inf:
        return f"{low}+"
    return str(low) if low == high else f"{low}-{high}"


def _bucket_row(label: str, predicted: Array, actual: Array) -> dict[str, Any]:
    mean_actual = float(actual.mean()) if len(actual) else float("nan")
    mean_predicted = float(predicted.mean()) if len(predicted) else float("nan")
    error = (
        (mean_predicted - mean_actual) / mean_actual if mean_actual else float("nan")
    )
    return {
        "frequency_bucket": label,
        "clients_count": len(actual),
        "actual_orders": mean_actual,
        "predicted_orders": mean_predicted,
        "error_rate": error,
    }
