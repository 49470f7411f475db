"""The shared parts of the page and export handlers: the View dependency, drill_query."""

from __future__ import annotations

from typing import Any

import pytest

from crmlens.errors import InputError
from crmlens.web.drill import DrillQuery
from crmlens.web.service import Forbidden, NotFound, drill_query
from crmlens.web.users import User

HEAD = User("head", "head")
MARKETER = User("mia", "marketer")


def test_drill_query_parses_known_tables() -> None:
    q = drill_query("deals", {"owner_id": "M05", "from": "2025-01-01", "x": "1"})
    assert q == DrillQuery("deals", (("owner_id", "M05"),), "2025-01-01", None)
    assert drill_query("leads", {}, user=MARKETER).table == "leads"


def test_drill_query_unknown_table_is_404_before_anything_else() -> None:
    with pytest.raises(NotFound, match="no drill-down into 'nosuch'"):
        drill_query("nosuch", {"from": "bad"}, user=MARKETER)


def test_drill_query_checks_the_role_before_the_values() -> None:
    with pytest.raises(Forbidden, match="marketer cannot open the rows of deals"):
        drill_query("deals", {"from": "bad"}, user=MARKETER)
    with pytest.raises(InputError, match="from='bad' is not a date"):
        drill_query("deals", {"from": "bad"}, user=HEAD)
    # without a user the role is left to WebService.drill: the values come first
    with pytest.raises(InputError):
        drill_query("deals", {"from": "bad"})


def _dependency_names(dependant: Any) -> set[str]:
    names = set()
    for sub in dependant.dependencies:
        names.add(getattr(sub.call, "__name__", ""))
        names |= _dependency_names(sub)
    return names


@pytest.mark.parametrize("module", ["pages", "exports"])
def test_every_page_and_export_reads_user_language_and_filters(module: str) -> None:
    import importlib

    from fastapi.routing import APIRoute

    router = importlib.import_module(f"crmlens.web.routes.{module}").router
    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    assert routes
    for route in routes:
        names = _dependency_names(route.dependant)
        assert {"current_user", "get_lang", "get_filters", "get_state"} <= names, (
            route.path
        )
        queries = {p.name for p in route.dependant.query_params}
        assert queries == ({"rows", "findings"} if route.name == "fragment" else set())
