"""docs/metrics.md documents every metric the code links to.

Module docstrings point to ``docs/metrics.md#<anchor>``; each anchor must be the GitHub
anchor of a heading of docs/metrics.md, and every heading must have text of its own. A new
link in the code fails here until its section is written.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "metrics.md"
#: ``metrics.md#anchor`` anywhere (``docs/metrics.md#…`` in src, ``metrics.md#…`` in docs).
LINK = re.compile(r"metrics\.md#([\w-]+)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
FENCE = re.compile(r"^\s*(```|~~~)")
#: Files that may link to the page: the package sources, the README and the other docs.
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".html",
    ".j2",
    ".jinja",
    ".txt",
    ".js",
    ".yaml",
    ".toml",
}


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its text lower-cased, punctuation dropped,
    spaces turned into hyphens (inline Markdown is reduced to its text first).

    >>> github_anchor("Mix-adjusted performance")
    'mix-adjusted-performance'
    >>> github_anchor("ABC and XYZ")
    'abc-and-xyz'
    """
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links -> their text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(markdown: str) -> list[tuple[int, str, list[str]]]:
    """(level, text, lines of its own section) of every heading outside code blocks.

    A heading's own section is the lines up to the next heading of any level.
    """
    out: list[tuple[int, str, list[str]]] = []
    in_code = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            in_code = not in_code
        m = None if in_code else HEADING.match(line)
        if m:
            out.append((len(m.group(1)), m.group(2), []))
        elif out:
            out[-1][2].append(line)
    return out


def anchors(markdown: str) -> list[str]:
    """GitHub anchors of the headings, with its ``-1``, ``-2`` suffixes for repeats."""
    seen: dict[str, int] = {}
    out = []
    for _level, text, _body in headings(markdown):
        base = github_anchor(text)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}-{n}")
    return out


def linked_anchors() -> dict[str, list[str]]:
    """Anchor -> files that link to it, over src/, README.md and docs/."""
    files = [
        ROOT / "README.md",
        *(ROOT / "docs").rglob("*"),
        *(ROOT / "src").rglob("*"),
    ]
    found: dict[str, list[str]] = {}
    for path in files:
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES:
            continue
        if "__pycache__" in path.parts:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for anchor in LINK.findall(text):
            found.setdefault(anchor, []).append(str(path.relative_to(ROOT)))
    return found


@pytest.fixture(scope="module")
def doc() -> str:
    assert DOC.is_file(), "docs/metrics.md is missing"
    return DOC.read_text(encoding="utf-8")


def test_github_anchor_rules() -> None:
    assert github_anchor("First response") == "first-response"
    assert github_anchor("ABC/XYZ: classes") == "abcxyz-classes"
    assert github_anchor("`as_of` and windows") == "as_of-and-windows"
    assert github_anchor("[CLV](#clv) models") == "clv-models"
    assert anchors("# A\n## B\n## B\n") == ["a", "b", "b-1"]


def test_headings_inside_code_blocks_are_not_headings() -> None:
    text = "## Real\ntext\n```\n## not a heading\n```\n"
    assert [h[1] for h in headings(text)] == ["Real"]


def test_the_code_links_to_the_page() -> None:
    links = linked_anchors()
    src_links = {
        a for a, files in links.items() if any(f.startswith("src") for f in files)
    }
    # the analytics modules link to their sections; an empty scan means a broken scan
    assert {"funnel", "clv", "data-quality", "lead-scoring"} <= src_links
    assert len(src_links) >= 15


def test_every_linked_anchor_is_a_heading(doc: str) -> None:
    have = set(anchors(doc))
    missing = {a: files for a, files in linked_anchors().items() if a not in have}
    assert not missing, (
        "docs/metrics.md lacks a heading for these anchors (anchor: files linking to "
        f"it): {missing}"
    )


def test_every_heading_has_text_of_its_own(doc: str) -> None:
    empty = [text for _level, text, body in headings(doc) if not "".join(body).strip()]
    assert not empty, f"headings without text of their own: {empty}"


def test_anchors_are_unique(doc: str) -> None:
    names = [github_anchor(text) for _level, text, _body in headings(doc)]
    repeated = sorted({n for n in names if names.count(n) > 1})
    assert not repeated, f"two headings share an anchor (GitHub adds -1): {repeated}"


def test_internal_links_resolve(doc: str) -> None:
    have = set(anchors(doc))
    targets = re.findall(r"\]\(#([\w-]+)\)", doc)
    assert targets, "the page links between its sections"
    broken = sorted({t for t in targets if t not in have})
    assert not broken, f"links to missing sections of docs/metrics.md: {broken}"


def test_commands_named_on_the_page_exist(doc: str) -> None:
    import typer.main

    from crmlens.cli.app import app

    group = typer.main.get_command(app)
    known: dict[str, set[str]] = {}
    for name, command in group.commands.items():  # type: ignore[attr-defined]
        known[name] = set(getattr(command, "commands", {}) or {})
    named = re.findall(
        r"`crmlens ([a-z][\w-]*)((?: [a-z][\w-]*(?:\|[a-z][\w-]*)*)?)", doc
    )
    assert named, "the page names the commands that compute each metric"
    bad = []
    for head, rest in named:
        if head not in known:
            bad.append(head)
            continue
        words = rest.split()
        if known[head] and words:
            subs = words[0].split("|")
            bad += [f"{head} {s}" for s in subs if s not in known[head]]
    assert not bad, (
        f"docs/metrics.md names commands that do not exist: {sorted(set(bad))}"
    )
