"""Every CLI command and subcommand is named in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

from crmlens.cli.app import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def command_paths() -> list[str]:
    group = typer.main.get_command(app)
    paths = []
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        paths.append(name)
        for sub in getattr(command, "commands", {}):
            paths.append(f"{name} {sub}")
    return paths


def test_every_command_is_in_the_readme() -> None:
    missing = []
    for path in command_paths():
        head, _, sub = path.partition(" ")
        if f"crmlens {head}" not in README or (sub and sub not in README):
            missing.append(path)
    assert not missing, f"commands missing from README.md: {missing}"
    assert len(command_paths()) > 30
