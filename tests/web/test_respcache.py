"""The cache of final response bytes: replayed only to the same user, for the same request,
language and warehouse version; sign-in is checked on every hit."""

from __future__ import annotations

import re
from typing import Any

from tests.web.conftest import new_client, password, sign_in

from crmlens.web.cache import ResultCache

#: Cacheable routes of the dashboards (pages, fragments, sections, the API).
URLS = [
    "/",
    "/funnel",
    "/managers",
    "/section/lights",
    "/section/numbers",
    "/fragment/managers_kpis?rows=30",
    "/api/analysis/managers_kpis",
    "/api/analysis/funnel",
    "/api/drill/deals?status=won",
    "/drill/deals?status=won",
]
MANAGER_ID = re.compile(r"(?<![\w-])M\d{2}(?![\w-])")


def _bearer(app: Any, username: str) -> dict[str, str]:
    token = app.state.crmlens.users.new_token(username)
    return {"Authorization": f"Bearer {token}"}


def test_peek_and_put() -> None:
    cache = ResultCache(maxsize=2, max_bytes=10)
    assert cache.peek("a") is None
    cache.put("a", "x", 4)
    cache.put("b", "y", 4)
    assert cache.peek("a") == "x"  # a is now the newest
    cache.put("c", "z", 4)  # over 10 bytes: b, the least recently used, goes
    assert cache.peek("b") is None
    assert (cache.peek("a"), cache.peek("c")) == ("x", "z")
    cache.put("a", "xx", 2)  # replacing an entry counts its bytes once
    assert cache.stats()["bytes"] == 6
    off = ResultCache(maxsize=0)
    off.put("a", "x", 1)
    assert off.peek("a") is None


def test_a_second_request_is_replayed_byte_for_byte(fresh_app: Any) -> None:
    client = new_client(fresh_app)
    headers = _bearer(fresh_app, "head")
    for url in URLS:
        first = client.get(url, headers=headers)
        assert first.status_code == 200, (url, first.text[:300])
        assert first.headers["x-crmlens-cache"] == "miss"
        assert "x-crmlens-cacheable" not in first.headers
        again = client.get(url, headers=headers)
        assert again.headers["x-crmlens-cache"] == "hit", url
        assert again.content == first.content
        # security headers are added to replayed answers too
        assert again.headers["x-frame-options"] == "DENY"
        assert again.headers["cache-control"] == "no-store"
    # another language is another entry
    english = client.get("/funnel?lang=en", headers=headers)
    assert english.headers["x-crmlens-cache"] == "miss"
    assert english.content != client.get("/funnel", headers=headers).content


def test_a_manager_never_gets_bytes_cached_for_another_scope(fresh_app: Any) -> None:
    client = new_client(fresh_app)
    head = _bearer(fresh_app, "head")
    manager = _bearer(fresh_app, "manager")
    for url in URLS:
        client.get(url, headers=head)
        assert client.get(url, headers=head).headers["x-crmlens-cache"] == "hit"
        mine = client.get(url, headers=manager)
        assert mine.status_code == 200, (url, mine.text[:300])
        assert mine.headers["x-crmlens-cache"] == "miss", url
        assert mine.content != client.get(url, headers=head).content, url
        replay = client.get(url, headers=manager)
        assert replay.headers["x-crmlens-cache"] == "hit"
        assert replay.content == mine.content
    rows = client.get("/api/analysis/managers_kpis", headers=manager).json()["rows"]
    assert {r["manager_id"] for r in rows} == {"M05"}
    table = client.get("/fragment/managers_kpis?rows=30", headers=manager).text
    assert set(MANAGER_ID.findall(table)) <= {"M05"}


def test_sign_in_is_checked_on_every_hit(fresh_app: Any) -> None:
    users = fresh_app.state.crmlens.users
    client = new_client(fresh_app)
    assert sign_in(client, "manager").status_code == 303
    client.get("/funnel")
    assert client.get("/funnel").headers["x-crmlens-cache"] == "hit"
    users.set_password("manager", password("manager") + "x")  # ends the session
    gone = client.get("/funnel")
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/login")
    token = _bearer(fresh_app, "head")
    api = new_client(fresh_app)
    api.get("/api/analysis/funnel", headers=token)
    assert api.get("/api/analysis/funnel", headers=token).status_code == 200
    users.remove("head")  # its tokens go with it
    assert api.get("/api/analysis/funnel", headers=token).status_code == 401


def test_cache_size_zero_turns_it_off(web_wh_path: Any, tmp_path: Any) -> None:
    from crmlens.web.app import create_app
    from crmlens.web.users import UserStore

    store = UserStore(tmp_path / "users.sqlite")
    store.add("head", password("head"), role="head")
    app = create_app(str(web_wh_path), users_db=store.path, cache_size=0)
    try:
        client = new_client(app)
        headers = _bearer(app, "head")
        client.get("/api/analysis/tables", headers=headers)
        again = client.get("/api/analysis/tables", headers=headers)
        assert again.status_code == 200
        assert "x-crmlens-cache" not in again.headers
    finally:
        app.state.crmlens.service.close()
