"""Sign-in and sign-out (forms with a CSRF token; failed sign-ins are rate limited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from crmlens.web.auth import CSRF_COOKIE, CSRF_FIELD
from crmlens.web.deps import LangDep, StateDep
from crmlens.web.service import Forbidden

router = APIRouter(tags=["sign-in"], include_in_schema=False)


def safe_next(target: str | None) -> str:
    """A local path to go to after sign-in (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    if "\\" in target or "\n" in target or "\r" in target:
        return "/"
    return target


@router.get("/login")
def login_page(
    request: Request, state: StateDep, lang: LangDep, next: str = "/"
) -> Response:
    """The sign-in form."""
    return _form(request, state, lang, next=next)


def _form(
    request: Request,
    state: StateDep,
    lang: str,
    *,
    next: str,
    error: str | None = None,
    status: int = 200,
    username: str = "",
) -> Response:
    csrf = state.sessions.csrf_for(request)
    page = state.templates.TemplateResponse(
        request,
        "login.html",
        {
            "lang": lang,
            "csrf": csrf,
            "next": safe_next(next),
            "error": error,
            "username": username,
            "user": None,
        },
        status_code=status,
    )
    if request.cookies.get(CSRF_COOKIE) != csrf:
        state.sessions.set_csrf(page, csrf)
    return page


@router.post("/login")
def login(
    request: Request,
    state: StateDep,
    lang: LangDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the CSRF token, the rate limit and the password; start a session."""
    if not state.sessions.csrf_ok(request, csrf_token):
        raise Forbidden("the form has expired or did not come from this site (CSRF)")
    address = request.client.host if request.client else "unknown"
    if state.limiter.blocked(address, username):
        from crmlens.web.i18n import t

        response = _form(
            request,
            state,
            lang,
            next=next,
            error=t("too_many", lang),
            status=429,
            username=username,
        )
        response.headers["Retry-After"] = str(int(state.limiter.window))
        return response
    user = state.users.verify(username, password)
    if user is None:
        from crmlens.web.i18n import t

        state.limiter.failed(address, username)
        return _form(
            request,
            state,
            lang,
            next=next,
            error=t("bad_login", lang),
            status=401,
            username=username,
        )
    state.limiter.succeeded(address, username)
    response = RedirectResponse(safe_next(next), status_code=303)
    state.sessions.issue(response, user)
    return response


@router.post("/logout")
def logout(
    request: Request,
    state: StateDep,
    csrf_token: Annotated[str, Form(alias=CSRF_FIELD, max_length=200)] = "",
) -> Response:
    """End the session (the form carries the CSRF token)."""
    if state.sessions.read(request) is None:
        return RedirectResponse("/login", status_code=303)
    if not state.sessions.csrf_ok(request, csrf_token):
        raise Forbidden("the form has expired or did not come from this site (CSRF)")
    response = RedirectResponse("/login", status_code=303)
    state.sessions.clear(response)
    return response
