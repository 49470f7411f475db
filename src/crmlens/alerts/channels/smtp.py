"""E-mail over SMTP (``smtplib``): one message per alert, or a digest per recipient."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from crmlens.alerts.channels import DeliveryError

if TYPE_CHECKING:
    from crmlens.alerts.message import Email
    from crmlens.alerts.rules import SmtpSettings

#: SMTP failures that another attempt in the same run cannot fix.
PERMANENT = (
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPNotSupportedError,
)


def build(
    settings: SmtpSettings, to: str, email: Email, keys: list[str]
) -> EmailMessage:
    """The MIME message: plain text with an HTML alternative, each alert key in a header."""
    msg = EmailMessage()
    msg["Subject"] = email.subject
    msg["From"] = settings.sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=True)
    msg["Message-ID"] = make_msgid(domain="crmlens")
    for key in keys:
        msg["X-Crmlens-Alert"] = key  # one header per alert key
    msg.set_content(email.text)
    msg.add_alternative(email.html, subtype="html")
    return msg


def send(
    settings: SmtpSettings, password: str | None, to: str, email: Email, keys: list[str]
) -> None:
    """Deliver `email` to `to`; :class:`DeliveryError` on any failure."""
    msg = build(settings, to, email, keys)
    try:
        if settings.ssl:
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout_seconds,
                context=ssl.create_default_context(),
            )  # fmt: skip
        else:
            server = smtplib.SMTP(
                settings.host, settings.port, timeout=settings.timeout_seconds
            )
        with server:
            if settings.starttls:
                server.starttls(context=ssl.create_default_context())
            if settings.user:
                server.login(settings.user, password or "")
            refused = server.send_message(msg)
    except PERMANENT as e:
        raise DeliveryError(
            f"SMTP {settings.host}: {_reason(e)}", permanent=True
        ) from e
    except (TimeoutError, smtplib.SMTPException, OSError) as e:
        raise DeliveryError(
            f"SMTP {settings.host}:{settings.port}: {_reason(e)}"
        ) from e
    if refused:
        raise DeliveryError(
            f"SMTP {settings.host} refused {to}: {refused}", permanent=True
        )


def _reason(e: BaseException) -> str:
    if isinstance(e, smtplib.SMTPResponseException):
        text = (
            e.smtp_error.decode("utf-8", "replace")
            if isinstance(e.smtp_error, bytes)
            else str(e.smtp_error)
        )
        return f"{e.smtp_code} {text}"
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__
