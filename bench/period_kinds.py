"""History cost per period kind, beside a bare Temporal cycle, and the state a case
carries through continue-as-new over a 10-year contract (issue 13, items 2 and 3).

On the time-skipping server this runs a case through `PERIODS` periods of one kind and
counts the events (and actions) of its whole history -- every run -- that fall in each
period: from the end of the previous period to the end of this one (the next due date's
start). The figure is the median over the middle periods (the first also holds
registration and endorsement, the last the contract's end); the largest run is shown
beside it. Runs and periods do not match one to one: before issue 13's `lean-periods`
patch an R2 overdue mark was a run of its own after the period's end; since, a run spans
from the first wake after one period's end to the first wake after the next. The kinds:

- on time: the report before its due date, assessed adequate (R4, R5);
- late: the report after the overdue mark (R2), assessed adequate;
- escalated: the report after the escalation to the program manager (R3);
- on time, fortnightly contacts: as on time, with a K1 contact every 14 days;
- bare cycle (the baseline): a workflow with no rules doing the least the same period
  needs in Temporal -- a timer to the follow-up, an activity for its notice, the two
  updates (report, assessment), a timer to the period's end, continue-as-new.

Then a 10-year contract, monthly and quarterly, every period on time: carried state
(the input of each run) in bytes, at the start, after one year and at the end.

"Actions" approximates Temporal Cloud's billable actions from the history: starts and
continue-as-new, timers, activities, local-activity markers, updates, signals,
search-attribute upserts. Figures are ratios to the bare cycle of the same run.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity, workflow
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities import contacts
from casework.caller_envelope import CallerEnvelopeInterceptor, CallerIdentity
from casework.db import make_engine, make_session_factory
from casework.migrate import upgrade_to_head_async
from casework.processes import venv_binary
from casework.temporal_client import ensure_search_attributes, make_data_converter
from models.messages import AssessReport, RecordContact, SubmitReport
from models.tables import CaseRow
from tests.workflows.conftest import Case, local_today, make_terms, run_ids, sleep_until, start_case
from workflows.state import PeriodState

PERIODS = 7
YEARS = 10
ACTION_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, EventType.EVENT_TYPE_TIMER_STARTED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
}


def _is_action(event: HistoryEvent) -> bool:
    if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
        return event.marker_recorded_event_attributes.marker_name != "core_patch"
    return event.event_type in ACTION_EVENTS


@dataclass
class Run:
    events: int
    actions: int
    carried_bytes: int
    # (when, is an action) of each event, to count them per period
    times: list[tuple[datetime, bool]] = field(default_factory=list)


@dataclass
class History:
    runs: list[Run]
    period_ends: list[datetime]  # the end of each period, in order


async def _runs(client: Client, workflow_id: str) -> list[Run]:
    runs = []
    for run_id in await run_ids(client, workflow_id):
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        runs.append(Run(len(history.events), sum(map(_is_action, history.events)),
                        sum(len(p.data) for p in started.input.payloads),
                        [(e.event_time.ToDatetime(UTC), _is_action(e))
                         for e in history.events]))
    return runs


@dataclass
class PerPeriod:
    events: float
    actions: float
    largest_run: int


def per_period(case: History) -> PerPeriod:
    """Median over the middle periods of the events (actions) whose time falls in the
    period, from the end of the one before to its own end; and the largest run."""
    times = sorted(t for run in case.runs for t in run.times)
    ends = case.period_ends
    counts = []
    for start, end in pairwise(ends[:-1]):  # periods 1 .. n-2
        inside = [action for at, action in times if start <= at < end]
        counts.append((len(inside), sum(inside)))
    return PerPeriod(statistics.median(c[0] for c in counts),
                     statistics.median(c[1] for c in counts),
                     max(r.events for r in case.runs))


# ------------------------------------------------------------------ the bare cycle
@activity.defn(name="bare_notice")
async def bare_notice(period: int) -> None:
    """Stands for sending the follow-up: does nothing."""


@dataclass
class BareInput:
    due: list[datetime]
    index: int = 0
    answered: list[str] = field(default_factory=list)


@workflow.defn(name="BareCycle", sandboxed=False)
class BareCycle:
    def __init__(self) -> None:
        self._assessed = False

    @workflow.run
    async def run(self, input: BareInput) -> None:
        if input.index >= len(input.due) - 1:
            return
        follow_up = input.due[input.index] - timedelta(days=14)
        await workflow.sleep(max(follow_up - workflow.now(), timedelta(0)))
        await workflow.execute_activity(bare_notice, input.index,
                                        start_to_close_timeout=timedelta(minutes=1))
        await workflow.sleep(max(input.due[input.index + 1] - workflow.now(), timedelta(0)))
        workflow.continue_as_new(BareInput(input.due, input.index + 1, input.answered[-4:]))

    @workflow.update(name="report")
    def report(self, report_id: str) -> str:
        return report_id

    @workflow.update(name="assess")
    def assess(self, report_id: str) -> str:
        self._assessed = True
        return report_id


async def bare(env: WorkflowEnvironment, periods: int) -> History:
    async with Worker(env.client, task_queue=f"bare-{uuid.uuid4().hex[:6]}",
                      workflows=[BareCycle], activities=[bare_notice],
                      workflow_runner=UnsandboxedWorkflowRunner()) as worker:
        now = await env.get_current_time()
        due = [now + timedelta(days=30 + 91 * i) for i in range(periods + 1)]
        handle = await env.client.start_workflow(BareCycle.run, BareInput(due),
                                                 id=f"bare-{uuid.uuid4().hex[:8]}",
                                                 task_queue=worker.task_queue)
        for index in range(periods):
            await sleep_until(env, due[index] - timedelta(days=13))
            await handle.execute_update(BareCycle.report, f"r-{index}")
            await handle.execute_update(BareCycle.assess, f"r-{index}")
            await sleep_until(env, due[index + 1] + timedelta(hours=1))
        await asyncio.sleep(0.3)
        # Its period k runs from one continue-as-new to the next: due[k] - 14 days is its
        # follow-up, due[k + 1] its end.
        return History(await _runs(env.client, handle.id), due[1:])


# ------------------------------------------------------------------ casework periods
Period = Callable[[WorkflowEnvironment, Case, PeriodState], Awaitable[None]]


async def _report_and_assess(case: Case, index: int) -> None:
    update = case.handle.execute_update
    await update("submit_report", SubmitReport(f"r-{index}", index))
    await update("assess_report", AssessReport(f"r-{index}", "adequate"))


async def on_time(env: WorkflowEnvironment, case: Case, period: PeriodState) -> None:
    await sleep_until(env, period.follow_up_at + timedelta(hours=1))
    await _report_and_assess(case, period.index)


async def late(env: WorkflowEnvironment, case: Case, period: PeriodState) -> None:
    await sleep_until(env, period.overdue_at + timedelta(hours=1))
    await _report_and_assess(case, period.index)


async def escalated(env: WorkflowEnvironment, case: Case, period: PeriodState) -> None:
    await sleep_until(env, period.escalation_at + timedelta(hours=1))
    await _report_and_assess(case, period.index)


Record = Callable[[Case, RecordContact, datetime], Awaitable[None]]


def fortnightly(record: Record) -> Period:
    """Contacts every 14 days through the period, the report on time among them; each
    contact recorded by `record`."""

    async def period_with_contacts(env: WorkflowEnvironment, case: Case,
                                   period: PeriodState) -> None:
        start = await env.get_current_time()
        day = 0
        reported = False
        while start + timedelta(days=day) < period.ends_at - timedelta(days=1):
            await sleep_until(env, start + timedelta(days=day))
            if not reported and await env.get_current_time() >= period.follow_up_at:
                await _report_and_assess(case, period.index)
                reported = True
            now = await env.get_current_time()
            await record(case, RecordContact(f"k-{period.index}-{day}", local_today(now),
                                             "direct", "agency"), now)
            day += 14
        if not reported:
            await on_time(env, case, period)

    return period_with_contacts


async def through_the_door(case: Case, message: RecordContact, _now: datetime) -> None:
    """A contact sent to the case as a message (`record_contact` through Temporal, as
    the API did before issue 13 and the Temporal door still takes)."""
    await case.handle.execute_update("record_contact", message)


def in_the_read_model(sessions: async_sessionmaker[AsyncSession]) -> Record:
    """A contact recorded as `POST /cases/{id}/contacts` records it since issue 13: in
    the read model (activities/contacts.py), no message to the case."""

    async def record(case: Case, message: RecordContact, now: datetime) -> None:
        async with sessions() as session:
            row = await session.get(CaseRow, case.terms.case_id)
            assert row is not None
            recorded = await contacts.record_contact(session, row, message, now)
            await session.commit()
        if recorded is None:  # K1: a raised gap wants the contact as a message
            await through_the_door(case, message, now)

    return record


async def casework_case(env: WorkflowEnvironment, worker: Worker, period: Period,
                        periods: int, interval_months: int = 3,
                        contact_frequency_days: int = 365) -> History:
    start = local_today(await env.get_current_time())
    terms = make_terms(f"bench-{uuid.uuid4().hex[:8]}", start, periods=periods,
                       interval_months=interval_months,
                       contact_frequency_days=contact_frequency_days)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    planned = (await case.status()).state.periods
    for state in planned:
        # The contract ends at the last due date: its report cannot come late.
        await (period if state is not planned[-1] else on_time)(env, case, state)
        await sleep_until(env, state.ends_at + timedelta(hours=1))
    await asyncio.sleep(0.3)
    return History(await _runs(env.client, case.handle.id), [p.ends_at for p in planned])


# ------------------------------------------------------------------ running
async def _environment() -> WorkflowEnvironment:
    keys = {"bench": bytes(32)}
    signing = CallerEnvelopeInterceptor(keys, "bench", default=CallerIdentity(
        subject="bench", roles=("admin",), agency_id=None))
    return await WorkflowEnvironment.start_time_skipping(
        data_converter=make_data_converter(), interceptors=[signing],
        test_server_existing_path=str(venv_binary("temporal-test-server")))


Action = Callable[[WorkflowEnvironment, Worker, async_sessionmaker[AsyncSession]],
                  Awaitable[object]]


async def _with_worker(database_url: str, action: Action) -> object:
    engine = make_engine(database_url)
    try:
        async with await _environment() as env:
            from worker import build_worker

            await ensure_search_attributes(env.client, "default")
            sessions = make_session_factory(engine)
            async with build_worker(env.client, f"bench-{uuid.uuid4().hex[:6]}", sessions,
                                    caller_keys={"bench": bytes(32)}) as worker:
                return await action(env, worker, sessions)
    finally:
        await engine.dispose()


async def run(periods: int = PERIODS, years: int = YEARS) -> None:
    kinds: dict[str, Callable[[async_sessionmaker[AsyncSession]], Period]] = {
        "on time": lambda _: on_time, "late": lambda _: late, "escalated": lambda _: escalated,
        "on time, fortnightly contacts": lambda sessions: fortnightly(
            in_the_read_model(sessions)),
        "  the same, contacts as messages": lambda _: fortnightly(through_the_door)}
    # K1 at its fortnightly minimum: a contact check falls due every fortnight.
    fortnightly_k1 = {"  the same, K1 frequency 14 days": lambda sessions: fortnightly(
        in_the_read_model(sessions)),
        "    and contacts as messages": lambda _: fortnightly(through_the_door)}
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_to_head_async(url)

        async def per_kind(env: WorkflowEnvironment, worker: Worker,
                           sessions: async_sessionmaker[AsyncSession]) -> dict[str, PerPeriod]:
            results = {"bare cycle (baseline)": per_period(await bare(env, periods))}
            for name, kind in kinds.items():
                results[name] = per_period(await casework_case(env, worker, kind(sessions),
                                                               periods))
            for name, kind in fortnightly_k1.items():
                results[name] = per_period(await casework_case(
                    env, worker, kind(sessions), periods, contact_frequency_days=14))
            return results

        results = await _with_worker(url, per_kind)
        assert isinstance(results, dict)
        base = results["bare cycle (baseline)"]
        print(f"\nHistory per period (median over the middle periods of {periods}: events "
              "of every run falling in the period; x bare cycle)")
        print(f"  {'period kind':<32} {'events':>7} {'actions':>8} {'x events':>9} "
              f"{'x actions':>10} {'largest run':>12}")
        for name, cost in results.items():
            print(f"  {name:<32} {cost.events:>7.0f} {cost.actions:>8.0f} "
                  f"{cost.events / base.events:>9.2f} {cost.actions / base.actions:>10.2f} "
                  f"{cost.largest_run:>12}")

        async def ten_years(env: WorkflowEnvironment, worker: Worker,
                            _: async_sessionmaker[AsyncSession]) -> dict[str, list[Run]]:
            return {
                "monthly": (await casework_case(env, worker, on_time, 12 * years, 1)).runs,
                "quarterly": (await casework_case(env, worker, on_time, 4 * years, 3)).runs,
            }

        if years:
            contracts = await _with_worker(url, ten_years)
            assert isinstance(contracts, dict)
            print(f"\nState carried through continue-as-new, {years}-year contract, every "
                  "period on time (bytes of a run's input)")
            print(f"  {'schedule':<10} {'runs':>5} {'first':>9} {'year 1':>9} {'last':>9} "
                  f"{'largest':>9} {'max events':>11}")
            for name, runs in contracts.items():
                per_year = 12 if name == "monthly" else 4
                year_one = runs[min(per_year, len(runs) - 1)].carried_bytes
                print(f"  {name:<10} {len(runs):>5} {runs[0].carried_bytes:>9,} "
                      f"{year_one:>9,} {runs[-1].carried_bytes:>9,} "
                      f"{max(r.carried_bytes for r in runs):>9,} "
                      f"{max(r.events for r in runs):>11}")


def main(periods: int = PERIODS, years: int = YEARS) -> None:
    asyncio.run(run(periods, years))


if __name__ == "__main__":
    main()
