"""Sign-in and sign-out (forms with a CSRF token; failed sign-ins are rate limited)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from crmlens.web.auth import CSRF_COOKIE, CSRF_FIELD
from crmlens.web.deps import LangDep, StateDep
from crmlens.web.i18n import t
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


def _refused(
    request: Request,
    state: StateDep,
    lang: str,
    *,
    next: str,
    username: str,
    error: str,
    status: int,
) -> Response:
    """The form again, with the message `error` (a key of the UI catalogue)."""
    message = t(error, lang)
    return _form(
        request, state, lang, next=next, error=message, status=status, username=username
    )


def _check_csrf(request: Request, state: StateDep, token: str) -> None:
    """Forbidden unless `token` is the CSRF token this browser was given."""
    if not state.sessions.csrf_ok(request, token):
        raise Forbidden("the form has expired or did not come from this site (CSRF)")


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
    _check_csrf(request, state, csrf_token)
    address = request.client.host if request.client else "unknown"
    sent = {"next": next, "username": username}
    if state.limiter.blocked(address, username):
        response = _refused(request, state, lang, **sent, error="too_many", status=429)
        response.headers["Retry-After"] = str(int(state.limiter.window))
        return response
    user = state.users.verify(username, password)
    if user is None:
        state.limiter.failed(address, username)
        return _refused(request, state, lang, **sent, error="bad_login", status=401)
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
    _check_csrf(request, state, csrf_token)
    response = RedirectResponse("/login", status_code=303)
    state.sessions.clear(response)
    return response
