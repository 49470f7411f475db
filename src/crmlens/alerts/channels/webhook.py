"""JSON webhooks: one POST per alert (``urllib.request``), with a timeout.

The body is the alert's payload (``{"alert": key, "rule", "severity", "text", "action",
"finding": {...}}`` and a few more fields); the ``Idempotency-Key`` header is a hash of
the alert key and the URL, so a receiver can drop a repeat after a crash mid-delivery.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from typing import Any

from crmlens.alerts.channels import DeliveryError

#: HTTP statuses worth another attempt (the others of 4xx are permanent).
RETRYABLE_4XX = frozenset({408, 425, 429})


def idempotency_key(alert_key: str, url: str) -> str:
    """A stable ASCII key of (alert, URL)."""
    return hashlib.sha256(f"{alert_key}\n{url}".encode()).hexdigest()[:32]


def send(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float,
    token: str | None = None,
) -> int:
    """POST `payload` to `url`; the HTTP status on 2xx, :class:`DeliveryError` otherwise."""
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "crmlens-alerts",
        "Idempotency-Key": idempotency_key(str(payload.get("alert")), url),
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as e:
        if 300 <= e.code < 400:
            where = e.headers.get("Location", "?")
            raise DeliveryError(
                f"{url}: HTTP {e.code}, redirected to {where} (not followed: point the "
                "rule at the final URL)",
                permanent=True,
            ) from e
        permanent = 400 <= e.code < 500 and e.code not in RETRYABLE_4XX
        raise DeliveryError(
            f"{url}: HTTP {e.code} {e.reason}", permanent=permanent
        ) from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise DeliveryError(f"{url}: {reason}") from e


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a GET and lose the alert: report it instead."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
