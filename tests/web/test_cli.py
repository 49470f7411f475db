"""``crmlens users …`` and ``crmlens serve`` (a real server on a free port)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from crmlens.cli.app import app as cli


def _run(*args: str, stdin: str | None = None) -> object:
    return CliRunner().invoke(cli, list(args), input=stdin)


def test_users_commands(tmp_path: Path) -> None:
    users = str(tmp_path / "u.sqlite")
    added = _run(
        "users",
        "add",
        "olga",
        "--role",
        "regional",
        "--scope",
        "Урал",
        "--users",
        users,
        "--password-stdin",
        stdin="secret-123\n",
    )
    assert added.exit_code == 0, added.output  # type: ignore[attr-defined]
    listed = _run("users", "list", "--users", users, "--format", "json")
    rows = json.loads(listed.stdout)["rows"]  # type: ignore[attr-defined]
    assert [(r["username"], r["role"], r["scope"]) for r in rows] == [
        ("olga", "regional", "region:Урал")
    ]
    token = _run("users", "token", "olga", "--users", users)
    assert token.stdout.strip().startswith("crl_")  # type: ignore[attr-defined]
    passwd = _run(
        "users",
        "passwd",
        "olga",
        "--users",
        users,
        "--password-stdin",
        stdin="changed-123\n",
    )
    assert passwd.exit_code == 0  # type: ignore[attr-defined]
    from crmlens.web.users import UserStore

    assert UserStore(Path(users)).verify("olga", "changed-123") is not None
    removed = _run("users", "remove", "olga", "--users", users)
    assert removed.exit_code == 0  # type: ignore[attr-defined]
    assert UserStore(Path(users)).all() == []


def test_users_errors_are_one_line(tmp_path: Path) -> None:
    users = str(tmp_path / "u.sqlite")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from crmlens.cli.app import main; main()",
            "users",
            "add",
            "x",
            "--role",
            "manager",
            "--users",
            users,
            "--password-stdin",
        ],
        input="secret-123\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "needs --scope" in proc.stderr
    assert "Traceback" not in proc.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_the_app(
    web_wh_path: Path, users_path: Path, tmp_path: Path
) -> None:
    import shutil

    # a copy: the server process needs the DuckDB file to itself
    wh = tmp_path / "served.duckdb"
    shutil.copy(web_wh_path, wh)
    port = _free_port()
    env = {**os.environ, "CRMLENS_SECRET_KEY": "s" * 32}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from crmlens.cli.app import main; main()",
            "serve",
            "--warehouse",
            str(wh),
            "--port",
            str(port),
            "--users",
            str(users_path),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                if httpx.get(base + "/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError(proc.stderr.read() if proc.stderr else "no server")
        assert httpx.get(base + "/api/me").status_code == 401
        assert httpx.get(base + "/static/vendor/htmx.min.js").status_code == 200
    finally:
        proc.terminate()
        proc.wait(30)


def test_serve_refuses_a_missing_warehouse(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from crmlens.cli.app import main; main()",
            "serve",
            "--warehouse",
            str(tmp_path / "none.duckdb"),
            "--users",
            str(tmp_path / "u"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "no warehouse at" in proc.stderr
    assert not (tmp_path / "none.duckdb").exists()
