"""K1 contacts in the read model (issue 13, activities/contacts.py): what
`POST /cases/{id}/contacts` writes, how a case's figures count every contact once
whichever way it came, and how a read that finds the gap open turns the row back to
messages. Against the test database (PostgreSQL in CI)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities import contacts
from activities.read_model import write_effects
from models.effects import CaseEffects, ContactEntry, ReadContacts
from models.messages import RecordContact
from models.tables import CaseRow, ContactRow, TimelineEventRow
from tests.workflows.conftest import make_terms
from workflows import effects_builder as rows
from workflows.errors import CaseError
from workflows.state import ACTIVE, CLOSED, CaseState, CaseStatus

START = date(2031, 3, 3)
NOW = datetime(2031, 3, 20, 1, tzinfo=UTC)


async def _case(sessions: async_sessionmaker[AsyncSession], case_id: str, *,
                reads: bool = True, status: str = ACTIVE) -> CaseRow:
    """The case's row as its workflow's recording writes it."""
    state = CaseState(terms=make_terms(case_id, START, periods=2), status=status)
    state.contacts.from_read_model = reads
    async with sessions() as session:
        await write_effects(session, CaseEffects(case=rows.case_entry(
            CaseStatus(case_id, "agency-1", status, state, None, None, False),
            workflow_id=f"case-contract-{case_id}", now=NOW)))
        await session.commit()
        row = await session.get(CaseRow, case_id)
        assert row is not None
        return row


async def _record(sessions: async_sessionmaker[AsyncSession], case: CaseRow,
                  message: RecordContact, now: datetime = NOW) -> object:
    async with sessions() as session:
        answer = await contacts.record_contact(session, case, message, now)
        await session.commit()
        return answer


async def _figures(sessions: async_sessionmaker[AsyncSession], case_id: str
                   ) -> tuple[int, date | None, date | None, bool]:
    async with sessions() as session:
        row = await session.get(CaseRow, case_id, populate_existing=True)
        assert row is not None
        return (row.contact_count, row.last_contact_on, row.last_practitioner_meeting_on,
                row.reads_recorded_contacts)


async def test_k1_a_contact_is_recorded_with_its_timeline_entry_and_counted_once(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    case = await _case(sessions, f"c-{unique_id}")
    visit = RecordContact("k-1", START + timedelta(days=10), "home_visit", "practitioner",
                          "cp-3")
    first = await _record(sessions, case, visit)
    again = await _record(sessions, case, visit)
    call = RecordContact("k-2", START + timedelta(days=12), "phone", "agency", "ag-1")
    await _record(sessions, case, call)
    assert (first.duplicate, again.duplicate) == (False, True)  # type: ignore[attr-defined]
    # A phone call is recorded but closes no gap (K1 expects direct contact).
    assert await _figures(sessions, case.case_id) == (
        2, visit.occurred_on, visit.occurred_on, True)
    async with sessions() as session:
        entry = await session.scalar(select(TimelineEventRow).where(
            TimelineEventRow.event_key == f"{case.case_id}:contact:k-1"))
        row = await session.get(ContactRow, (case.case_id, "k-1"))
    assert entry is not None and (entry.kind, entry.rule, entry.detail) == (
        "contact_recorded", "K1", {"contact_id": "k-1", "occurred_on": "2031-03-13",
                                   "contact_kind": "home_visit", "by_role": "practitioner"})
    assert row is not None and row.recorded_by == "cp-3"
    assert row.recorded_at.replace(tzinfo=row.recorded_at.tzinfo or UTC) == NOW  # SQLite: naive


async def test_k1_refusals_in_the_read_model_are_the_workflows(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    case = await _case(sessions, f"c-{unique_id}")
    with pytest.raises(CaseError) as refused:
        await _record(sessions, case, RecordContact("k-1", START - timedelta(days=1), "direct",
                                                    "agency"))
    assert (refused.value.field, refused.value.rule) == ("occurred_on", "K1")
    closed = await _case(sessions, f"closed-{unique_id}", status=CLOSED)
    with pytest.raises(CaseError) as closure:
        await _record(sessions, closed, RecordContact("k-1", START, "direct", "agency"))
    assert (closure.value.kind, closure.value.message, closure.value.rule) == (
        "Conflict", "The case is closed (E2).", "E2")
    assert await _figures(sessions, case.case_id) == (0, None, None, True)


async def test_k1_a_case_that_takes_contacts_as_messages_gets_none_recorded(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """A run from before `lean-periods` (or one whose gap is raised): the API sends the
    contact instead, and nothing is written here; its recording writes it later."""
    case = await _case(sessions, f"c-{unique_id}", reads=False)
    message = RecordContact("k-1", START + timedelta(days=3), "direct", "agency")
    assert await _record(sessions, case, message) is None
    assert await _figures(sessions, case.case_id) == (0, None, None, False)
    async with sessions() as session:  # the workflow's recording of it, twice (a retry)
        for _ in range(2):
            await contacts.record_contacts(session, case.case_id, [ContactEntry(
                "k-1", message.occurred_on, "direct", "agency", NOW)])
        await session.commit()
    assert await _figures(sessions, case.case_id) == (1, message.occurred_on, None, False)
    assert (await _record(sessions, case, message)).duplicate  # type: ignore[union-attr]


async def test_k1_a_read_that_finds_the_gap_open_asks_for_messages(
    sessions: async_sessionmaker[AsyncSession], unique_id: str,
) -> None:
    """The case will raise the gap and stop looking: in the same transaction, the row
    says so, and the next contact goes to the case as a message."""
    case = await _case(sessions, f"c-{unique_id}")
    reader = contacts.ContactActivities(sessions)
    check = datetime(2031, 3, 18, tzinfo=UTC)  # the end of START + 14 days
    closed = await reader.read_contacts(ReadContacts(case.case_id, START, 14,
                                                     check - timedelta(seconds=1)))
    assert closed.count == 0 and (await _figures(sessions, case.case_id))[3] is True
    await _record(sessions, case, RecordContact("k-1", START + timedelta(days=2), "direct",
                                                "agency"))
    moved = await reader.read_contacts(ReadContacts(case.case_id, START, 14, check))
    assert moved.last_contact_on == START + timedelta(days=2)
    assert (await _figures(sessions, case.case_id))[3] is True  # the gap is not open
    gap = await reader.read_contacts(ReadContacts(case.case_id, START, 14,
                                                  check + timedelta(days=3)))
    assert gap.count == 1 and (await _figures(sessions, case.case_id))[3] is False
    assert await _record(sessions, case, RecordContact(
        "k-2", START + timedelta(days=17), "direct", "agency")) is None
