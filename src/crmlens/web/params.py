"""Parameters of a registered analysis, read from its runner's signature, and their parsing.

Every analysis in the registry gets a web form and an API without special code: the
keyword parameters of ``run(wh, *, as_of=None, by="manager", ...)`` become typed fields
(dates, numbers, yes/no, one of a ``Literal``'s values, text). Runners that take
``**params`` read them with ``params.get("name")``; those names are found in the runner's
source. Parameters that write files or change the warehouse (``export``, ``out``,
``apply`` …) are never accepted from the web.

Query values are checked here, before any analysis runs: a date must be a date, a number a
number, text may hold letters, digits, spaces and ``- . , : ( ) / & + % № # @ _`` only and
at most 200 characters. Anything else is a 400 with the parameter's name.
"""

from __future__ import annotations

import datetime as dt
import inspect
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from crmlens.errors import InputError

Kind = Literal["date", "int", "float", "bool", "choice", "text", "floats", "texts"]

#: Parameters that write files or change the warehouse, or that the UI sets itself
#: (the language; region, team and manager are filters that narrow the scope).
DENIED = frozenset(
    {"export", "out", "save", "store", "model_path", "file", "init", "apply", "undo"}
    | {"lang"}
    | {"region", "team", "manager"}
)
DATE_NAMES = frozenset({"as_of", "date_from", "date_to", "start", "end", "cutoff"})
MAX_TEXT = 200
SAFE_TEXT = re.compile(r"^[\w\s\-.,:()/&+%№#@]*$")
_GET = re.compile(r"""params\.get\(\s*["']([a-z][a-z0-9_]{0,30})["']""")
_LITERAL = re.compile(r"Literal\[([^\]]*)\]")
_QUOTED = re.compile(r"""["']([^"']+)["']""")


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of an analysis as a form field."""

    name: str
    kind: Kind
    default: Any = None
    choices: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the API's list of analyses."""
        default = self.default
        if isinstance(default, tuple):
            default = ",".join(str(v) for v in default)
        elif isinstance(default, dt.date):
            default = default.isoformat()
        return {
            "name": self.name,
            "kind": self.kind,
            "default": default,
            "choices": list(self.choices),
        }


@lru_cache(maxsize=256)
def specs_of(runner: Callable[..., Any]) -> tuple[ParamSpec, ...]:
    """The web-settable parameters of `runner` (from its signature and source)."""
    specs: list[ParamSpec] = []
    takes_more = False
    for i, p in enumerate(inspect.signature(runner).parameters.values()):
        if i == 0 or p.kind is p.VAR_POSITIONAL:
            continue
        if p.kind is p.VAR_KEYWORD:
            takes_more = p.name == "params"
            continue
        if p.name.startswith("_") or p.name in DENIED:
            continue
        default = None if p.default is inspect.Parameter.empty else p.default
        specs.append(_spec(p.name, str(p.annotation), default))
    if takes_more:
        known = {s.name for s in specs}
        for name in _names_read(runner):
            if name not in known and name not in DENIED:
                known.add(name)
                specs.append(_spec(name, "str | None", None))
    return tuple(specs)


def _names_read(runner: Callable[..., Any]) -> list[str]:
    """Names read with ``params.get("name")`` in the runner's module (its helpers too)."""
    module = inspect.getmodule(inspect.unwrap(runner))
    try:
        source = inspect.getsource(module) if module else ""
    except (OSError, TypeError):
        return []
    return list(dict.fromkeys(_GET.findall(source)))


def _spec(name: str, annotation: str, default: Any) -> ParamSpec:
    literal = _LITERAL.search(annotation)
    if literal:
        return ParamSpec(
            name, "choice", default, tuple(_QUOTED.findall(literal.group(1)))
        )
    if name in DATE_NAMES or "dt.date" in annotation:
        return ParamSpec(name, "date", default)
    bare = annotation.replace(" | None", "").replace("Optional[", "").strip()
    if bare == "bool" or isinstance(default, bool):
        return ParamSpec(name, "bool", default)
    if bare == "int":
        return ParamSpec(name, "int", default)
    if bare == "float":
        return ParamSpec(name, "float", default)
    if bare.startswith("tuple[float"):
        return ParamSpec(name, "floats", default)
    if bare.startswith("tuple["):
        return ParamSpec(name, "texts", default)
    return ParamSpec(name, "text", default)


def parse_params(
    specs: tuple[ParamSpec, ...], query: Mapping[str, str]
) -> dict[str, Any]:
    """Typed values of the parameters given in `query` (unknown keys are ignored)."""
    out: dict[str, Any] = {}
    for spec in specs:
        raw = query.get(spec.name)
        if raw is None or raw == "":
            continue
        out[spec.name] = parse_value(spec, raw)
    return out


def parse_value(spec: ParamSpec, raw: str) -> Any:
    """`raw` as `spec`'s type; InputError (a 400) naming the parameter otherwise."""
    text = check_text(spec.name, raw)
    try:
        if spec.kind == "date":
            return dt.date.fromisoformat(text).isoformat()
        if spec.kind == "int":
            return int(text)
        if spec.kind == "float":
            value = float(text)
            if value != value or value in (float("inf"), float("-inf")):
                raise ValueError(text)
            return value
        if spec.kind == "bool":
            return _bool(text)
        if spec.kind == "floats":
            return tuple(float(v) for v in text.split(","))
        if spec.kind == "texts":
            return tuple(v.strip() for v in text.split(",") if v.strip())
    except ValueError as e:
        raise InputError(
            f"parameter {spec.name}={raw!r} is not a {_WORDS[spec.kind]}"
        ) from e
    if spec.kind == "choice" and text not in spec.choices:
        raise InputError(
            f"parameter {spec.name}={raw!r} is not allowed",
            reason="use " + ", ".join(spec.choices),
        )
    return text


_WORDS = {
    "date": "date (YYYY-MM-DD)",
    "int": "whole number",
    "float": "number",
    "bool": "yes/no value",
    "floats": "list of numbers",
    "texts": "list",
}


def check_text(name: str, raw: str) -> str:
    """`raw` stripped, when it is short and holds only allowed characters."""
    text = raw.strip()
    if len(text) > MAX_TEXT:
        raise InputError(f"parameter {name} is longer than {MAX_TEXT} characters")
    if not SAFE_TEXT.match(text):
        raise InputError(
            f"parameter {name}={raw[:40]!r} holds characters that are not allowed",
            reason="letters, digits, spaces and - . , : ( ) / & + % № # @ _",
        )
    return text


def _bool(text: str) -> bool:
    low = text.lower()
    if low in ("1", "true", "yes", "on", "да"):
        return True
    if low in ("0", "false", "no", "off", "нет"):
        return False
    raise ValueError(text)
