"""Revenue forecast per level, and proposed targets beside the current ones."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

from crmlens.insights.findings import Finding
from crmlens.insights.params import resolve_as_of
from crmlens.insights.registry import AnalysisResult, register
from crmlens.insights.rules._money import both, money, pct

if TYPE_CHECKING:
    import pandas as pd

    from crmlens.warehouse import Warehouse

FAR = 0.3


def client_forecast(
    wh: Warehouse, *, as_of: dt.date, horizon: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Client forecasts (account_id, period, forecast_amount) and client owners.

    The periods are the `horizon` months after the month of `as_of`; the model learns
    from the full months that ended by `as_of` and steps over a month still running.
    """
    import pandas as pd

    from crmlens.analytics import forecast as fc

    months = fc.client_month_revenue(wh.orders, as_of=as_of).to_pyarrow().to_pandas()
    owners = fc.client_owners(wh.orders, wh.accounts, wh.managers, as_of=as_of)
    own = owners.to_pyarrow().to_pandas()
    last, future = fc.last_full_month(as_of), fc.first_future_month(as_of)
    if months.empty:
        empty = pd.DataFrame({"account_id": [], "period": [], "forecast_amount": []})
        return empty, own
    ids, panel, first = fc.to_panel(months, last_month=last)
    skip = future - last - 1
    model = fc.SeasonalTrendForecaster().fit(panel, first)
    pred = model.predict(horizon + skip)[:, skip:]
    periods = [fc.month_label(future + h) for h in range(horizon)]
    clients = pd.DataFrame(
        {
            "account_id": ids.repeat(horizon),
            "period": periods * len(ids),
            "forecast_amount": pred.reshape(-1),
        }
    )
    return clients, own


@register("forecast", "Revenue forecast per client, manager, team, region, company")
def run(
    wh: Warehouse,
    *,
    as_of: str | dt.date | None = None,
    horizon: int = 3,
    level: str = "company",
    targets: bool = False,
    stretch: float = 1.1,
    **_: Any,
) -> AnalysisResult:
    """Forecast rows per level and period; with `targets`, proposed vs current targets."""
    import pyarrow as pa

    from crmlens.analytics import forecast as fc
    from crmlens.errors import InputError

    if level not in fc.LEVELS:
        raise InputError(f"unknown level {level!r}", reason="|".join(fc.LEVELS))
    day = resolve_as_of(wh, as_of)
    clients, owners = client_forecast(wh, as_of=day, horizon=int(horizon))
    params: dict[str, Any] = {
        "as_of": str(day),
        "horizon": int(horizon),
        "level": level,
        "first_period": fc.month_label(fc.first_future_month(day)),
        "history_until": fc.month_label(fc.last_full_month(day)),
    }
    if targets:
        rows = _targets(wh, clients, owners, stretch=stretch)
        params["stretch"] = stretch
        records: list[dict[str, Any]] = rows.to_dict("records")  # type: ignore[assignment]
        found = [_far(r, params) for r in records if _is_far(r)]
        return AnalysisResult("forecast", params, pa.Table.from_pandas(rows), found)
    out = fc.reconcile(clients, owners, level=level)  # type: ignore[arg-type]
    return AnalysisResult(
        "forecast", params, pa.Table.from_pandas(out, preserve_index=False)
    )


def _targets(
    wh: Warehouse, clients: pd.DataFrame, owners: pd.DataFrame, *, stretch: float
) -> pd.DataFrame:
    import pandas as pd

    from crmlens.analytics import forecast as fc

    first = clients["period"].min() if len(clients) else None
    nxt = clients[clients["period"] == first]
    frames = []
    for scope, level in (("manager", "manager"), ("region", "region")):
        f = fc.reconcile(nxt, owners, level=level)  # type: ignore[arg-type]
        f.insert(0, "scope_type", scope)
        frames.append(f)
    rows = pd.concat(frames, ignore_index=True).rename(columns={"level_id": "scope_id"})
    rows["proposed_target"] = (rows["forecast_amount"] * stretch).round(-3)
    t = wh.targets
    cur = t.filter(t.period == first, t.metric == "revenue").select(
        "scope_type", "scope_id", current_target=t.value.cast("float64")
    )
    cur_df = cur.to_pyarrow().to_pandas()
    rows = rows.merge(cur_df, on=["scope_type", "scope_id"], how="left")
    rows["target_ratio"] = rows["current_target"] / rows["proposed_target"]
    return rows.drop(columns=["clients_count"])


def _is_far(r: dict[str, Any]) -> bool:
    ratio = r["target_ratio"]
    return ratio is not None and math.isfinite(ratio) and abs(ratio - 1) > FAR


def _far(r: dict[str, Any], params: dict[str, Any]) -> Finding:
    high = r["target_ratio"] > 1
    cur, prop = r["current_target"], r["proposed_target"]
    sid = r["scope_id"]
    ru = "выше" if high else "ниже"
    en = "above" if high else "below"
    return Finding(
        analysis="forecast",
        kind="target_far_from_demand",
        severity="high" if abs(r["target_ratio"] - 1) > 2 * FAR else "medium",
        subject={"type": r["scope_type"], "id": sid},
        metric="target_ratio",
        value=round(float(r["target_ratio"]), 4),
        baseline=1.0,
        impact=round(abs(cur - prop), 2),
        period=r["period"],
        text=both(
            f"План {r['period']} для «{sid}» ({money(cur, 'ru')}) на "
            f"{pct(abs(r['target_ratio'] - 1), 'ru')} {ru} того, что могут дать его "
            f"клиенты с запасом ({money(prop, 'ru')}).",
            f"The {r['period']} target of “{sid}” ({money(cur, 'en')}) is "
            f"{pct(abs(r['target_ratio'] - 1), 'en')} {en} what its clients can give "
            f"with a stretch ({money(prop, 'en')}).",
        ),
        action=both(
            "Пересмотрите план от спроса клиентов: "
            + (
                "он недостижим без новых клиентов."
                if high
                else "он занижен, поднимите его."
            ),
            "Rebuild the target from client demand: "
            + (
                "it is out of reach without new clients."
                if high
                else "it is too easy; raise it."
            ),
        ),
        evidence={"stretch": params.get("stretch"), "forecast": r["forecast_amount"]},
    )
