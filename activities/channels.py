"""Real notification channels for the outbox (issue 15): e-mail over SMTP and signed
webhooks. Both are `Deliverer`s (activities/notifications.py), so they inherit the
outbox's guarantees -- a row is claimed before it is sent, every attempt is counted,
a failure is kept on the row (`last_error`) and retried after a backoff, nothing is
dropped -- and add only how one notice leaves the building.

- **E-mail**: one message per notice to the address its recipient resolves to from
  the agency contact settings (`NOTIFICATION_ADDRESSES`), over SMTP with STARTTLS
  (required unless switched off for a relay on the same host) and AUTH when a user is
  set. Its Message-ID is derived from the notice's key, so the rare resend after a
  crash (see notifications.py) is the same message to the recipient's mail system.
  An unknown recipient is a failed attempt naming what to configure, not a drop.
- **Webhook**: a POST of the notice as JSON, with `Idempotency-Key` (the notice's
  key) and, when `NOTIFICATION_WEBHOOK_SECRET` is set, `Casework-Timestamp` (Unix
  seconds) and `Casework-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`; a
  receiver verifies it and refuses stale timestamps (docs/webhooks.md has the snippet).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import smtplib
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage

import httpx

from models.tables import NotificationRow

TIMESTAMP_HEADER = "Casework-Timestamp"
SIGNATURE_HEADER = "Casework-Signature"
SIGNATURE_VERSION = "v1"
REPLAY_WINDOW_SECONDS = 300
"""How far a receiver should accept a signed delivery's timestamp from its own clock."""

RETRY_BASE_SECONDS = 30.0
"""A real channel's failed notice rests this long, doubling per failure up to an hour
(activities/notifications.py `retry_delay_seconds`)."""

ANY_AGENCY = "*"
"""The key of `NOTIFICATION_ADDRESSES` whose addresses serve every agency (CP's own
recipients: practitioner, team manager, LEO)."""


class UnknownRecipient(LookupError):
    """No address is configured for a notice's recipient: it stays in the outbox with
    this as its last error until the contact settings name one."""


def resolve_address(addresses: Mapping[str, Mapping[str, str]], agency_id: str,
                    recipient: str) -> str:
    """The e-mail address of `recipient` (a role such as `agency` or `practitioner`)
    for this agency's case: the agency's own entry first, then the `*` entry."""
    for key in (agency_id, ANY_AGENCY):
        address = addresses.get(key, {}).get(recipient)
        if address:
            return address
    raise UnknownRecipient(f"no address for recipient {recipient!r} of {agency_id!r}: "
                           "add it to NOTIFICATION_ADDRESSES")


def notice_body(notification: NotificationRow) -> dict[str, str]:
    """What a channel says about a notice: ids, rule, kind, subject -- no case content."""
    return {"notification_key": notification.notification_key,
            "case_id": notification.case_id, "agency_id": notification.agency_id,
            "kind": notification.kind, "rule": notification.rule,
            "recipient": notification.recipient, "subject": notification.subject}


def webhook_signature(secret: bytes, timestamp: int, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256 of `<timestamp>.<body>` under `secret`."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={mac}"


def verify_webhook(secret: bytes, timestamp_header: str, signature_header: str,
                   body: bytes, now: float,
                   window_seconds: float = REPLAY_WINDOW_SECONDS) -> bool:
    """Receiver side: the signature matches (compared in constant time) and the
    timestamp is within `window_seconds` of `now`, so a captured delivery cannot be
    replayed later."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    if abs(now - timestamp) > window_seconds:
        return False
    return hmac.compare_digest(webhook_signature(secret, timestamp, body), signature_header)


class WebhookDeliverer:
    """POSTs each notice as JSON; non-2xx is a failed attempt, retried by redelivery.
    With a secret, each POST is signed (module docstring)."""

    retry_base_seconds = RETRY_BASE_SECONDS

    def __init__(self, url: str, timeout_seconds: float = 10.0, *, secret: bytes | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._url = url
        self._timeout = timeout_seconds
        self._secret = secret
        self._clock = clock

    async def deliver(self, notification: NotificationRow) -> None:
        body = json.dumps(notice_body(notification), separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json",
                   "Idempotency-Key": notification.notification_key}
        if self._secret is not None:
            timestamp = int(self._clock())
            headers[TIMESTAMP_HEADER] = str(timestamp)
            headers[SIGNATURE_HEADER] = webhook_signature(self._secret, timestamp, body)
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.post(self._url, content=body, headers=headers)
            response.raise_for_status()


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 587
    sender: str = "casework@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = True
    ca_file: str | None = None
    """A CA bundle to trust instead of the system's (a private relay's certificate)."""
    timeout_seconds: float = 10.0


class SmtpDeliverer:
    """Sends each notice as an e-mail (module docstring). smtplib runs in a thread, so
    the event loop -- and the worker's other activities -- never wait on the relay."""

    retry_base_seconds = RETRY_BASE_SECONDS

    def __init__(self, smtp: SmtpSettings, addresses: Mapping[str, Mapping[str, str]]) -> None:
        self._smtp = smtp
        self._addresses = addresses

    def message(self, notification: NotificationRow) -> EmailMessage:
        """The e-mail of one notice; its Message-ID follows from the notice's key."""
        to = resolve_address(self._addresses, notification.agency_id, notification.recipient)
        message = EmailMessage()
        message["From"] = self._smtp.sender
        message["To"] = to
        message["Subject"] = notification.subject
        digest = hashlib.sha256(notification.notification_key.encode()).hexdigest()[:40]
        message["Message-ID"] = f"<{digest}@casework>"
        message.set_content(
            f"{notification.subject}\n\nCase {notification.case_id} ({notification.rule}, "
            f"{notification.kind}).\nNotice {notification.notification_key}\n")
        return message

    async def deliver(self, notification: NotificationRow) -> None:
        message = self.message(notification)
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        smtp = self._smtp
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            if smtp.starttls:
                context = ssl.create_default_context(cafile=smtp.ca_file)
                client.starttls(context=context)
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(message)
