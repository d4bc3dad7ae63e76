"""Time-skipping fixtures: each scenario gets a fresh test server, a real worker and the
real read model.

No scenario depends on the real date (issue 9). Virtual time starts at the real now and
only moves forward, so a scenario first moves it to a chosen local date with
`begin_on(env, day)` (by default `SCENARIO_START`, an ordinary mid-March day in
`SCENARIO_YEAR`). `SCENARIO_YEAR` is a fixed year while it is still ahead of the
real clock, and the next year after that once the clock passes it: every date a test
names is built from that year by rule (the 29th of a month, Melbourne's DST days, the
day before a holiday), so the calendar facts a scenario relies on hold in any year."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.schemas.views import PeriodView
from casework.caller_envelope import CallerEnvelopeInterceptor, CallerIdentity
from casework.processes import venv_binary
from casework.temporal_client import ensure_search_attributes, make_data_converter
from models.messages import EndorseContract
from models.tables import NotificationRow
from models.terms import (
    ContractTerms,
    Endorsement,
    Phase,
    ReportingSchedule,
    Signatory,
    SignatoryRole,
)
from worker import build_worker
from workflows.case_contract import CaseContractInput, CaseContractWorkflow, workflow_id_for
from workflows.state import CaseStatus

MELBOURNE = ZoneInfo("Australia/Melbourne")

_PINNED_YEAR = 2028
"""Chosen so that 29 February exists and lies ahead of the real clock for a while."""


def scenario_year(real_now: datetime | None = None) -> int:
    """`_PINNED_YEAR` while its 1 January is still ahead of the real clock, else the
    year after the real one: always wholly in the future, so virtual time can reach
    any day of it."""
    now = real_now or datetime.now(MELBOURNE)
    return _PINNED_YEAR if now.date() < date(_PINNED_YEAR, 1, 1) else now.year + 1


SCENARIO_YEAR = scenario_year()
SCENARIO_START = date(SCENARIO_YEAR, 3, 14)
"""The default first day of a scenario: mid-month, far from month ends and from
Melbourne's DST changes (first Sunday of April and of October)."""

SCENARIO_TIME = time(10, 30)
"""Local time of day at which a scenario begins (after 09:00 follow-ups of that day)."""


async def begin_on(env: WorkflowEnvironment, day: date = SCENARIO_START,
                   at: time = SCENARIO_TIME) -> date:
    """Move virtual time to `at` local on `day` and return `day`: the scenario's
    'today'. Fails loudly if virtual time is already past it (it only moves forward)."""
    instant = datetime.combine(day, at, MELBOURNE)
    now = await env.get_current_time()
    assert now <= instant, f"virtual time {now} is already past the scenario start {instant}"
    await env.sleep(instant - now)
    return day


TEST_CALLER_KEYS = {"wf-test": bytes(range(32))}
"""Issue 10: the envelope key of the time-skipping scenarios (they run without a codec,
so the key is the tests' own instead of derived from codec keys)."""
TEST_CALLER = CallerIdentity(subject="test-admin", roles=("admin",), agency_id=None)
"""Who the scenarios' client sends as: an admin, allowed every message and every actor
(as the API's admin is), so a scenario is about the case, not about roles."""


def signing(caller: CallerIdentity | None = TEST_CALLER,
            keys: dict[str, bytes] | None = None) -> CallerEnvelopeInterceptor:
    """The client interceptor that signs as `caller` (None: signs nothing)."""
    keys = keys or TEST_CALLER_KEYS
    return CallerEnvelopeInterceptor(keys, next(iter(keys)), default=caller)


async def client_as(env: WorkflowEnvironment, caller: CallerIdentity | None,
                    keys: dict[str, bytes] | None = None) -> Client:
    """Another client of the scenario's server, sending as `caller` (None: no envelope,
    like the Temporal CLI)."""
    return Client(env.client.service_client, namespace=env.client.namespace,
                  data_converter=make_data_converter(),
                  interceptors=[signing(caller, keys)] if caller or keys else [])


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=make_data_converter(), interceptors=[signing()],
        test_server_existing_path=str(venv_binary("temporal-test-server")),
    )
    async with environment:
        await ensure_search_attributes(environment.client, "default")
        yield environment


@pytest.fixture
async def worker(env: WorkflowEnvironment, sessions: async_sessionmaker[AsyncSession]
                 ) -> AsyncIterator[Worker]:
    running = build_worker(env.client, f"tq-{uuid.uuid4().hex[:8]}", sessions,
                           strict_sandbox=True, caller_keys=TEST_CALLER_KEYS)
    async with running:
        yield running


def local_today(env_now: datetime) -> date:
    return env_now.astimezone(MELBOURNE).date()


def add_months(day: date, months: int) -> date:
    from workflows.policy import add_months as policy_add_months

    return policy_add_months(day, months)


def make_terms(case_id: str, start: date, *, periods: int = 4, interval_months: int = 3,
               **overrides: object) -> ContractTerms:
    due_dates = [add_months(start, interval_months * (i + 1)) for i in range(periods)]
    values: dict[str, object] = {
        "case_id": case_id,
        "agency_id": "agency-1",
        "phase": Phase.PROTECTION_ORDER,
        "total_case_management": True,
        "functions": [],
        "aboriginal_child": False,
        "acsass_consulted_on": None,
        "child_birth_date": date(start.year - 8, 5, 1),
        "schedule": ReportingSchedule(due_dates=due_dates),
        "contract_start": start,
        "contract_end": due_dates[-1],
        "order_expiry": due_dates[-1] + timedelta(days=120),
    }
    values.update(overrides)
    return ContractTerms(**values)  # type: ignore[arg-type]


def endorsement_for(terms: ContractTerms, on: date) -> Endorsement:
    signatories = [
        Signatory(SignatoryRole.CP_DECISION_MAKER, "cp-1", on),
        Signatory(SignatoryRole.AGENCY_REPRESENTATIVE, "ag-rep-1", on),
        Signatory(SignatoryRole.PARENT_GUARDIAN, "parent-1", on),
    ]
    return Endorsement(team_manager_id="tm-1", endorsed_on=on, signatories=signatories)


@dataclass
class Case:
    handle: WorkflowHandle[CaseContractWorkflow, CaseStatus]
    terms: ContractTerms

    async def status(self) -> CaseStatus:
        return await self.handle.query(CaseContractWorkflow.status)


async def start_case(client: Client, worker: Worker, terms: ContractTerms, *,
                     endorse_on: date | None = None, **input_overrides: object) -> Case:
    handle = await client.start_workflow(
        CaseContractWorkflow.run,
        CaseContractInput(terms=terms, **input_overrides),  # type: ignore[arg-type]
        id=workflow_id_for(terms.case_id),
        task_queue=worker.task_queue,
    )
    case = Case(handle, terms)
    if endorse_on is not None:
        await handle.execute_update(CaseContractWorkflow.endorse,
                                    EndorseContract(endorsement_for(terms, endorse_on)))
    return case


async def every_period(case: Case, sessions: async_sessionmaker[AsyncSession]
                       ) -> list[PeriodView]:
    """Every period of the case as `GET /cases/{id}` shows it (api/case_views.py): the
    status query's open periods, and those closed before the current run (issue 13:
    the state keeps only their outline) from the read model."""
    from api.case_views import view_from_status, with_recorded_periods

    status = await case.status()
    async with sessions() as session:
        view = await with_recorded_periods(session, view_from_status(status),
                                           status.state.closed.count)
    return view.periods


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    """Move virtual time to `instant` (no-op if already past)."""
    remaining = instant - await env.get_current_time()
    if remaining > timedelta(0):
        await env.sleep(remaining)


async def notifications(sessions: async_sessionmaker[AsyncSession], case_id: str
                        ) -> list[NotificationRow]:
    """The case's outbox in the read model, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(select(NotificationRow).where(
            NotificationRow.case_id == case_id).order_by(NotificationRow.created_at))
        return list(rows)


async def run_ids(client: Client, workflow_id: str) -> list[str]:
    """Every run of the workflow, oldest first, following continue-as-new links back."""
    ids: list[str] = []
    run_id = ""
    while True:
        response = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=client.namespace,
                execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id)))
        info = response.workflow_execution_info
        ids.insert(0, info.execution.run_id)
        history = await client.get_workflow_handle(
            workflow_id, run_id=info.execution.run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return ids
        run_id = started.continued_execution_run_id
