"""Row-level scope: a manager and a regional head call EVERY route, analysis, export and
drill-down, and no id of another manager's deals, leads or activities, nor another
manager's id, name or team, appears in any answer (demo ids, seed 42)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.web._routes import PUBLIC, expand, routes

pytestmark = [
    pytest.mark.slow,
    # plan_backtest on a manager's scope averages an empty column (numpy warns; the
    # analysis still answers). Reported to the plan's owner; not a scope matter.
    pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
    # plotly silences this warning of its own templates with warnings.catch_warnings(),
    # which is not thread-safe: charts drawn in two threads at once can let it through.
    pytest.mark.filterwarnings("ignore:.*scattermapbox.*:DeprecationWarning"),
]

ID_TOKEN = re.compile(r"(?<![\w-])(?:M\d{2}|D\d{7}|MX-\d{4}|L\d{7}|X\d{8})(?![\w-])")
#: Filters that try to step outside the scope: they may narrow, never widen.
ESCAPES = [
    {},
    {"manager": "M07"},
    {"region": "Урал"},
    {"team": "Урал"},
    {"manager": "M05", "region": "Москва"},
]


@dataclass(frozen=True)
class Secrets:
    """What a scoped user must never see."""

    ids: frozenset[str]
    words: tuple[str, ...]


def _secrets(path: Path, managers: set[str]) -> Secrets:
    import crmlens

    wh = crmlens.open(path)
    try:
        m = wh.managers.to_pyarrow().to_pylist()
        others = [r for r in m if r["manager_id"] not in managers]
        mine_teams = {r["team"] for r in m if r["manager_id"] in managers}
        ids: set[str] = {r["manager_id"] for r in others}
        for table, owner, key in (
            ("deals", "owner_id", "deal_id"),
            ("leads", "owner_id", "lead_id"),
            ("activities", "manager_id", "activity_id"),
        ):
            t = wh.table(table)
            outside = t.filter(t[owner].isnull() | ~t[owner].isin(sorted(managers)))
            ids |= set(outside[key].to_pyarrow().to_pylist())
        words = {r["name"] for r in others}
        # team names that are no region or city name of any client
        words |= {r["team"] for r in others if r["team"] not in mine_teams} & {
            "Москва-1",
            "Москва-2",
            "Северо-Запад",
        }
    finally:
        wh.close()
    return Secrets(frozenset(ids), tuple(sorted(words)))


def _text(response: Any) -> str:
    kind = response.headers.get("content-type", "")
    if "spreadsheetml" in kind:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(response.content), read_only=True)
        return "\n".join(
            " ".join("" if v is None else str(v) for v in row)
            for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True)
        )
    return response.content.decode("utf-8-sig", errors="replace")


def _leaks(text: str, secrets: Secrets, asked: set[str]) -> list[str]:
    """Secrets in `text`, except the values the request itself carried (echoed filters)."""
    found = sorted({t for t in ID_TOKEN.findall(text) if t in secrets.ids} - asked)
    found += [w for w in secrets.words if w in text and w not in asked]
    return found


def _requests(app: Any) -> list[str]:
    from crmlens.insights.registry import names
    from crmlens.web.drill import CRITERIA

    choices = {
        "name": names(),
        "table": [*CRITERIA, "managers"],
        "fmt": ["csv", "xlsx"],
    }
    out = []
    for method, template, params in routes(app):
        if method != "GET" or (method, template) in PUBLIC:
            continue
        out += list(expand(template, params, choices))
    return out


@pytest.mark.parametrize(
    ("username", "managers"),
    [("manager", {"M05"}), ("regional", {"M01", "M02", "M05"})],
)
def test_no_route_shows_a_row_outside_the_scope(
    app: Any,
    client_as: Any,
    web_wh_path: Path,
    username: str,
    managers: set[str],
) -> None:
    import crmlens

    wh = crmlens.open(web_wh_path)
    region = wh.managers.filter(wh.managers.manager_id.isin(sorted(managers)))
    assert set(region.manager_id.to_pyarrow().to_pylist()) == managers
    wh.close()
    secrets = _secrets(web_wh_path, managers)
    assert len(secrets.ids) > 1000  # the check has teeth
    client = client_as(username)
    statuses: dict[int, int] = {}
    leaks: dict[str, list[str]] = {}
    failures: dict[str, str] = {}
    paths = _requests(app)
    assert len(paths) > 100
    for path in paths:
        for extra in ESCAPES if _escapable(path) else [{}]:
            response = client.get(path, params=extra)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code not in (200, 303, 400, 403, 404):
                failures[f"{path} {extra}"] = response.text[:200]
            found = _leaks(_text(response), secrets, set(extra.values()))
            if found:
                leaks[f"{path} {extra}"] = found[:5]
    assert not leaks, leaks
    assert not failures, failures
    assert statuses.get(200, 0) > 80, statuses


def _escapable(path: str) -> bool:
    return path in (
        "/",
        "/managers",
        "/drill/deals",
        "/api/drill/deals",
        "/api/analysis/managers_kpis",
        "/api/analysis/funnel",
        "/export/drill/deals.csv",
        "/section/lights",
        "/api/story",
    )


def test_a_manager_sees_own_rows_and_the_head_sees_all(client_as: Any) -> None:
    mine = client_as("manager").get("/api/drill/deals", params={"limit": 10_000}).json()
    owners = {r["owner_id"] for r in mine["rows"]}
    assert owners == {"M05"}
    assert mine["total"] == len(mine["rows"]) > 50
    everyone = client_as("head").get("/api/drill/deals", params={"limit": 1}).json()
    assert everyone["total"] > 10 * mine["total"]
    # a filter of another manager narrows to nothing instead of widening
    other = (
        client_as("manager").get("/api/drill/deals", params={"manager": "M07"}).json()
    )
    assert other["total"] == 0
    kpis = client_as("regional").get("/api/analysis/managers_kpis").json()
    assert {r["manager_id"] for r in kpis["rows"]} <= {"M01", "M02", "M05"}
    plan = client_as("regional").get("/api/analysis/plan", params={"scope": "region"})
    assert {r["scope_id"] for r in plan.json()["rows"]} <= {"Москва", "(none)"}


def test_the_marketer_gets_no_money_per_manager(client_as: Any) -> None:
    marketer = client_as("marketer")
    listed = {a["name"] for a in marketer.get("/api/analyses").json()["analyses"]}
    assert "campaigns" in listed
    assert "leads_sources" in listed
    assert not {
        n for n in listed if n.startswith("managers_") and n != "managers_response"
    }
    assert "plan" not in listed
    assert "warnings" not in listed
    for path in (
        "/api/analysis/managers_kpis",
        "/api/analysis/plan",
        "/export/managers_credit.csv",
        "/api/drill/deals",
        "/drill/orders",
        "/managers",
        "/plan",
    ):
        assert marketer.get(path).status_code == 403, path
    assert marketer.get("/campaigns").status_code == 200
    assert marketer.get("/leads").status_code == 200
    menu = marketer.get("/").text
    assert 'data-page="campaigns"' in menu
    assert 'data-page="managers"' not in menu
