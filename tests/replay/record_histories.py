"""Records the workflow histories that tests/replay/test_replay.py replays (issue 3).

Run it when a deliberate, versioned change to the workflow makes new histories
necessary -- never to "fix" a failing replay test, which is exactly the breakage of
running cases that test exists to catch:

    .venv/bin/python -m tests.replay.record_histories

Each scenario runs on the time-skipping server with a real worker and a throw-away
SQLite read model; every run of each case (continue-as-new starts a new run) is saved
as tests/histories/<scenario>-run<N>.json. Payloads are written with the plain
converter (no encryption key in the repository).
"""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities import contacts
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade_to_head_async
from casework.processes import venv_binary
from casework.temporal_client import ensure_search_attributes, make_data_converter
from models.district import (
    CoworkingInput,
    Decide,
    EndCoworking,
    RecordCoworkingReview,
    ReferDispute,
    RequestStatus,
    ResolveDispute,
    ServiceRequestInput,
    TransferInput,
)
from models.messages import (
    AssessReport,
    CalendarChanged,
    CarryOver,
    CloseAudit,
    CloseCase,
    EndorseContract,
    RaiseEvent,
    RecordAuditFindings,
    RecordContact,
    RequestReview,
    ReviewOutcome,
    SubmitReport,
)
from models.tables import CaseRow
from models.terms import ReportingSchedule
from tests.polling import eventually
from tests.workflows.conftest import (
    SCENARIO_YEAR,
    TEST_CALLER_KEYS,
    Case,
    begin_on,
    endorsement_for,
    local_today,
    make_terms,
    run_ids,
    signing,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow, workflow_id_for
from workflows.coworking import CoworkingWorkflow, coworking_workflow_id
from workflows.dispute import DisputeWorkflow, dispute_id_for, dispute_workflow_id
from workflows.service_request import ServiceRequestWorkflow, service_request_workflow_id
from workflows.transfer import TransferRequestWorkflow, transfer_workflow_id

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
PERTH = ZoneInfo("Australia/Perth")
MELBOURNE_NOON = time(13, 0)  # begin_on's zone: 10:00 or 11:00 in Perth, the same date


@dataclass
class Recorded:
    """The one workflow a district scenario records (T1-T4); a case scenario's `Case`
    has a `handle` too."""

    handle: WorkflowHandle[Any, Any]


Scenario = Callable[[WorkflowEnvironment, Worker, str], Awaitable[Case | Recorded]]

READ_MODEL: ContextVar[async_sessionmaker[AsyncSession]] = ContextVar("read_model")
"""The read model of the recording under way (`record`), for a scenario that writes to
it as the API does (issue 13: contacts)."""


async def reporting_cycle(env: WorkflowEnvironment, worker: Worker, case_id: str) -> Case:
    """R1-R6, R8: on time, late (overdue + task), escalated, inadequate -> audit, closed."""
    start = local_today(await env.get_current_time())
    case = await start_case(env.client, worker, make_terms(case_id, start, periods=4),
                            endorse_on=start)
    periods = (await case.status()).state.periods
    update = case.handle.execute_update
    await sleep_until(env, periods[0].follow_up_at + timedelta(hours=1))
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-0", 0))
    await update(CaseContractWorkflow.assess_report, AssessReport("r-0", "adequate", "prac"))
    await sleep_until(env, periods[1].escalation_at + timedelta(days=1))
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-1", 1))
    await update(CaseContractWorkflow.assess_report,
                 AssessReport("r-1", "request_resubmission", "prac"))
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-1b", 1))
    await update(CaseContractWorkflow.assess_report, AssessReport("r-1b", "adequate", "prac"))
    await sleep_until(env, periods[3].follow_up_at + timedelta(hours=1))  # 2 goes missing
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-3", 3))
    await update(CaseContractWorkflow.assess_report,
                 AssessReport("r-3", "inadequate_quality", "prac"))
    await sleep_until(env, periods[2].ends_at + timedelta(hours=1))  # late, missing, poor
    audits = [a for a in (await case.status()).state.audits if a.rule == "R6"]
    await update(CaseContractWorkflow.record_audit_findings,
                 RecordAuditFindings(audits[0].audit_id, "findings-1", "leo"))
    await update(CaseContractWorkflow.close_audit, CloseAudit(audits[0].audit_id, "leo"))
    return case


async def reviews_contacts_closure(env: WorkflowEnvironment, worker: Worker,
                                   case_id: str) -> Case:
    """V2-V6, K1, R7, E1-E2: reviews, a schedule change, contacts, return to CP, close."""
    start = local_today(await env.get_current_time())
    case = await start_case(env.client, worker, make_terms(case_id, start, periods=4),
                            endorse_on=start)
    update = case.handle.execute_update
    await update(CaseContractWorkflow.record_contact,
                 RecordContact("k-1", start, "direct", "agency"))
    await update(CaseContractWorkflow.request_review,
                 RequestReview("concern-1", "contract", "practitioner",
                               concern="placement_ended_unexpectedly"))
    await env.sleep(timedelta(days=15))  # V4 lapses: escalated
    await update(CaseContractWorkflow.record_review_outcome,
                 ReviewOutcome("concern-1", new_due_dates=_shifted(case, -10),
                               draft_plan_version="plan-2"))
    await update(CaseContractWorkflow.request_review,
                 RequestReview("plan-1", "case_plan", "agency"))
    await update(CaseContractWorkflow.record_review_outcome,
                 ReviewOutcome("plan-1", endorse_plan_version="plan-2"))
    await env.sleep(timedelta(days=20))  # K1 gap -> R7
    await update(CaseContractWorkflow.raise_event,
                 RaiseEvent("complaint-1", "complaint_from_child_or_family"))
    await update(CaseContractWorkflow.request_review,
                 RequestReview("final", "case_plan", "practitioner"))
    await update(CaseContractWorkflow.record_review_outcome,
                 ReviewOutcome("final", return_to_cp=True))
    items = _open_items(await case.status())
    await update(CaseContractWorkflow.close_case,
                 CloseCase("summary-1", "prac", [CarryOver(i, "note-1") for i in items]))
    return case


async def continue_as_new(env: WorkflowEnvironment, worker: Worker, case_id: str) -> Case:
    """Bounded history: three period boundaries, so three continue-as-new."""
    start = local_today(await env.get_current_time())
    case = await start_case(env.client, worker, make_terms(case_id, start, periods=6),
                            endorse_on=start)
    periods = (await case.status()).state.periods
    for index in range(3):
        await sleep_until(env, periods[index].follow_up_at + timedelta(hours=1))
        await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                         SubmitReport(f"r-{index}", index))
        await sleep_until(env, periods[index].ends_at + timedelta(hours=1))
    return case


async def four_weekly_renewal(env: WorkflowEnvironment, worker: Worker, case_id: str
                              ) -> Case:
    """Session 3's paths: four-weekly periods that end before their R3 instant (no
    letter), a declared closure carried in the state, a report sent before its period
    is due kept through a renewal that only moves the end date (V5, E1)."""
    start = local_today(await env.get_current_time())
    due = [start + timedelta(days=28 * (i + 1)) for i in range(5)]
    terms = make_terms(case_id, start, schedule=ReportingSchedule(due_dates=due),
                       contract_end=due[-1], order_expiry=due[-1] + timedelta(days=365))
    case = await start_case(env.client, worker, terms, endorse_on=start)
    periods = (await case.status()).state.periods
    update = case.handle.execute_update
    await sleep_until(env, periods[0].escalation_at + timedelta(hours=1))  # 0 missing
    await case.handle.signal(CaseContractWorkflow.calendar_changed, CalendarChanged(
        "closure-1", extra_closures=[periods[3].due_date - timedelta(days=2)]))
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-1", 1))
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-2-early", 2))
    await update(CaseContractWorkflow.request_review,
                 RequestReview("renew", "case_plan", "practitioner"))
    await update(CaseContractWorkflow.record_review_outcome,
                 ReviewOutcome("renew", new_contract_end=due[-1] + timedelta(days=20)))
    await sleep_until(env, periods[2].ends_at + timedelta(hours=1))
    return case


async def awaiting_endorsement(env: WorkflowEnvironment, worker: Worker, case_id: str
                               ) -> Case:
    """C4: a report signalled before the endorsement is refused while the contract waits.
    The checked-in history was recorded by code older than the patch
    `record-while-awaiting-endorsement`, so replaying it proves waiting cases survive
    that change."""
    start = local_today(await env.get_current_time())
    terms = make_terms(case_id, start)
    case = await start_case(env.client, worker, terms)
    await asyncio.sleep(1)  # the first run has recorded and waits for the endorsement
    await case.handle.signal(CaseContractWorkflow.submit_report, SubmitReport("too-early"))
    await asyncio.sleep(1)
    await case.handle.execute_update(CaseContractWorkflow.endorse,
                                     EndorseContract(endorsement_for(terms, start)))
    return case


# ------------------------------------------------------------ requests between districts
def _wa_day(year: int) -> date:
    """Western Australia Day: the first Monday of June."""
    first = date(year, 6, 1)
    return first + timedelta(days=(7 - first.weekday()) % 7)


def _perth(day: date, at: time) -> datetime:
    return datetime.combine(day, at, PERTH)


async def _computed(handle: WorkflowHandle[Any, Any], query: Any) -> RequestStatus:
    """The status once the deadlines activity has answered."""

    async def ready() -> RequestStatus:
        status: RequestStatus = await handle.query(query)
        assert status.deadlines
        return status

    return await eventually(ready)


async def transfer_request(env: WorkflowEnvironment, worker: Worker, request_id: str
                           ) -> Recorded:
    """T1 (and the T3 child it starts): opened the Friday before WA Day, reminded and
    escalated when resolving in principle passes, rejected, told to proceed by the
    dispute, then completed."""
    friday = _wa_day(SCENARIO_YEAR) - timedelta(days=3)
    await begin_on(env, friday, MELBOURNE_NOON)
    handle = await env.client.start_workflow(
        TransferRequestWorkflow.run,
        TransferInput(request_id=request_id, case_id="case-replay-wa", from_district="perth",
                      to_district="joondalup", child_in_care=False),
        id=transfer_workflow_id(request_id), task_queue=worker.task_queue)
    resolve = (await _computed(handle, TransferRequestWorkflow.status)).deadlines[0]
    await sleep_until(env, resolve.due_at + timedelta(minutes=1))
    rejected = await handle.execute_update(
        TransferRequestWorkflow.decide, Decide("reject", "add-joondalup", "note-reason"))
    assert rejected.dispute_id is not None
    dispute = env.client.get_workflow_handle_for(
        DisputeWorkflow.run, dispute_workflow_id(rejected.dispute_id))
    await _computed(dispute, DisputeWorkflow.status)
    await dispute.execute_update(DisputeWorkflow.resolve,
                                 ResolveDispute("proceed", "note-rationale", "add-perth"))
    await dispute.result()
    await sleep_until(env, (await env.get_current_time()) + timedelta(minutes=5))
    await handle.execute_update(TransferRequestWorkflow.decide,
                                Decide("complete", "add-joondalup"))
    await handle.result()
    return Recorded(handle)


async def service_request(env: WorkflowEnvironment, worker: Worker, request_id: str
                          ) -> Recorded:
    """T2: received the day before WA Day's weekend, escalated when its working day
    passes, then accepted."""
    friday = _wa_day(SCENARIO_YEAR) - timedelta(days=3)
    await begin_on(env, friday, MELBOURNE_NOON)
    handle = await env.client.start_workflow(
        ServiceRequestWorkflow.run,
        ServiceRequestInput(request_id=request_id, case_id="case-replay-wa",
                            from_district="kimberley", to_district="joondalup"),
        id=service_request_workflow_id(request_id), task_queue=worker.task_queue)
    [accept] = (await _computed(handle, ServiceRequestWorkflow.status)).deadlines
    await sleep_until(env, accept.due_at + timedelta(minutes=1))
    await handle.execute_update(ServiceRequestWorkflow.decide,
                                Decide("accept", "add-joondalup"))
    await handle.result()
    return Recorded(handle)


async def dispute_ladder(env: WorkflowEnvironment, worker: Worker, request_id: str
                         ) -> Recorded:
    """T3: a service request rejected the next day; the ADDs' day passes (referred up by
    the deadline), the district directors refer it on, the director withdraws it with a
    rationale. Records the dispute's own history."""
    tuesday = _wa_day(SCENARIO_YEAR) - timedelta(days=6)
    await begin_on(env, tuesday, MELBOURNE_NOON)
    request = await env.client.start_workflow(
        ServiceRequestWorkflow.run,
        ServiceRequestInput(request_id=request_id, case_id="case-replay-wa",
                            from_district="kimberley", to_district="joondalup"),
        id=service_request_workflow_id(request_id), task_queue=worker.task_queue)
    await _computed(request, ServiceRequestWorkflow.status)
    await sleep_until(env, _perth(tuesday + timedelta(days=1), time(11, 0)))
    await request.execute_update(ServiceRequestWorkflow.decide,
                                 Decide("reject", "add-joondalup", "note-reason"))
    dispute = env.client.get_workflow_handle_for(
        DisputeWorkflow.run, dispute_workflow_id(dispute_id_for("service", request_id)))
    await _computed(dispute, DisputeWorkflow.status)

    async def at_first_level() -> None:
        found = await dispute.query(DisputeWorkflow.status)
        assert any(d.key == "assistant_directors" for d in found.deadlines)

    await eventually(at_first_level)
    status = await dispute.query(DisputeWorkflow.status)
    first = next(d for d in status.deadlines if d.key == "assistant_directors")
    await sleep_until(env, first.due_at + timedelta(minutes=1))
    await dispute.execute_update(DisputeWorkflow.refer,
                                 ReferDispute("district_directors", "dd-perth"))
    await dispute.execute_update(DisputeWorkflow.resolve,
                                 ResolveDispute("withdraw", "note-rationale", "dir-ppu"))
    await dispute.result()
    await request.result()
    return Recorded(dispute)


async def coworking_reviews(env: WorkflowEnvironment, worker: Worker, arrangement_id: str
                            ) -> Recorded:
    """T4: reminded five working days before the three-month review and escalated when
    it passes, reviewed late (continue-as-new), reviewed again, then ended."""
    start = await begin_on(env, date(SCENARIO_YEAR, 3, 10), MELBOURNE_NOON)
    handle = await env.client.start_workflow(
        CoworkingWorkflow.run,
        CoworkingInput(arrangement_id=arrangement_id, case_id="case-replay-wa",
                       from_district="perth", to_district="midland", started_on=start),
        id=coworking_workflow_id(arrangement_id), task_queue=worker.task_queue)
    [review] = (await _computed(handle, CoworkingWorkflow.status)).deadlines
    await sleep_until(env, review.due_at + timedelta(hours=10))
    late = date.fromisoformat(str(review.basis["last_day"])) + timedelta(days=1)
    await handle.execute_update(CoworkingWorkflow.record_review,
                                RecordCoworkingReview("review-1", late, "note-review-1"))

    async def runs(count: int) -> None:
        """Until the review's continue-as-new has started run `count`, with its deadline."""
        assert len(await run_ids(env.client, handle.id)) == count
        assert (await handle.query(CoworkingWorkflow.status)).deadlines

    await eventually(lambda: runs(2))
    await sleep_until(env, (await env.get_current_time()) + timedelta(days=7))
    await handle.execute_update(CoworkingWorkflow.record_review, RecordCoworkingReview(
        "review-2", late + timedelta(days=7), "note-review-2"))

    await eventually(lambda: runs(3))
    await handle.execute_update(CoworkingWorkflow.end, EndCoworking("add-perth"))
    await handle.result()
    return Recorded(handle)


async def lean_periods(env: WorkflowEnvironment, worker: Worker, case_id: str) -> Case:
    """Issue 13's `lean-periods` path: K1 contacts recorded in the read model, read when
    the fortnightly check falls due; a gap raised, and the next contact sent as a message
    (the case's row asks for it); periods decided before they end, so no timer waits for
    their ends and the case continues-as-new at the first wake after (period 1's report,
    its search attributes passed with continue-as-new; a late report after R2)."""
    start = local_today(await env.get_current_time())
    terms = make_terms(case_id, start, periods=4, contact_frequency_days=14)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    periods = (await case.status()).state.periods
    update = case.handle.execute_update
    sessions = READ_MODEL.get()

    async def contact(contact_id: str, day: int) -> None:
        await sleep_until(env, datetime.combine(start + timedelta(days=day), time(1), UTC))
        message = RecordContact(contact_id, start + timedelta(days=day), "direct", "agency")
        async with sessions() as session:
            row = await session.get(CaseRow, case_id)
            assert row is not None
            answer = await contacts.record_contact(session, row, message,
                                                   await env.get_current_time())
            await session.commit()
        if answer is None:  # a gap is raised: the case takes it as a message
            await update(CaseContractWorkflow.record_contact, message)

    await contact("k-5", 5)
    await contact("k-12", 12)
    await contact("k-40", 40)  # after the gap raised at the end of day 26
    await sleep_until(env, periods[0].follow_up_at + timedelta(hours=1))
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-0", 0))
    await update(CaseContractWorkflow.assess_report, AssessReport("r-0", "adequate", "prac"))
    await sleep_until(env, periods[0].ends_at + timedelta(hours=1))
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-1", 1))
    await update(CaseContractWorkflow.assess_report, AssessReport("r-1", "adequate", "prac"))
    await sleep_until(env, periods[2].overdue_at + timedelta(days=2))
    await update(CaseContractWorkflow.submit_report, SubmitReport("r-2", 2))
    await update(CaseContractWorkflow.assess_report, AssessReport("r-2", "adequate", "prac"))
    await sleep_until(env, periods[2].ends_at + timedelta(days=1))
    return case


def _shifted(case: Case, days: int) -> list[date]:
    return [d + timedelta(days=days) for d in case.terms.schedule.due_dates]


def _open_items(status: object) -> list[str]:
    from workflows.engine_closure import open_items

    return list(open_items(status.state))  # type: ignore[attr-defined]


SCENARIOS: dict[str, Scenario] = {
    "reporting-cycle": reporting_cycle,
    "reviews-contacts-closure": reviews_contacts_closure,
    "continue-as-new": continue_as_new,
    "four-weekly-renewal": four_weekly_renewal,
    "awaiting-endorsement": awaiting_endorsement,
    "transfer-request": transfer_request,
    "service-request": service_request,
    "dispute-ladder": dispute_ladder,
    "coworking-reviews": coworking_reviews,
    # Issue 13: the reporting cycle again, recorded by the code of the `lean-history`
    # patch (recordings as local activities, one patch marker in the first run, none in
    # continued runs), so a later change to that path is caught too.
    "lean-history": reporting_cycle,
    # Issue 13, second round: the `lean-periods` patch (contacts read from the read
    # model, no timer for a decided period's end, search attributes with
    # continue-as-new), so a later change to that path is caught too.
    "lean-periods": lean_periods,
}

DISTRICT_WORKFLOW_IDS: dict[str, Callable[[str], str]] = {
    "transfer-request": transfer_workflow_id,
    "service-request": service_request_workflow_id,
    "dispute-ladder": lambda request_id: dispute_workflow_id(
        dispute_id_for("service", request_id)),
    "coworking-reviews": coworking_workflow_id,
}
"""T1-T4 (issue 14): the workflow each district scenario records, from its request id."""


def recorded_workflow_id(name: str) -> str:
    """The id of the workflow scenario `name` recorded (the ids are `replay-<name>`)."""
    key = f"replay-{name}"
    district = DISTRICT_WORKFLOW_IDS.get(name)
    return district(key) if district is not None else workflow_id_for(key)


async def record(name: str, scenario: Scenario, database_url: str) -> list[Path]:
    engine = make_engine(database_url)
    # Signed like the service's own clients (issue 10): the doors refuse anything else.
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=make_data_converter(), interceptors=[signing()],
        test_server_existing_path=str(venv_binary("temporal-test-server")))
    written: list[Path] = []
    try:
        async with env:
            from worker import build_worker

            await ensure_search_attributes(env.client, "default")
            async with build_worker(env.client, f"record-{uuid.uuid4().hex[:6]}",
                                    make_session_factory(engine), strict_sandbox=True,
                                    caller_keys=TEST_CALLER_KEYS) as w:
                READ_MODEL.set(make_session_factory(engine))
                case = await scenario(env, w, f"replay-{name}")
                await asyncio.sleep(1)  # let the last activity finish its record
                for number, run_id in enumerate(await run_ids(env.client, case.handle.id), 1):
                    history = await env.client.get_workflow_handle(
                        case.handle.id, run_id=run_id).fetch_history()
                    path = HISTORIES / f"{name}-run{number}.json"
                    path.write_text(history.to_json())
                    written.append(path)
    finally:
        await engine.dispose()
    return written


FROZEN = frozenset({"awaiting-endorsement", "reporting-cycle", "reviews-contacts-closure",
                    "continue-as-new", "four-weekly-renewal", "lean-history"})
"""Histories recorded by older code on purpose (see the scenario; the four before issue
13's `lean-history` patch are what cases that ran before it have, `lean-history` what
cases that ran before `lean-periods` have): recorded again only when named, since a new
recording would prove nothing about cases that ran before."""


async def main(only: list[str]) -> None:
    """Record every scenario but the frozen ones (or only the named ones), keeping the
    others' histories."""
    HISTORIES.mkdir(exist_ok=True)
    chosen = ({name: SCENARIOS[name] for name in only} if only
              else {name: run for name, run in SCENARIOS.items() if name not in FROZEN})
    for name in chosen:
        for old in HISTORIES.glob(f"{name}-run*.json"):
            old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'record.db'}"
        await upgrade_to_head_async(url)
        for name, scenario in chosen.items():
            for path in await record(name, scenario, url):
                print(f"wrote {path.relative_to(Path.cwd())}")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.replay.record_histories",
        description="Re-record tests/histories/*.json from the current workflow. Only with "
        "a deliberate, versioned workflow change: old histories are what running cases "
        "have. Name scenarios to record only those (e.g. a new one).")
    parser.add_argument("scenarios", nargs="*", metavar="SCENARIO",
                        help=f"one of {', '.join(SCENARIOS)}; default: all")
    names = parser.parse_args().scenarios
    if unknown := sorted(set(names) - set(SCENARIOS)):
        parser.error(f"unknown scenario(s): {', '.join(unknown)}")
    asyncio.run(main(names))
