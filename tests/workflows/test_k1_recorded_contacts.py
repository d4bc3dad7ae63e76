"""K1 with contacts recorded in the read model (issue 13): a contact recorded the way
`POST /cases/{id}/contacts` records it wakes no workflow; the case reads the latest when
a contact check falls due and decides exactly as if every contact had come as a
message -- the same lack-of-contact events (R7), at the same instants -- and once a gap
is raised it takes the next contact as a message again, through the Temporal door."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import contacts
from models.messages import ContactRecorded, RecordContact
from models.tables import CaseRow, TimelineEventRow
from tests.polling import eventually
from tests.workflows.conftest import Case, begin_on, make_terms, sleep_until, start_case
from workflows.case_contract import CaseContractWorkflow
from workflows.engine_contacts import day_end

FREQUENCY_DAYS = 14


async def _in_the_read_model(env: WorkflowEnvironment, sessions: async_sessionmaker[
        AsyncSession], case: Case, message: RecordContact) -> ContactRecorded | None:
    async with sessions() as session:
        row = await session.get(CaseRow, case.terms.case_id)
        assert row is not None
        answer = await contacts.record_contact(session, row, message,
                                               await env.get_current_time())
        await session.commit()
        return answer


async def _as_a_message(env: WorkflowEnvironment, sessions: async_sessionmaker[
        AsyncSession], case: Case, message: RecordContact) -> ContactRecorded | None:
    return await case.handle.execute_update(CaseContractWorkflow.record_contact, message)


async def _k1_events(sessions: async_sessionmaker[AsyncSession], case_id: str
                     ) -> list[tuple[str, object]]:
    async with sessions() as session:
        entries = await session.scalars(select(TimelineEventRow).where(
            TimelineEventRow.case_id == case_id, TimelineEventRow.kind.in_(
                ["audit_trigger_raised", "contact_recorded"]))
            .order_by(TimelineEventRow.occurred_at, TimelineEventRow.event_key))
        return [(e.event_key.removeprefix(f"{case_id}:"), e.occurred_at.replace(tzinfo=None))
                for e in entries]


async def _updates(case: Case) -> list[str]:
    history = await case.handle.fetch_history()
    return [e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
            for e in history.events
            if e.HasField("workflow_execution_update_accepted_event_attributes")]


async def _read_markers(case: Case) -> int:
    history = await case.handle.fetch_history()
    return sum(1 for e in history.events
               if e.HasField("marker_recorded_event_attributes")
               and b"read_contacts" in e.marker_recorded_event_attributes.SerializeToString())


async def test_k1_r7_recorded_contacts_are_read_at_the_checks_and_decide_as_messages(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    days = (10, 20, 30)  # fortnightly K1: then nothing, so the gap after day 30 is raised
    ways = {"read model": _in_the_read_model, "messages": _as_a_message}
    runs = {way: await start_case(env.client, worker, make_terms(
        f"c-{way[0]}-{unique_id}", start, periods=2, contact_frequency_days=FREQUENCY_DAYS),
        endorse_on=start) for way in ways}
    for day in days:
        await sleep_until(env, day_end(start + timedelta(days=day - 1)) + timedelta(
            hours=1))  # 11:00 in Melbourne on that day
        for way, record in ways.items():
            answer = await record(env, sessions, runs[way], RecordContact(
                f"k-{day}", start + timedelta(days=day), "direct", "agency"))
            assert answer is not None and not answer.duplicate
    await sleep_until(env, day_end(start + timedelta(days=30 + FREQUENCY_DAYS)) + timedelta(
        hours=2))
    recorded, sent = runs["read model"], runs["messages"]

    async def raised() -> None:
        gap_after = start + timedelta(days=30)
        for case in (recorded, sent):
            assert (f"event:k1-gap-after-{gap_after.isoformat()}", day_end(
                gap_after + timedelta(days=FREQUENCY_DAYS)).replace(tzinfo=None)) in [
                (key, at.replace(microsecond=0)) for key, at in
                await _k1_events(sessions, case.terms.case_id)]

    await eventually(raised)
    # Same decisions, same contacts on the timeline: only how they came differs.
    assert [k for k, _ in await _k1_events(sessions, recorded.terms.case_id)] == [
        k for k, _ in await _k1_events(sessions, sent.terms.case_id)]
    assert (await recorded.status()).state.contacts.last_contact_on == start + timedelta(
        days=30)
    # No contact woke the case: it read them at its checks -- day 14 (finding day 10),
    # day 24, day 34 and day 44 (nothing new: the gap).
    assert await _updates(recorded) == ["endorse"]
    assert await _read_markers(recorded) == 4
    assert await _updates(sent) == ["endorse", "record_contact", "record_contact",
                                    "record_contact"]

    # The gap is raised: no check is ahead, so the next contact goes as a message (the
    # read model refuses to keep it unseen), and the case looks again after it.
    late = RecordContact("k-late", start + timedelta(days=46),
                         "direct", "agency")
    assert await _in_the_read_model(env, sessions, recorded, late) is None
    taken = await _as_a_message(env, sessions, recorded, late)
    assert taken is not None and not taken.duplicate
    assert (await recorded.status()).state.contacts.last_contact_on == late.occurred_on

    async def reads_again() -> None:
        async with sessions() as session:
            row = await session.get(CaseRow, recorded.terms.case_id, populate_existing=True)
            assert row is not None
            assert (row.reads_recorded_contacts, row.contact_count, row.last_contact_on) == (
                True, 4, late.occurred_on)

    await eventually(reads_again)
    again = await _in_the_read_model(env, sessions, recorded, late)
    assert again is not None and again.duplicate
