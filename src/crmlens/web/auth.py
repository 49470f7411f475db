"""Sign-in: signed session cookies, CSRF tokens, API tokens and login rate limiting.

- The session cookie is ``{"u": user, "e": epoch, "c": csrf}`` signed with itsdangerous
  (HttpOnly, SameSite=Lax, Secure when configured, 12 hours). Changing a password bumps the
  user's epoch, which ends their open sessions; removing the user ends them too.
- CSRF: every form carries ``csrf_token``; a POST is refused (403) unless it equals the
  session's token, or before sign-in the ``crmlens_csrf`` cookie's (double submit).
- Scripts send ``Authorization: Bearer crl_…`` (``crmlens users token NAME``); no cookie,
  so no CSRF.
- Sign-in attempts are limited per client address and user name (5 failures a minute),
  and per address (30 a minute) against guessing across names: then 429.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from crmlens.web.users import User, UserStore

SESSION_COOKIE = "crmlens_session"
CSRF_COOKIE = "crmlens_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


@dataclass(frozen=True)
class Session:
    """A valid session: its user and CSRF token."""

    user: User
    csrf: str


class Sessions:
    """Makes and reads signed session cookies."""

    def __init__(
        self, secret_key: str, users: UserStore, *, secure: bool, hours: float = 12
    ) -> None:
        self.users = users
        self.secure = secure
        self.max_age = int(hours * 3600)
        self._signer = URLSafeTimedSerializer(secret_key, salt="crmlens-session")

    def issue(self, response: Response, user: User) -> str:
        """Set a new session cookie for `user`; return its CSRF token."""
        csrf = secrets.token_urlsafe(24)
        value = self._signer.dumps(
            {"u": user.username, "e": user.session_epoch, "c": csrf}
        )
        response.set_cookie(SESSION_COOKIE, value, **self._cookie(self.max_age))
        response.set_cookie(CSRF_COOKIE, csrf, **self._cookie(self.max_age))
        return csrf

    def clear(self, response: Response) -> None:
        """Drop the session cookie."""
        response.delete_cookie(SESSION_COOKIE, path="/")

    def read(self, request: Request) -> Session | None:
        """The session of `request`, or None (absent, forged, expired or ended)."""
        raw = request.cookies.get(SESSION_COOKIE)
        if not raw:
            return None
        try:
            data = self._signer.loads(raw, max_age=self.max_age)
        except BadSignature:
            return None
        if not isinstance(data, dict):
            return None
        user = self.users.get(str(data.get("u", "")))
        if user is None or user.session_epoch != data.get("e"):
            return None
        return Session(user, str(data.get("c", "")))

    def _cookie(self, max_age: int) -> dict[str, Any]:
        return {
            "max_age": max_age,
            "httponly": True,
            "samesite": "lax",
            "secure": self.secure,
            "path": "/",
        }

    def csrf_for(self, request: Request) -> str:
        """The CSRF token a form of `request` must carry (a new one before sign-in)."""
        session = self.read(request)
        if session is not None:
            return session.csrf
        return request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)

    def set_csrf(self, response: Response, token: str) -> None:
        """Remember a pre-sign-in CSRF token in its cookie."""
        response.set_cookie(CSRF_COOKIE, token, **self._cookie(self.max_age))

    def csrf_ok(self, request: Request, submitted: str | None) -> bool:
        """True when `submitted` is this request's CSRF token."""
        if not submitted:
            return False
        session = self.read(request)
        expected = (
            session.csrf if session is not None else request.cookies.get(CSRF_COOKIE)
        )
        return bool(expected) and hmac.compare_digest(str(expected), str(submitted))


def bearer_user(request: Request, users: UserStore) -> User | None:
    """The owner of the request's ``Authorization: Bearer`` token, or None."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return users.verify_token(token)


class LoginLimiter:
    """Failed sign-ins per (address, user name) and per address in a sliding window."""

    def __init__(
        self, per_user: int = 5, per_address: int = 30, window: float = 60.0
    ) -> None:
        self.per_user = per_user
        self.per_address = per_address
        self.window = window
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, address: str, username: str) -> bool:
        """True when this address (for this name, or at all) failed too often."""
        now = time.monotonic()
        with self._lock:
            mine = self._recent((address, username.lower()), now)
            everyone = self._recent((address, "*"), now)
            return mine >= self.per_user or everyone >= self.per_address

    def failed(self, address: str, username: str) -> None:
        """Count one failed sign-in."""
        now = time.monotonic()
        with self._lock:
            self._failures[(address, username.lower())].append(now)
            self._failures[(address, "*")].append(now)

    def succeeded(self, address: str, username: str) -> None:
        """Forget this name's failures from this address."""
        with self._lock:
            self._failures.pop((address, username.lower()), None)

    def _recent(self, key: tuple[str, str], now: float) -> int:
        times = self._failures.get(key)
        if not times:
            return 0
        while times and now - times[0] > self.window:
            times.popleft()
        if not times:
            del self._failures[key]
            return 0
        return len(times)
