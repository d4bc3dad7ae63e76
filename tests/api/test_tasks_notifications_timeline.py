"""Tasks, the outbox, the timeline and calendar closures, end to end."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.api.conftest import (
    active_case,
    assert_problem,
    endorsement,
    eventually,
    new_case_id,
    registration,
    today,
)
from workflows.business_calendar import BusinessCalendar, CalendarSpec


async def _pages(api: httpx.AsyncClient, path: str, **params: object) -> list[dict[str, object]]:
    """Every item of a paginated list, following the cursors."""
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        response = await api.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_tasks_are_listed_filtered_and_completed_once(api: httpx.AsyncClient) -> None:
    agency = f"agency-{new_case_id('tasks')}"
    case_id = await active_case(api, "tasks", agency)
    await api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-1"})

    async def two_open_tasks() -> list[dict[str, object]]:
        tasks = await _pages(api, "/tasks", agency_id=agency, status="open", limit=1)
        assert len(tasks) == 2, tasks
        return tasks

    tasks = await eventually(two_open_tasks)
    assert {t["kind"] for t in tasks} == {"assess_report", "case_plan_review"}
    assert tasks[-1]["due_at"] is None, "tasks without a due date come last"
    review_task = tasks[0]
    soon = today() + timedelta(days=1)
    assert await _pages(api, "/tasks", case_id=case_id, due_before=f"{soon}T00:00:00Z") == []

    path = f"/tasks/{review_task['task_id']}/complete"
    done = await api.post(path, json={"completed_by": "cp-1"})
    assert done.status_code == 200, done.text
    assert done.json() == {"task_id": review_task["task_id"], "status": "completed",
                           "duplicate": False}
    assert (await api.post(path)).json()["duplicate"] is True

    async def one_closed() -> None:
        closed = await _pages(api, "/tasks", case_id=case_id, status="closed")
        assert [t["task_id"] for t in closed] == [review_task["task_id"]]
        assert closed[0]["completed_by"] == "cp-1"

    await eventually(one_closed)
    assert_problem(await api.post("/tasks/no-such-task/complete"), 404, field="task_id")
    assert_problem(await api.get("/tasks", params={"status": "maybe"}), 422, field="status")


async def test_the_outbox_lists_c6_notices_by_case_and_delivery(
        api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)

    async def delivered() -> list[dict[str, object]]:
        notices = await _pages(api, "/notifications", case_id=case_id, delivered="true",
                               limit=2)
        assert {n["kind"] for n in notices} == {"contract_copy", "reporting_schedule"}, notices
        return notices

    notices = await eventually(delivered)
    assert {n["rule"] for n in notices} == {"C6"}
    assert len({n["notification_key"] for n in notices}) == len(notices) == 3
    assert await _pages(api, "/notifications", case_id=case_id, delivered="false") == []


async def test_the_timeline_pages_oldest_first(api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    await api.post(f"/cases/{case_id}/reports", json={"report_id": "rep-1"})

    async def story() -> list[dict[str, object]]:
        events = await _pages(api, f"/cases/{case_id}/timeline", limit=2)
        # Both recorded: the first run's record may still be retrying when the report's
        # is written; the timeline orders by when each happened, not when it was stored.
        assert {"contract_registered", "report_received"} <= {e["kind"] for e in events}, \
            events
        return events

    events = await eventually(story)
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "contract_registered"
    assert kinds.index("contract_endorsed") < kinds.index("report_received")
    assert [e["occurred_at"] for e in events] == sorted(e["occurred_at"] for e in events)
    assert len({e["event_key"] for e in events}) == len(events)


async def test_a_closure_day_is_declared_once_and_reaches_running_cases(
        api: httpx.AsyncClient) -> None:
    case_id = await active_case(api)
    day = (today() + timedelta(days=40)).isoformat()
    body = {"jurisdiction": "AU-VIC", "day": day, "name": "Test closure"}
    first = await api.post("/calendar/closures", json=body)
    assert first.status_code == 201, first.text
    assert first.json()["signalled_cases"] >= 1
    again = await api.post("/calendar/closures", json=body)
    assert again.status_code == 200 and again.json()["duplicate"] is True
    renamed = {**body, "name": "Another name"}
    assert_problem(await api.post("/calendar/closures", json=renamed), 409, field="name")
    nowhere = {**body, "jurisdiction": "XX-YY"}
    assert_problem(await api.post("/calendar/closures", json=nowhere), 422,
                   field="jurisdiction")

    async def recomputed() -> None:
        events = await _pages(api, f"/cases/{case_id}/timeline", limit=200)
        changes = [e for e in events if e["kind"] == "deadlines_recomputed"]
        assert len(changes) == 1, events

    await eventually(recomputed)


async def test_a_national_closure_reaches_the_states_cases(api: httpx.AsyncClient) -> None:
    """A closure declared for "AU" (say a national day of mourning) closes Victoria too:
    a running AU-VIC case moves its follow-up, and a case registered afterwards counts it
    from the start. The first report is due on a day no other test uses."""
    first_due = today() + timedelta(days=50)
    due = [first_due + timedelta(days=80 * i) for i in range(3)]
    schedule = {"due_dates": [d.isoformat() for d in due]}
    closure = BusinessCalendar(CalendarSpec()).shift_business_days(first_due, -3)

    async def registered(case_id: str) -> None:
        body = registration(case_id, schedule=schedule, contract_end=due[-1].isoformat())
        created = await api.post("/cases", json=body)
        assert created.status_code == 201, created.text

    running = new_case_id("national")
    await registered(running)
    endorsed = await api.post(f"/cases/{running}/endorsement", json=endorsement())
    assert endorsed.status_code == 200, endorsed.text
    before = (await api.get(f"/cases/{running}")).json()["periods"][0]
    assert closure.isoformat() not in str(before["basis"]["follow_up"])

    declared = await api.post("/calendar/closures", json={
        "jurisdiction": "AU", "day": closure.isoformat(), "name": "National closure"})
    assert declared.status_code == 201, declared.text
    assert declared.json()["signalled_cases"] >= 1
    later = new_case_id("national")
    await registered(later)

    async def counted() -> None:
        for case_id in (running, later):
            periods = (await api.get(f"/cases/{case_id}")).json()["periods"]
            assert periods, f"{case_id}: schedule not computed yet"  # a busy worker
            period = periods[0]
            assert closure.isoformat() in str(period["basis"]["follow_up"]), period
            assert period["follow_up_at"] < before["follow_up_at"]  # one more day skipped

    await eventually(counted)
