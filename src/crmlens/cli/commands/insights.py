"""``crmlens insights``: the story of a role's analyses — headline, ranked items, actions."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from crmlens.cli.options import AsOfOpt, WarehouseOpt

if TYPE_CHECKING:
    from crmlens.insights.story import Story
    from crmlens.warehouse.scope import Scope

HELP = """The story of the data for one reader: runs the analyses the role reads, says each
thing once, ranks what is left by money at stake and severity, and tells the top items —
a headline, then each finding with its number, comparison, recommended action and the
command that shows the rows behind it.

Roles: head (the company), regional (one region: --scope REGION), manager (own clients:
--scope MANAGER_ID), marketer (campaigns, sources), analyst (everything, data quality too),
admin (as head).

Examples:

  crmlens insights --lang ru

  crmlens insights --role regional --scope Юг --top 7

  crmlens insights --role manager --scope M05 --format markdown > story.md

  crmlens insights --role marketer --lang en --format json --as-of 2025-12-15
"""


class StoryFormat(StrEnum):
    """Output formats of the story."""

    text = "text"
    markdown = "markdown"
    json = "json"


RoleOpt = Annotated[
    str,
    typer.Option("--role", help="head, regional, manager, marketer, analyst or admin."),
]
ScopeOpt = Annotated[
    str | None,
    typer.Option(
        "--scope",
        help="Whose rows: a region (--role regional), a manager id (--role manager), "
        "or KIND:ID (region:Юг, team:T1, manager:M05) for the other roles.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``insights`` to `app`."""
    app.command("insights", help=HELP)(insights_command)


def insights_command(
    warehouse: WarehouseOpt = None,
    role: RoleOpt = "head",
    scope: ScopeOpt = None,
    lang: Annotated[str, typer.Option("--lang", help="ru or en.")] = "en",
    top: Annotated[
        int, typer.Option("--top", help="Items in the story (3–7 read best).")
    ] = 5,
    as_of: AsOfOpt = None,
    fmt: Annotated[
        StoryFormat,
        typer.Option("--format", "-f", help="Output: text, markdown or json."),
    ] = StoryFormat.text,
) -> None:
    """Print the story."""
    import crmlens
    from crmlens.cli.progress import progress_bar
    from crmlens.insights.i18n import check_lang
    from crmlens.insights.narrative import check_scope, check_top, collect, tell
    from crmlens.insights.roles import role_spec

    check_lang(lang)
    check_top(top)
    role_spec(role)
    chosen = parse_scope(role, scope)
    check_scope(role, chosen)
    wh = crmlens.open(warehouse, create=False)
    with progress_bar("insights") as update:
        found = collect(wh, role=role, scope=chosen, as_of=as_of, progress=update)
    story = tell(found, lang=lang, top=top)
    show(story, fmt, {"role": role, "scope": story.scope, "lang": lang, "top": top})


def parse_scope(role: str, text: str | None) -> Scope | None:
    """``--scope``: a bare id means the kind the role needs (region, manager)."""
    from crmlens.errors import InputError
    from crmlens.insights.roles import scope_required
    from crmlens.warehouse.scope import Scope

    if text is None or not text.strip():
        return None
    need = scope_required(role)
    if ":" in text or text.strip() == "company":
        return Scope.parse(text)
    if need is None:
        raise InputError(
            f"--scope {text!r} needs a kind for role {role}",
            reason="write KIND:ID, e.g. region:Юг or manager:M05",
        )
    return Scope(need, text.strip())


def show(story: Story, fmt: StoryFormat, params: dict[str, Any]) -> None:
    """Print `story` in `fmt`."""
    import sys

    if fmt == StoryFormat.json:
        import json

        from crmlens.cli.render import envelope

        params = {**params, "as_of": story.as_of.isoformat()}
        data = story.to_dict()
        rows = [_row(n, item) for n, item in enumerate(data["items"], 1)]
        findings = [item["finding"] for item in data["items"]]
        out = envelope("insights", params, rows, findings, story=data)
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    elif fmt == StoryFormat.markdown:
        sys.stdout.write(story.to_markdown())
    else:
        print_story(story)


def _row(n: int, item: dict[str, Any]) -> dict[str, Any]:
    return {
        "rank": n,
        "title": item["title"],
        "number": item["number"],
        "comparison": item["comparison"],
        "severity": item["severity"],
        "stake": item["stake"],
        "analysis": item["evidence"]["analysis"],
        "command": item["evidence"]["command"],
    }


COLOURS = {"high": "red", "medium": "yellow", "low": "cyan"}


def print_story(story: Story) -> None:
    """The story with Rich: the headline in a panel, then the numbered items."""
    from rich.panel import Panel
    from rich.text import Text

    from crmlens.cli.render import stdout

    stdout.print(Panel(Text(story.headline, style="bold"), subtitle=story.meta()))
    if not story.items:
        from crmlens.insights.story import LABELS

        stdout.print(LABELS["none"][0 if story.lang == "ru" else 1])
    for n, item in enumerate(story.items, 1):
        head = Text(f"\n{n}. ", style="bold")
        head.append(item.title, style=f"bold {COLOURS.get(item.severity, 'white')}")
        stdout.print(head)
        if item.number:
            line = Text("   ")
            line.append(item.number, style="bold")
            if item.comparison:
                line.append(f" — {item.comparison}")
            stdout.print(line)
        stdout.print(Text(f"   {item.text}"))
        stdout.print(Text(f"   → {item.action}", style="green"))
        stdout.print(Text(f"   {item.evidence.command}", style="dim"))
    if story.skipped:
        label = "Не удалось выполнить" if story.lang == "ru" else "Not run"
        stdout.print(Text(f"\n{label}:", style="dim"))
        for s in story.skipped:
            stdout.print(Text(f"  - {s.analysis}: {s.reason}", style="dim"))
