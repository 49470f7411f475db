"""Users, roles and API tokens of the web app, kept in a small SQLite file.

Passwords are hashed with argon2 (argon2-cffi's defaults); API tokens are random secrets
shown once and stored as SHA-256 digests (a token is 256 random bits, so a slow hash adds
nothing but latency to every API call). The file lives beside the warehouse by default
(``crmlens.duckdb`` → ``crmlens.duckdb.users.sqlite``) and also keeps the key that signs
session cookies, so sessions survive a restart.

Roles (DESIGN.md, "Row-level scope"): ``admin`` and ``head`` see the company, ``analyst``
everything read-only, ``marketer`` campaigns and leads, ``regional`` one region,
``teamlead`` one team and ``manager`` their own clients, deals and leads.

>>> import tempfile, pathlib
>>> store = UserStore(pathlib.Path(tempfile.mkdtemp()) / "users.sqlite")
>>> store.add("olga", "correct horse", role="manager", scope_id="M02").scope
Scope(kind='manager', id='M02')
>>> store.verify("olga", "correct horse").role, store.verify("olga", "wrong")
('manager', None)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from crmlens.errors import InputError
from crmlens.warehouse.scope import Scope

if TYPE_CHECKING:
    from argon2 import PasswordHasher

ROLES: tuple[str, ...] = (
    "admin",
    "head",
    "analyst",
    "marketer",
    "regional",
    "teamlead",
    "manager",
)
#: The scope kind each role is bound to (None: the whole company).
ROLE_SCOPE: dict[str, str | None] = {
    "admin": None,
    "head": None,
    "analyst": None,
    "marketer": None,
    "regional": "region",
    "teamlead": "team",
    "manager": "manager",
}
MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_TOKEN = re.compile(r"^crl_([0-9a-f]{12})_([A-Za-z0-9_-]{20,100})$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    scope_id TEXT,
    created_at TEXT NOT NULL,
    session_epoch INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    username TEXT NOT NULL REFERENCES users(username) ON DELETE CASCADE,
    token_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class User:
    """A signed-in person: name, role, the id of their region/team/manager."""

    username: str
    role: str
    scope_id: str | None = None
    session_epoch: int = 0
    created_at: str = ""

    @property
    def scope(self) -> Scope:
        """The rows this user may see."""
        kind = ROLE_SCOPE[self.role]
        return Scope.company() if kind is None else Scope(kind, self.scope_id)


def default_users_path(warehouse_url: str | None) -> Path:
    """Where the users file of `warehouse_url` lives by default."""
    from crmlens.warehouse import parse_url

    url = parse_url(warehouse_url)
    if url.backend == "duckdb" and url.path is not None and str(url.path) != ":memory:":
        return url.path.with_name(url.path.name + ".users.sqlite")
    if url.backend == "spark" and url.path is not None:
        return url.path / "users.sqlite"
    return Path("crmlens.users.sqlite")


def check_role(role: str, scope_id: str | None) -> None:
    """Raise InputError unless `role` is known and has the scope id it needs."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}", reason="use " + ", ".join(ROLES))
    kind = ROLE_SCOPE[role]
    if kind is not None and not scope_id:
        example = {"region": "Урал", "team": "Москва-1", "manager": "M05"}[kind]
        raise InputError(
            f"role {role} needs --scope with the {kind}",
            reason=f"e.g. --scope {example}",
        )
    if kind is None and scope_id:
        raise InputError(f"role {role} sees the whole company; drop --scope {scope_id}")


class UserStore:
    """The SQLite file of users and tokens."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self._db() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (kept: every request reads the users file)."""
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = sqlite3.connect(self.path, timeout=10)
            con.execute("PRAGMA foreign_keys = ON")
            self._local.con = con
        with con:
            yield con

    # users -------------------------------------------------------------------------
    def add(
        self, username: str, password: str, *, role: str, scope_id: str | None = None
    ) -> User:
        """Create a user (InputError when the name is taken or a value is bad)."""
        _check_username(username)
        _check_password(password)
        check_role(role, scope_id)
        now = _now()
        try:
            with self._db() as db:
                db.execute(
                    "INSERT INTO users (username, password_hash, role, scope_id, "
                    "created_at) VALUES (?, ?, ?, ?, ?)",
                    (username, _hasher().hash(password), role, scope_id, now),
                )
        except sqlite3.IntegrityError as e:
            raise InputError(f"user {username!r} already exists") from e
        return User(username, role, scope_id, 0, now)

    def get(self, username: str) -> User | None:
        """The user called `username`, or None."""
        with self._db() as db:
            row = db.execute(
                "SELECT username, role, scope_id, session_epoch, created_at "
                "FROM users WHERE username = ?",
                (username,),
            ).fetchone()
        return User(*row) if row else None

    def all(self) -> list[User]:
        """Every user, by name."""
        with self._db() as db:
            rows = db.execute(
                "SELECT username, role, scope_id, session_epoch, created_at "
                "FROM users ORDER BY username"
            ).fetchall()
        return [User(*r) for r in rows]

    def remove(self, username: str) -> None:
        """Delete a user and their tokens."""
        with self._db() as db:
            gone = db.execute("DELETE FROM users WHERE username = ?", (username,))
        if gone.rowcount == 0:
            raise InputError(f"no user {username!r}")

    def set_password(self, username: str, password: str) -> None:
        """Change the password; the user's open sessions end."""
        _check_password(password)
        with self._db() as db:
            changed = db.execute(
                "UPDATE users SET password_hash = ?, session_epoch = session_epoch + 1 "
                "WHERE username = ?",
                (_hasher().hash(password), username),
            )
        if changed.rowcount == 0:
            raise InputError(f"no user {username!r}")

    def verify(self, username: str, password: str) -> User | None:
        """The user when the password is right, else None (same work either way)."""
        from argon2.exceptions import InvalidHashError, VerificationError

        with self._db() as db:
            row = db.execute(
                "SELECT password_hash FROM users WHERE username = ?", (username,)
            ).fetchone()
        stored = row[0] if row else _dummy_hash()
        try:
            _hasher().verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        return self.get(username) if row else None

    # tokens ------------------------------------------------------------------------
    def new_token(self, username: str) -> str:
        """A new API token for `username` (shown once; only its digest is kept)."""
        if self.get(username) is None:
            raise InputError(f"no user {username!r}")
        token_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        with self._db() as db:
            db.execute(
                "INSERT INTO tokens (token_id, username, token_hash, created_at) "
                "VALUES (?, ?, ?, ?)",
                (token_id, username, _digest(secret), _now()),
            )
        return f"crl_{token_id}_{secret}"

    def verify_token(self, token: str) -> User | None:
        """The owner of `token`, or None."""
        match = _TOKEN.match(token.strip())
        if not match:
            return None
        token_id, secret = match.groups()
        with self._db() as db:
            row = db.execute(
                "SELECT username, token_hash FROM tokens WHERE token_id = ?",
                (token_id,),
            ).fetchone()
        if row is None or not hmac.compare_digest(row[1], _digest(secret)):
            return None
        return self.get(row[0])

    def tokens(self, username: str) -> int:
        """How many tokens `username` has."""
        with self._db() as db:
            (n,) = db.execute(
                "SELECT count(*) FROM tokens WHERE username = ?", (username,)
            ).fetchone()
        return int(n)

    # the session key -----------------------------------------------------------------
    def secret_key(self) -> str:
        """The key that signs session cookies (made once, kept in the file)."""
        with self._db() as db:
            db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('secret_key', ?)",
                (secrets.token_urlsafe(48),),
            )
            (key,) = db.execute(
                "SELECT value FROM meta WHERE key = 'secret_key'"
            ).fetchone()
        return str(key)


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise InputError(
            f"user name {username!r} is not allowed",
            reason="use 1-64 Latin letters, digits, _ . @ -",
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InputError(
            "the password is too short",
            reason=f"use at least {MIN_PASSWORD} characters",
        )


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


_HASHER: list[PasswordHasher] = []
_DUMMY: list[str] = []


def _hasher() -> PasswordHasher:
    """One argon2 PasswordHasher (imported lazily: the CLI starts without it)."""
    if not _HASHER:
        from argon2 import PasswordHasher

        _HASHER.append(PasswordHasher())
    return _HASHER[0]


def _dummy_hash() -> str:
    """A hash to verify against when the user is unknown (no timing hint)."""
    if not _DUMMY:
        _DUMMY.append(_hasher().hash(secrets.token_urlsafe(16)))
    return _DUMMY[0]
