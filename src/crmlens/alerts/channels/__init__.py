"""Delivery channels: e-mail over SMTP and JSON webhooks.

A channel either delivers or raises :class:`DeliveryError`; ``permanent`` errors (a
refused recipient, an HTTP 4xx) are not retried within the run, temporary ones are.
"""

from __future__ import annotations


class DeliveryError(Exception):
    """A delivery failed; `permanent` when trying again in this run cannot help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
