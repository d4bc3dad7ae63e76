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
from datetime import date, timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade_to_head_async
from casework.processes import venv_binary
from casework.temporal_client import ensure_search_attributes, make_data_converter
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
from models.terms import ReportingSchedule
from tests.workflows.conftest import (
    TEST_CALLER_KEYS,
    Case,
    endorsement_for,
    local_today,
    make_terms,
    run_ids,
    signing,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"

Scenario = Callable[[WorkflowEnvironment, Worker, str], Awaitable[Case]]


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
    # Issue 13: the reporting cycle again, recorded by the code of the `lean-history`
    # patch (recordings as local activities, one patch marker in the first run, none in
    # continued runs), so a later change to that path is caught too.
    "lean-history": reporting_cycle,
}


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
                    "continue-as-new", "four-weekly-renewal"})
"""Histories recorded by older code on purpose (see the scenario; the four before issue
13's `lean-history` patch are what cases that ran before it have): recorded again only
when named, since a new recording would prove nothing about cases that ran before."""


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
