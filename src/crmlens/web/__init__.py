"""The web app of ``crmlens serve``: role dashboards, drill-down, exports and a JSON API.

``create_app(warehouse_url)`` builds the FastAPI application (see :mod:`crmlens.web.app`);
users and tokens live in :mod:`crmlens.web.users`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crmlens.web.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from crmlens.web.app import create_app

        return create_app
    raise AttributeError(name)
