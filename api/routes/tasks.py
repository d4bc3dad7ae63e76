"""The practitioners' and team managers' task list, opened by the case workflows."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from api.accepted import PendingWrite, accepted_write
from api.actors import actor_id
from api.case_gateway import GatewayDep
from api.deps import SessionDep
from api.errors import NotFound
from api.listing import task_list
from api.openapi import problems, write_pending
from api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, keyset_page
from api.permissions import Action, Caller, permitted
from api.schemas import CompleteTaskIn, TaskCompletedView, TaskView
from api.schemas.common import Id, ItemId, QueryInstant
from api.schemas.views import TaskPage
from api.scoping import on_visible_cases, reachable
from models.messages import CompleteTask, TaskCompleted
from models.tables import TaskRow
from workflows.case_contract import CaseContractWorkflow
from workflows.engine_messages import task_key

router = APIRouter(tags=["tasks"])


@router.get("/tasks", response_model=TaskPage, summary="List tasks",
            responses=problems())
async def list_tasks(
    caller: Annotated[Caller, Depends(permitted(Action.LIST_TASKS))],
    session: SessionDep,
    case_id: Id | None = None,
    agency_id: Id | None = None,
    status: Annotated[Literal["open", "closed"] | None, Query(
        description="open, or closed (completed or carried over)")] = None,
    due_before: Annotated[QueryInstant | None, Query(description="Due before this instant.")
                          ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")
                      ] = None,
) -> TaskPage:
    """Soonest due first (tasks without a due date last), then by task id. An agency
    sees only tasks assigned to it, on its own contracts in force (C7); the tasks the
    workflow opens today are all CP's (practitioner, team manager)."""
    statement = on_visible_cases(task_list(case_id, agency_id, status, due_before),
                                 TaskRow.case_id, TaskRow.agency_id, caller,
                                 addressee=TaskRow.assignee_role)
    rows, next_cursor = await keyset_page(
        session, statement, TaskRow.due_at,
        TaskRow.task_id, decode_cursor(cursor), limit, nullable=True)
    return TaskPage(items=[TaskView.model_validate(r) for r in rows],
                          next_cursor=next_cursor)


@router.post("/tasks/{task_id}/complete", response_model=TaskCompletedView,
             summary="Complete a task",
             responses={**write_pending(), **problems(404, 409)})
async def complete_task(
    caller: Annotated[Caller, Depends(permitted(Action.COMPLETE_TASK))],
    task_id: ItemId, session: SessionDep, gateway: GatewayDep,
    body: CompleteTaskIn | None = None,
) -> TaskCompletedView | JSONResponse:
    """The task's case is found in the read model; its workflow records the completion.
    Repeat-safe: completing it again answers with the first result."""
    task = await session.get(TaskRow, task_id)
    if task is None or await reachable(session, caller, task.case_id) is None:
        raise NotFound(f"No task {task_id!r}.", field="task_id")
    caller.note_case(task.case_id)
    completed_by = actor_id(caller, body.completed_by if body else "", "completed_by")
    message = CompleteTask(task_id=task_id, completed_by=completed_by)
    result = await gateway.update(task.case_id, CaseContractWorkflow.complete_task, message,
                                  answer_key=task_key(message), answer_type=TaskCompleted)
    if isinstance(result, PendingWrite):
        return accepted_write(result)
    return TaskCompletedView.model_validate(result)
