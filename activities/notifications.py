"""Delivering the outbox.

The workflow decides that a notice goes out; `record_case_effects` writes it to the
outbox under a unique key (case, subject, kind), then the deliverer sends what is not yet
delivered. A retried activity finds the row delivered and sends nothing again.
The embedded default delivers to the log; a webhook deliverer posts JSON to an agency
integration endpoint.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import NotificationRow

log = logging.getLogger("casework.notifications")


class Deliverer(Protocol):
    async def deliver(self, notification: NotificationRow) -> None: ...


class LogDeliverer:
    """Writes each notice to the log: the embedded default has no mail server."""

    async def deliver(self, notification: NotificationRow) -> None:
        log.info("notify %s [%s %s] %s: %s", notification.recipient, notification.rule,
                 notification.kind, notification.case_id, notification.subject)


class WebhookDeliverer:
    """POSTs each notice as JSON; non-2xx is a failure the activity retries."""

    def __init__(self, url: str, timeout_seconds: float = 10.0) -> None:
        self._url = url
        self._timeout = timeout_seconds

    async def deliver(self, notification: NotificationRow) -> None:
        async with httpx.AsyncClient(timeout=self._timeout) as client:
            response = await client.post(self._url, json={
                "notification_key": notification.notification_key,
                "case_id": notification.case_id,
                "agency_id": notification.agency_id,
                "kind": notification.kind,
                "rule": notification.rule,
                "recipient": notification.recipient,
                "subject": notification.subject,
            }, headers={"Idempotency-Key": notification.notification_key})
            response.raise_for_status()


async def deliver_undelivered(session: AsyncSession, deliverer: Deliverer,
                              keys: Sequence[str]) -> int:
    """Deliver the named outbox rows not yet delivered; returns how many went out.
    Each delivery is committed on its own so one failure does not resend the others."""
    if not keys:
        return 0
    rows = (await session.scalars(
        select(NotificationRow).where(NotificationRow.notification_key.in_(keys),
                                      NotificationRow.delivered_at.is_(None))
    )).all()
    sent = 0
    for row in rows:
        row.attempts += 1
        try:
            await deliverer.deliver(row)
        except Exception as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            await session.commit()
            raise
        row.delivered_at = datetime.now(UTC)
        row.last_error = None
        await session.commit()
        sent += 1
    return sent
