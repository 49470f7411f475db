"""The web app: ``create_app(warehouse_url)`` builds one FastAPI application.

It serves role dashboards (Jinja2 + htmx + Plotly, every asset from ``/static``), a JSON
API under ``/api/`` with its OpenAPI schema at ``/openapi.json``, exports and drill-downs.
Every route but sign-in and the static files needs a session or an API token; pages
redirect to ``/login``, the API answers 401. Errors have one JSON shape in the API
(``{"ok": false, "error", "errors", "status"}``) and one HTML page elsewhere.
"""

from __future__ import annotations

import logging
import os
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from crmlens.errors import CrmlensError
from crmlens.web.auth import LoginLimiter, Sessions
from crmlens.web.deps import AppState, LoginRequired
from crmlens.web.i18n import LANGS, pick_lang, t
from crmlens.web.respcache import ResponseCache
from crmlens.web.service import WebService
from crmlens.web.users import UserStore, default_users_path

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping

    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("crmlens.web")
HERE = Path(__file__).resolve().parent
#: Content-Security-Policy: scripts only from /static; Plotly and htmx set inline styles.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def plotly_js() -> Path:
    """plotly.min.js of the installed plotly package (served, never copied)."""
    return Path(str(files("plotly") / "package_data" / "plotly.min.js"))


def create_app(
    warehouse_url: str,
    *,
    secret_key: str | None = None,
    users_db: str | os.PathLike[str] | None = None,
    secure_cookies: bool = False,
    cache_size: int = 256,
    workers: int = 2,
    login_attempts: int = 5,
) -> FastAPI:
    """The crmlens web app over the warehouse at `warehouse_url`.

    Parameters
    ----------
    warehouse_url
        The warehouse (a ``.duckdb`` path, ``spark://local?path=DIR`` …).
    secret_key
        Signs session cookies; by default ``$CRMLENS_SECRET_KEY`` or a key kept in the
        users file (so sessions survive restarts).
    users_db
        The users file; by default beside the warehouse (``<warehouse>.users.sqlite``).
    secure_cookies
        Send cookies only over HTTPS (set it behind a TLS proxy).
    cache_size
        Analysis results kept in memory (0 turns the cache off).
    workers
        Analyses computed at the same time.
    login_attempts
        Failed sign-ins a minute per address and user name before 429.
    """
    users = UserStore(Path(users_db) if users_db else default_users_path(warehouse_url))
    key = secret_key or os.environ.get("CRMLENS_SECRET_KEY") or users.secret_key()
    service = WebService(warehouse_url, cache_size=cache_size, workers=workers)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(t=t, LANGS=LANGS)
    state = AppState(
        service=service,
        users=users,
        sessions=Sessions(key, users, secure=secure_cookies),
        limiter=LoginLimiter(per_user=login_attempts),
        templates=templates,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # Page and API threads only wait on the analysis pool; give them room.
        anyio.to_thread.current_default_thread_limiter().total_tokens = 100
        yield
        service.close()

    app = FastAPI(
        title="crmlens",
        summary="Analytics of a B2B sales department: the JSON API of crmlens serve.",
        version=_version(),
        docs_url=None,  # Swagger UI and ReDoc load their assets from a CDN
        redoc_url=None,
        openapi_url=None,  # served by routes/api.py, behind sign-in
        lifespan=lifespan,
    )
    app.state.crmlens = state
    _routes(app)
    _handlers(app)
    app.add_middleware(ResponseCache, state=state)  # inside SecurityHeaders
    app.add_middleware(SecurityHeaders)
    return app


def _version() -> str:
    from crmlens import __version__

    return str(__version__)


def _routes(app: FastAPI) -> None:
    from crmlens.web.routes import api, auth, exports, pages

    plotly = plotly_js()

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_bundle() -> FileResponse:
        return FileResponse(
            plotly,
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(auth.router)
    app.include_router(api.router)
    app.include_router(api.schema_router)
    app.include_router(exports.router)
    app.include_router(pages.router)


def is_api(request: Request) -> bool:
    """True for the JSON API (and its schema)."""
    path = request.url.path
    return path.startswith("/api/") or path == "/openapi.json"


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(CrmlensError)
    async def crmlens_error(request: Request, exc: CrmlensError) -> Response:
        if isinstance(exc, LoginRequired):
            return login_required(request, exc)
        return error_response(request, exc.status, exc.message, exc.errors)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        ]
        return error_response(request, 400, "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = str(exc.detail)
        return error_response(request, exc.status_code, message, [message], exc.headers)

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s", request.url.path)
        message = f"internal error: {type(exc).__name__}"
        return error_response(request, 500, message, [message])


def login_required(request: Request, exc: CrmlensError) -> Response:
    """401 for the API and htmx, a redirect to the sign-in page for a page."""
    if is_api(request):
        return JSONResponse(
            exc.envelope(), status_code=401, headers={"WWW-Authenticate": "Bearer"}
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = "/login?" + _next_query(target)
    if request.headers.get("hx-request"):
        return HTMLResponse("", status_code=401, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _next_query(target: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": target})


def error_response(
    request: Request,
    status: int,
    message: str,
    errors: list[str],
    headers: Mapping[str, str] | None = None,
) -> Response:
    """The error envelope (API) or an error page / fragment (HTML)."""
    body = {"ok": False, "error": message, "errors": errors, "status": status}
    if is_api(request):
        return JSONResponse(body, status_code=status, headers=headers)
    state: AppState = request.app.state.crmlens
    lang = pick_lang(request.query_params, request.cookies)
    template = (
        "error_fragment.html" if request.headers.get("hx-request") else "error.html"
    )
    context: dict[str, Any] = {
        "lang": lang,
        "status": status,
        "message": message,
        "errors": errors,
        "user": getattr(request.state, "user", None),
    }
    return state.templates.TemplateResponse(
        request, template, context, status_code=status, headers=headers
    )


class SecurityHeaders:
    """Security headers on every response; ``?lang=`` is remembered in a cookie.

    A plain ASGI middleware (no per-request task or body buffering).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        wanted = (query.get("lang") or [None])[-1]
        cookie = _cookie(scope, "lang")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in (
                    ("Content-Security-Policy", CSP),
                    ("X-Content-Type-Options", "nosniff"),
                    ("X-Frame-Options", "DENY"),
                    ("Referrer-Policy", "same-origin"),
                ):
                    headers.setdefault(key, value)
                if not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
                if wanted in LANGS and cookie != wanted:
                    headers.append(
                        "Set-Cookie",
                        f"lang={wanted}; Max-Age={365 * 86400}; Path=/; "
                        "SameSite=lax; HttpOnly",
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie(scope: Scope, name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            for part in value.decode("latin-1").split(";"):
                k, _, v = part.strip().partition("=")
                if k == name:
                    return v
    return None
