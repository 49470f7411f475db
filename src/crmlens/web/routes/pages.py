"""HTML pages: the curated dashboards, the generic page of every analysis, fragments
loaded by htmx, and drill-downs. Every route needs a session (or a token)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response

from crmlens.insights.findings import rank
from crmlens.insights.registry import REGISTRY
from crmlens.web.access import can_run, pages_for
from crmlens.web.deps import View, ViewDep, current_user
from crmlens.web.filters import FILTER_KEYS, Filters
from crmlens.web.format import fmt, html_table, short_money
from crmlens.web.i18n import t
from crmlens.web.pages import PAGE_SECTIONS, Section, plan_level, sections_for
from crmlens.web.respcache import cacheable
from crmlens.web.service import Forbidden, Outcome, drill_query

router = APIRouter(
    tags=["pages"], include_in_schema=False, dependencies=[Depends(current_user)]
)


def context(view: View, **extra: Any) -> dict[str, Any]:
    """What every page template needs: user, menu, filters, language links, CSRF."""
    path, user = view.request.url.path, view.user
    query = dict(view.query)
    lang_links = {
        code: path + "?" + urlencode({**query, "lang": code}) for code in ("ru", "en")
    }
    return {
        "user": user,
        "lang": view.lang,
        "menu": pages_for(user),
        "filters": view.filters,
        "filter_query": view.filters.query(),
        "options": view.service.options(user),
        "csrf": view.state.sessions.csrf_for(view.request),
        "path": path,
        "lang_links": lang_links,
        "scope_text": str(user.scope),
        **extra,
    }


def _page(view: View, template: str, **extra: Any) -> Response:
    """`template` as a whole page (menu, filters, language links) showing `extra`."""
    return cacheable(
        view.state.templates.TemplateResponse(
            view.request, template, context(view, **extra)
        )
    )


def _part(view: View, template: str, **values: Any) -> Response:
    """`template` alone, as a block that htmx loads into a page."""
    return cacheable(
        view.state.templates.TemplateResponse(
            view.request, template, {"lang": view.lang, **values}
        )
    )


def _html(view: View, template: str, values: dict[str, Any]) -> str:
    """`template` rendered to text (for the caches of fragments and drill tables)."""
    return view.state.templates.get_template(template).render(values)


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
def overview(view: ViewDep) -> Response:
    """Plan lights, the top findings and key numbers with their trend."""
    query = urlencode({**view.filters.query(), "lang": view.lang})
    blocks = []
    if can_run(view.user, "plan"):
        blocks.append(("plan_lights", f"/section/lights?{query}"))
    blocks.append(("top_findings", f"/section/story?{query}"))
    if can_run(view.user, "customers_factors"):
        blocks.append(("key_numbers", f"/section/numbers?{query}"))
    title = t("overview", view.lang)
    return _page(view, "overview.html", page="overview", title=title, blocks=blocks)


def _curated(page: str) -> Any:
    def handler(view: ViewDep) -> Response:
        user = view.user
        sections = sections_for(user, page)
        if not sections or page not in pages_for(user):
            raise Forbidden(f"the role {user.role} cannot open the {page} page")
        urls = [(s, _section_url(s, view.filters, view.lang)) for s in sections]
        title = t(page, view.lang)
        return _page(view, "page.html", page=page, title=title, sections=urls)

    handler.__name__ = f"page_{page}"
    handler.__doc__ = f"The {page} dashboard."
    return handler


for _name in PAGE_SECTIONS:
    router.add_api_route(f"/{_name}", _curated(_name), methods=["GET"])


@router.get("/analyses")
def analyses(view: ViewDep) -> Response:
    """Every registered analysis the role may open, each with its own page."""
    items = [
        (name, a.summary)
        for name, a in sorted(REGISTRY.items())
        if can_run(view.user, name)
    ]
    title = t("analyses", view.lang)
    return _page(view, "analyses.html", page="analyses", title=title, items=items)


@router.get("/analysis/{name}")
def analysis_page(name: str, view: ViewDep) -> Response:
    """The generic page of one analysis: its parameters as a form, then its result."""
    found = view.service.analysis(view.user, name)
    specs = view.service.specs(name)
    view.service.params(
        view.user, name, view.query, view.filters
    )  # 400 before the page
    query = {k: v for k, v in view.query.items() if k != "lang"}
    fragment = f"/fragment/{name}?" + urlencode(
        {**query, "lang": view.lang, "rows": "500"}
    )
    return _page(
        view,
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
    name: str, view: ViewDep, rows: int = 30, findings: bool = True
) -> Response:
    """One analysis as an htmx fragment: chart, findings, table, exports.

    The rendered fragment is cached with the result (it depends on nothing else than
    the result, the language and the query).
    """
    outcome = view.service.run(view.user, name, view.query, view.filters)
    query = tuple(sorted(view.query.items()))

    def render() -> str:
        context = _result_context(view, name, outcome, rows)
        if not findings:
            context["findings"] = []
        return _html(view, "fragment.html", context)

    html, _ = view.service.cache.get_or_compute(
        (*outcome.key, "html", view.lang, query), render
    )
    return cacheable(HTMLResponse(html))


def _result_context(
    view: View, name: str, outcome: Outcome, rows: int
) -> dict[str, Any]:
    result, lang = outcome.result, view.lang
    own = {k: v for k, v in view.query.items() if k not in ("lang", "rows", "findings")}
    export_query = urlencode(own)
    findings = [f.to_dict() for f in rank(result.findings)]
    table = html_table(
        result.rows,
        lang=lang,
        params=result.params,
        base_query=view.filters.query(),
        limit=max(1, min(rows, 2000)),
    )
    return {
        "lang": lang,
        "name": name,
        "title": REGISTRY[name].summary,
        "table": table,
        "findings": findings,
        "chart": view.service.chart(outcome, lang),
        "export_query": export_query,
        "page_url": f"/analysis/{name}?" + urlencode({**own, "lang": lang}),
        "cached": outcome.cached,
        "seconds": outcome.seconds,
    }


@router.get("/section/story")
def story_section(view: ViewDep) -> Response:
    """The story of the user's role and scope: headline and the top items."""
    lang, filters = view.lang, view.filters
    told = view.service.story(view.user, filters, lang=lang, top=7)
    link_query = urlencode({**filters.query(), "lang": lang})
    return _part(view, "story.html", story=told, link_query=link_query)


@router.get("/section/lights")
def lights_section(view: ViewDep) -> Response:
    """The plan's traffic lights at the user's level (regions, or managers)."""
    lang, filters = view.lang, view.filters
    level = plan_level(view.user)
    outcome = view.service.run(view.user, "plan", {"scope": level}, filters)
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
    period = outcome.result.params.get("period")
    return _part(view, "lights.html", tiles=tiles, period=period)


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
def numbers_section(view: ViewDep) -> Response:
    """Key numbers of the last complete month against the month before."""
    lang = view.lang
    params = {"period": "month"}
    outcome = view.service.run(view.user, "customers_factors", params, view.filters)
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
    return _part(view, "numbers.html", cards=cards, period=period)


@router.get("/drill/{table}")
def drill_page(table: str, view: ViewDep) -> Response:
    """The base rows behind a number, in the user's scope."""
    lang, service = view.lang, view.service
    q = drill_query(table, view.query, user=view.user)
    rows, total = service.drill(view.user, q, view.filters, limit=DRILL_ROWS)
    key = ("drill-html", q.key(), str(view.user.scope), view.filters.key(), lang)

    def render() -> str:
        shown = html_table(
            rows, lang=lang, params={}, base_query={}, links=False, limit=DRILL_ROWS
        )
        return _html(view, "_table.html", {"table": shown, "lang": lang})

    table_html, _ = service.cache.get_or_compute((*key, service.version()), render)
    own = {k: v for k, v in view.query.items() if k != "lang"}
    return _page(
        view,
        "drill.html",
        page="drill",
        title=f"{t('drill', lang)}: {table}",
        table_name=table,
        table_html=table_html,
        total=total,
        criteria=q.criteria,
        export_query=urlencode(own),
    )
