"""The alert rules file (``alerts.yaml``): reading and validation with plain messages.

Every problem names the file, the rule (its number and name) or section, and the field;
all problems of a file are gathered and reported at once. The SMTP password is never in
the file: ``smtp.password_env`` names the environment variable that holds it.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from crmlens.errors import InputError
from crmlens.insights.findings import SEVERITY_RANK, Severity
from crmlens.warehouse.scope import Scope

Kind = Literal[
    "plan_at_risk",
    "lead_unanswered",
    "key_client_silent",
    "overdue_tasks",
    "stage_drop",
]
KINDS: tuple[Kind, ...] = (
    "plan_at_risk",
    "lead_unanswered",
    "key_client_silent",
    "overdue_tasks",
    "stage_drop",
)
Repeat = Literal["once", "day", "week", "month"]
REPEATS: tuple[Repeat, ...] = ("once", "day", "week", "month")
#: How often a still-true alert is sent again when the rule does not say (``repeat``).
DEFAULT_REPEAT: dict[str, Repeat] = {"overdue_tasks": "week"}
Channel = Literal["email", "webhook"]
LEVELS = ("company", "region", "team", "manager")

COMMON_FIELDS = (
    "name",
    "kind",
    "recipients",
    "scope",
    "language",
    "min_severity",
    "repeat",
)
#: Fields of each kind with their defaults (None: optional without a default).
KIND_FIELDS: dict[str, dict[str, Any]] = {
    "plan_at_risk": {"level": None, "period": None},
    "lead_unanswered": {"sla_hours": 2.0, "max_age_days": 7.0},
    "key_client_silent": {},
    "overdue_tasks": {"above": None},
    "stage_drop": {"pipeline": None},
}
REQUIRED_KIND_FIELDS = {"overdue_tasks": ("above",)}

EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
ENV_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Recipient:
    """Where an alert goes: an e-mail address or a webhook URL."""

    address: str
    channel: Channel

    def __str__(self) -> str:
        return self.address


@dataclass(frozen=True)
class Rule:
    """One alert rule: what to watch, for which scope, told to whom and in which language."""

    name: str
    kind: Kind
    recipients: tuple[Recipient, ...]
    scope: Scope = field(default_factory=Scope.company)
    language: Literal["ru", "en"] = "en"
    min_severity: Severity = "low"
    repeat: Repeat = "once"
    options: Mapping[str, Any] = field(default_factory=dict)

    def admits(self, severity: str) -> bool:
        """Whether an alert of `severity` reaches this rule's threshold."""
        return SEVERITY_RANK[severity] <= SEVERITY_RANK[self.min_severity]


@dataclass(frozen=True)
class SmtpSettings:
    """The mail server; the password is read from ``password_env`` when sending."""

    host: str
    sender: str
    port: int = 25
    starttls: bool = False
    ssl: bool = False
    user: str | None = None
    password_env: str | None = None
    timeout_seconds: float = 30.0
    digest: bool = False

    def password(self) -> str | None:
        """The password from the environment (an InputError when the variable is unset)."""
        if not self.user:
            return None
        assert self.password_env is not None
        value = os.environ.get(self.password_env)
        if value is None:
            raise InputError(
                f"smtp.password_env: the environment variable {self.password_env} is "
                "not set",
                reason=f"export {self.password_env}=... before running crmlens alerts",
            )
        return value


@dataclass(frozen=True)
class WebhookSettings:
    """Webhook requests: timeout and an optional bearer token from the environment."""

    timeout_seconds: float = 10.0
    token_env: str | None = None

    def token(self) -> str | None:
        """The bearer token from the environment, if one is configured and set."""
        return os.environ.get(self.token_env) if self.token_env else None


@dataclass(frozen=True)
class DeliverySettings:
    """Retries of a failed delivery within one run, and how long a claim is honoured."""

    attempts: int = 3
    backoff_seconds: float = 2.0
    claim_timeout_minutes: float = 30.0


@dataclass(frozen=True)
class RuleSet:
    """A validated rules file."""

    file: str
    rules: tuple[Rule, ...]
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings = field(default_factory=WebhookSettings)
    delivery: DeliverySettings = field(default_factory=DeliverySettings)


def load_rules(path: str | os.PathLike[str]) -> RuleSet:
    """Read and validate the rules file at `path`."""
    p = Path(path)
    if not p.is_file():
        raise InputError(
            f"{p}: no such rules file",
            reason="create one with: crmlens alerts --init",
        )
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{p}: cannot read the rules file: {e}") from e
    return parse_rules(text, file=str(p))


def parse_rules(text: str, *, file: str = "alerts.yaml") -> RuleSet:
    """Validate the YAML `text` of a rules file (`file` names it in messages)."""
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e)
        raise InputError(f"{file}{where}: not valid YAML: {problem}") from e
    v = _Validator(file)
    ruleset = v.ruleset(data)
    v.raise_if_any()
    assert ruleset is not None
    return ruleset


class _Validator:
    """Collects every problem of a file, then raises once."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[str] = []

    def error(self, where: str, field_name: str | None, message: str) -> None:
        parts = [self.file, where] + ([f"field {field_name!r}"] if field_name else [])
        self.errors.append(", ".join(p for p in parts if p) + ": " + message)

    def raise_if_any(self) -> None:
        if not self.errors:
            return
        if len(self.errors) == 1:
            raise InputError(self.errors[0])
        n = len(self.errors)
        raise InputError(
            f"{self.file} has {n} problems: " + "; ".join(self.errors),
            errors=self.errors,
        )

    # ---- sections -----------------------------------------------------------------

    def ruleset(self, data: Any) -> RuleSet | None:
        if not isinstance(data, dict):
            self.error("", None, "expected a mapping with a 'rules' list at the top")
            return None
        self.unknown(data, ("rules", "smtp", "webhook", "delivery"), "top level")
        raw_rules = data.get("rules")
        if not isinstance(raw_rules, list) or not raw_rules:
            self.error("top level", "rules", "expected a non-empty list of rules")
            raw_rules = []
        rules = [r for i, raw in enumerate(raw_rules, 1) if (r := self.rule(i, raw))]
        self.unique_names(rules)
        smtp = self.smtp(data.get("smtp")) if data.get("smtp") is not None else None
        self.need_smtp(rules, smtp, "smtp" in data)
        return RuleSet(
            file=self.file,
            rules=tuple(rules),
            smtp=smtp,
            webhook=self.webhook(data.get("webhook")),
            delivery=self.delivery(data.get("delivery")),
        )

    def unknown(
        self, data: dict[str, Any], allowed: tuple[str, ...], where: str
    ) -> None:
        for key in data:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.error(
                    where,
                    str(key),
                    f"unknown field{hint}; allowed: {', '.join(allowed)}",
                )

    def rule(self, i: int, raw: Any) -> Rule | None:
        where = f"rule {i}"
        if not isinstance(raw, dict):
            self.error(where, None, "expected a mapping with kind and recipients")
            return None
        name = raw.get("name")
        if name is not None:
            where = f"rule {i} {str(name)!r}"
        kind = self.kind(raw.get("kind"), where)
        allowed = COMMON_FIELDS + tuple(KIND_FIELDS.get(kind or "", {}))
        self.unknown(raw, allowed if kind else tuple(raw), where)
        checked_name = self.name(name, kind, i, where)
        recipients = self.recipients(raw.get("recipients"), where)
        scope = self.scope(raw.get("scope"), where)
        language = self.choice(raw, "language", ("ru", "en"), "en", where)
        severity = self.choice(
            raw, "min_severity", ("low", "medium", "high"), "low", where
        )
        repeat = self.choice(
            raw, "repeat", REPEATS, DEFAULT_REPEAT.get(kind or "", "once"), where
        )
        options = self.options(kind, raw, where) if kind else {}
        if not (kind and checked_name and recipients and scope and options is not None):
            return None
        return Rule(
            name=checked_name,
            kind=kind,
            recipients=recipients,
            scope=scope,
            language=language,  # type: ignore[arg-type]
            min_severity=severity,  # type: ignore[arg-type]
            repeat=repeat,  # type: ignore[arg-type]
            options=options,
        )

    def kind(self, value: Any, where: str) -> Kind | None:
        if value is None:
            self.error(where, "kind", "missing; use one of " + ", ".join(KINDS))
            return None
        if value not in KINDS:
            close = difflib.get_close_matches(str(value), KINDS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            self.error(
                where,
                "kind",
                f"{value!r} is not a rule kind ({hint}use one of "
                + ", ".join(KINDS)
                + ")",
            )
            return None
        return value  # type: ignore[no-any-return]

    def name(self, value: Any, kind: str | None, i: int, where: str) -> str | None:
        if value is None:
            return f"{kind or 'rule'}-{i}"
        if not isinstance(value, str) or not value.strip() or ":" in value:
            self.error(
                where, "name", f"{value!r}: expected a non-empty text without ':'"
            )
            return None
        return value.strip()

    def unique_names(self, rules: list[Rule]) -> None:
        seen: set[str] = set()
        for r in rules:
            if r.name in seen:
                self.error(
                    f"rule {r.name!r}",
                    "name",
                    "used by two rules; names are "
                    "part of what remembers a sent alert, so they must differ",
                )
            seen.add(r.name)

    def recipients(self, value: Any, where: str) -> tuple[Recipient, ...] | None:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value:
            self.error(
                where,
                "recipients",
                "expected a list of e-mail addresses and/or webhook URLs",
            )
            return None
        out: list[Recipient] = []
        bad = False
        for item in value:
            r = recipient(item)
            if r is None:
                bad = True
                self.error(
                    where,
                    "recipients",
                    f"{item!r} is neither an e-mail address nor an http(s) URL",
                )
            elif r not in out:
                out.append(r)
        return None if bad else tuple(out)

    def scope(self, value: Any, where: str) -> Scope | None:
        if value is None:
            return Scope.company()
        try:
            return Scope.parse(str(value))
        except InputError as e:
            self.error(where, "scope", e.message)
            return None

    def choice(
        self,
        raw: dict[str, Any],
        key: str,
        allowed: tuple[str, ...],
        default: str,
        where: str,
    ) -> str:
        value = raw.get(key, default)
        if value not in allowed:
            self.error(where, key, f"{value!r}: use one of {', '.join(allowed)}")
            return default
        return str(value)

    def options(
        self, kind: str, raw: dict[str, Any], where: str
    ) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        ok = True
        for key in REQUIRED_KIND_FIELDS.get(kind, ()):
            if raw.get(key) is None:
                self.error(where, key, f"required for {kind} rules")
                ok = False
        checks: dict[str, Callable[[Any], str | None]] = {
            "sla_hours": _positive,
            "max_age_days": _positive,
            "above": _count,
            "level": lambda v: (
                None if v in LEVELS else "use one of " + ", ".join(LEVELS)
            ),
            "period": lambda v: (
                None
                if isinstance(v, str) and PERIOD_RE.match(v)
                else "expected a month YYYY-MM, e.g. '2025-12' (in quotes)"
            ),
            "pipeline": lambda v: (
                None if isinstance(v, str) and v else "expected a text"
            ),
        }
        for key, default in KIND_FIELDS[kind].items():
            value = raw.get(key, default)
            if value is None:
                out[key] = None
                continue
            problem = checks[key](value)
            if problem:
                self.error(where, key, f"{value!r}: {problem}")
                ok = False
            out[key] = value
        return out if ok else None

    def need_smtp(
        self, rules: list[Rule], smtp: SmtpSettings | None, given: bool
    ) -> None:
        if smtp is not None or given:
            return
        for r in rules:
            mail = [x for x in r.recipients if x.channel == "email"]
            if mail:
                self.error(
                    f"rule {r.name!r}",
                    "recipients",
                    f"sends e-mail to {mail[0]} but the file has no 'smtp' section "
                    "(host, port, from)",
                )
                return

    def smtp(self, data: Any) -> SmtpSettings | None:
        allowed = ("host", "port", "from", "starttls", "ssl", "user", "password_env",
                   "timeout_seconds", "digest")  # fmt: skip
        if not isinstance(data, dict):
            self.error("smtp", None, "expected a mapping: host, port, from, …")
            return None
        before = len(self.errors)
        if "password" in data:
            self.error(
                "smtp",
                "password",
                "never store the password in the file: put "
                "it in an environment variable and name it in password_env",
            )
        self.unknown(
            {k: v for k, v in data.items() if k != "password"}, allowed, "smtp"
        )
        host, sender = data.get("host"), data.get("from")
        if not isinstance(host, str) or not host:
            self.error(
                "smtp",
                "host",
                "required: the mail server's name, e.g. smtp.example.com",
            )
        if not isinstance(sender, str) or not EMAIL_RE.match(_bare(sender)):
            self.error(
                "smtp",
                "from",
                f"{sender!r}: expected the sender's address, e.g. crmlens@example.com",
            )
        flags = {k: data.get(k, False) for k in ("starttls", "ssl", "digest")}
        for k, v in flags.items():
            if not isinstance(v, bool):
                self.error("smtp", k, f"{v!r}: expected true or false")
        if flags["starttls"] is True and flags["ssl"] is True:
            self.error(
                "smtp", "ssl", "use either ssl (port 465) or starttls (port 587)"
            )
        default_port = 465 if flags["ssl"] is True else 587 if flags["starttls"] else 25
        port = data.get("port", default_port)
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            self.error("smtp", "port", f"{port!r}: expected a port number, e.g. 587")
        user, env = data.get("user"), data.get("password_env")
        if user is not None and (not isinstance(user, str) or not user):
            self.error("smtp", "user", f"{user!r}: expected the login name")
        if env is not None and (not isinstance(env, str) or not ENV_RE.match(env)):
            self.error(
                "smtp",
                "password_env",
                f"{env!r}: expected the name of an "
                "environment variable, e.g. CRMLENS_SMTP_PASSWORD",
            )
        if user and not env:
            self.error(
                "smtp",
                "password_env",
                "required with user: the name of the "
                "environment variable that holds the password",
            )
        timeout = data.get("timeout_seconds", 30.0)
        if problem := _positive(timeout):
            self.error("smtp", "timeout_seconds", f"{timeout!r}: {problem}")
        if len(self.errors) > before:
            return None
        return SmtpSettings(
            host=str(host), sender=str(sender), port=port, starttls=flags["starttls"],
            ssl=flags["ssl"], user=user, password_env=env,
            timeout_seconds=float(timeout), digest=flags["digest"],
        )  # fmt: skip

    def webhook(self, data: Any) -> WebhookSettings:
        if data is None:
            return WebhookSettings()
        if not isinstance(data, dict):
            self.error(
                "webhook", None, "expected a mapping: timeout_seconds, token_env"
            )
            return WebhookSettings()
        self.unknown(data, ("timeout_seconds", "token_env"), "webhook")
        timeout = data.get("timeout_seconds", 10.0)
        if problem := _positive(timeout):
            self.error("webhook", "timeout_seconds", f"{timeout!r}: {problem}")
            timeout = 10.0
        env = data.get("token_env")
        if env is not None and (not isinstance(env, str) or not ENV_RE.match(env)):
            self.error(
                "webhook",
                "token_env",
                f"{env!r}: expected the name of an environment variable",
            )
            env = None
        return WebhookSettings(float(timeout), env)

    def delivery(self, data: Any) -> DeliverySettings:
        if data is None:
            return DeliverySettings()
        if not isinstance(data, dict):
            self.error(
                "delivery", None, "expected a mapping: attempts, backoff_seconds"
            )
            return DeliverySettings()
        self.unknown(
            data, ("attempts", "backoff_seconds", "claim_timeout_minutes"), "delivery"
        )
        d = DeliverySettings()
        attempts = data.get("attempts", d.attempts)
        if (
            isinstance(attempts, bool)
            or not isinstance(attempts, int)
            or not (1 <= attempts <= 20)
        ):
            self.error("delivery", "attempts", f"{attempts!r}: expected 1 to 20")
            attempts = d.attempts
        backoff = data.get("backoff_seconds", d.backoff_seconds)
        if problem := _non_negative(backoff):
            self.error("delivery", "backoff_seconds", f"{backoff!r}: {problem}")
            backoff = d.backoff_seconds
        claim = data.get("claim_timeout_minutes", d.claim_timeout_minutes)
        if problem := _positive(claim):
            self.error("delivery", "claim_timeout_minutes", f"{claim!r}: {problem}")
            claim = d.claim_timeout_minutes
        return DeliverySettings(attempts, float(backoff), float(claim))


def recipient(value: Any) -> Recipient | None:
    """A recipient from its text: an http(s) URL is a webhook, an address an e-mail."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower().startswith(("http://", "https://")):
        parsed = urlparse(text)
        return Recipient(text, "webhook") if parsed.hostname else None
    if EMAIL_RE.match(_bare(text)):
        return Recipient(text, "email")
    return None


def _bare(address: str) -> str:
    """The address inside ``Name <a@b.c>``."""
    from email.utils import parseaddr

    return parseaddr(address)[1] or address


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _positive(value: Any) -> str | None:
    return None if _number(value) and value > 0 else "expected a number above 0"


def _non_negative(value: Any) -> str | None:
    return None if _number(value) and value >= 0 else "expected a number, 0 or more"


def _count(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else "expected a whole number, 0 or more"


def example_rules() -> str:
    """The commented starting rules file that ``crmlens alerts --init`` writes."""
    from importlib.resources import files

    return files("crmlens.alerts").joinpath("example.yaml").read_text(encoding="utf-8")


def write_example(path: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Write :func:`example_rules` to `path` (an InputError if it exists, unless `force`)."""
    p = Path(path)
    if p.exists() and not force:
        raise InputError(
            f"{p} already exists", reason="edit it, or pass --force to overwrite it"
        )
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(example_rules(), encoding="utf-8")
    return p
