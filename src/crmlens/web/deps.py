"""Dependencies of the routes: the app's state, the signed-in user, language, filters.

They are coroutines (none waits on anything slow: the users file is a local SQLite
look-up), so FastAPI runs them on the event loop instead of handing each one to a thread.

Pages send a visitor without a session to the sign-in page; the API answers 401 with the
one error envelope. Both accept a session cookie or an ``Authorization: Bearer`` token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from crmlens.errors import CrmlensError
from crmlens.web.auth import bearer_user
from crmlens.web.filters import Filters
from crmlens.web.i18n import pick_lang
from crmlens.web.users import User

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates
    from starlette.datastructures import QueryParams

    from crmlens.web.auth import LoginLimiter, Sessions
    from crmlens.web.service import WebService
    from crmlens.web.users import UserStore


@dataclass
class AppState:
    """Everything one app holds."""

    service: WebService
    users: UserStore
    sessions: Sessions
    limiter: LoginLimiter
    templates: Jinja2Templates


class LoginRequired(CrmlensError):
    """No valid session or token: pages redirect to sign-in, the API answers 401."""

    status = 401


async def get_state(request: Request) -> AppState:
    """The :class:`AppState` of the app serving `request`."""
    state: AppState = request.app.state.crmlens
    return state


StateDep = Annotated[AppState, Depends(get_state)]


async def optional_user(request: Request, state: StateDep) -> User | None:
    """The user of the request's token or session, or None."""
    cached: User | None = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    user = bearer_user(request, state.users)
    if user is None:
        session = state.sessions.read(request)
        user = session.user if session is not None else None
    request.state.user = user
    return user


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    """The signed-in user; :class:`LoginRequired` otherwise."""
    if user is None:
        raise LoginRequired("sign in, or send an API token (Authorization: Bearer …)")
    return user


async def get_lang(request: Request) -> str:
    """``ru`` or ``en`` from ``?lang=``, the cookie, or the default."""
    return pick_lang(request.query_params, request.cookies)


async def get_filters(request: Request) -> Filters:
    """The page's filters from the query string (a 400 when one is bad)."""
    return Filters.parse(request.query_params)


CurrentUser = Annotated[User, Depends(current_user)]
LangDep = Annotated[str, Depends(get_lang)]
FiltersDep = Annotated[Filters, Depends(get_filters)]


@dataclass(frozen=True)
class View:
    """One signed-in request to a page, fragment or download, with what it is read with:
    the app's state, the user, the language and the filters."""

    request: Request
    state: AppState
    user: User
    lang: str
    filters: Filters

    @property
    def service(self) -> WebService:
        """The app's analyses, drill-downs and caches."""
        return self.state.service

    @property
    def query(self) -> QueryParams:
        """The request's query parameters."""
        return self.request.query_params


async def get_view(
    user: CurrentUser,
    request: Request,
    state: StateDep,
    lang: LangDep,
    filters: FiltersDep,
) -> View:
    """The :class:`View` of `request` (sign-in, language and filters as their own
    dependencies, so the query parameters and errors are theirs)."""
    return View(request, state, user, lang, filters)


ViewDep = Annotated[View, Depends(get_view)]
