"""The ``crmlens`` command: the Typer root, error handling and sub-command registration.

Errors are one clear line on stderr and a non-zero exit (``--debug`` shows the traceback);
with ``--format json`` the error envelope goes to stdout as well.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from crmlens.cli.commands import load_commands

HELP = """crmlens — analytics of a B2B sales department's client base, offline, on your own data.

Examples:

  crmlens demo                                  build and explore the demo CRM
  crmlens import exports/ --preset auto         load a folder of CRM exports
  crmlens import deals.xlsx --table deals       load one file into one table
  crmlens quarantine                            rows that could not be loaded, and why
  crmlens tables --format json                  row counts and date ranges per table

Every command takes --warehouse (or $CRMLENS_WAREHOUSE) and --format table|json|csv.
"""

app = typer.Typer(
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
) -> None:
    if debug:
        os.environ["CRMLENS_DEBUG"] = "1"


for module in load_commands():
    module.register(app)


def main(argv: list[str] | None = None) -> Any:
    """Entry point: run the app, turning errors into one line and an exit code."""
    from crmlens.errors import CrmlensError

    exit_, usage, abort = _click_exceptions()
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("CRMLENS_DEBUG") == "1"
    try:
        result = app(args=args, prog_name="crmlens", standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)  # click returns typer.Exit's code when not standalone
        return result
    except exit_ as e:
        sys.exit(e.exit_code)
    except usage as e:
        e.show()
        sys.exit(e.exit_code)
    except abort:
        _fail("interrupted; the warehouse is unchanged", args, 130)
    except KeyboardInterrupt:
        _fail("interrupted; the warehouse is unchanged", args, 130)
    except CrmlensError as e:
        if debug:
            raise
        _fail(e.message, args, 1, e.envelope())
    except Exception as e:  # a bug or an engine failure: still one line, no traceback
        if debug:
            raise
        _fail(
            f"internal error: {type(e).__name__}: {e} (run with --debug for details)",
            args,
            2,
        )


def _click_exceptions() -> tuple[Any, Any, Any]:
    """Exit, ClickException and Abort of click, and of the click Typer vendors."""
    import click
    import typer

    exit_: list[Any] = [click.exceptions.Exit, typer.Exit]
    usage: list[Any] = [click.ClickException]
    abort: list[Any] = [click.exceptions.Abort, typer.Abort]
    try:
        from typer._click import exceptions as vendored  # Typer ≥ 0.26 ships its click

        usage.append(vendored.ClickException)
    except ImportError:  # pragma: no cover - an older Typer uses click itself
        pass
    return tuple(exit_), tuple(usage), tuple(abort)


def _fail(
    message: str, args: list[str], code: int, env: dict[str, Any] | None = None
) -> None:
    import json

    from crmlens.cli.render import stderr

    stderr.print(
        f"[red]error:[/] {message}", markup=True, highlight=False, soft_wrap=True
    )
    if _wants_json(args):
        env = env or {"ok": False, "error": message, "errors": [message], "status": 500}
        sys.stdout.write(json.dumps(env, ensure_ascii=False) + "\n")
    sys.exit(code)


def _wants_json(args: list[str]) -> bool:
    for i, a in enumerate(args):
        if a in ("--format", "-f") and i + 1 < len(args) and args[i + 1] == "json":
            return True
        if a == "--format=json":
            return True
    return False
