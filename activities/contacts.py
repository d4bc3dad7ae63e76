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

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Engine,
    String,
    bindparam,
    func,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
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
    """What `POST /cases/{id}/contacts` does (issue 13): a repeat of a recorded
    `contact_id` answers the first contact, marked duplicate -- whatever else it says, as
    the workflow's validator answers one; a closed case refuses (E2); a case that wants
    the contact as a message (its row says so, read under its lock) gets None, and the
    caller sends it. Otherwise, once K1's checks pass (engine_contacts.contact_refusal,
    as the workflow's update validator runs them), the contact, its `contact_recorded`
    timeline entry -- the workflow's own, key and detail -- and the case's figures are
    written together. On PostgreSQL that is one statement (`_RECORD_ON_POSTGRES`), atomic
    in the API's autocommit session and one round trip (issue 13, item 4: a write costs
    at most four); elsewhere a transaction of its own. Raises CaseError."""
    refusal = (conflict("The case is closed (E2).", field="status", rule="E2")
               if case.status == CLOSED  # as the API answers for a completed workflow
               else engine_contacts.contact_refusal(message, case.contract_start,
                                                    case.status, now))
    if refusal is not None:
        recorded = await _recorded(session, case.case_id, message.contact_id)
        if recorded is not None:
            return recorded
        raise refusal
    if session.get_bind().dialect.name == "postgresql":
        answer = await _record_on_postgres(session, case, message, now)
    else:
        answer = await _record_in_a_transaction(session, case, message, now)
    if answer is _RECORDED_MEANWHILE:
        return await _recorded(session, case.case_id, message.contact_id)
    return answer


_RECORDED_MEANWHILE = ContactRecorded("", date.min)
"""Another request recorded the same `contact_id` between the look and the insert."""


async def _recorded(session: AsyncSession, case_id: str, contact_id: str
                    ) -> ContactRecorded | None:
    occurred_on = await session.scalar(select(ContactRow.occurred_on).where(
        ContactRow.case_id == case_id, ContactRow.contact_id == contact_id))
    return None if occurred_on is None else ContactRecorded(contact_id, occurred_on,
                                                            duplicate=True)


_RECORD_ON_POSTGRES = text("""
WITH target AS (
    SELECT agency_id, reads_recorded_contacts FROM cases
    WHERE case_id = :case_id FOR UPDATE
), known AS (
    SELECT occurred_on FROM contacts WHERE case_id = :case_id AND contact_id = :contact_id
), added AS (
    INSERT INTO contacts (case_id, contact_id, occurred_on, kind, by_role, recorded_at,
                          recorded_by)
    SELECT :case_id, :contact_id, :occurred_on, :kind, :by_role, :now, :recorded_by
    FROM target WHERE target.reads_recorded_contacts AND NOT EXISTS (SELECT 1 FROM known)
    ON CONFLICT DO NOTHING
    RETURNING contact_id
), entry AS (
    INSERT INTO timeline_events (event_key, case_id, agency_id, occurred_at, kind, rule,
                                 detail)
    SELECT :event_key, :case_id, target.agency_id, :now, :event_kind, :rule, :detail
    FROM target WHERE EXISTS (SELECT 1 FROM added)
    ON CONFLICT DO NOTHING
    RETURNING event_key
), figures AS (
    UPDATE cases SET
        contact_count = cases.contact_count + 1,
        last_contact_on = CASE WHEN :in_person AND (cases.last_contact_on IS NULL
                                                    OR cases.last_contact_on < :occurred_on)
                               THEN :occurred_on ELSE cases.last_contact_on END,
        last_practitioner_meeting_on = CASE
            WHEN :meeting AND (cases.last_practitioner_meeting_on IS NULL
                               OR cases.last_practitioner_meeting_on < :occurred_on)
            THEN :occurred_on ELSE cases.last_practitioner_meeting_on END
    WHERE cases.case_id = :case_id AND EXISTS (SELECT 1 FROM added)
    RETURNING cases.case_id
)
SELECT (SELECT reads_recorded_contacts FROM target) AS reads,
       (SELECT occurred_on FROM known) AS known_on,
       (SELECT count(*) FROM added) AS added,
       (SELECT count(*) FROM entry) + (SELECT count(*) FROM figures) AS written
""").bindparams(
    bindparam("case_id", type_=String), bindparam("contact_id", type_=String),
    bindparam("occurred_on", type_=Date), bindparam("kind", type_=String),
    bindparam("by_role", type_=String), bindparam("now", type_=DateTime(timezone=True)),
    bindparam("recorded_by", type_=String), bindparam("event_key", type_=String),
    bindparam("event_kind", type_=String), bindparam("rule", type_=String),
    bindparam("detail", type_=JSON), bindparam("in_person", type_=Boolean),
    bindparam("meeting", type_=Boolean))
"""The contact, its timeline entry and the case's figures in one statement, the case's
row locked first (against a K1 read that finds the gap open, `read_contacts`)."""


async def _record_on_postgres(session: AsyncSession, case: CaseRow, message: RecordContact,
                              now: datetime) -> ContactRecorded | None:
    timeline = Pending()
    engine_contacts.contact_recorded_event(timeline, case.case_id, message, now)
    [event] = timeline.timeline
    in_person = message.kind in IN_PERSON_KINDS
    reads, known_on, added, _ = (await session.execute(_RECORD_ON_POSTGRES, {
        "case_id": case.case_id, "contact_id": message.contact_id,
        "occurred_on": message.occurred_on, "kind": message.kind,
        "by_role": message.by_role, "now": now, "recorded_by": message.by or None,
        "event_key": event.event_key, "event_kind": event.kind, "rule": event.rule,
        "detail": event.detail, "in_person": in_person,
        "meeting": in_person and message.by_role == "practitioner"})).one()
    if known_on is not None:
        return ContactRecorded(message.contact_id, known_on, duplicate=True)
    if not reads:
        return None
    if not added:
        return _RECORDED_MEANWHILE
    return ContactRecorded(message.contact_id, message.occurred_on)


async def _record_in_a_transaction(session: AsyncSession, case: CaseRow,
                                   message: RecordContact, now: datetime
                                   ) -> ContactRecorded | None:
    """The same in a transaction of its own (SQLite: its one writer's lock is taken by
    the first write, `_lock_case`, and held to the commit)."""
    bind = session.get_bind()
    assert isinstance(bind, Engine)  # the sync engine under the caller's AsyncSession
    engine = AsyncEngine(bind.execution_options(isolation_level="SERIALIZABLE"))
    async with AsyncSession(engine, expire_on_commit=False) as writing, writing.begin():
        await _lock_case(writing, case.case_id)
        recorded = await _recorded(writing, case.case_id, message.contact_id)
        if recorded is not None:
            return recorded
        if not await writing.scalar(select(CaseRow.reads_recorded_contacts).where(
                CaseRow.case_id == case.case_id)):
            return None
        if not await record_contacts(writing, case.case_id, [
                engine_contacts.contact_entry(message, now)]):
            return _RECORDED_MEANWHILE
        timeline = Pending()
        engine_contacts.contact_recorded_event(timeline, case.case_id, message, now)
        await upsert(writing, TimelineEventRow, [
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
