"""The app over each engine's warehouse: DuckDB always, Spark under ``-m spark``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.web.conftest import new_client, password, sign_in


def test_the_app_serves_each_engine_within_the_scope(
    engine: str, demo_wh: Any, tmp_path: Path
) -> None:
    from crmlens.web.app import create_app
    from crmlens.web.users import UserStore

    store = UserStore(tmp_path / "users.sqlite")
    store.add("manager", password("manager"), role="manager", scope_id="M05")
    app = create_app(demo_wh.url.raw, users_db=store.path, secret_key="e" * 32)
    try:
        client = new_client(app)
        assert sign_in(client, "manager").status_code == 303
        drill = client.get("/api/drill/deals", params={"limit": 10_000}).json()
        assert drill["total"] > 50
        assert {r["owner_id"] for r in drill["rows"]} == {"M05"}
        kpis = client.get("/api/analysis/managers_kpis").json()
        assert [r["manager_id"] for r in kpis["rows"]] == ["M05"]
        fragment = client.get("/fragment/funnel")
        assert fragment.status_code == 200
        assert "chart-data" in fragment.text
        assert "M07" not in fragment.text
    finally:
        app.state.crmlens.service.close()
