"""Delivering the outbox.

The workflow decides that a notice goes out; `record_case_effects` writes it to the
outbox under a unique key (case, subject, kind) and makes a first attempt to send it. A
failed attempt is recorded on the row (`attempts`, `last_error`) and never fails the
activity: a mail relay or agency endpoint that is down must not hold the case's workflow
in its recording step, where no deadline would be acted on. `redeliver` (run by every
worker on a timer, `run_redelivery`) retries what is still undelivered.

Exactly once without a fault (issue 18): the recording activity and every worker's
redelivery round look at the same rows at the same time, so nobody sends a row before
it has *claimed* it: one conditional UPDATE sets `claim_token` and a lease
(`claimed_until`) on rows that are undelivered and not under someone else's live lease
(on PostgreSQL the candidates are picked `FOR UPDATE SKIP LOCKED`, so rounds on several
workers pass each other instead of queueing). Before each send the sender renews its
lease and counts the attempt -- under its own token, so a row that someone else took
over is skipped -- and the send is cut off well inside the lease. A row is sent again
only when its sender died or timed out between sending and recording it (at most once
more, with the same Idempotency-Key, which is the row's key). `attempts` counts every
send, successful or not.
The embedded default delivers to the log; activities/channels.py has the real channels
(e-mail over SMTP, signed webhooks). A failed notice rests before its next attempt,
doubling each time (`retry_delay_seconds`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.channels import WebhookDeliverer
from models.tables import NotificationRow

__all__ = ["Deliverer", "LogDeliverer", "WebhookDeliverer", "claim", "deliver_undelivered",
           "retry_delay_seconds", "run_redelivery"]

log = logging.getLogger("casework.notifications")

CLAIM_LEASE_SECONDS = 60.0
"""How long a claim keeps other senders off a row. A send is cut off at half of it
(`deliver_undelivered`), so a live sender never loses a row it is sending; a dead one's
rows go out again once it has run out."""


BACKOFF_CAP_SECONDS = 3600.0


def retry_delay_seconds(attempts: int, base_seconds: float,
                        cap_seconds: float = BACKOFF_CAP_SECONDS) -> float:
    """How long a notice rests after its `attempts`-th failed send (issue 15): doubling
    from `base_seconds`, at most `cap_seconds`, so a relay that is down for hours is
    tried about hourly instead of by every round of every worker."""
    if attempts <= 0 or base_seconds <= 0:
        return 0.0
    return min(cap_seconds, base_seconds * 2 ** min(attempts - 1, 30))


class Deliverer(Protocol):
    async def deliver(self, notification: NotificationRow) -> None: ...


class LogDeliverer:
    """Writes each notice to the log: the embedded default has no mail server."""

    async def deliver(self, notification: NotificationRow) -> None:
        log.info("notify %s [%s %s] %s: %s", notification.recipient, notification.rule,
                 notification.kind, notification.case_id, notification.subject,
                 extra={"case_id": notification.case_id, "channel": "log",
                        "notification_key": notification.notification_key})


def new_claim_token() -> str:
    """A token of one redelivery round: nobody else holds it."""
    return uuid.uuid4().hex


def _claimable(now: datetime, token: str, takeover: bool) -> ColumnElement[bool]:
    """Undelivered and free: never claimed, or the claimant's lease has run out -- or,
    with `takeover`, claimed under this very token by an earlier attempt of the same
    activity (it was abandoned: Temporal retries an attempt only once it timed out)."""
    free = or_(NotificationRow.claimed_until.is_(None), NotificationRow.claimed_until < now)
    if takeover:
        free = or_(free, NotificationRow.claim_token == token)
    return NotificationRow.delivered_at.is_(None) & free


async def claim(session: AsyncSession, token: str, keys: Sequence[str] | None = None, *,
                limit: int = 100, lease_seconds: float = CLAIM_LEASE_SECONDS,
                takeover: bool = False) -> list[NotificationRow]:
    """Claim the named undelivered rows (or up to `limit` of any, least tried first) for
    `token`, commit, and return those this claim got, in the order to send them. One
    UPDATE decides, so of two senders racing for a row exactly one gets it."""
    now = datetime.now(UTC)
    claimable = _claimable(now, token, takeover)
    candidates = select(NotificationRow.notification_key).where(claimable)
    if keys is not None:
        candidates = candidates.where(NotificationRow.notification_key.in_(keys))
    else:
        candidates = candidates.order_by(NotificationRow.attempts,
                                         NotificationRow.created_at).limit(limit)
    # PostgreSQL: skip rows another round is claiming right now. SQLite ignores it (a
    # write there takes the database's one write lock, so the UPDATE is atomic anyway).
    candidates = candidates.with_for_update(skip_locked=True)
    claimed = (await session.execute(
        update(NotificationRow)
        .where(NotificationRow.notification_key.in_(candidates.scalar_subquery()), claimable)
        .values(claim_token=token, claimed_until=now + timedelta(seconds=lease_seconds))
        .returning(NotificationRow.notification_key)
        .execution_options(synchronize_session=False))).scalars().all()
    await session.commit()
    if not claimed:
        return []
    order = ((NotificationRow.created_at,) if keys is not None
             else (NotificationRow.attempts, NotificationRow.created_at))
    rows = (await session.scalars(select(NotificationRow).where(
        NotificationRow.notification_key.in_(claimed)).order_by(*order)
        .execution_options(populate_existing=True))).all()
    await session.commit()
    return list(rows)


async def _set(session: AsyncSession, key: str, condition: ColumnElement[bool] | None,
               **values: Any) -> Sequence[Any]:
    """One row's UPDATE (when `condition` still holds), committed; the rows it changed."""
    statement = update(NotificationRow).where(NotificationRow.notification_key == key)
    if condition is not None:
        statement = statement.where(condition)
    changed = (await session.execute(
        statement.values(**values).returning(NotificationRow.attempts)
        .execution_options(synchronize_session=False))).all()
    await session.commit()
    return changed


async def deliver_undelivered(session: AsyncSession, deliverer: Deliverer,
                              keys: Sequence[str] | None = None, *, limit: int = 100,
                              budget_seconds: float | None = None,
                              claim_token: str | None = None,
                              lease_seconds: float = CLAIM_LEASE_SECONDS,
                              backoff_base_seconds: float | None = None) -> int:
    """Claim, then try once to deliver the named outbox rows (or, with no keys, `limit`
    undelivered ones, least tried first, so notices that keep failing do not starve
    newer ones); returns how many went out. Each attempt is counted and committed before
    it is made, and its outcome after, so a failure neither resends the others nor stops
    them; it is recorded on its row. With `budget_seconds`, no new attempt starts once
    that much time has gone (the rest are released for redelivery at once).

    `claim_token` names the claimant; the recording activity passes one derived from its
    own id, so a retry of an abandoned attempt takes over that attempt's claims instead
    of waiting out their lease. Without it, this round's own.

    A failed notice rests for `retry_delay_seconds(attempts)` before anyone claims it
    again: its `claimed_until` is set to then, with no claimant (issue 15, backoff).
    The base is the channel's `retry_base_seconds` (the real channels of
    activities/channels.py: 30 s; the log, which cannot be down, none) unless given."""
    if backoff_base_seconds is None:
        backoff_base_seconds = float(getattr(deliverer, "retry_base_seconds", 0.0))
    if keys is not None and not keys:
        return 0
    token = claim_token or new_claim_token()
    rows = await claim(session, token, keys, limit=limit, lease_seconds=lease_seconds,
                       takeover=claim_token is not None)
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    mine = NotificationRow.claim_token == token
    sent = 0
    for index, row in enumerate(rows):
        if deadline is not None and time.monotonic() >= deadline:
            for rest in rows[index:]:
                await _set(session, rest.notification_key, mine, claim_token=None,
                           claimed_until=None)
            break
        # Renew the lease and count the attempt, only if the row is still ours and
        # undelivered: a sender that outlived its lease must not send a taken-over row.
        renewed = await _set(
            session, row.notification_key, mine & NotificationRow.delivered_at.is_(None),
            attempts=NotificationRow.attempts + 1,
            claimed_until=datetime.now(UTC) + timedelta(seconds=lease_seconds))
        if not renewed:
            continue
        attempt = int(renewed[0][0])
        try:
            async with asyncio.timeout(lease_seconds / 2):
                await deliverer.deliver(row)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"[:2000]
            resting = retry_delay_seconds(attempt, backoff_base_seconds)
            await _set(session, row.notification_key, mine, last_error=error,
                       claim_token=None, claimed_until=(
                           datetime.now(UTC) + timedelta(seconds=resting) if resting else None))
            log.warning("notice %s not delivered (attempt %d): %s", row.notification_key,
                        attempt, error, extra={"case_id": row.case_id, "attempt": attempt,
                                               "notification_key": row.notification_key})
        else:
            # Sent is sent: recorded even if, improbably, the claim was lost meanwhile.
            await _set(session, row.notification_key, None, delivered_at=datetime.now(UTC),
                       last_error=None, claim_token=None, claimed_until=None)
            sent += 1
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
