"""The final bytes of pages, fragments and API answers, cached per user and request.

A route opts in with :func:`cacheable` (a response header this middleware strips). A
GET whose user, query, language and warehouse version match an earlier 200 answer gets
those bytes straight from memory, before FastAPI's routing, dependencies and thread pool:
the cached path of ``crmlens serve`` costs a dictionary look-up after sign-in.

The key holds everything the bytes depend on:

- the path and the whole query string (filters, parameters, ``rows``, ``lang`` …);
- the language actually used (``?lang=`` or the ``lang`` cookie);
- the user: name, role, scope id and session epoch — so a manager never gets bytes made
  for another user, let alone another scope, and a changed password or role misses;
- the session's CSRF token (pages carry it in their forms);
- the warehouse version, so an import makes every older entry miss.

Sign-in is checked on every request, hit or not: a removed user, a revoked token or an
ended session falls through to the app, which answers 401 or redirects. Only 200
answers without ``Set-Cookie`` are kept, bounded by count and bytes (LRU);
``--cache-size 0`` turns this cache off with the analysis cache.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import anyio.to_thread
from starlette.requests import Request

from crmlens.web.auth import CSRF_COOKIE, SESSION_COOKIE, bearer_user
from crmlens.web.cache import ResultCache
from crmlens.web.i18n import pick_lang

if TYPE_CHECKING:
    from starlette.responses import Response
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from crmlens.web.deps import AppState
    from crmlens.web.users import User

MARK = "x-crmlens-cacheable"
_MARK = MARK.encode()
#: Whether an answer came from this cache (hit) or was made now (miss).
STATUS = b"x-crmlens-cache"


def cacheable(response: Response) -> Response:
    """Mark `response` as safe to replay to the same user for the same request."""
    response.headers[MARK] = "1"
    return response


class ResponseCache:
    """ASGI middleware replaying cached 200 answers (see the module docstring)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        state: AppState,
        maxsize: int = 2048,
        max_bytes: int = 256 * 2**20,
    ) -> None:
        self.app = app
        self.state = state
        enabled = state.service.cache.maxsize > 0
        self.store = ResultCache(maxsize if enabled else 0, max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or self.store.maxsize <= 0
            or scope["path"].startswith("/static/")
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        user, csrf = self._identity(request)
        if user is None:  # not signed in: the app redirects or answers 401
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = (
            user  # the app need not look it up again
        )
        who = (user.username, user.role, user.scope_id, user.session_epoch, csrf)
        query = tuple(sorted(parse_qsl(scope["query_string"].decode("latin-1"), True)))
        lang = pick_lang(request.query_params, request.cookies)
        service = self.state.service
        version = service.fresh_version()
        if version is None:  # re-read the version (a query) off the event loop
            version = await anyio.to_thread.run_sync(service.version)
        key = (scope["path"], query, lang, who, version)
        hit = self.store.peek(key)
        if hit is not None:
            headers, body = hit
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [*headers, (STATUS, b"hit")],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self._miss(scope, receive, send, key)

    async def _miss(
        self, scope: Scope, receive: Receive, send: Send, key: tuple[Any, ...]
    ) -> None:
        start: Message | None = None
        keep = False
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start, keep
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != _MARK]
                keep = (
                    message["status"] == 200
                    and len(headers) != len(message.get("headers", []))
                    and not any(k == b"set-cookie" for k, _ in headers)
                )
                start = {**message, "headers": [*headers, (STATUS, b"miss")]}
                message = start
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False) and start is not None:
                    self._put(key, start, b"".join(chunks))
            await send(message)

        await self.app(scope, receive, capture)

    def _put(self, key: tuple[Any, ...], start: Message, body: bytes) -> None:
        if self.state.service.fresh_version(math.inf) != key[-1]:
            return  # the warehouse changed while this answer was made
        headers = [(k, v) for k, v in start["headers"] if k != STATUS]
        self.store.put(key, (headers, body), len(body))

    def _identity(self, request: Request) -> tuple[User | None, str]:
        """The user as :func:`crmlens.web.deps.optional_user` finds them, and the
        CSRF token pages of this request carry (the session's, or the cookie's)."""
        sessions = self.state.sessions
        session = sessions.read(request) if SESSION_COOKIE in request.cookies else None
        user = bearer_user(request, self.state.users)
        if user is None and session is not None:
            user = session.user
        if session is not None:
            return user, session.csrf
        return user, request.cookies.get(CSRF_COOKIE, "")
