"""Issue 13, history per period (patch `lean-periods`): no timer waits for the end of a
period R5 has already decided, the case continues-as-new at its first wake after that
end, and search attributes that change as a run ends go with its continue-as-new."""

from __future__ import annotations

from datetime import timedelta

from temporalio.api.enums.v1 import EventType
from temporalio.common import SearchAttributeKey
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from models.messages import AssessReport, SubmitReport
from tests.polling import eventually
from tests.workflows.conftest import begin_on, make_terms, run_ids, sleep_until, start_case
from workflows.case_contract import CaseContractWorkflow

NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")


async def test_issue13_r5_an_on_time_period_is_one_run_of_at_most_30_events(
    env: WorkflowEnvironment, worker: Worker, unique_id: str,
) -> None:
    """Each period's report (but the first) comes an hour into its period, on its due
    date (on time, R5), and is assessed adequate (R4). Period 1's run: its own start,
    the assessment, the R1 follow-up of period 2 (an upsert: the next deadline is now
    its R2 instant), period 2's report -- the first wake after period 1 ended, so the
    run continues-as-new in that workflow task, and the next deadline that report moves
    goes with it. No timer waited for period 1's end (issue 13: 25 events, 9 actions;
    32 and 11 before)."""
    start = await begin_on(env)
    terms = make_terms(f"c-{unique_id}", start, periods=4, contact_frequency_days=365)
    case = await start_case(env.client, worker, terms, endorse_on=start)
    periods = (await case.status()).state.periods
    update = case.handle.execute_update
    for period in periods[:3]:
        if period.index:  # at the start of each period but the first, as bench/period_kinds
            await sleep_until(env, periods[period.index - 1].ends_at + timedelta(hours=1))
        else:
            await sleep_until(env, period.follow_up_at + timedelta(hours=1))
        await update(CaseContractWorkflow.submit_report,
                     SubmitReport(f"r-{period.index}", period.index))
        await update(CaseContractWorkflow.assess_report,
                     AssessReport(f"r-{period.index}", "adequate"))

    async def three_runs() -> list[str]:
        ids = await run_ids(env.client, case.handle.id)
        assert len(ids) >= 3
        return ids

    _, second, third, *_ = await eventually(three_runs)
    history = await env.client.get_workflow_handle(case.handle.id,
                                                   run_id=second).fetch_history()
    events = history.events
    kinds = [event.event_type for event in events]
    names = " ".join(EventType.Name(k)[11:] for k in kinds)
    assert len(events) <= 30, names
    # The run asked no patch (it carries `lean_periods`), and no timer ran to period 1's
    # end: the only timers are to the follow-up of period 2 and to its R2 instant.
    assert not any(e.HasField("marker_recorded_event_attributes")
                   and e.marker_recorded_event_attributes.marker_name == "core_patch"
                   for e in events)
    started = [e for e in events if e.event_type == EventType.EVENT_TYPE_TIMER_STARTED]
    fires_at = [e.event_time.ToDatetime().replace(tzinfo=periods[0].ends_at.tzinfo)
                + e.timer_started_event_attributes.start_to_fire_timeout.ToTimedelta()
                for e in started]
    assert periods[1].ends_at not in [at.replace(microsecond=0) for at in fires_at]
    assert len(started) == 2, names
    # The run ends in the workflow task of period 2's report: update, its recording, and
    # continue-as-new without an upsert before it.
    assert kinds[-4:] == [EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
                          EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
                          EventType.EVENT_TYPE_MARKER_RECORDED,
                          EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW], names
    assert kinds.count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES) == 1, names

    # DESIGN decision 5: the run that continued shows the next deadline the report moved
    # (period 3's follow-up), and every other search attribute the run before it had
    # (what continue-as-new copies by default: `TemporalChangeVersion` is copied by
    # neither way, on the dev server as here).
    status = await case.status()
    assert status.next_deadline == periods[3].follow_up_at

    async def attributes(run_id: str) -> dict[str, object]:
        described = await env.client.get_workflow_handle(case.handle.id,
                                                         run_id=run_id).describe()
        return {p.key.name: p.value for p in described.typed_search_attributes}

    before, after = await attributes(second), await attributes(third)
    assert after[NEXT_DEADLINE.name] == status.next_deadline
    assert {name: value for name, value in after.items() if name != NEXT_DEADLINE.name} == {
        name: value for name, value in before.items() if name != NEXT_DEADLINE.name}
