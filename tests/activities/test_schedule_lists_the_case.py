"""The first schedule lists its case before it reads the declared closure days
(activities/case_listing.py; R1-R3 deadlines move with a closure day), so a closure
declared while the case registers is never missed by both the schedule and the closure
route's listing of running cases. Issue 13 moved this check off `POST /cases`, where
it cost every registration a round trip."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.testing import ActivityEnvironment

from activities.case_listing import list_new_case
from activities.schedule import ScheduleActivities
from casework.db import make_engine, make_session_factory
from models.schedule import CaseListing, ScheduleRequest
from models.tables import CalendarClosureRow, CaseRow
from workflows.state import AWAITING_ENDORSEMENT

MELBOURNE = ZoneInfo("Australia/Melbourne")
DECLARED_AT = datetime(2030, 12, 1, tzinfo=UTC)
"""When the test's closure day was declared: any instant; the schedule reads the day."""
DUE = [date(2031, 3, 3), date(2031, 6, 2)]


def _listing(agency: str = "agency-list") -> CaseListing:
    return CaseListing(agency_id=agency, contract_start=date(2031, 1, 6),
                       contract_end=date(2031, 9, 1), order_expiry=date(2032, 1, 1),
                       terms_fingerprint="f" * 64)


def _request(case_id: str, jurisdiction: str, listing: CaseListing | None) -> ScheduleRequest:
    return ScheduleRequest(case_id=case_id, jurisdiction=jurisdiction,
                           time_zone="Australia/Melbourne", due_dates=DUE,
                           ends_on=date(2031, 9, 1), order_expiry=date(2032, 1, 1),
                           listing=listing)


async def test_the_first_schedule_lists_the_case_and_commits_before_reading_closures(
        database_url: str) -> None:
    # An engine of its own: the shared one also carries other tests' workers' statements.
    db_engine = make_engine(database_url)
    sessions = make_session_factory(db_engine)
    case_id = f"list-{uuid.uuid4().hex[:10]}"
    jurisdiction = "AU-VIC"
    said: list[str] = []

    def on_statement(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        said.append(statement.split()[0].upper() + (
            " closures" if "calendar_closures" in statement else
            " cases" if "INTO cases" in statement else ""))

    def on_commit(_connection: Any) -> None:
        said.append("COMMIT")

    event.listen(db_engine.sync_engine, "before_cursor_execute", on_statement)
    event.listen(db_engine.sync_engine, "commit", on_commit)
    try:
        result = await ActivityEnvironment().run(
            ScheduleActivities(sessions).schedule_periods,
            _request(case_id, jurisdiction, _listing()))
    finally:
        event.remove(db_engine.sync_engine, "before_cursor_execute", on_statement)
        event.remove(db_engine.sync_engine, "commit", on_commit)
    try:
        async with sessions() as session:
            row = await session.get(CaseRow, case_id)
    finally:
        await db_engine.dispose()
    assert [p.due_date for p in result.periods] == DUE
    relevant = [s for s in said if s in ("INSERT cases", "COMMIT", "SELECT closures")]
    assert relevant[:3] == ["INSERT cases", "COMMIT", "SELECT closures"], said
    assert row is not None
    assert (row.agency_id, row.jurisdiction, row.status, row.terms_fingerprint) == (
        "agency-list", jurisdiction, AWAITING_ENDORSEMENT, "f" * 64)


async def test_a_closure_stored_before_the_listing_moves_the_first_schedule(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """R1 counts ten business days back from the due date: a closure declared on the
    follow-up day moves it a business day earlier."""
    case_id = f"list-{uuid.uuid4().hex[:10]}"
    jurisdiction = "AU-NT"  # a closure here, removed after, touches no other test's case
    before = await ActivityEnvironment().run(ScheduleActivities(sessions).schedule_periods,
                                             _request(f"{case_id}-a", jurisdiction, None))
    follow_up_day = before.periods[0].follow_up_at.astimezone(MELBOURNE).date()
    scope = jurisdiction
    async with sessions() as session:
        existing = await session.get(CalendarClosureRow, (scope, follow_up_day))
        if existing is None:
            session.add(CalendarClosureRow(jurisdiction=scope, day=follow_up_day,
                                           name="Test closure", created_at=DECLARED_AT))
            await session.commit()
    try:
        after = await ActivityEnvironment().run(
            ScheduleActivities(sessions).schedule_periods,
            _request(case_id, jurisdiction, _listing()))
        assert after.periods[0].follow_up_at < before.periods[0].follow_up_at
    finally:
        async with sessions() as session:
            if existing is None:
                await session.delete(await session.get(CalendarClosureRow,
                                                       (scope, follow_up_day)))
                await session.commit()


async def test_listing_is_insert_only_and_repeat_safe(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    """The workflow's own record knows more (status, deadlines): a retried schedule or
    the API listing the case after it must not overwrite it."""
    case_id = f"list-{uuid.uuid4().hex[:10]}"
    async with sessions() as session:
        first = await list_new_case(session, case_id, "AU-VIC", _listing())
        await session.commit()
        assert first is not None
    async with sessions() as session:
        await session.execute(CaseRow.__table__.update().where(
            CaseRow.case_id == case_id).values(status="active"))
        await session.commit()
    async with sessions() as session:
        again = await list_new_case(session, case_id, "AU-VIC", _listing("agency-other"))
        await session.commit()
        assert again is None
    async with sessions() as session:
        row = (await session.scalars(select(CaseRow).where(CaseRow.case_id == case_id))).one()
    assert (row.status, row.agency_id) == ("active", "agency-list")
