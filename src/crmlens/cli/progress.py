"""A Rich progress bar on a terminal; silence when output is piped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from crmlens.cli.render import stderr


@contextmanager
def progress_bar(label: str) -> Iterator[Callable[[str, int, int], None]]:
    """Yield ``update(item, done, total)``; draws only when stderr is a terminal."""
    if not stderr.is_terminal:
        yield lambda item, done, total: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[item]}"),
        console=stderr,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None, item="")

        def update(item: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, item=item)

        yield update
