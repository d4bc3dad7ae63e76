"""K1 contacts in the read model (issue 13): recorded without waking the case.

A contact was a message to the case's workflow -- a workflow task, an update accepted
and completed, a recording: six history events and two actions each, 42 events in a
quarter of fortnightly contacts. Nothing in the case needs a contact when it is made:
K1 only asks, when a contact check falls due (workflows/engine_contacts.py), what the
latest contact is. So `POST /cases/{id}/contacts` records it here, in one transaction
with its timeline entry, and the workflow reads the case's figures (`read_contacts`)
when a check falls due. A contact that does reach the workflow as a message -- through
the Temporal door, or to a case whose run still takes contacts that way -- is written
here by its recording, so the figures count every contact once, whichever way it came.

While a case's current gap is raised (K1: a lack-of-contact event, R7) it has no
contact check ahead, so the next contact must come as a message, as before: the case's
row says which way it wants them (`reads_recorded_contacts`, written by its recordings,
workflows/engine_contacts.py). A read that finds the gap open turns that off in the
same transaction, and recording a contact here checks it under the same row lock, so a
contact is never recorded here unseen by a case that has stopped looking.

The figures live on the `cases` row (its other writes never touch them), so a view of
the case reads them with the row it reads anyway.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from activities.upsert import upsert
from models.effects import ContactEntry, ContactSummary, ReadContacts
from models.messages import ContactRecorded, RecordContact
from models.tables import CaseRow, ContactRow, TimelineEventRow
from workflows import engine_contacts
from workflows.engine_contacts import IN_PERSON_KINDS
from workflows.errors import conflict
from workflows.outbox import Pending
from workflows.state import CLOSED


async def _lock_case(session: AsyncSession, case_id: str) -> None:
    """Take the case row's write lock for the rest of the transaction: an update that
    changes nothing -- the row lock on PostgreSQL, the write lock on SQLite (a read
    first would let another writer in between)."""
    await session.execute(update(CaseRow).where(CaseRow.case_id == case_id).values(
        contact_count=CaseRow.contact_count))


async def record_contacts(session: AsyncSession, case_id: str, entries: list[ContactEntry]
                          ) -> set[str]:
    """Insert the contacts not yet recorded (by `contact_id`; a repeat changes nothing)
    and bring the case's figures up to date; returns the ids inserted. The case's row is
    locked first, so two contacts recorded at once both count."""
    if not entries:
        return set()
    await _lock_case(session, case_id)
    known = set(await session.scalars(select(ContactRow.contact_id).where(
        ContactRow.case_id == case_id,
        ContactRow.contact_id.in_([e.contact_id for e in entries]))))
    new = {e.contact_id: e for e in entries if e.contact_id not in known}
    if not new:
        return set()
    await upsert(session, ContactRow, [
        {"case_id": case_id, "contact_id": e.contact_id, "occurred_on": e.occurred_on,
         "kind": e.kind, "by_role": e.by_role, "recorded_at": e.recorded_at,
         "recorded_by": e.recorded_by or None} for e in new.values()],
        ["case_id", "contact_id"], update=[])
    in_person = ContactRow.kind.in_(sorted(IN_PERSON_KINDS))
    count, last, meeting = (await session.execute(select(
        func.count(),
        func.max(ContactRow.occurred_on).filter(in_person),
        func.max(ContactRow.occurred_on).filter(in_person,
                                                ContactRow.by_role == "practitioner"),
    ).where(ContactRow.case_id == case_id))).one()
    await session.execute(update(CaseRow).where(CaseRow.case_id == case_id).values(
        contact_count=count, last_contact_on=last, last_practitioner_meeting_on=meeting))
    return set(new)


async def record_contact(session: AsyncSession, case: CaseRow, message: RecordContact,
                         now: datetime) -> ContactRecorded | None:
    """What `POST /cases/{id}/contacts` does (issue 13), in the caller's transaction: a
    repeat of a recorded `contact_id` answers the first contact, marked duplicate; a
    closed case refuses (E2); a case that wants the contact as a message (its row says
    so, read under its lock) gets None: the caller sends it, once this transaction has
    ended. Otherwise K1's checks (engine_contacts.contact_refusal, as the workflow's
    update validator runs them), then the contact and its `contact_recorded` timeline
    entry -- the workflow's own, key and detail. Raises CaseError."""
    recorded = await session.get(ContactRow, (case.case_id, message.contact_id))
    if recorded is not None:
        return ContactRecorded(recorded.contact_id, recorded.occurred_on, duplicate=True)
    if case.status == CLOSED:  # as the API answers for a completed workflow (E2)
        raise conflict("The case is closed (E2).", field="status", rule="E2")
    await _lock_case(session, case.case_id)
    if not await session.scalar(select(CaseRow.reads_recorded_contacts).where(
            CaseRow.case_id == case.case_id).execution_options(populate_existing=True)):
        return None
    refusal = engine_contacts.contact_refusal(message, case.contract_start, case.status, now)
    if refusal is not None:
        raise refusal
    entry = engine_contacts.contact_entry(message, now)
    if not await record_contacts(session, case.case_id, [entry]):  # recorded meanwhile
        return await record_contact(session, case, message, now)
    timeline = Pending()
    engine_contacts.contact_recorded_event(timeline, case.case_id, message, now)
    await upsert(session, TimelineEventRow, [
        {"event_key": e.event_key, "case_id": case.case_id, "agency_id": case.agency_id,
         "occurred_at": e.occurred_at, "kind": e.kind, "rule": e.rule, "detail": e.detail}
        for e in timeline.timeline], ["event_key"], update=[])
    return ContactRecorded(message.contact_id, message.occurred_on)


async def contact_summary(session: AsyncSession, case_id: str) -> ContactSummary:
    row = (await session.execute(select(
        CaseRow.contact_count, CaseRow.last_contact_on, CaseRow.last_practitioner_meeting_on)
        .where(CaseRow.case_id == case_id))).one_or_none()
    if row is None:
        return ContactSummary()
    return ContactSummary(row[0] or 0, row[1], row[2])


class ContactActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="read_contacts")
    async def read_contacts(self, request: ReadContacts) -> ContactSummary:
        """K1 (issue 13): the case's recorded contacts, when a contact check falls due.
        Run as a local activity: one marker in the workflow task of the check. When the
        latest leaves the gap open (the case will raise it and stop looking), the row is
        told to send the next contact as a message, in the same transaction."""
        async with self._sessions() as session:
            await _lock_case(session, request.case_id)
            summary = await contact_summary(session, request.case_id)
            last = max(filter(None, (request.last_contact_on, summary.last_contact_on)))
            if engine_contacts.gap_check_at(last, request.contact_frequency_days) <= request.at:
                await session.execute(update(CaseRow).where(
                    CaseRow.case_id == request.case_id).values(reads_recorded_contacts=False))
            await session.commit()
            return summary
