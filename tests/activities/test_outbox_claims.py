"""Issue 18, part 1: each notice is POSTed once when the recording activity and the
redelivery rounds of several workers race for it, and at most once more after a fault.
Counted at a real webhook endpoint on 127.0.0.1, on PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.notifications import WebhookDeliverer, claim, deliver_undelivered, run_redelivery
from activities.read_model import ReadModelActivities
from models.tables import NotificationRow
from tests.activities.test_record_case_effects import _effects, _outbox
from tests.polling import eventually
from tests.webhook_receiver import webhook_receiver

CASES = 12


LEASE = 2.0
"""Long enough that a loaded machine (CI on 2 cores) cannot let a lease run out, or cut
a send (at half the lease) before its POST reached the receiver, by accident."""


async def _rows(sessions: async_sessionmaker[AsyncSession], keys: Sequence[str]
                ) -> list[NotificationRow]:
    async with sessions() as session:
        return list((await session.scalars(select(NotificationRow).where(
            NotificationRow.notification_key.in_(keys)))).all())


async def test_each_notice_is_posted_once_while_recording_and_redelivery_race(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """No fault at all: the activity's first attempt and two workers' redelivery rounds
    (every 50 ms) all look at the freshly written rows; each notice reaches the endpoint
    exactly once and its row counts one attempt (before the fix: 1-in-4 twice or more)."""
    with webhook_receiver(delay_seconds=0.05) as receiver:
        deliverer = WebhookDeliverer(receiver.url)
        recorder = ReadModelActivities(sessions, deliverer)
        stop = asyncio.Event()
        rounds = [asyncio.create_task(run_redelivery(sessions, deliverer, 0.05, stop))
                  for _ in range(2)]
        batches = [_effects(f"c-{unique_id}-{i}") for i in range(CASES)]

        async def record(index: int) -> int:
            environment = ActivityEnvironment()
            environment.info = dataclasses.replace(
                environment.info, workflow_id=f"case-contract-{unique_id}-{index}")
            result: int = await environment.run(recorder.record_case_effects,
                                                batches[index])
            return result

        try:
            await asyncio.wait_for(asyncio.gather(*(record(i) for i in range(CASES))), 30)
            keys = [n.notification_key for b in batches for n in b.notifications]

            async def all_delivered() -> None:
                rows = await _rows(sessions, keys)
                assert len(rows) == len(keys)
                assert all(r.delivered_at is not None for r in rows)

            await eventually(all_delivered)
            await asyncio.sleep(0.2)  # a late duplicate would land now
        finally:
            stop.set()
            await asyncio.wait_for(asyncio.gather(*rounds), 10)
    assert {key: receiver.posts[key] for key in keys} == dict.fromkeys(keys, 1)
    rows = await _rows(sessions, keys)
    assert [(r.attempts, r.claim_token, r.claimed_until) for r in rows] == [
        (1, None, None)] * len(keys)


async def test_a_claimed_notice_waits_for_its_lease_and_every_send_is_counted(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """A sender claimed the notice and died before sending: other rounds leave it alone
    while the lease lasts, then send it once; the same claimant (a retried recording
    activity) takes it over at once. `attempts` equals the POSTs received."""
    first, second = await _outbox(sessions, f"c-{unique_id}", [0, 0])
    with webhook_receiver() as receiver:
        deliverer = WebhookDeliverer(receiver.url)
        async with sessions() as session:
            assert [r.notification_key for r in await claim(
                session, "dead-worker", [first], lease_seconds=LEASE)] == [first]
            assert [r.notification_key for r in await claim(
                session, "retried-activity", [second], lease_seconds=60)] == [second]
            # Another round: both are someone else's for now.
            assert await deliver_undelivered(session, deliverer, [first, second]) == 0
            # The retried activity takes its own claim over without waiting.
            assert await deliver_undelivered(session, deliverer, [second],
                                             claim_token="retried-activity") == 1
            await asyncio.sleep(LEASE + 0.2)  # the dead worker's lease runs out
            assert await deliver_undelivered(session, deliverer, [first, second]) == 1
            assert await deliver_undelivered(session, deliverer, [first, second]) == 0
    assert (receiver.posts[first], receiver.posts[second]) == (1, 1)
    rows = {r.notification_key: r for r in await _rows(sessions, [first, second])}
    assert (rows[first].attempts, rows[second].attempts) == (1, 1)


async def test_a_send_that_hangs_is_cut_inside_the_lease_and_counted(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """An endpoint that never answers in time: the attempt is abandoned at half the
    lease (so no other sender can have taken the row meanwhile), counted, recorded as
    failed and released (issue 15: to rest for its backoff first, claimed by nobody)."""
    [key] = await _outbox(sessions, f"c-{unique_id}", [0])
    with webhook_receiver(delay_seconds=LEASE + 1) as receiver:
        async with sessions() as session:
            sent = await deliver_undelivered(session, WebhookDeliverer(receiver.url), [key],
                                             lease_seconds=LEASE)
    assert sent == 0 and receiver.posts[key] == 1
    [row] = await _rows(sessions, [key])
    assert (row.attempts, row.delivered_at, row.claim_token) == (1, None, None)
    assert row.claimed_until is not None  # resting: retry_delay_seconds(1) from now
    assert row.last_error is not None and row.last_error.startswith("TimeoutError")
