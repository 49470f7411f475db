"""``crmlens users add|list|remove|passwd|token``: who may sign in to ``crmlens serve``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from crmlens.cli.options import FormatOpt, UsersOpt, WarehouseOpt
from crmlens.cli.render import Format, emit, stdout

if TYPE_CHECKING:
    from crmlens.web.users import UserStore

HELP = """Users of the web app (crmlens serve): roles, scopes, passwords and API tokens.

Roles: admin, head, analyst and marketer see the company (the marketer only campaigns and
leads); regional sees one region, teamlead one team, manager their own clients, deals and
leads (give the region, team or manager id with --scope). Passwords are hashed with
argon2; the users file lives beside the warehouse (<warehouse>.users.sqlite).

Examples:

  crmlens users add olga --role head

  crmlens users add ivan --role manager --scope M05

  crmlens users add ural --role regional --scope Урал --password-stdin < pw.txt

  crmlens users list

  crmlens users token olga        a new API token for scripts (shown once)
"""

users_app = typer.Typer(help=HELP, no_args_is_help=True)

StdinOpt = Annotated[
    bool,
    typer.Option(
        "--password-stdin", help="Read the password from standard input (scripts)."
    ),
]


def register(app: typer.Typer) -> None:
    """Add the ``users`` group to `app`."""
    app.add_typer(users_app, name="users")


def _store(warehouse: str | None, users: Path | None) -> UserStore:
    from crmlens.web.users import UserStore, default_users_path

    return UserStore(users or default_users_path(warehouse))


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt("Password", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def add_command(
    name: Annotated[
        str, typer.Argument(help="User name (Latin letters, digits, _.@-).")
    ],
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="admin, head, analyst, marketer, regional, teamlead or manager.",
        ),
    ],
    scope: Annotated[
        str | None,
        typer.Option(
            "--scope", help="The region (regional), team (teamlead) or manager id."
        ),
    ] = None,
    warehouse: WarehouseOpt = None,
    users: UsersOpt = None,
    password_stdin: StdinOpt = False,
) -> None:
    """Add a user with a role (and the region, team or manager it is bound to)."""
    from crmlens.web.users import check_role

    check_role(role, scope)
    store = _store(warehouse, users)
    user = store.add(name, _password(password_stdin), role=role, scope_id=scope)
    stdout.print(f"added {user.username} ({user.role}, {user.scope}) to {store.path}")


@users_app.command("list")
def list_command(
    warehouse: WarehouseOpt = None,
    users: UsersOpt = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Users, their roles and scopes."""
    store = _store(warehouse, users)
    rows = [
        {
            "username": u.username,
            "role": u.role,
            "scope": str(u.scope),
            "tokens": store.tokens(u.username),
            "created_at": u.created_at,
        }
        for u in store.all()
    ]
    emit(fmt, "users", {"file": str(store.path)}, rows, title="users")


@users_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="User name.")],
    warehouse: WarehouseOpt = None,
    users: UsersOpt = None,
) -> None:
    """Remove a user (their sessions and tokens stop working)."""
    store = _store(warehouse, users)
    store.remove(name)
    stdout.print(f"removed {name} from {store.path}")


@users_app.command("passwd")
def passwd_command(
    name: Annotated[str, typer.Argument(help="User name.")],
    warehouse: WarehouseOpt = None,
    users: UsersOpt = None,
    password_stdin: StdinOpt = False,
) -> None:
    """Set a new password (the user's open sessions end)."""
    store = _store(warehouse, users)
    if store.get(name) is None:
        from crmlens.errors import InputError

        raise InputError(f"no user {name!r} in {store.path}")
    store.set_password(name, _password(password_stdin))
    stdout.print(f"changed the password of {name}")


@users_app.command("token")
def token_command(
    name: Annotated[str, typer.Argument(help="User name.")],
    warehouse: WarehouseOpt = None,
    users: UsersOpt = None,
) -> None:
    """Print a new API token for scripts (``Authorization: Bearer TOKEN``); shown once."""
    store = _store(warehouse, users)
    sys.stdout.write(store.new_token(name) + "\n")
