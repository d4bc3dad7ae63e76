"""Issue 6: every write through the API is in the access log -- who, which roles, what,
which case, when, and the outcome -- refused and failed ones included; reads are not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from casework.config import Settings
from casework.processes import free_port
from casework.tokens import Role
from models.tables import AccessLogRow
from tests.api.conftest import (
    ApiClient,
    active_case,
    new_case_id,
    registration,
    running_app,
    wait_idle,
)

AGENCY = f"agency-log-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
async def logged_case(api: ApiClient) -> str:
    return await active_case(api, "log", agency_id=AGENCY)


async def _rows(sessions: async_sessionmaker[AsyncSession], **where: object
                ) -> list[AccessLogRow]:
    async with sessions() as session:
        statement = select(AccessLogRow).filter_by(**where).order_by(AccessLogRow.id)
        return list((await session.scalars(statement)).all())


def _subject() -> str:
    return f"log-{uuid.uuid4().hex[:10]}"


async def test_an_allowed_write_is_logged_with_who_what_and_which_case(
        api: ApiClient, logged_case: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    subject = _subject()
    client = api.as_role(Role.AGENCY, agency=AGENCY, subject=subject)
    before = datetime.now(UTC) - timedelta(seconds=1)
    response = await client.post(f"/cases/{logged_case}/reports",
                                 json={"report_id": f"rep-{subject}"})
    assert response.status_code == 201, response.text

    [row] = await _rows(sessions, subject=subject)
    assert (row.roles, row.agency_id, row.method, row.path, row.action, row.case_id) == (
        "agency", AGENCY, "POST", f"/cases/{logged_case}/reports", "submit_report",
        logged_case)
    assert (row.status_code, row.outcome) == (201, "allowed")
    assert before <= row.at.replace(tzinfo=row.at.tzinfo or UTC) <= datetime.now(UTC)


async def test_reads_are_not_logged(api: ApiClient, logged_case: str,
                                    sessions: async_sessionmaker[AsyncSession]) -> None:
    subject = _subject()
    client = api.as_role(Role.OPERATIONS, subject=subject)
    assert (await client.get(f"/cases/{logged_case}")).status_code == 200
    assert (await client.get("/cases")).status_code == 200
    assert await _rows(sessions, subject=subject) == []


async def test_refused_writes_are_logged_with_their_status(
        api: ApiClient, logged_case: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    subject = _subject()
    # 403: an agency may not assess its own report (R4 is the practitioner's).
    agency = api.as_role(Role.AGENCY, agency=AGENCY, subject=subject)
    forbidden = await agency.post(f"/cases/{logged_case}/reports/r/assessment",
                                  json={"assessment": "adequate"})
    # 404: another agency's case (C7), recorded with the case that was tried.
    outsider = api.as_role(Role.AGENCY, agency="agency-elsewhere", subject=subject)
    hidden = await outsider.post(f"/cases/{logged_case}/contacts", json={})
    probe = await outsider.post(f"/cases/{logged_case}/reports", json={"report_id": "x"})
    # 422: a malformed body.
    invalid = await agency.post(f"/cases/{logged_case}/contacts", json={"kind": 7})
    # 409: the same case id registered with other terms.
    practitioner = api.as_role(Role.PRACTITIONER, subject=subject)
    conflict = await practitioner.post("/cases", json=registration(logged_case, "agency-x"))
    assert [r.status_code for r in (forbidden, hidden, probe, invalid, conflict)] == [
        403, 422, 404, 422, 409]

    rows = await _rows(sessions, subject=subject)
    assert [(r.status_code, r.outcome, r.action, r.case_id) for r in rows] == [
        (403, "refused", "assess_report", logged_case),
        (422, "refused", "record_contact", logged_case),
        (404, "refused", "submit_report", logged_case),
        (422, "refused", "record_contact", logged_case),
        (409, "refused", "register_case", None),
    ]
    assert [r.agency_id for r in rows[1:3]] == ["agency-elsewhere"] * 2


async def test_anonymous_writes_are_logged_without_a_subject(
        api: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    case_id = new_case_id("anon")
    response = await api.with_token("not-a-jwt").post(f"/cases/{case_id}/events", json={})
    assert response.status_code == 401
    await api.with_token(None).post(f"/cases/{case_id}/events", json={})

    rows = await _rows(sessions, case_id=case_id)
    assert [(r.subject, r.roles, r.status_code, r.outcome, r.path) for r in rows] == [
        (None, None, 401, "refused", f"/cases/{case_id}/events")] * 2


async def test_a_write_that_fails_is_still_logged(
        api_settings: Settings, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Temporal down: the request's own transaction rolls back and it answers 503, but its
    row, written in a transaction of its own, stays."""
    nowhere = api_settings.model_copy(update={"temporal_address": f"127.0.0.1:{free_port()}"})
    subject = _subject()
    async with running_app(nowhere) as client:
        response = await client.as_role(Role.PRACTITIONER, subject=subject).post(
            "/cases", json=registration(new_case_id("down")))
    assert response.status_code == 503, response.text
    [row] = await _rows(sessions, subject=subject)
    assert (row.status_code, row.outcome, row.action) == (503, "failed", "register_case")


async def test_a_task_completion_is_logged_against_the_tasks_case(
        api: ApiClient, logged_case: str, sessions: async_sessionmaker[AsyncSession]) -> None:
    report_id = f"rep-{uuid.uuid4().hex[:8]}"
    submitted = await api.post(f"/cases/{logged_case}/reports", json={"report_id": report_id})
    assert submitted.status_code == 201, submitted.text
    await wait_idle(api, logged_case)
    subject = _subject()
    practitioner = api.as_role(Role.PRACTITIONER, subject=subject)
    tasks = (await practitioner.get("/tasks", params={"case_id": logged_case,
                                                      "status": "open"})).json()["items"]
    [task_id] = [t["task_id"] for t in tasks if report_id in t["task_id"]]
    completed = await practitioner.post(f"/tasks/{task_id}/complete", json={})
    assert completed.status_code == 200, completed.text
    [row] = await _rows(sessions, subject=subject)
    assert (row.path, row.action, row.case_id, row.status_code) == (
        f"/tasks/{task_id}/complete", "complete_task", logged_case, 200)


async def test_an_overlong_agency_id_is_still_logged(
        api: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    """A token's claims are not ours to size: the row keeps what fits (on PostgreSQL an
    untruncated value failed the insert, and the write went unlogged)."""
    subject = _subject()
    long_agency = "a" * 100
    client = api.as_role(Role.AGENCY, agency=long_agency, subject=subject)
    refused = await client.post(f"/cases/{new_case_id()}/contacts", json={})
    assert refused.status_code in (404, 422)
    [row] = await _rows(sessions, subject=subject)
    assert row.agency_id == long_agency[:64]
