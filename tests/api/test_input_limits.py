"""Issue 9: input that must get a clear 4xx (problem+json naming the field) and change
nothing -- no workflow started, no row written. Each test is named after the input that
was reproduced against `casework dev`. Dates are fixed day offsets from today (valid on
any day), or fixed out-of-range values."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.service import RPCError, RPCStatusCode

from models import limits
from models.tables import CalendarClosureRow, CaseRow
from tests.api.conftest import (
    ApiClient,
    active_case,
    assert_problem,
    endorsement,
    new_case_id,
    registration,
    today,
)
from workflows.case_contract import workflow_id_for


def every_80_days(start: date, count: int) -> list[str]:
    """Due dates 80 days apart (under three months on any day: no month arithmetic)."""
    return [(start + timedelta(days=80 * (i + 1))).isoformat() for i in range(count)]


async def assert_nothing_started(api: httpx.AsyncClient,
                                 sessions: async_sessionmaker[AsyncSession],
                                 case_id: str) -> None:
    """No workflow for the case and no read-model row: the refusal changed nothing."""
    assert isinstance(api, ApiClient) and api.temporal is not None
    with pytest.raises(RPCError) as caught:
        await api.temporal.get_workflow_handle(workflow_id_for(case_id)).describe()
    assert caught.value.status == RPCStatusCode.NOT_FOUND
    async with sessions() as session:
        assert await session.get(CaseRow, case_id) is None


async def refused_registration(api: httpx.AsyncClient,
                               sessions: async_sessionmaker[AsyncSession],
                               field: str, rule: str | None = None,
                               **overrides: Any) -> dict[str, Any]:
    case_id = new_case_id("limits")
    response = await api.post("/cases", json=registration(case_id, **overrides))
    problem = assert_problem(response, 422, field=field, rule=rule)
    await assert_nothing_started(api, sessions, case_id)
    return problem


# ------------------------------------------------------------- registration
async def test_order_expiry_9999_is_refused_and_starts_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    problem = await refused_registration(api, sessions, "order_expiry",
                                         order_expiry="9999-12-31")
    assert "2099-12-31" in problem["detail"]


async def test_interval_schedule_reaching_year_10000_is_refused_and_starts_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    await refused_registration(api, sessions, "contract_end",
                               schedule={"interval_months": 3},
                               contract_end="9999-12-31", order_expiry="9999-12-31")


async def test_1400_daily_due_dates_are_refused_and_start_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    start = today()
    daily = [(start + timedelta(days=i + 1)).isoformat() for i in range(1400)]
    await refused_registration(api, sessions, "schedule.due_dates",
                               schedule={"due_dates": daily}, contract_end=daily[-1],
                               order_expiry=daily[-1])


async def test_70000_extra_closures_are_refused_and_start_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    closures = [(today() + timedelta(days=1 + i % 300)).isoformat() for i in range(70_000)]
    await refused_registration(api, sessions, "extra_closures", extra_closures=closures)


async def test_contract_longer_than_max_contract_years_is_refused_and_starts_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    due = every_80_days(today(), 366 * limits.MAX_CONTRACT_YEARS // 80 + 2)
    assert len(due) <= limits.MAX_PERIODS_PER_CONTRACT  # refused for its length alone
    assert (date.fromisoformat(due[-1]) - today()).days > 366 * limits.MAX_CONTRACT_YEARS
    await refused_registration(api, sessions, "contract_end", rule="input",
                               schedule={"due_dates": due}, contract_end=due[-1],
                               order_expiry=due[-1])


@pytest.mark.parametrize("zone", ["America", "Etc", "a" * 300, "posixrules", "Factory"])
async def test_time_zone_that_is_not_an_iana_zone_is_refused_and_starts_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], zone: str) -> None:
    await refused_registration(api, sessions, "time_zone", time_zone=zone)


@pytest.mark.parametrize("day", ["0001-01-01", "1900-01-01"])
async def test_contract_dated_year_1_or_1900_is_refused_and_starts_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], day: str) -> None:
    await refused_registration(api, sessions, "contract_start", contract_start=day)


async def test_contract_already_ended_is_refused_and_starts_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    start = today() - timedelta(days=200)
    due = every_80_days(start, 2)  # start + 80, start + 160 = 40 days ago
    await refused_registration(api, sessions, "contract_end", rule="E1",
                               contract_start=start.isoformat(), schedule={"due_dates": due},
                               contract_end=due[-1],
                               order_expiry=(today() + timedelta(days=30)).isoformat())


async def test_contact_frequency_days_true_is_refused_and_starts_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    await refused_registration(api, sessions, "contact_frequency_days",
                               contact_frequency_days=True)


@pytest.mark.parametrize("field", ["case_id", "agency_id"])
async def test_registration_id_as_free_text_is_refused(
        api: httpx.AsyncClient, field: str) -> None:
    body = registration(new_case_id("limits"))
    body[field] = "Jane Citizen's case"
    assert_problem(await api.post("/cases", json=body), 422, field=field)


# -------------------------------------------------- messages on a running case
async def test_best_interests_decision_id_sentence_is_refused_and_endorses_nothing(
        api: httpx.AsyncClient) -> None:
    case_id = new_case_id("limits")
    assert (await api.post("/cases", json=registration(case_id))).status_code == 201
    body = endorsement()
    body["signatories"][2] = {"role": "parent_guardian", "person_id": "parent-1",
                              "declined": True}
    body["best_interests_decision_id"] = "Mother declined; we decided it is in his interest."
    response = await api.post(f"/cases/{case_id}/endorsement", json=body)
    assert_problem(response, 422, field="best_interests_decision_id")
    case = (await api.get(f"/cases/{case_id}")).json()
    assert case["status"] == "awaiting_endorsement"


async def test_r7_event_dated_1900_is_refused_and_records_nothing(
        api: httpx.AsyncClient) -> None:
    case_id = await active_case(api, "limits")
    event = {"event_id": "evt-1900", "kind": "complaint_from_child_or_family",
             "occurred_on": "1900-01-01"}
    response = await api.post(f"/cases/{case_id}/events", json=event)
    assert_problem(response, 422, field="occurred_on")
    # The id is still free: the refused event was never recorded.
    event["occurred_on"] = today().isoformat()
    accepted = await api.post(f"/cases/{case_id}/events", json=event)
    assert accepted.status_code in (200, 201), accepted.text
    assert accepted.json().get("duplicate") is False


async def test_closure_day_0_is_refused_and_declares_nothing(
        api: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    response = await api.post("/calendar/closures",
                              json={"jurisdiction": "AU-VIC", "day": 0, "name": "Epoch"})
    assert_problem(response, 422, field="day")
    async with sessions() as session:
        assert await session.get(CalendarClosureRow, ("AU-VIC", date(1970, 1, 1))) is None


# ------------------------------------------------------------- list parameters
async def test_min_consecutive_failures_9223372036854775808_is_refused(
        api: httpx.AsyncClient) -> None:
    response = await api.get("/cases",
                             params={"min_consecutive_failures": "9223372036854775808"})
    assert_problem(response, 422, field="min_consecutive_failures")


async def test_deadline_before_9999_12_31_at_minus_2359_is_refused(
        api: httpx.AsyncClient) -> None:
    response = await api.get("/cases", params={"deadline_before": "9999-12-31T23:59:59-23:59"})
    assert_problem(response, 422, field="deadline_before")


async def test_due_before_0001_01_01_at_plus_2359_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.get("/tasks", params={"due_before": "0001-01-01T00:00:00+23:59"})
    assert_problem(response, 422, field="due_before")


def _b64(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


GARBAGE_CURSORS = {
    "5000 nested brackets": _b64("[" * 5000 + "]" * 5000),
    "nested brackets within the length limit": _b64("[" * 300 + "]" * 300),
    "an object": _b64(json.dumps({"sort": None, "key": "x"})),
    "a number as sort": _b64(json.dumps([1, "case-1"])),
    "three items": _b64(json.dumps([None, "a", "b"])),
    "an instant out of range in UTC": _b64(json.dumps(["9999-12-31T23:59:59-23:59", "k"])),
    "a NUL in the key": _b64(json.dumps([None, "a\u0000b"])),
    "not UTF-8": base64.urlsafe_b64encode(b"\xff\xfe[").decode(),
    "not base64": "!!!",
    "far too long": "A" * 20_000,
}


@pytest.mark.parametrize("path", ["/cases", "/tasks", "/notifications", "timeline", "notes"])
async def test_cursor_of_garbage_is_refused_naming_cursor_on_every_list(
        api: httpx.AsyncClient, path: str) -> None:
    if not path.startswith("/"):
        case_id = await active_case(api, "limits")
        path = f"/cases/{case_id}/{path}"
    for what, cursor in GARBAGE_CURSORS.items():
        response = await api.get(path, params={"cursor": cursor})
        assert response.status_code == 422, (what, response.text)
        assert_problem(response, 422, field="cursor")


@pytest.mark.parametrize(("path", "field"), [("/cases", "agency_id"), ("/tasks", "case_id"),
                                             ("/tasks", "agency_id"),
                                             ("/notifications", "case_id")])
async def test_nul_in_a_list_id_filter_is_refused_not_database_unreachable(
        api: httpx.AsyncClient, path: str, field: str) -> None:
    """PostgreSQL refuses a NUL in text: it used to answer 503 "database unreachable"."""
    response = await api.get(path, params={field: "agency\u0000x"})
    assert_problem(response, 422, field=field)


@pytest.mark.parametrize("suffix", ["", "/timeline", "/notes"])
async def test_nul_in_a_case_id_path_is_an_unknown_case(api: httpx.AsyncClient,
                                                        suffix: str) -> None:
    assert_problem(await api.get(f"/cases/case%00x{suffix}"), 404)


async def test_nul_in_a_task_id_is_refused(api: httpx.AsyncClient) -> None:
    response = await api.post("/tasks/task%00x/complete", json={})
    assert response.status_code in (404, 422), response.text
    assert_problem(response, response.status_code, field="task_id")
