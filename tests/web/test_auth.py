"""Sign-in, sessions, CSRF, rate limiting and tokens: every route is closed without them."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pytest
from tests.web._routes import PUBLIC, expand, is_api, routes
from tests.web.conftest import csrf_of, new_client, password, sign_in

FILL = {"name": ["funnel"], "table": ["deals"], "fmt": ["csv"]}


def test_every_route_without_a_session_is_closed(app: Any, anonymous: Any) -> None:
    seen = 0
    for method, template, params in routes(app):
        if (method, template) in PUBLIC:
            continue
        for path in expand(template, params, FILL):
            response = anonymous.request(method, path)
            seen += 1
            if is_api(path):
                assert response.status_code == 401, (method, path, response.text[:200])
                body = response.json()
                assert body["ok"] is False, body
                assert body["status"] == 401, body
                assert response.headers["www-authenticate"] == "Bearer"
            else:
                assert response.status_code == 303, (method, path, response.status_code)
                assert response.headers["location"].startswith("/login"), path
    # the enumeration really covers the app: pages, API, exports, drill-down, schema
    paths = {template for _, template, _ in routes(app)}
    for expected in (
        "/",
        "/funnel",
        "/customers",
        "/analysis/{name}",
        "/fragment/{name}",
        "/drill/{table}",
        "/export/{name}.{fmt}",
        "/api/analysis/{name}",
        "/api/story",
        "/openapi.json",
        "/logout",
    ):
        assert expected in paths, expected
    assert seen >= 20


def test_forged_or_foreign_cookies_do_not_open_anything(app: Any) -> None:
    client = new_client(app)
    client.cookies.set("crmlens_session", "eyJ1IjoiaGVhZCJ9.forged.signature")
    assert client.get("/").status_code == 303
    assert client.get("/api/me").status_code == 401
    # a cookie signed with another key (another installation) is refused too
    from itsdangerous import URLSafeTimedSerializer

    other = URLSafeTimedSerializer("another-key", salt="crmlens-session")
    client.cookies.set("crmlens_session", other.dumps({"u": "head", "e": 0, "c": "x"}))
    assert client.get("/api/me").status_code == 401


def test_htmx_requests_without_a_session_get_401_and_a_redirect_header(
    anonymous: Any,
) -> None:
    response = anonymous.get("/fragment/funnel", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/login?next=")


def test_static_files_and_sign_in_form_are_public(anonymous: Any) -> None:
    for path in (
        "/login",
        "/static/app.js",
        "/static/app.css",
        "/static/vendor/htmx.min.js",
        "/static/plotly.min.js",
    ):
        assert anonymous.get(path).status_code == 200, path
    htmx = anonymous.get("/static/vendor/htmx.min.js").text
    assert htmx.startswith("/*! htmx 2.")
    assert "0BSD" in htmx.splitlines()[0]


def test_sign_in_sets_a_signed_http_only_same_site_session(app: Any) -> None:
    client = new_client(app)
    response = sign_in(client, "head")
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = next(
        c
        for c in response.headers.get_list("set-cookie")
        if c.startswith("crmlens_session=")
    )
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie
    assert client.get("/api/me").json() == {
        "username": "head",
        "role": "head",
        "scope": "company",
    }
    page = client.get("/")
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"


def test_secure_flag_is_configurable(web_wh_path: Any, users_path: Any) -> None:
    from crmlens.web.app import create_app

    secure = create_app(str(web_wh_path), users_db=users_path, secure_cookies=True)
    try:
        response = sign_in(new_client(secure), "head")
        cookies = response.headers.get_list("set-cookie")
        assert all("Secure" in c for c in cookies if c.startswith("crmlens_"))
    finally:
        secure.state.crmlens.service.close()


def test_wrong_password_is_refused(app: Any) -> None:
    response = sign_in(new_client(app), "analyst", "not the password")
    assert response.status_code == 401
    assert (
        "Wrong user name or password" in response.text
        or "Неверное имя" in response.text
    )


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_sign_in_without_the_right_csrf_token_is_403(
    app: Any, token: str | None
) -> None:
    client = new_client(app)
    csrf_of(client)  # the visitor has a CSRF cookie; the form lacks the value
    data = {"username": "head", "password": password("head")}
    if token is not None:
        data["csrf_token"] = token
    response = client.post("/login", data=data)
    assert response.status_code == 403
    assert "crmlens_session" not in response.headers.get("set-cookie", "")


def test_sign_out_needs_the_session_csrf_token(app: Any) -> None:
    client = new_client(app)
    assert sign_in(client, "analyst").status_code == 303
    assert client.post("/logout", data={}).status_code == 403
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert client.get("/api/me").status_code == 200  # still signed in
    token = client.cookies.get("crmlens_csrf")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert client.get("/api/me").status_code == 401


def test_a_csrf_token_from_another_visitor_does_not_work(app: Any) -> None:
    attacker = new_client(app)
    stolen = csrf_of(attacker)
    victim = new_client(app)
    assert sign_in(victim, "analyst").status_code == 303
    assert victim.post("/logout", data={"csrf_token": stolen}).status_code == 403


def test_failed_sign_ins_are_rate_limited(fresh_app: Any) -> None:
    client = new_client(fresh_app)
    for _ in range(5):
        assert sign_in(client, "head", "wrong password").status_code == 401
    blocked = sign_in(client, "head")  # even the right password now waits
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    # another user from the same address is not blocked by head's failures
    assert sign_in(client, "manager").status_code == 303


def test_rate_limit_window_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    import crmlens.web.auth as auth

    now = [1000.0]
    monkeypatch.setattr(auth.time, "monotonic", lambda: now[0])
    limiter = auth.LoginLimiter(per_user=2, per_address=3, window=60)
    limiter.failed("1.2.3.4", "Olga")
    limiter.failed("1.2.3.4", "olga")
    assert limiter.blocked("1.2.3.4", "OLGA")
    assert not limiter.blocked("5.6.7.8", "olga")
    limiter.failed("1.2.3.4", "ivan")
    assert limiter.blocked("1.2.3.4", "someone-else")  # 3 failures from one address
    now[0] += 61
    assert not limiter.blocked("1.2.3.4", "olga")


def test_changing_the_password_ends_open_sessions(fresh_app: Any) -> None:
    client = new_client(fresh_app)
    assert sign_in(client, "manager").status_code == 303
    assert client.get("/api/me").status_code == 200
    fresh_app.state.crmlens.users.set_password("manager", "a new password")
    assert client.get("/api/me").status_code == 401
    assert client.get("/").status_code == 303


def test_api_tokens(fresh_app: Any) -> None:
    users = fresh_app.state.crmlens.users
    token = users.new_token("manager")
    client = new_client(fresh_app)
    ok = client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    assert ok.json()["scope"] == "manager:M05"
    wrong = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert (
        client.get("/api/me", headers={"Authorization": f"Bearer {wrong}"}).status_code
        == 401
    )
    assert (
        client.get("/api/me", headers={"Authorization": "Basic abc"}).status_code == 401
    )
    users.remove("manager")
    assert (
        client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/funnel?region=Урал", "/funnel?region=Урал"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_sign_in_returns_only_to_local_pages(
    app: Any, target: str, expected: str
) -> None:
    client = new_client(app)
    response = client.post(
        "/login",
        data={
            "username": "head",
            "password": password("head"),
            "csrf_token": csrf_of(client),
            "next": target,
        },
    )
    assert response.status_code == 303
    assert unquote(response.headers["location"]) == expected


def test_errors_have_one_shape(client_as: Any) -> None:
    head = client_as("head")
    missing = head.get("/api/analysis/no_such_analysis")
    assert missing.status_code == 404
    assert set(missing.json()) == {"ok", "error", "errors", "status"}
    bad = head.get("/api/analysis/managers_kpis", params={"min_deals": "many"})
    assert bad.status_code == 400
    assert "min_deals" in bad.json()["error"]
    page = head.get("/analysis/no_such_analysis")
    assert page.status_code == 404
    assert "<html" in page.text
