"""Fixtures of the web tests: the demo warehouse file, one user per role, signed-in clients.

The app is built once per session over the demo (seed 42, scale 1), so analyses computed
for one test are cached for the next ones of the same scope.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

with warnings.catch_warnings():
    # starlette asks for the httpx2 fork; httpx (a declared dependency) still works.
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

#: user name -> (role, scope id). Demo facts: M05 works in Москва, team Москва-2;
#: the region Москва has M01, M02 (team Москва-1) and M05.
USERS: dict[str, tuple[str, str | None]] = {
    "admin": ("admin", None),
    "head": ("head", None),
    "analyst": ("analyst", None),
    "marketer": ("marketer", None),
    "regional": ("regional", "Москва"),
    "teamlead": ("teamlead", "Москва-1"),
    "manager": ("manager", "M05"),
}


def password(username: str) -> str:
    """The test password of `username`."""
    return f"pass-{username}-1"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``browser`` marker (tests that drive Debian's chromium)."""
    config.addinivalue_line(
        "markers", "browser: drives a real chromium through Playwright (slow)"
    )


@pytest.fixture(scope="session")
def web_wh_path(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo imported into a DuckDB file (messy export included), closed again."""
    import crmlens

    path = tmp_path_factory.mktemp("web") / "demo.duckdb"
    wh = crmlens.open(path)
    wh.import_files([demo_dir])
    wh.import_files([demo_dir / "messy" / "deals_export.csv"], table="deals")
    wh.close()
    return path


@pytest.fixture(scope="session")
def users_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A users file with one user per role."""
    from crmlens.web.users import UserStore

    path = tmp_path_factory.mktemp("users") / "users.sqlite"
    store = UserStore(path)
    for name, (role, scope_id) in USERS.items():
        store.add(name, password(name), role=role, scope_id=scope_id)
    return path


@pytest.fixture(scope="session")
def app(web_wh_path: Path, users_path: Path) -> Iterator[Any]:
    """The app over the demo, shared by the session (its cache too)."""
    from crmlens.web.app import create_app

    application = create_app(str(web_wh_path), users_db=users_path, secret_key="k" * 32)
    yield application
    application.state.crmlens.service.close()


def csrf_of(client: TestClient) -> str:
    """The CSRF token the sign-in form of `client` carries."""
    page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def sign_in(client: TestClient, username: str, pw: str | None = None) -> Any:
    """Post the sign-in form; return the response (a 303 on success)."""
    return client.post(
        "/login",
        data={
            "username": username,
            "password": pw if pw is not None else password(username),
            "csrf_token": csrf_of(client),
        },
        follow_redirects=False,
    )


@pytest.fixture(scope="session")
def client_as(app: Any) -> Callable[[str], TestClient]:
    """A signed-in TestClient per user name (made once per session)."""
    clients: dict[str, TestClient] = {}

    def make(username: str) -> TestClient:
        if username not in clients:
            client = TestClient(
                app, follow_redirects=False, raise_server_exceptions=False
            )
            response = sign_in(client, username)
            assert response.status_code == 303, response.text[:500]
            clients[username] = client
        return clients[username]

    return make


@pytest.fixture
def anonymous(app: Any) -> TestClient:
    """A client without a session."""
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def fresh_app(web_wh_path: Path, tmp_path: Path) -> Iterator[Any]:
    """An app of its own (own users, limiter and cache) for tests that change state."""
    from crmlens.web.app import create_app
    from crmlens.web.users import UserStore

    store = UserStore(tmp_path / "users.sqlite")
    store.add("head", password("head"), role="head")
    store.add("manager", password("manager"), role="manager", scope_id="M05")
    application = create_app(str(web_wh_path), users_db=store.path)
    yield application
    application.state.crmlens.service.close()


def new_client(app: Any) -> TestClient:
    """A new client of `app` (no cookies)."""
    return TestClient(app, follow_redirects=False)
