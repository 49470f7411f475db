"""Every route of the app as concrete requests, read from ``app.routes``.

A route added later is enumerated without changing the tests; a path parameter this
module cannot fill fails loudly, so nobody forgets to teach it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount

#: Routes anyone may call: the sign-in form and its post, and the static files (Plotly's
#: bundle has its own route; the rest are the /static mount).
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/static/plotly.min.js")}
PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def is_api(path: str) -> bool:
    """API routes answer 401 (JSON); pages redirect to the sign-in."""
    return path.startswith("/api/") or path == "/openapi.json"


def routes(app: Any) -> Iterator[tuple[str, str, list[str]]]:
    """(method, path template, path parameter names) of every route but the static mount.

    FastAPI keeps included routers as branches of ``app.routes``; ``iter_route_contexts``
    walks them to the routes as served (prefixes applied).
    """
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, Mount) or route.path is None:
            continue
        for method in sorted(route.methods or {"GET"}):
            if method != "HEAD":
                yield method, route.path, PARAM.findall(route.path)


def expand(
    path: str, params: list[str], choices: dict[str, list[str]]
) -> Iterator[str]:
    """Every concrete path of `path` with its parameters taken from `choices`."""
    if not params:
        yield path
        return
    first, rest = params[0], params[1:]
    if first not in choices:
        raise AssertionError(f"the route enumeration cannot fill {{{first}}} in {path}")
    for value in choices[first]:
        yield from expand(fill_one(path, first, value), rest, choices)


def fill_one(path: str, name: str, value: str) -> str:
    """`path` with ``{name}`` replaced by `value`."""
    return re.sub(r"{" + name + r"(?::\w+)?}", value, path)
