"""Builds and runs the casework worker: task queue, workflow, activities, converter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions
from temporalio.workflow import SandboxImportNotificationPolicy

from activities.channels import SmtpDeliverer, SmtpSettings
from activities.contacts import ContactActivities
from activities.district import DistrictActivities
from activities.notifications import (
    Deliverer,
    LogDeliverer,
    WebhookDeliverer,
    run_redelivery,
)
from activities.read_model import ReadModelActivities
from activities.refusal_log import RefusalLog
from activities.schedule import ScheduleActivities
from casework.codec import EncryptionCodec
from casework.config import Settings, get_settings
from casework.db import engine_for, make_session_factory
from casework.logs import configure_logging
from casework.telemetry import worker_runtime
from casework.temporal_client import connect
from casework.worker_health import serving_health
from models.envelope import install_keys
from workflows import unrecorded_refusals
from workflows.case_contract import CaseContractWorkflow
from workflows.coworking import CoworkingWorkflow
from workflows.dispute import DisputeWorkflow
from workflows.doors import DoorsInterceptor
from workflows.service_request import ServiceRequestWorkflow
from workflows.transfer import TransferRequestWorkflow

PASSED_THROUGH_MODULES = ("models", "workflows", "holidays", "opentelemetry")
"""Our pure modules are deterministic and imported once, outside the sandbox; and
OpenTelemetry, whose context the SDK's tracing interceptor carries through a workflow
(issue 15; it makes spans only outside replay)."""


MAX_CACHED_WORKFLOWS = 2_000
"""Issue 13: how many sleeping cases a worker keeps in memory. A case evicted from the
cache replays its whole run when it next wakes, so when quarterly follow-ups cluster at
09:00 a cache smaller than the burst turns every wake into a replay. Runs stay small
(one period each) so a cached case costs little; the SDK's default is 1,000."""
MAX_CONCURRENT_WORKFLOW_TASKS = 200
"""Issue 13: workflow tasks in flight at once (SDK default 100). A wake is mostly waiting
on the recording (a local activity since issue 13), so more of them overlap well on one
process; the CPU part stays small now that type adapters are built once."""
MAX_CONCURRENT_LOCAL_ACTIVITIES = 200
"""The recordings of those tasks (a local activity each, issue 13), one per task."""
STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT = timedelta(seconds=60)
"""Issue 13: how long a woken case waits on this worker's sticky queue before Temporal
hands it to any worker, which must then replay it from scratch. In a deadline burst the
SDK's 10 s default timed out 785 of 1,000 wakes, turning a backlog into replays; a
minute lets the backlog drain where the cases are cached. The price: when a worker dies,
a case whose last task ran there and that wakes within Temporal's ~10 s of noticing the
worker gone waits out this minute before another worker takes it (a notice late by up
to a minute, never lost)."""


def sandbox_runner(strict: bool = False) -> SandboxedWorkflowRunner:
    """The workflow sandbox with our pure modules passed through. `strict` (tests) makes
    an import we forgot to pass through fail loudly instead of reloading per run."""
    restrictions = SandboxRestrictions.default.with_passthrough_modules(*PASSED_THROUGH_MODULES)
    if strict:
        restrictions = restrictions.with_import_notification_policy(
            SandboxImportNotificationPolicy.RAISE_ON_UNINTENTIONAL_PASSTHROUGH
        )
    return SandboxedWorkflowRunner(restrictions=restrictions)


def build_worker(
    client: Client,
    task_queue: str,
    sessions: async_sessionmaker[AsyncSession],
    *,
    deliverer: Deliverer | None = None,
    strict_sandbox: bool = False,
    review_reminder_lead_days: int = 14,
    caller_keys: Mapping[str, bytes] | None = None,
    schedule: ScheduleActivities | None = None,
) -> Worker:
    """The worker. `caller_keys` verify caller envelopes (issue 10); by default the
    client codec's (`EncryptionCodec.caller_keys`). Without any, every message but a
    continued run's is refused: only the service's own writers change a case.
    `schedule`: the schedule activity (the holiday calendar's, by default; the deadline
    burst benchmark moves its instants)."""
    codec = client.data_converter.payload_codec
    if caller_keys is None and isinstance(codec, EncryptionCodec):
        caller_keys = codec.caller_keys
    install_keys(caller_keys or {})
    # Updates refused before they entered history still get their access-log row.
    unrecorded_refusals.install_sink(task_queue, RefusalLog(sessions,
                                                            asyncio.get_running_loop()))
    schedule = schedule or ScheduleActivities(sessions, review_reminder_lead_days)
    read_model = ReadModelActivities(sessions, deliverer)
    contacts = ContactActivities(sessions)
    district = DistrictActivities(sessions, deliverer)
    return Worker(
        client,
        task_queue=task_queue,
        # The case contract, and the requests between districts (T1-T4).
        workflows=[CaseContractWorkflow, TransferRequestWorkflow, ServiceRequestWorkflow,
                   DisputeWorkflow, CoworkingWorkflow],
        activities=[schedule.schedule_periods, read_model.record_case_effects,
                    contacts.read_contacts, district.district_deadlines,
                    district.record_request_effects],
        workflow_runner=sandbox_runner(strict_sandbox),
        interceptors=[DoorsInterceptor()],
        max_cached_workflows=MAX_CACHED_WORKFLOWS,
        max_concurrent_workflow_tasks=MAX_CONCURRENT_WORKFLOW_TASKS,
        max_concurrent_local_activities=MAX_CONCURRENT_LOCAL_ACTIVITIES,
        sticky_queue_schedule_to_start_timeout=STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT,
    )


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or forever), then shut down gracefully."""
    client = await connect(settings, runtime=worker_runtime(settings))
    async with running_worker(client, settings):
        await (stop.wait() if stop else asyncio.Future())


@asynccontextmanager
async def running_worker(client: Client, settings: Settings) -> AsyncIterator[None]:
    """The worker and outbox redelivery, on the read model of `settings`, for as long as
    the block runs (`casework worker`, and `casework dev` beside the API)."""
    engine = engine_for(settings)
    sessions = make_session_factory(engine)
    deliverer = deliverer_for(settings)
    worker = build_worker(client, settings.temporal_task_queue, sessions,
                          deliverer=deliverer,
                          review_reminder_lead_days=settings.review_reminder_lead_days)
    try:
        async with worker, redelivering(sessions, deliverer or LogDeliverer(),
                                        settings.notification_retry_seconds), serving_health(
                settings.worker_health_bind_address, client, engine,
                settings.temporal_namespace, worker):
            yield
    finally:
        await engine.dispose()


@asynccontextmanager
async def redelivering(sessions: async_sessionmaker[AsyncSession], deliverer: Deliverer,
                       interval_seconds: float) -> AsyncIterator[None]:
    """Retry undelivered outbox notices in the background while the worker runs (the
    activity that records them tries each only once, so as not to hold a case)."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_redelivery(sessions, deliverer, interval_seconds, stop))
    try:
        yield
    finally:
        stop.set()
        await task


def deliverer_for(settings: Settings) -> Deliverer | None:
    """Outbox delivery (issue 15): e-mail when an SMTP relay is configured, else a
    (signed) webhook when one is, else the log (the embedded default, None)."""
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpDeliverer(SmtpSettings(
            host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
            username=settings.smtp_username, password=password,
            starttls=settings.smtp_starttls,
            ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None),
            settings.notification_addresses)
    if settings.notification_webhook_url:
        secret = settings.notification_webhook_secret
        return WebhookDeliverer(settings.notification_webhook_url,
                                secret=secret.get_secret_value().encode() if secret else None)
    return None


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_format)  # issue 15: JSON lines by default
    asyncio.run(run_worker(settings))


if __name__ == "__main__":
    main()
