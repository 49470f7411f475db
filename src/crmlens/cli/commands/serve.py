"""``crmlens serve``: the web app (role dashboards, drill-down, exports, JSON API)."""

from __future__ import annotations

from typing import Annotated

import typer

from crmlens.cli.options import UsersOpt, WarehouseOpt
from crmlens.cli.render import stdout

HELP = """Serve the dashboards and the JSON API of a warehouse over HTTP, offline.

Pages: overview (plan lights, top findings, key numbers), funnel, journeys, managers, leads,
customers, plan and forecast, campaigns, data quality, and a page for every analysis; each
table sorts, exports to CSV/XLSX and drills down to the deals and clients behind a number.
Everyone signs in (crmlens users add); a manager sees only their own clients, a regional
head their region. The API lives under /api/ (schema at /openapi.json) and takes
"Authorization: Bearer TOKEN" from crmlens users token NAME.

Examples:

  crmlens users add olga --role head && crmlens serve

  crmlens serve --warehouse crmlens-demo.duckdb --port 8080

  crmlens serve --host 0.0.0.0 --secure-cookies     behind an HTTPS proxy

  curl -H "Authorization: Bearer $TOKEN" localhost:8000/api/analysis/funnel
"""


def register(app: typer.Typer) -> None:
    """Add ``serve`` to `app`."""
    app.command("serve", help=HELP)(serve_command)


def serve_command(
    warehouse: WarehouseOpt = None,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    users: UsersOpt = None,
    secure_cookies: Annotated[
        bool,
        typer.Option("--secure-cookies", help="Send cookies over HTTPS only."),
    ] = False,
    cache_size: Annotated[
        int,
        typer.Option("--cache-size", help="Analysis results kept in memory (0: off)."),
    ] = 256,
    workers: Annotated[
        int, typer.Option("--workers", help="Analyses computed at the same time.")
    ] = 2,
) -> None:
    """Run the web app with uvicorn until Ctrl-C."""
    import uvicorn

    from crmlens.errors import InputError
    from crmlens.warehouse import parse_url
    from crmlens.web.app import create_app
    from crmlens.web.users import UserStore, default_users_path

    if not 0 < port < 65536:
        raise InputError(f"--port {port} is not a port", reason="use 1-65535")
    users_path = users or default_users_path(warehouse)
    if not UserStore(users_path).all():
        stdout.print(
            f"[yellow]no users in {users_path} yet: add one with "
            "crmlens users add NAME --role head[/]"
        )
    app = create_app(
        parse_url(warehouse).raw,
        users_db=users_path,
        secure_cookies=secure_cookies,
        cache_size=cache_size,
        workers=max(1, workers),
    )
    stdout.print(f"crmlens serves {parse_url(warehouse).raw} on http://{host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
