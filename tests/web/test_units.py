"""Small parts on hand-made inputs: parameters from signatures, filters, users, drill links."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmlens.errors import InputError
from crmlens.web.drill import link_for
from crmlens.web.filters import Filters, narrow
from crmlens.web.params import (
    ParamSpec,
    check_text,
    parse_params,
    parse_value,
    specs_of,
)
from crmlens.web.users import User, UserStore, check_role, default_users_path


def _runner(
    wh: Any,
    *,
    as_of: str | dt.date | None = None,
    by: Literal["manager", "source"] = "manager",
    min_deals: int = 30,
    share: float = 0.5,
    velocity: bool = False,
    exclude: tuple[str, ...] = (),
    shares: tuple[float, float] = (0.2, 0.3),
    export: str | None = None,
    region: str | None = None,
    name: str | None = None,
    **_: Any,
) -> None:
    """A runner shaped like the registered ones."""


def _more(wh: Any, **params: Any) -> None:
    """A runner that reads its parameters from ``**params``."""
    params.get("period")
    params.get("green")


def test_specs_come_from_the_signature() -> None:
    specs = {s.name: s for s in specs_of(_runner)}
    assert specs["as_of"].kind == "date"
    assert specs["by"] == ParamSpec("by", "choice", "manager", ("manager", "source"))
    assert (specs["min_deals"].kind, specs["min_deals"].default) == ("int", 30)
    assert specs["share"].kind == "float"
    assert specs["velocity"].kind == "bool"
    assert specs["exclude"].kind == "texts"
    assert specs["shares"].kind == "floats"
    assert specs["name"].kind == "text"
    assert "export" not in specs  # writes a file
    assert "region" not in specs  # a filter of the page, not a parameter


def test_specs_of_params_runners_come_from_the_source() -> None:
    assert [s.name for s in specs_of(_more)] == ["period", "green"]


def test_parse_params_types_and_checks() -> None:
    specs = specs_of(_runner)
    query = {
        "as_of": "2025-06-30",
        "by": "source",
        "min_deals": "12",
        "share": "0.25",
        "velocity": "да",
        "exclude": "a, b,",
        "shares": "0.1,0.2",
        "unknown": "ignored",
        "name": "",
    }
    assert parse_params(specs, query) == {
        "as_of": "2025-06-30",
        "by": "source",
        "min_deals": 12,
        "share": 0.25,
        "velocity": True,
        "exclude": ("a", "b"),
        "shares": (0.1, 0.2),
    }
    for key, bad in [
        ("by", "region"),
        ("min_deals", "1.5"),
        ("share", "nan"),
        ("velocity", "maybe"),
        ("as_of", "2025-13-01"),
        ("name", "x'; drop table deals"),
        ("name", "a" * 201),
    ]:
        with pytest.raises(InputError, match=key):
            parse_params(specs, {key: bad})


@given(st.text(max_size=50))
def test_check_text_accepts_only_safe_text(text: str) -> None:
    try:
        out = check_text("p", text)
    except InputError:
        assert any(c in text for c in "'\";=<>*\\`|$!?[]{}\x00\n") or any(
            not (c.isalnum() or c.isspace() or c in "-.,:()/&+%№#@_") for c in text
        )
    else:
        assert out == text.strip()
        assert "'" not in out
        assert ";" not in out


def test_parse_value_of_a_date_is_iso() -> None:
    assert parse_value(ParamSpec("as_of", "date"), " 2025-01-05 ") == "2025-01-05"


def test_filters_parse_and_round_trip() -> None:
    f = Filters.parse(
        {"from": "2025-01-01", "to": "2025-03-31", "region": "Урал", "x": "1"}
    )
    assert f.query() == {"from": "2025-01-01", "to": "2025-03-31", "region": "Урал"}
    assert Filters.parse(f.query()) == f
    assert [str(s) for s in f.scopes()] == ["region:Урал"]
    assert f.period_params({"as_of", "date_from", "start"}, {"start": "x"}) == {
        "as_of": "2025-03-31",
        "date_from": "2025-01-01",
    }
    with pytest.raises(InputError):
        Filters.parse({"from": "2025-02-01", "to": "2025-01-01"})
    with pytest.raises(InputError):
        Filters.parse({"to": "yesterday"})


def test_narrowing_never_widens_the_scope(tmp_path: Path) -> None:
    import crmlens
    from crmlens.warehouse.scope import Scope, scoped

    data = tmp_path / "data"
    data.mkdir()
    (data / "managers.csv").write_text(
        "manager_id,name,team,region\nM01,А,T1,Юг\nM02,Б,T1,Юг\nM03,В,T2,Урал\n",
        encoding="utf-8",
    )
    (data / "leads.csv").write_text(
        "lead_id,created_at,source,owner_id\n"
        "L1,2025-01-01,Сайт,M01\nL2,2025-01-02,Выставка,M01\nL3,2025-01-03,Сайт,M03\n",
        encoding="utf-8",
    )
    (data / "deals.csv").write_text(
        "deal_id,created_at,pipeline_id,lead_id,owner_id,status\n"
        "D1,2025-01-05,main,L1,M01,won\nD2,2025-01-06,main,L2,M01,open\n"
        "D3,2025-01-07,main,L3,M03,lost\nD4,2025-01-08,main,,M02,open\n",
        encoding="utf-8",
    )
    wh = crmlens.open(tmp_path / "wh.duckdb")
    wh.import_files([data])

    def deals(view: Any) -> list[str]:
        return sorted(view.deals.deal_id.to_pyarrow().to_pylist())

    south = scoped(wh, Scope("region", "Юг"))
    assert deals(narrow(south, Filters())) == ["D1", "D2", "D4"]
    assert deals(narrow(south, Filters(manager="M01"))) == ["D1", "D2"]
    assert deals(narrow(south, Filters(region="Урал"))) == []  # no widening
    assert deals(narrow(south, Filters(manager="M03"))) == []
    assert deals(narrow(wh, Filters(source="Сайт"))) == ["D1", "D3"]
    assert deals(narrow(south, Filters(source="Сайт"))) == ["D1"]
    assert narrow(south, Filters(source="Сайт")).version == wh.version
    wh.close()


def test_users_store(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "u.sqlite")
    olga = store.add("olga", "secret-123", role="regional", scope_id="Урал")
    assert str(olga.scope) == "region:Урал"
    assert store.verify("olga", "secret-123") == store.get("olga")
    assert store.verify("olga", "secret-124") is None
    assert store.verify("nobody", "secret-123") is None
    with pytest.raises(InputError, match="already exists"):
        store.add("olga", "secret-123", role="head")
    with pytest.raises(InputError, match="too short"):
        store.add("ivan", "short", role="head")
    with pytest.raises(InputError, match="not allowed"):
        store.add("иван", "secret-123", role="head")
    stored = (tmp_path / "u.sqlite").read_bytes()
    assert b"secret-123" not in stored
    assert b"$argon2" in stored
    token = store.new_token("olga")
    assert token.startswith("crl_")
    assert store.verify_token(token) == store.get("olga")
    assert token.encode() not in (tmp_path / "u.sqlite").read_bytes()
    assert store.verify_token(token + "x") is None
    store.set_password("olga", "another-123")
    assert store.get("olga").session_epoch == 1  # type: ignore[union-attr]
    store.remove("olga")
    assert store.verify_token(token) is None
    with pytest.raises(InputError):
        store.remove("olga")
    assert store.secret_key() == store.secret_key()


def test_roles_and_their_scopes() -> None:
    check_role("head", None)
    check_role("manager", "M05")
    with pytest.raises(InputError, match="needs --scope"):
        check_role("teamlead", None)
    with pytest.raises(InputError, match="whole company"):
        check_role("analyst", "Урал")
    with pytest.raises(InputError, match="unknown role"):
        check_role("boss", None)
    assert str(User("t", "teamlead", "Москва-1").scope) == "team:Москва-1"
    assert str(User("a", "marketer").scope) == "company"


def test_default_users_path() -> None:
    assert default_users_path("/data/crm.duckdb") == Path(
        "/data/crm.duckdb.users.sqlite"
    )
    assert default_users_path("spark://local?path=/w") == Path("/w/users.sqlite")


def test_links_from_result_rows_to_the_rows_behind() -> None:
    assert link_for({"manager_id": "M05", "win_rate": 0.3}, {}) == (
        "deals",
        {"owner_id": "M05"},
    )
    assert link_for({"pipeline_id": "main", "stage": "Встреча"}, {}) == (
        "deals",
        {"stage": "Встреча", "pipeline_id": "main"},
    )
    assert link_for({"account_id": "A1"}, {}) == ("orders", {"account_id": "A1"})
    assert link_for({"scope_id": "Урал"}, {"scope": "region"}) == (
        "deals",
        {"region": "Урал"},
    )
    assert link_for({"period": "2025-01", "revenue": 1.0}, {}) is None
