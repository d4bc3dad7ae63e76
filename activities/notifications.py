"""Delivering the outbox.

The workflow decides that a notice goes out; `record_case_effects` writes it to the
outbox under a unique key (case, subject, kind) and makes a first attempt to send it. A
failed attempt is recorded on the row (`attempts`, `last_error`) and never fails the
activity: a mail relay or agency endpoint that is down must not hold the case's workflow
in its recording step, where no deadline would be acted on. `redeliver` (run by every
worker on a timer, `run_redelivery`) retries what is still undelivered. A delivered row
is never sent again; two workers may both retry the same row at the same moment, so
each delivery carries the row's key as an Idempotency-Key.
The embedded default delivers to the log; a webhook deliverer posts JSON to an agency
integration endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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
    """POSTs each notice as JSON; non-2xx is a failed attempt, retried by redelivery."""

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
                              keys: Sequence[str] | None = None, *, limit: int = 100,
                              budget_seconds: float | None = None) -> int:
    """Try once to deliver the named outbox rows (or, with no keys, `limit` undelivered
    ones, least tried first, so notices that keep failing do not starve newer ones);
    returns how many went out. Each attempt is committed on its own, so a failure
    neither resends the others nor stops them; it is recorded on its row. With
    `budget_seconds`, no new attempt starts once that much time has gone (the rest
    wait for redelivery)."""
    statement = select(NotificationRow).where(NotificationRow.delivered_at.is_(None))
    if keys is not None:
        if not keys:
            return 0
        statement = statement.where(NotificationRow.notification_key.in_(keys)
                                    ).order_by(NotificationRow.created_at)
    else:
        statement = statement.order_by(NotificationRow.attempts,
                                       NotificationRow.created_at).limit(limit)
    rows = (await session.scalars(statement)).all()
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    sent = 0
    for row in rows:
        if deadline is not None and time.monotonic() >= deadline:
            break
        row.attempts += 1
        try:
            await deliverer.deliver(row)
        except Exception as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("notice %s not delivered (attempt %d): %s", row.notification_key,
                        row.attempts, row.last_error)
        else:
            row.delivered_at = datetime.now(UTC)
            row.last_error = None
            sent += 1
        await session.commit()
    return sent


async def run_redelivery(sessions: async_sessionmaker[AsyncSession], deliverer: Deliverer,
                         interval_seconds: float, stop: asyncio.Event) -> None:
    """Every `interval_seconds` until `stop`: retry the undelivered notices. A failing
    round (say, the database briefly away) is logged and the next one tries again."""
    while not stop.is_set():
        try:
            async with sessions() as session:
                sent = await deliver_undelivered(session, deliverer)
            if sent:
                log.info("redelivered %d notice(s)", sent)
        except Exception:
            log.exception("outbox redelivery round failed")
        try:
            await asyncio.wait_for(stop.wait(), interval_seconds)
        except TimeoutError:
            pass
