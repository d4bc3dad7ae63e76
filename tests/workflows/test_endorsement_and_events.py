"""C4, C6 and R7/R8 by signal on the time-skipping server: an unendorsed contract runs
no deadlines; endorsement activates it and sends the copies; events from integrations
arrive as signals, idempotent on their id, and a refused one is recorded, not fatal."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import EndorseContract, RaiseEvent, SubmitReport
from models.tables import NotificationRow, TimelineEventRow
from models.terms import Signatory, SignatoryRole
from tests.polling import eventually
from tests.workflows.conftest import (
    MELBOURNE,
    begin_on,
    endorsement_for,
    local_today,
    make_terms,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow


async def _notices(sessions: async_sessionmaker[AsyncSession], case_id: str
                   ) -> list[tuple[str, str, str]]:
    async with sessions() as session:
        rows = await session.execute(select(
            NotificationRow.kind, NotificationRow.rule, NotificationRow.recipient
        ).where(NotificationRow.case_id == case_id))
        return sorted((kind, rule, recipient) for kind, rule, recipient in rows.all())


async def test_c4_no_deadline_runs_before_endorsement_c6_copies_after(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    # A child of 11 signs too (C4), so the child gets a copy (C6).
    terms = make_terms(f"c-{unique_id}", start, periods=2,
                       child_birth_date=date(start.year - 11, 1, 15))
    case = await start_case(env.client, worker, terms)
    # Three days before the first due date: past its follow-up instant (R1), before D.
    first_due = terms.schedule.due_dates[0]
    await sleep_until(env, datetime.combine(first_due - timedelta(days=3), time(12), MELBOURNE))
    waiting = await case.status()
    assert waiting.state.periods[0].follow_up_at < await env.get_current_time()
    assert waiting.status == "awaiting_endorsement"
    assert waiting.state.periods[0].follow_up_sent_at is None  # C4: nothing runs
    assert waiting.next_deadline is None
    assert await _notices(sessions, terms.case_id) == []

    endorsement = endorsement_for(terms, local_today(await env.get_current_time()))
    endorsement.signatories.append(
        Signatory(SignatoryRole.CHILD, "child-1", endorsement.endorsed_on))
    recorded = await case.handle.execute_update(CaseContractWorkflow.endorse,
                                                EndorseContract(endorsement))
    assert recorded.status == "active"

    async def copies_sent() -> None:
        notices = await _notices(sessions, terms.case_id)
        assert [n for n in notices if n[1] == "C6"] == [
            ("contract_copy", "C6", "agency"), ("contract_copy", "C6", "child"),
            ("contract_copy", "C6", "parent"), ("reporting_schedule", "C6", "agency")]
        # Endorsed after the follow-up instant but before D: the reminder goes at once.
        assert ("follow_up", "R1", "agency") in notices

    await eventually(copies_sent)


async def test_r7_events_by_signal_open_one_audit_and_refusals_are_recorded(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    complaint = RaiseEvent(event_id=f"ev-{unique_id}", kind="complaint_from_child_or_family",
                           raised_by="integration-7")
    await case.handle.signal("raise_event", complaint)
    await case.handle.signal("raise_event", complaint)  # delivered twice
    await case.handle.signal("raise_event", RaiseEvent(event_id=f"bad-{unique_id}",
                                                       kind="not_a_trigger"))

    async def recorded() -> None:
        state = (await case.status()).state
        assert [(a.rule, a.trigger, a.status) for a in state.audits] == [
            ("R7", "complaint_from_child_or_family", "open")]
        async with sessions() as session:
            kinds = list(await session.scalars(select(TimelineEventRow.kind).where(
                TimelineEventRow.case_id == terms.case_id)))
        assert kinds.count("audit_trigger_raised") == 1
        assert kinds.count("signal_refused") == 1
        assert ("exception_audit_liaison", "R7", "leo") in await _notices(
            sessions, terms.case_id)

    await eventually(recorded)
    description = await case.handle.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING  # a bad signal is not fatal


async def test_c4_a_signal_refused_before_endorsement_is_recorded_at_once(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """No report is due before the endorsement (C4): an integration's early report is
    refused, and the refusal is on the timeline while the contract still waits."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start)
    case = await start_case(env.client, worker, terms)

    async def registered() -> None:  # the first run has recorded and is waiting
        async with sessions() as session:
            kinds = list(await session.scalars(select(TimelineEventRow.kind).where(
                TimelineEventRow.case_id == terms.case_id)))
        assert kinds == ["contract_registered"]

    await eventually(registered)
    await case.handle.signal("submit_report", SubmitReport(report_id="too-early"))

    async def refusal_recorded() -> None:
        async with sessions() as session:
            rows = list(await session.scalars(select(TimelineEventRow).where(
                TimelineEventRow.case_id == terms.case_id,
                TimelineEventRow.kind == "signal_refused")))
        assert [(r.rule, r.detail["signal"]) for r in rows] == [("C4", "submit_report")]

    await eventually(refusal_recorded)
    assert (await case.status()).state.status == "awaiting_endorsement"
