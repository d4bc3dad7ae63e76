"""Review outcomes that change the contract (V5, V6, E1) at their edges, on the
time-skipping server: what the agency already sent or was told survives a new schedule,
an end date moved by less than a reporting interval still moves the end, and outcomes
that cannot apply are refused with the field and rule instead of failing."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import RequestReview, ReviewOutcome, SubmitReport
from tests.workflows.conftest import (
    MELBOURNE,
    Case,
    add_months,
    begin_on,
    local_today,
    make_terms,
    notifications,
    sleep_until,
    start_case,
)
from workflows.case_contract import CaseContractWorkflow
from workflows.errors import CONFLICT, INVALID


async def _open_review(case: Case, review_id: str) -> None:
    await case.handle.execute_update(
        CaseContractWorkflow.request_review,
        RequestReview(review_id=review_id, kind="case_plan", requested_by_role="practitioner"))


async def _refused(case: Case, outcome: ReviewOutcome) -> dict[str, object]:
    """The refusal's kind, field and rule, as the API maps them."""
    try:
        await case.handle.execute_update(CaseContractWorkflow.record_review_outcome, outcome)
    except WorkflowUpdateFailedError as exc:
        assert isinstance(exc.cause, ApplicationError), exc.cause
        details = exc.cause.details[0] if exc.cause.details else {}
        assert isinstance(details, dict)
        return {"type": exc.cause.type, "field": details.get("field"),
                "rule": details.get("rule")}
    raise AssertionError("the outcome should have been refused")


async def test_v5_renewal_keeps_a_report_received_before_its_due_date(
    env: WorkflowEnvironment, worker: Worker, sessions: async_sessionmaker[AsyncSession],
    unique_id: str,
) -> None:
    """The agency reported early; a renewal then adds periods. The report stays with its
    period, which is not chased as overdue (R2) and succeeds once assessed (R5)."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2, order_expiry=add_months(start, 24))
    case = await start_case(env.client, worker, terms, endorse_on=start)
    first = (await case.status()).state.periods[0]
    await sleep_until(env, first.follow_up_at - timedelta(days=3))
    await case.handle.execute_update(CaseContractWorkflow.submit_report,
                                     SubmitReport(report_id="early", period_index=0))
    await _open_review(case, "renew")
    renewed_end = add_months(terms.contract_end, 6)
    recorded = await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="renew", new_contract_end=renewed_end))
    assert "contract_end" in recorded.changed and "schedule" in recorded.changed

    await sleep_until(env, first.overdue_at + timedelta(days=1))
    periods = (await case.status()).state.periods
    assert [p.due_date for p in periods] == [
        *terms.schedule.due_dates, add_months(terms.contract_end, 3), renewed_end]
    assert [r.report_id for r in periods[0].reports] == ["early"]
    assert periods[0].overdue_marked_at is None
    notices = [(n.kind, n.notification_key.removeprefix(f"{terms.case_id}:"))
               for n in await notifications(sessions, terms.case_id)]
    assert ("overdue_request", "period-0:overdue") not in notices
    assert ("follow_up", "period-0:follow_up") not in notices  # R1: the report was in


async def test_e1_an_end_date_moved_by_less_than_an_interval_moves_the_end(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """Twenty more days add no due date, but the contract now ends twenty days later."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2, order_expiry=add_months(start, 24))
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await _open_review(case, "extend")
    new_end = terms.contract_end + timedelta(days=20)
    recorded = await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="extend", new_contract_end=new_end))
    assert recorded.changed == ["contract_end"]

    old_end_passed = datetime.combine(terms.contract_end + timedelta(days=2), time(12),
                                      MELBOURNE)
    await sleep_until(env, old_end_passed)
    status = await case.status()
    assert status.state.status == "active"
    assert status.state.periods[-1].ends_at == datetime.combine(
        new_end + timedelta(days=1), time(0), MELBOURNE)

    await sleep_until(env, datetime.combine(new_end + timedelta(days=1), time(12), MELBOURNE))
    state = (await case.status()).state
    assert (state.status, state.end_reason) == ("closing", "contract_end")
    assert state.ended_at == datetime.combine(new_end + timedelta(days=1), time(0), MELBOURNE)


async def test_v5_a_followed_up_period_keeps_its_date(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """After the R1 follow-up told the agency the due date, a review cannot move it: new
    dates must come after it (and the refusal names the request's field)."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=3)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    first = (await case.status()).state.periods[0]
    await sleep_until(env, first.follow_up_at + timedelta(hours=1))
    await _open_review(case, "move")
    earlier = first.due_date - timedelta(days=7)
    assert await _refused(case, ReviewOutcome(
        review_id="move", new_due_dates=[earlier, terms.contract_end])) == {
        "type": INVALID, "field": "new_due_dates[0]", "rule": "V5"}
    later = [add_months(first.due_date, 2), add_months(first.due_date, 4), terms.contract_end]
    await case.handle.execute_update(CaseContractWorkflow.record_review_outcome,
                                     ReviewOutcome(review_id="move", new_due_dates=later))
    await env.sleep(timedelta(minutes=1))
    periods = (await case.status()).state.periods
    assert [p.due_date for p in periods] == [first.due_date, *later]
    assert periods[0].follow_up_sent_at is not None


async def test_outcomes_that_cannot_apply_are_refused_by_field_and_rule(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await _open_review(case, "rv")
    first_due = terms.schedule.due_dates[0]
    # C5: ending before any report falls due would leave no schedule.
    assert await _refused(case, ReviewOutcome(
        review_id="rv", new_contract_end=first_due - timedelta(days=1))) == {
        "type": INVALID, "field": "new_contract_end", "rule": "C5"}
    # V5: a new schedule lies ahead; a due date already past would be overdue at once.
    passed = local_today(await env.get_current_time()) - timedelta(days=2)
    assert await _refused(case, ReviewOutcome(
        review_id="rv", new_due_dates=[passed, terms.contract_end])) == {
        "type": INVALID, "field": "new_due_dates[0]", "rule": "V5"}
    # The refusal names the date's place in the request, not in the sorted schedule:
    # the date five months after the first (C5 allows three) is the request's first.
    too_far = add_months(first_due, 5)
    assert await _refused(case, ReviewOutcome(
        review_id="rv", new_due_dates=[too_far, add_months(start, 1)])) == {
        "type": INVALID, "field": "new_due_dates[0]", "rule": "C5"}
    # A repeated date is refused at its later copy.
    one, two = add_months(start, 1), add_months(start, 2)
    refused = await _refused(case, ReviewOutcome(
        review_id="rv", new_due_dates=[one, two, one, terms.contract_end]))
    assert refused["field"] == "new_due_dates[2]"
    # E1: a contract is not ended retroactively.
    assert await _refused(case, ReviewOutcome(
        review_id="rv", new_contract_end=passed)) == {
        "type": INVALID, "field": "new_contract_end", "rule": "E1"}
    # E1: returning to CP ends the contract; it cannot also renew it.
    assert await _refused(case, ReviewOutcome(
        review_id="rv", return_to_cp=True, new_contract_end=add_months(start, 12))) == {
        "type": INVALID, "field": "return_to_cp", "rule": "E1"}
    # V6: only a draft can be endorsed, and a used version is not a new draft.
    assert await _refused(case, ReviewOutcome(
        review_id="rv", draft_plan_version="v2", endorse_plan_version="v-typo")) == {
        "type": INVALID, "field": "endorse_plan_version", "rule": "V6"}
    await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="rv", draft_plan_version="v2", endorse_plan_version="v2"))
    await _open_review(case, "rv-2")
    await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="rv-2", draft_plan_version="v3", endorse_plan_version="v3"))
    await _open_review(case, "rv-3")
    assert await _refused(case, ReviewOutcome(review_id="rv-3", draft_plan_version="v2")) == {
        "type": INVALID, "field": "draft_plan_version", "rule": "V6"}
    assert await _refused(case, ReviewOutcome(review_id="rv-3", endorse_plan_version="v2")) == {
        "type": INVALID, "field": "endorse_plan_version", "rule": "V6"}

    # E1: once the contract has ended, a review can no longer renew or reschedule it.
    await sleep_until(env, datetime.combine(terms.contract_end + timedelta(days=1), time(12),
                                            MELBOURNE))
    assert (await case.status()).state.status == "closing"
    assert await _refused(case, ReviewOutcome(
        review_id="rv-3", new_contract_end=add_months(terms.contract_end, 6))) == {
        "type": CONFLICT, "field": "status", "rule": "E1"}
    state = (await case.status()).state
    assert [(v.version, v.status) for v in state.plan_versions] == [
        ("v2", "superseded"), ("v3", "endorsed")]


async def test_holding_a_review_closes_its_own_tasks_only(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """Review `r1` stays open with its task when `r10` is held (ids share a prefix)."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=2)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    await case.handle.execute_update(
        CaseContractWorkflow.record_review_outcome,
        ReviewOutcome(review_id="plan-review-scheduled"))
    await _open_review(case, "r1")
    await _open_review(case, "r10")
    await case.handle.execute_update(CaseContractWorkflow.record_review_outcome,
                                     ReviewOutcome(review_id="r10"))
    tasks = {t.task_id: t.status for t in (await case.status()).state.tasks
             if ":review-r1" in t.task_id}
    assert tasks == {f"{terms.case_id}:review-r1": "open",
                     f"{terms.case_id}:review-r10": "completed"}
