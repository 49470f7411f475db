"""HTML pages: the curated dashboards, the generic page of every analysis, fragments
loaded by htmx, and drill-downs. Every route needs a session (or a token)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from crmlens.insights.findings import rank
from crmlens.insights.registry import REGISTRY
from crmlens.web.access import can_drill, can_run, pages_for
from crmlens.web.deps import CurrentUser, FiltersDep, LangDep, StateDep, current_user
from crmlens.web.drill import CRITERIA, DrillQuery
from crmlens.web.filters import FILTER_KEYS, Filters
from crmlens.web.format import fmt, html_table, short_money
from crmlens.web.i18n import t
from crmlens.web.pages import PAGE_SECTIONS, Section, plan_level, sections_for
from crmlens.web.respcache import cacheable
from crmlens.web.service import Forbidden, NotFound, Outcome
from crmlens.web.users import User

router = APIRouter(
    tags=["pages"], include_in_schema=False, dependencies=[Depends(current_user)]
)


def context(
    request: Request,
    state: StateDep,
    user: User,
    lang: str,
    filters: Filters,
    **extra: Any,
) -> dict[str, Any]:
    """What every page template needs: user, menu, filters, language links, CSRF."""
    query = dict(request.query_params)
    lang_links = {
        code: request.url.path + "?" + urlencode({**query, "lang": code})
        for code in ("ru", "en")
    }
    return {
        "user": user,
        "lang": lang,
        "menu": pages_for(user),
        "filters": filters,
        "filter_query": filters.query(),
        "options": state.service.options(user),
        "csrf": state.sessions.csrf_for(request),
        "path": request.url.path,
        "lang_links": lang_links,
        "scope_text": str(user.scope),
        **extra,
    }


def _page(
    request: Request,
    state: StateDep,
    user: User,
    lang: str,
    filters: Filters,
    template: str,
    **extra: Any,
) -> Response:
    return cacheable(
        state.templates.TemplateResponse(
            request, template, context(request, state, user, lang, filters, **extra)
        )
    )


def _section_url(section: Section, filters: Filters, lang: str) -> str:
    query = {
        **filters.query(),
        **section.params,
        "lang": lang,
        "rows": str(section.rows),
    }
    if not section.findings:
        query["findings"] = "0"
    return f"/fragment/{section.analysis}?" + urlencode(query)


@router.get("/")
def overview(
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """Plan lights, the top findings and key numbers with their trend."""
    query = urlencode({**filters.query(), "lang": lang})
    blocks = []
    if can_run(user, "plan"):
        blocks.append(("plan_lights", f"/section/lights?{query}"))
    blocks.append(("top_findings", f"/section/story?{query}"))
    if can_run(user, "customers_factors"):
        blocks.append(("key_numbers", f"/section/numbers?{query}"))
    return _page(
        request,
        state,
        user,
        lang,
        filters,
        "overview.html",
        page="overview",
        title=t("overview", lang),
        blocks=blocks,
    )


def _curated(page: str) -> Any:
    def handler(
        user: CurrentUser,
        request: Request,
        state: StateDep,
        lang: LangDep,
        filters: FiltersDep,
    ) -> Response:
        sections = sections_for(user, page)
        if not sections or page not in pages_for(user):
            raise Forbidden(f"the role {user.role} cannot open the {page} page")
        urls = [(s, _section_url(s, filters, lang)) for s in sections]
        return _page(
            request,
            state,
            user,
            lang,
            filters,
            "page.html",
            page=page,
            title=t(page, lang),
            sections=urls,
        )

    handler.__name__ = f"page_{page}"
    handler.__doc__ = f"The {page} dashboard."
    return handler


for _name in PAGE_SECTIONS:
    router.add_api_route(f"/{_name}", _curated(_name), methods=["GET"])


@router.get("/analyses")
def analyses(
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """Every registered analysis the role may open, each with its own page."""
    items = [
        (name, a.summary) for name, a in sorted(REGISTRY.items()) if can_run(user, name)
    ]
    return _page(
        request,
        state,
        user,
        lang,
        filters,
        "analyses.html",
        page="analyses",
        title=t("analyses", lang),
        items=items,
    )


@router.get("/analysis/{name}")
def analysis_page(
    name: str,
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """The generic page of one analysis: its parameters as a form, then its result."""
    found = state.service.analysis(user, name)
    specs = state.service.specs(name)
    state.service.params(
        user, name, request.query_params, filters
    )  # 400 before the page
    query = {k: v for k, v in request.query_params.items() if k != "lang"}
    fragment = f"/fragment/{name}?" + urlencode({**query, "lang": lang, "rows": "500"})
    return _page(
        request,
        state,
        user,
        lang,
        filters,
        "analysis.html",
        page="analyses",
        title=name,
        analysis=found,
        specs=specs,
        values=query,
        fragment=fragment,
        filter_keys=FILTER_KEYS,
    )


@router.get("/fragment/{name}")
def fragment(
    name: str,
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
    rows: int = 30,
    findings: bool = True,
) -> Response:
    """One analysis as an htmx fragment: chart, findings, table, exports.

    The rendered fragment is cached with the result (it depends on nothing else than
    the result, the language and the query).
    """
    outcome = state.service.run(user, name, request.query_params, filters)
    query = tuple(sorted(request.query_params.items()))

    def render() -> str:
        context = _result_context(
            state, name, outcome, request.query_params, filters, lang, rows
        )
        if not findings:
            context["findings"] = []
        return state.templates.get_template("fragment.html").render(context)

    html, _ = state.service.cache.get_or_compute(
        (*outcome.key, "html", lang, query), render
    )
    return cacheable(HTMLResponse(html))


def _result_context(
    state: StateDep,
    name: str,
    outcome: Outcome,
    query: Mapping[str, str],
    filters: Filters,
    lang: str,
    rows: int,
) -> dict[str, Any]:
    result = outcome.result
    own = {k: v for k, v in query.items() if k not in ("lang", "rows", "findings")}
    export_query = urlencode(own)
    findings = [f.to_dict() for f in rank(result.findings)]
    table = html_table(
        result.rows,
        lang=lang,
        params=result.params,
        base_query=filters.query(),
        limit=max(1, min(rows, 2000)),
    )
    return {
        "lang": lang,
        "name": name,
        "title": REGISTRY[name].summary,
        "table": table,
        "findings": findings,
        "chart": state.service.chart(outcome, lang),
        "export_query": export_query,
        "page_url": f"/analysis/{name}?" + urlencode({**own, "lang": lang}),
        "cached": outcome.cached,
        "seconds": outcome.seconds,
    }


@router.get("/section/story")
def story_section(
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """The story of the user's role and scope: headline and the top items."""
    told = state.service.story(user, filters, lang=lang, top=7)
    link_query = urlencode({**filters.query(), "lang": lang})
    return cacheable(
        state.templates.TemplateResponse(
            request,
            "story.html",
            {"lang": lang, "story": told, "link_query": link_query},
        )
    )


@router.get("/section/lights")
def lights_section(
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """The plan's traffic lights at the user's level (regions, or managers)."""
    level = plan_level(user)
    outcome = state.service.run(user, "plan", {"scope": level}, filters)
    tiles = [
        {
            "id": r.get("scope_id"),
            "light": r.get("light") or "none",
            "fact": short_money(r.get("fact_amount"), lang),
            "target": short_money(r.get("target_amount"), lang),
            "forecast": short_money(r.get("forecast_amount"), lang),
            "chance": r.get("reach_probability"),
            "href": "/drill/deals?"
            + urlencode({**filters.query(), level: r["scope_id"]})
            if r.get("scope_id") and r.get("scope_id") != "(none)"
            else None,
        }
        for r in outcome.result.rows.to_pylist()
        if r.get("target_amount") is not None
    ]
    return cacheable(
        state.templates.TemplateResponse(
            request,
            "lights.html",
            {
                "lang": lang,
                "tiles": tiles,
                "period": outcome.result.params.get("period"),
            },
        )
    )


DRILL_ROWS = 200  # rows a drill-down page shows (the export has them all)
NUMBERS = ("revenue", "clients", "orders", "average_check", "leads")


def sparkline(values: list[Any], width: int = 120, height: int = 28) -> str:
    """Points of an SVG polyline of `values` (the last twelve months of a number)."""
    numbers = [float(v) for v in values if isinstance(v, (int, float))]
    if len(numbers) < 2:
        return ""
    low, high = min(numbers), max(numbers)
    span = (high - low) or 1.0
    step = width / (len(numbers) - 1)
    return " ".join(
        f"{i * step:.1f},{height - 2 - (v - low) / span * (height - 4):.1f}"
        for i, v in enumerate(numbers)
    )


@router.get("/section/numbers")
def numbers_section(
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """Key numbers of the last complete month against the month before."""
    outcome = state.service.run(user, "customers_factors", {"period": "month"}, filters)
    rows = outcome.result.rows.to_pylist()
    as_of = str(outcome.result.params.get("as_of") or "")
    complete = [r for r in rows if not as_of.startswith(str(r.get("period")))]
    cards = []
    if len(complete) >= 2:
        last, before = complete[-1], complete[-2]
        for key in NUMBERS:
            now, prev = last.get(key), before.get(key)
            change = (now - prev) / prev if now is not None and prev else None
            money = key in ("revenue", "average_check")
            value = short_money(now, lang) if money else fmt(now or 0, "int", lang)
            trend = [r.get(key) for r in complete[-12:]]
            cards.append(
                {
                    "key": key,
                    "value": value,
                    "change": change,
                    "spark": sparkline(trend),
                }
            )
        period = (before.get("period"), last.get("period"))
    else:
        period = (None, None)
    return cacheable(
        state.templates.TemplateResponse(
            request, "numbers.html", {"lang": lang, "cards": cards, "period": period}
        )
    )


@router.get("/drill/{table}")
def drill_page(
    table: str,
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> Response:
    """The base rows behind a number, in the user's scope."""
    if table not in CRITERIA:
        raise NotFound(f"no drill-down into {table!r}")
    if not can_drill(user, table):
        raise Forbidden(f"the role {user.role} cannot open the rows of {table}")
    q = DrillQuery.parse(table, request.query_params)
    rows, total = state.service.drill(user, q, filters, limit=DRILL_ROWS)
    key = ("drill-html", q.key(), str(user.scope), filters.key(), lang)

    def render() -> str:
        view = html_table(
            rows, lang=lang, params={}, base_query={}, links=False, limit=DRILL_ROWS
        )
        context = {"table": view, "lang": lang}
        return state.templates.get_template("_table.html").render(context)

    table_html, _ = state.service.cache.get_or_compute(
        (*key, state.service.version()), render
    )
    own = {k: v for k, v in request.query_params.items() if k != "lang"}
    return _page(
        request,
        state,
        user,
        lang,
        filters,
        "drill.html",
        page="drill",
        title=f"{t('drill', lang)}: {table}",
        table_name=table,
        table_html=table_html,
        total=total,
        criteria=q.criteria,
        export_query=urlencode(own),
    )
