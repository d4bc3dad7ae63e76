"""The case contract workflow: one per contracted case, id `case-contract-<case_id>`.

It owns the case's deadlines for years (DESIGN "Shape"): it computes each period's
instants through an activity, sleeps until each, and records what it decided through
one idempotent activity. Rules live in plain modules (`engine`, `engine_messages`,
`engine_closure`, `policy`); this class wires them to Temporal: timers, handlers,
search attributes and continue-as-new.

Message names (signal and update share a name; see README "Talking to a case"):
updates `endorse`, `submit_report`, `assess_report`, `raise_event`,
`record_audit_findings`, `close_audit`, `complete_task`, `request_review`,
`record_review_outcome`, `record_contact`, `close_case`; the same names (but
`close_case`) as signals (no answer; a refused signal is logged and recorded on the
timeline); signal `calendar_changed`; query `status`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.common import (
    RawValue,
    RetryPolicy,
    SearchAttributeKey,
    SearchAttributePair,
    SearchAttributeUpdate,
    TypedSearchAttributes,
)
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from models.district import RequestEffects
    from models.effects import CaseEffects, ContactSummary, ReadContacts
    from models.envelope import installed_keys, payload_digest
    from models.errors import PolicyViolation
    from models.messages import (
        AssessmentRecorded,
        AssessReport,
        AuditChanged,
        CalendarChanged,
        CaseClosed,
        CloseAudit,
        CloseCase,
        CompleteTask,
        ContactRecorded,
        EndorseContract,
        EndorsementRecorded,
        EventRecorded,
        RaiseEvent,
        RecordAuditFindings,
        RecordContact,
        ReportAccepted,
        RequestReview,
        ReviewOutcome,
        ReviewOutcomeRecorded,
        ReviewRequested,
        SubmitReport,
        TaskCompleted,
    )
    from models.payloads import RefusedPayload, read_at_the_door
    from models.schedule import CaseListing, ScheduledPeriod, ScheduleRequest, ScheduleResult
    from models.terms import ContractTerms, Phase, ReportingSchedule
    from workflows import doors, policy, unrecorded_refusals
    from workflows import effects_builder as rows
    from workflows import engine_audits as audits
    from workflows import engine_closure as closure
    from workflows import engine_contacts as contacts
    from workflows import engine_messages as messages
    from workflows import engine_reviews as reviews
    from workflows.arrival import SERVICE_LATENCY_BOUND, report_arrival
    from workflows.cancellation import refusing_cancellation
    from workflows.carried_input import check_carried_input
    from workflows.compaction import compact_for_next_run
    from workflows.doors import DOORS_PATCH, MessageRefused
    from workflows.engine import CaseEngine
    from workflows.errors import CaseError
    from workflows.fingerprint import terms_fingerprint
    from workflows.outbox import Pending
    from workflows.prior_outcomes import apply_prior_outcomes
    from workflows.request_runtime import record_refused_start
    from workflows.state import (
        ACTIVE,
        AWAITING_ENDORSEMENT,
        CLOSED,
        CaseState,
        CaseStatus,
        PeriodState,
    )

CASE_ID = SearchAttributeKey.for_keyword("CaseId")
AGENCY_ID = SearchAttributeKey.for_keyword("AgencyId")
CONTRACT_STATUS = SearchAttributeKey.for_keyword("ContractStatus")
NEXT_DEADLINE = SearchAttributeKey.for_datetime("NextDeadline")
CONSECUTIVE_FAILURES = SearchAttributeKey.for_int("ConsecutiveFailures")
EXCEPTION_AUDIT_OPEN = SearchAttributeKey.for_bool("ExceptionAuditOpen")

ACTIVITY_TIMEOUT = timedelta(minutes=2)
RECORD_WHILE_AWAITING_ENDORSEMENT = "record-while-awaiting-endorsement"
"""Patch id: a case that waited for its endorsement under older code replays without
these recordings (DESIGN decision 9: new code still replays running cases)."""
KEEP_TIMER_ACROSS_MESSAGES = "keep-timer-across-messages"
"""Patch id: a message that leaves the next instant where it was keeps the running timer
(issue 10.5) instead of cancelling and restarting it."""
INPUT_LIMITS = "input-limits"
"""Patch id: a new case's terms are held to models/limits.py (issue 9); a case started
under older code replays as it ran, even if its terms break a limit."""
REPORT_RECEIVED_AT = "report-received-at"
"""Patch id (issue 9.3): a report's arrival is the `received_at` its message carries
(bounded, workflows/arrival.py) rather than the processing time. A report handled by
older code -- which ignored the field -- replays with the processing time it used."""
ARRIVAL_SERVICE_LATENCY = "arrival-service-latency"
"""Patch id (issue 9.3): a report's `received_at` may precede the workflow's previous
activation by up to SERVICE_LATENCY_BOUND (workflows/arrival.py): the service stamps it
before the message reaches Temporal. A report handled before it replays with the
previous activation as the earliest arrival."""
R6_UNDECIDED_PERIODS = "r6-undecided-periods"
"""Patch id (issue 9): R6 skips undecided periods instead of stopping at the first one,
and a report left unassessed after its period is a task that escalates (R4). A run
started before it keeps the old count, and its commands, until it continues-as-new."""
LEAN_HISTORY = "lean-history"
"""Patch id (issue 13): a run that takes it records its effects with a local activity --
one marker event in the workflow task that decided them, instead of an activity's three
events and a second workflow task for every message -- and takes every patch above
without asking for each one (each asked patch writes a marker and a search-attribute
upsert in every run). A run continued from one that took it carries `lean_history` in
its input and asks nothing at all. Runs recorded before it replay as they ran."""
REFUSED_START_LOGGED = "refused-start-logged"
"""Patch id (issue 10): a start refused at the door leaves an access-log row before the
run fails (asked only in such a run; older refused starts failed at once)."""
REFUSE_CANCEL = "refuse-temporal-cancel"
"""Patch id (issue 10 review): a cancellation requested through Temporal (`temporal
workflow cancel`, the UI's "Request Cancellation", an SDK) is refused and recorded, and
the case runs on. A run started before it ends CANCELED, as it did, until it
continues-as-new. A run continued from one that took it carries `refuses_cancel` in its
input and does not ask again (issue 13: an asked patch is a marker and a search-attribute
upsert in every run)."""
ENDORSE_AFTER_SCHEDULE = "endorse-after-first-schedule"
"""Patch id (issue 13 review): an endorsement that arrives while the first run is still
computing its schedule -- a signal stored while no worker ran, an update sent the moment
the case was registered -- takes effect once the periods exist, so the case is never
`active` without them (a report sent on seeing it active was refused: "No reporting
period 0", R4). Asked only when that happens, so no other run pays a marker for it;
`workflow.patched` directly, not `_patched`: lean-history runs recorded before it
applied such an endorsement at once."""
LEAN_PERIODS = "lean-periods"
"""Patch id (issue 13, second round). A run that takes it: waits on no timer for the end
of a period already decided (R5) -- the case continues-as-new at its first wake after
that end instead (`CaseEngine._period_end_awaited`) -- and a report that came late before
R2's instant was acted on is no boundary (before, every run of such a case continued-as-
new at once, for ever); passes search attributes that change as the run ends with its
continue-as-new; and reads the contacts recorded in the read model when a K1 check falls
due (`_read_contacts`; the API records them there instead of sending them, unless a gap
is raised). Asked once, in the first activation of a run that was not continued from one
that took it; a continued run carries `lean_periods` in its input and asks nothing. Runs
recorded before it replay as they ran, and keep the old path until they continue-as-new."""
ACTIVITY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(
    minutes=5))
RECORDING_HEARTBEAT_TIMEOUT = timedelta(seconds=5)
"""The recording activity heartbeats every second (activities/read_model.py); when its
worker dies, Temporal retries it elsewhere after this, not after ACTIVITY_TIMEOUT, so a
case is held for seconds, not two minutes (issue 18). An activity option, not a command:
recorded histories replay unchanged."""
Result = TypeVar("Result")


async def record_effects(effects: CaseEffects, summary: str, *, local: bool = False) -> None:
    """Run `record_case_effects` with the options every recording uses: retried without
    end (it is idempotent). As an activity it is heartbeated, so a dead worker costs
    seconds; as a local activity (`local`, issue 13) it runs inside the workflow task,
    so a dead worker costs the workflow task's timeout (10 s) before another replays the
    task and records again."""
    if local:
        await workflow.execute_local_activity(
            "record_case_effects", effects, start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY, summary=summary)
        return
    await workflow.execute_activity(
        "record_case_effects", effects, start_to_close_timeout=ACTIVITY_TIMEOUT,
        heartbeat_timeout=RECORDING_HEARTBEAT_TIMEOUT, retry_policy=ACTIVITY_RETRY,
        summary=summary,
    )


def workflow_id_for(case_id: str) -> str:
    return f"case-contract-{case_id}"


@dataclass
class CaseContractInput:
    terms: ContractTerms
    state: CaseState | None = None
    # Test hook: continue-as-new once history reaches this many events (None: only at
    # period boundaries or when Temporal suggests it).
    continue_as_new_after_events: int | None = None
    search_attributes: bool = True
    # Issue 13: the run that continued into this one took `LEAN_HISTORY`, and the search
    # attributes it published last (`_published_key`), which continue-as-new carries
    # over, so this run does not upsert them again unchanged.
    lean_history: bool = False
    published_search_attributes: str | None = None
    # Issue 13: the run that continued into this one took `REFUSE_CANCEL`, `LEAN_PERIODS`.
    refuses_cancel: bool = False
    # Issue 15: a contract taken on part-way through (`casework import`): the outcome
    # (R5) of each period due before it was registered, in period order
    # (workflows/prior_outcomes.py). Empty for every other contract.
    prior_outcomes: list[str] = field(default_factory=list)
    lean_periods: bool = False


read_at_the_door(CaseContractInput)


@workflow.defn(name="CaseContract")
class CaseContractWorkflow:
    @workflow.init
    def __init__(self, input: CaseContractInput) -> None:
        # Issue 10: the strict codec refused a plaintext start, or the input was not a
        # case's (models/payloads.py); `run` fails it, naming why. A continued run's input
        # is the case's own carried state: unreadable, its task fails and is retried
        # until a worker that reads it is deployed, never a blank case.
        check_carried_input(input)
        self._refused_start = input if isinstance(input, RefusedPayload) else None
        if self._refused_start is not None:
            input = CaseContractInput(terms=_NO_TERMS, search_attributes=False)
        self._input = input
        self.state = input.state or CaseState(terms=input.terms)
        if not self.state.terms_fingerprint:
            self.state.terms_fingerprint = terms_fingerprint(input.terms)
        self.engine = CaseEngine(self.state)
        self._wake = False
        self._published: str | None = input.published_search_attributes
        self._timer: asyncio.Task[None] | None = None
        self._timer_at: datetime | None = None
        # workflow.now() of the latest activation noted, and of the one before it: the
        # floor of a report's arrival (workflows/arrival.py). Rebuilt identically on
        # replay, since every activation's time is in the history.
        self._activation_at: datetime | None = None
        self._previous_activation_at: datetime | None = None
        # Whether this run checks messages at the door (DOORS_PATCH), once it is known:
        # update validators may not ask a patch, so they read the answer given here.
        self._doors_on: bool | None = None
        self._refuses_cancel = False
        self._held_endorsements: list[EndorseContract] = []
        """Endorsements let in before the first schedule (ENDORSE_AFTER_SCHEDULE)."""
        self._lean_periods = False

    # ------------------------------------------------------------------ main loop
    @workflow.run
    async def run(self, input: CaseContractInput) -> CaseStatus:
        if self._lean_history():  # first, in the run's first activation (issue 13)
            self._doors_on = True  # a lean run takes every patch before it, unasked
        refused = self._start_refusal()
        if refused is not None:
            if workflow.patched(REFUSED_START_LOGGED):
                await self._log_refused_start(refused)
            raise doors.rejection(refused)
        self._use_patches()
        self._refuses_cancel = self._input.refuses_cancel or workflow.patched(REFUSE_CANCEL)
        self._lean_periods = self._input.lean_periods or workflow.patched(LEAN_PERIODS)
        self.engine.lean_periods = self._lean_periods
        if self._lean_periods:  # K1: contacts are read from the read model (issue 13)
            self.state.contacts.from_read_model = True
        if not self._refuses_cancel:
            return await self._run(input)
        # Issue 10 review: a case ends only by its rules (E1, E2), never because somebody
        # who reaches Temporal asked. The SDK delivers a cancellation to this task alone,
        # so the case's own work runs in a task of its own: the request lands in the wait
        # below, never in a timer, a wait for a message or the recording activity, whose
        # batch is therefore never lost. Each request delivered is refused and recorded
        # (Temporal keeps one a run: asking again adds nothing until the next run).
        body = asyncio.create_task(self._run(input))
        await refusing_cancellation(body, self._refuse_cancel)
        while self.engine.pending:  # a refusal recorded as the run ended
            await refusing_cancellation(asyncio.create_task(self._flush()),
                                        self._refuse_cancel)
        return body.result()  # or raises: continue-as-new, a failed start

    async def _run(self, input: CaseContractInput) -> CaseStatus:
        """The case's life: schedule, then sleep from one instant to the next, record,
        and continue-as-new at period boundaries, until it closes (E2)."""
        if not self.state.periods and not self.state.closed.count:
            await self._schedule_first_run()
        while True:
            self._note_activation()
            # Reset before acting: a message handled while we record (below) sets it
            # again, so the sleep that follows returns at once instead of losing it.
            self._wake = False
            if self.state.calendar_changes:
                await self._recompute_deadlines()
            if self.state.reschedule_due_dates is not None:
                await self._reschedule()
            self._open_plan_review()
            if contacts.read_due(self.state, workflow.now()):
                await self._read_contacts()
            boundary = reviews.advance_case(self.engine, workflow.now())
            # Issue 13 (`lean-periods`): search attributes that change as the run ends go
            # with continue-as-new, not in an upsert of their own (`_passes_search_
            # attributes`). Decided before recording, which would otherwise publish.
            passing = (self._passes_search_attributes()
                       and self._should_continue_as_new(boundary))
            await self._flush(publish=not passing)
            if self.state.status == CLOSED:
                await self._drain()
                return self.status()
            if passing or self._should_continue_as_new(boundary):
                await self._drain(publish=not passing)
                self.state.runs += 1
                search_attributes = self._next_run_search_attributes() if passing else None
                # Issue 13: settled periods travel without their basis (the read model
                # keeps it). Only the next run's input changes, no command: replay-safe.
                compact_for_next_run(self.state, workflow.now())
                workflow.continue_as_new(CaseContractInput(
                    terms=self.state.terms, state=self.state,
                    continue_as_new_after_events=input.continue_as_new_after_events,
                    search_attributes=input.search_attributes,
                    lean_history=self._lean_history(),
                    published_search_attributes=self._published,
                    refuses_cancel=self._refuses_cancel,
                    lean_periods=self._lean_periods,
                ), search_attributes=search_attributes)
            await self._sleep_until_next()

    def _start_refusal(self) -> MessageRefused | None:
        """Issue 10: a case starts only from the service's own writers -- encrypted, a
        case's input, with a caller envelope allowed to register (C1-C5 are checked
        next). A continued run is started by the workflow itself and needs none."""
        if workflow.info().continued_run_id is not None:
            return None
        if not self._doors():
            return None
        if self._refused_start is not None:
            return doors.refused_payload("start", self._refused_start, CaseContractInput)
        try:
            doors.admit("start", self._input, doors.start_header(),
                        digest=doors.sent_digest(self._input, workflow.payload_converter()),
                        keys=installed_keys(),
                        workflow_id=workflow.info().workflow_id,
                        case_agency_id=self.state.terms.agency_id, in_force=True)
        except MessageRefused as exc:
            return exc
        return None

    async def _log_refused_start(self, refused: MessageRefused) -> None:
        """The access-log row of a start refused at the door (method START), before the
        run fails: no case is recorded, so only the row is written (the district
        workflows' recording, which writes access rows alone)."""
        case_id = "" if self._refused_start is not None else self.state.terms.case_id
        entry = doors.access_entry(refused, workflow_id=workflow.info().workflow_id,
                                   name="start", entry=str(workflow.uuid4()),
                                   method="START", case_id=case_id, at=workflow.now())
        # With it go the rows of messages refused before the run failed (a signal sent
        # with the start, signal-with-start): the case has no timeline to hold them.
        await record_refused_start(RequestEffects(
            request=None, access=[entry, *self.engine.pending.access]))

    async def _drain(self, publish: bool = True) -> None:
        """Before the run ends (closure or continue-as-new): let running handlers finish
        and record what they decided, again and again until a check finds nothing new.
        A message handled during the last recording would otherwise change the carried
        state while its timeline, notices and rows -- in the batch, which is not carried
        -- were lost, and its id, already answered, would make a retry a duplicate. No
        await separates the final check from the caller's return or continue-as-new."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush(publish)
        while self.engine.pending or not workflow.all_handlers_finished():
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._flush(publish)

    async def _sleep_until_next(self) -> None:
        """Sleep until the next instant, or until a message needs recording: a report or
        a recomputed calendar moves the deadline, so we re-anchor each time."""
        wakeup = reviews.next_wakeup(self.engine)
        if wakeup is None:
            if self._timer is not None and not self._timer.done():
                self._timer.cancel()  # nothing left to wait for
            await workflow.wait_condition(lambda: self._wake)
            return
        remaining = wakeup.at - workflow.now()
        if remaining <= timedelta(0):
            return
        if self._patched(KEEP_TIMER_ACROSS_MESSAGES):
            await self._sleep_on_timer(wakeup.at, remaining, wakeup.summary(self.state))
            return
        try:
            await workflow.wait_condition(
                lambda: self._wake, timeout=remaining, timeout_summary=wakeup.summary(self.state)
            )
        except TimeoutError:
            pass

    async def _sleep_on_timer(self, at: datetime, remaining: timedelta, summary: str) -> None:
        """Wait for the timer to `at`, or for a message. The timer outlives the wait: most
        messages (a report, a contact, a refused signal) leave the next instant where it
        was, and cancelling and restarting its timer for each one cost four history
        events a message (issue 10.5). A new timer starts only when the instant moved."""
        timer = self._timer
        if timer is None or timer.done() or self._timer_at != at:
            if timer is not None and not timer.done():
                timer.cancel()
            timer = asyncio.create_task(workflow.sleep(remaining, summary=summary))
            self._timer, self._timer_at = timer, at
        await workflow.wait_condition(lambda: self._wake or timer.done())

    def _lean_history(self) -> bool:
        """Issue 13: whether this run takes `LEAN_HISTORY`. Asked first thing in the
        run's first activation (`run`, or a handler of that activation), so a run recorded
        before the patch answers no for the whole run, also once it is running live."""
        return self._input.lean_history or workflow.patched(LEAN_HISTORY)

    def _patched(self, patch_id: str) -> bool:
        """`workflow.patched(patch_id)`, except that a lean-history run takes the patch
        without writing its marker: every patch above is older than `LEAN_HISTORY`."""
        return self._lean_history() or workflow.patched(patch_id)

    def _doors(self) -> bool:
        """`_patched(DOORS_PATCH)`, remembered for the update validators."""
        self._doors_on = self._patched(DOORS_PATCH)
        return self._doors_on

    def _use_patches(self) -> None:
        """Tell the engine which patched behaviour this run follows. Called before the
        engine acts, from the run and from every message handler (whichever comes first
        in a run records the marker; the SDK remembers the answer for the rest of it)."""
        self.engine.undecided_periods_skipped = self._patched(R6_UNDECIDED_PERIODS)

    def _should_continue_as_new(self, boundary: bool) -> bool:
        info = workflow.info()
        if boundary or info.is_continue_as_new_suggested():
            return True
        limit = self._input.continue_as_new_after_events
        return limit is not None and info.get_current_history_length() >= limit

    async def _schedule_first_run(self) -> None:
        terms = self.state.terms
        try:
            # A day's grace on the UTC date: never stricter than the API, which checked
            # the end against today in the case's own time zone.
            within_limits = self._patched(INPUT_LIMITS)
            today = (workflow.now() - timedelta(days=1)).date() if within_limits else None
            due_dates = policy.validate_terms(terms, today=today, within_limits=within_limits)
        except PolicyViolation as exc:
            raise ApplicationError(str(exc), exc.to_dict(), type="PolicyViolation",
                                   non_retryable=True) from exc
        result = await self._schedule(due_dates, listing=CaseListing(
            agency_id=terms.agency_id, contract_start=terms.contract_start,
            contract_end=terms.contract_end, order_expiry=terms.order_expiry,
            terms_fingerprint=self.state.terms_fingerprint))
        scheduled = result.periods
        self.state.plan_review_due_at = result.plan_review_due_at
        self.state.plan_review_reminder_at = result.plan_review_reminder_at
        self.engine.replace_periods([_period(i, s) for i, s in enumerate(scheduled)])
        if self._input.prior_outcomes:
            try:
                apply_prior_outcomes(self.engine, self._input.prior_outcomes, workflow.now())
            except PolicyViolation as exc:
                raise ApplicationError(str(exc), exc.to_dict(), type="PolicyViolation",
                                       non_retryable=True) from exc
        # When the case was registered -- its run's start, not the schedule's answer -- so
        # the timeline puts it before an endorsement that waited for that answer.
        self.engine.pending.event(terms.case_id, "registered", workflow.info().start_time,
                                  "contract_registered", "C5", periods=len(scheduled))
        held, self._held_endorsements = self._held_endorsements, []
        for endorsement in held:  # ENDORSE_AFTER_SCHEDULE: let in while this ran
            self._signal("endorse", self._endorsement_rules, messages.apply_endorsement,
                         endorsement)
        await self._flush()
        # C4: no deadline runs until the endorsement. Meanwhile, what messages leave on
        # the record (a refused report, say) is written as it happens, not held until
        # then -- a case may wait weeks for its team manager.
        while self.state.status == AWAITING_ENDORSEMENT:
            await workflow.wait_condition(
                lambda: self.state.status != AWAITING_ENDORSEMENT or self._wake)
            # Reset before recording: a message handled meanwhile sets it again.
            self._wake = False
            if (self.state.status == AWAITING_ENDORSEMENT and self.engine.pending
                    and self._patched(RECORD_WHILE_AWAITING_ENDORSEMENT)):
                await self._flush()

    def _open_plan_review(self) -> None:
        """V2: once the contract is active, the scheduled case plan review is open."""
        state = self.state
        if (state.status == ACTIVE and state.plan_review_due_at is not None
                and state.plan_review_reminder_at is not None):
            reviews.schedule_plan_review(self.engine, state.plan_review_due_at,
                                         state.plan_review_reminder_at, workflow.now())

    async def _reschedule(self) -> None:
        """V5: a review changed the schedule or end date. A period whose due date stays
        keeps everything it has (reports, notices sent, outcome) and only learns when it
        now ends; the others are planned afresh (renewal adds periods). The review's
        validator made sure every period the agency was told of or acted on keeps its
        date, so no notice is dropped as a repeat of a superseded period's."""
        due_dates = self.state.reschedule_due_dates or []
        while True:
            result = await self._schedule(due_dates)
            if self.state.status != ACTIVE:
                # Returned to CP (or ended) meanwhile: its periods stay as they are.
                self.state.reschedule_due_dates = None
                return
            # A report or follow-up may have reached a period while the activity ran:
            # that period now keeps its date too, and the schedule is planned again.
            kept = reviews.settled_due_dates(self.state, workflow.now())
            merged = kept + [d for d in due_dates if not kept or d > kept[-1]]
            if merged == due_dates:
                break
            due_dates = merged
        now = workflow.now()
        before = {p.index: p for p in self.state.periods}
        periods: list[PeriodState] = []
        for index, scheduled in enumerate(result.periods):
            if index < self.state.closed.count:
                continue  # closed (issue 13): kept, its due date among those settled
            old = before.get(index)
            if old is not None and old.due_date == scheduled.due_date:
                if old.ends_at > now:  # an ended period stays decided as it was
                    old.ends_at = scheduled.ends_at
                periods.append(old)
            else:
                periods.append(_period(index, scheduled))
        self.engine.replace_periods(periods)
        # Still pending (until now, so that a second review waits for this one, V5).
        self.state.reschedule_due_dates = None
        self.engine.pending.event(self.state.terms.case_id,
                                  f"rescheduled:{now.isoformat()}", now,
                                  "schedule_changed", "V5",
                                  due_dates=[d.isoformat() for d in due_dates])

    async def _schedule(self, due_dates: list[Any], listing: CaseListing | None = None
                        ) -> ScheduleResult:
        """`listing`: the first schedule lists the case before it reads the closure days
        (activities/case_listing.py). Only the activity's input changes, which replay
        does not compare."""
        terms = self.state.terms
        request = ScheduleRequest(
            case_id=terms.case_id, jurisdiction=terms.jurisdiction, time_zone=terms.time_zone,
            due_dates=due_dates, ends_on=policy.ends_on(terms),
            extra_closures=list(terms.extra_closures),
            removed_holidays=list(terms.removed_holidays), order_expiry=terms.order_expiry,
            listing=listing,
        )
        result: ScheduleResult = await workflow.execute_activity(
            "schedule_periods", request, result_type=ScheduleResult,
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY,
            summary=f"Compute R1-R3 deadlines for {len(due_dates)} due date(s) "
                    f"({terms.jurisdiction})",
        )
        return result

    async def _recompute_deadlines(self) -> None:
        """A closure day was declared after the case started: recompute the instants that
        have not passed and not been acted on; what was already sent stays sent."""
        changes, self.state.calendar_changes = self.state.calendar_changes, []
        terms = self.state.terms
        for change in changes:
            terms.extra_closures = sorted(set(terms.extra_closures) | set(change.extra_closures))
            terms.removed_holidays = sorted(
                set(terms.removed_holidays) | set(change.removed_holidays))
        scheduled = (await self._schedule([p.due_date for p in self.state.periods])).periods
        # Matched by due date: a review may have changed or cut the periods while the
        # activity ran (a return to CP, say); those it dropped need nothing.
        fresh_for = {fresh.due_date: fresh for fresh in scheduled}
        now = workflow.now()
        changed: list[int] = []
        for period in self.state.periods:
            fresh = fresh_for.get(period.due_date)
            if fresh is None:
                continue
            before = (period.follow_up_at, period.overdue_at, period.escalation_at)
            if period.follow_up_sent_at is None and period.follow_up_at > now:
                period.follow_up_at = fresh.follow_up_at
                period.basis["follow_up"] = dict(fresh.basis["follow_up"])
                if fresh.follow_up_at <= now:
                    # R1: the closure moved the reminder into the past; it goes at once,
                    # and its basis says so rather than claim a time that has gone.
                    period.follow_up_at = now
                    period.basis["follow_up"]["note"] = (
                        f"the closure moved this reminder to {fresh.follow_up_at.isoformat()}"
                        ", already past when it was declared: sent at once")
            if period.overdue_marked_at is None and period.overdue_at > now:
                period.overdue_at = fresh.overdue_at
                period.basis["overdue"] = fresh.basis["overdue"]
            if period.escalated_at is None and period.escalation_at > now:
                period.escalation_at = fresh.escalation_at
                period.basis["escalation"] = fresh.basis["escalation"]
            if before != (period.follow_up_at, period.overdue_at, period.escalation_at):
                changed.append(period.index)
                self.engine.pending.period_indexes.add(period.index)
        for change in changes:
            self.engine.pending.event(terms.case_id, f"calendar:{change.event_id}", now,
                                      "deadlines_recomputed", "R1", event_id=change.event_id,
                                      changed_periods=changed)

    async def _read_contacts(self) -> None:
        """K1 (issue 13): a contact check has fallen due; first take in the contacts
        recorded in the read model since the last look (activities/contacts.py), as a
        local activity -- one marker in this workflow task."""
        request = ReadContacts(self.state.terms.case_id,
                               contacts.known_last_contact(self.state),
                               self.state.terms.contact_frequency_days, workflow.now())
        recorded: ContactSummary = await workflow.execute_local_activity(
            "read_contacts", request, result_type=ContactSummary,
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=ACTIVITY_RETRY,
            summary="K1: read the recorded contacts")
        contacts.merge_recorded(self.state, recorded)
        self._note_activation()

    # ------------------------------------------------------------------ recording
    async def _flush(self, publish: bool = True) -> None:
        """Record pending effects in one activity, then publish search attributes (unless
        they go with continue-as-new). The batch is swapped out before awaiting, so
        handlers running meanwhile add to a fresh one and nothing is lost or recorded
        twice."""
        batch = self.engine.pending
        if batch:
            self.engine.pending = Pending()
            effects = self._effects(batch)
            await record_effects(effects, _describe(effects), local=self._lean_history())
            self._note_activation()
        if publish:
            self._publish_search_attributes()

    def _effects(self, batch: Pending) -> CaseEffects:
        state = self.state
        case = rows.case_entry(self.status(), workflow_id=workflow.info().workflow_id,
                               now=workflow.now())
        return CaseEffects(
            case=case,
            periods=[rows.period_entry(period) for period in (
                state.period(i) for i in sorted(batch.period_indexes)) if period is not None],
            timeline=batch.timeline, notifications=batch.notifications,
            tasks=[rows.task_entry(t) for t in state.tasks if t.task_id in batch.task_ids],
            audits=[rows.audit_entry(a) for a in state.audits if a.audit_id in batch.audit_ids],
            removed_periods=sorted(batch.removed_periods), access=batch.access,
            contacts=batch.contacts,
        )

    def _search_attribute_values(self) -> tuple[str, datetime | None, int, bool] | None:
        """The operations view's values (DESIGN decision 5), or None when they are
        already published (also by the previous run: issue 13) or not published at all."""
        if not self._input.search_attributes:
            return None
        deadline = self.engine.next_deadline()
        values = (self.state.status, deadline.at if deadline else None,
                  self.state.consecutive_failures, bool(self.state.open_audits()))
        key = _published_key(*values)
        if key == self._published:
            return None
        self._published = key
        return values

    def _publish_search_attributes(self) -> None:
        """Keep the operations view current (DESIGN decision 5); only on change, so the
        history does not grow with no-op upserts."""
        values = self._search_attribute_values()
        if values is None:
            return
        updates: list[SearchAttributeUpdate[Any]] = [
            CASE_ID.value_set(self.state.terms.case_id),
            AGENCY_ID.value_set(self.state.terms.agency_id),
            CONTRACT_STATUS.value_set(values[0]),
            NEXT_DEADLINE.value_set(values[1]) if values[1] else NEXT_DEADLINE.value_unset(),
            CONSECUTIVE_FAILURES.value_set(values[2]),
            EXCEPTION_AUDIT_OPEN.value_set(values[3]),
        ]
        workflow.upsert_search_attributes(updates)

    def _passes_search_attributes(self) -> bool:
        """Issue 13 (`lean-periods`): whether search attributes that change as this run
        ends are set by its continue-as-new rather than upserted first -- an event and an
        action a period. Only in a run that asked no patch: each asked patch makes the
        SDK upsert `TemporalChangeVersion`, which `workflow.info()` does not show, and
        continue-as-new with search attributes replaces them all."""
        return (self._lean_periods and self._input.lean_periods
                and self._input.lean_history and self._input.refuses_cancel)

    def _next_run_search_attributes(self) -> TypedSearchAttributes | None:
        """The next run's search attributes: this run's, with the operations view's
        values as they are now (None: unchanged, continue-as-new copies them)."""
        values = self._search_attribute_values()
        if values is None:
            return None
        ours: list[SearchAttributePair[Any]] = [
            SearchAttributePair(CASE_ID, self.state.terms.case_id),
            SearchAttributePair(AGENCY_ID, self.state.terms.agency_id),
            SearchAttributePair(CONTRACT_STATUS, values[0]),
            SearchAttributePair(CONSECUTIVE_FAILURES, values[2]),
            SearchAttributePair(EXCEPTION_AUDIT_OPEN, values[3]),
        ]
        if values[1] is not None:
            ours.append(SearchAttributePair(NEXT_DEADLINE, values[1]))
        names = {key.name for key in (CASE_ID, AGENCY_ID, CONTRACT_STATUS, NEXT_DEADLINE,
                                      CONSECUTIVE_FAILURES, EXCEPTION_AUDIT_OPEN)}
        kept = [pair for pair in workflow.info().typed_search_attributes.search_attributes
                if pair.key.name not in names]
        return TypedSearchAttributes([*kept, *ours])

    # ------------------------------------------------------------------ query
    @workflow.query(name="status")
    def status(self) -> CaseStatus:
        deadline = self.engine.next_deadline()
        return CaseStatus(
            case_id=self.state.terms.case_id, agency_id=self.state.terms.agency_id,
            status=self.state.status, state=self.state,
            next_deadline=deadline.at if deadline else None,
            next_deadline_kind=deadline.kind if deadline else None,
            overdue=self.engine.is_overdue(workflow.now()),
        )

    # ------------------------------------------------------------------ arrival
    def _note_activation(self) -> None:
        """Remember this activation's time. Called from the main loop and from every
        handler; an activation that goes unnoted only makes the floor earlier, never
        later than the truth, so the floor stays safe."""
        now = workflow.now()
        if self._activation_at is None or now > self._activation_at:
            self._previous_activation_at, self._activation_at = self._activation_at, now

    def _arrival_floor(self) -> datetime:
        """The earliest instant a message processed now can have reached Temporal: the
        start of the workflow's previous activation (that task would otherwise have
        carried it), or, in this run's first activation, the run's start. Read-only, so
        update validators may call it."""
        now = workflow.now()
        if self._activation_at is not None and now > self._activation_at:
            return self._activation_at
        return self._previous_activation_at or workflow.info().workflow_start_time

    def _arrived(self, message: SubmitReport,
                 latency_bound: timedelta = SERVICE_LATENCY_BOUND) -> SubmitReport:
        """R5 (issue 9.3): the message with `received_at` bounded by workflows/arrival.py
        (no earlier than the floor less the service's latency bound, no later than now).
        Validators use it as it is (they may not patch, and are not replayed); handlers
        go through `_report`, which guards it with the patches."""
        if message.received_at is None:
            return message
        return replace(message, received_at=report_arrival(
            message.received_at, self._arrival_floor(), workflow.now(), latency_bound))

    def _report(self, message: SubmitReport) -> SubmitReport:
        """`_arrived`, unless this report was handled by code before the patches: before
        REPORT_RECEIVED_AT the processing time stood, before ARRIVAL_SERVICE_LATENCY the
        floor itself was the earliest arrival -- as they did, so recorded histories
        replay."""
        if message.received_at is None:
            return message
        if not self._patched(REPORT_RECEIVED_AT):
            return replace(message, received_at=None)
        if not workflow.patched(ARRIVAL_SERVICE_LATENCY):
            return self._arrived(message, timedelta(0))
        return self._arrived(message)

    # ------------------------------------------------------------------ messages
    def _handle(self, apply: Callable[[CaseEngine, Any, datetime], Result], message: Any
                ) -> Result:
        self._use_patches()
        result = apply(self.engine, message, workflow.now())
        self._note_activation()
        self._wake = True
        return result

    def _signal(self, name: str, validate: Callable[[Any], None],
                apply: Callable[[CaseEngine, Any, datetime], Any], message: Any) -> None:
        """Signals get the same checks as updates; a refused one is recorded, not raised
        (raising would fail the workflow task and stall the case)."""
        try:
            validate(message)
        except CaseError as exc:
            workflow.logger.warning("signal %s refused: %s", name, exc.message)
            id_field, message_id = doors.id_of(name, message)
            ids = {id_field: message_id} if id_field and message_id else {}
            self.engine.pending.event(
                self.state.terms.case_id, f"signal_refused:{name}:{workflow.uuid4()}",
                workflow.now(), "signal_refused", exc.rule or None, signal=name,
                reason=exc.message, field=exc.field, **ids)
            self._note_activation()
            self._wake = True
            return
        self._handle(apply, message)

    def _door_signal(self, name: str, raw: RawValue, validate: Callable[[Any], None],
                     apply: Callable[[CaseEngine, Any, datetime], Any],
                     prepare: Callable[[Any], Any] | None = None) -> None:
        """Issue 10: every signal handler takes the raw payload and converts it here, so a
        message that cannot be read, or is not allowed in, is refused and recorded rather
        than dropped by the SDK (which logs the payload) or applied unchecked. `prepare`
        adjusts the message as let in (a report's arrival, issue 9.3) before the rules."""
        if not self._doors():
            # Histories recorded before the doors: applied as the SDK converted them.
            message: Any
            message = workflow.payload_converter().from_payload(
                raw.payload, doors.MESSAGE_TYPES[name])
            if isinstance(message, RefusedPayload):  # models/payloads.py: not a message
                workflow.logger.warning("signal %s dropped: undecodable payload", name)
                return
            self._signal(name, validate, apply, prepare(message) if prepare else message)
            return
        try:
            message = self._admitted(name, raw.payload)
        except MessageRefused as exc:
            self._refuse(name, exc)
            return
        self._signal(name, validate, apply, prepare(message) if prepare else message)

    def _admitted(self, name: str, sent: Any) -> Any:
        """The message as let in: read (from a payload) and checked, its envelope
        verified for this case and role (C7), who acted attributed (workflows/doors.py).
        Raises `MessageRefused`."""
        converter = workflow.payload_converter()
        if isinstance(sent, Payload):
            message = doors.read_message(name, sent, converter)
            digest = payload_digest(sent)
        else:
            message = sent
            doors.check_message(name, message)
            digest = doors.sent_digest(message, converter)
        admission = doors.admit(
            name, message, doors.current_header(), digest=digest, keys=installed_keys(),
            workflow_id=workflow.info().workflow_id,
            case_agency_id=self.state.terms.agency_id,
            in_force=self.state.status in (AWAITING_ENDORSEMENT, ACTIVE))
        return doors.attribute(name, message, admission)

    def _refuse(self, name: str, exc: MessageRefused, method: str = "SIGNAL") -> None:
        """Record a message the door refused: a `signal_refused` timeline entry naming the
        message, the reason and its id (never the payload), and an access-log row for the
        Temporal door (the API and `casework send` write their own). `method`: `SIGNAL`,
        or `UPDATE` for an update refused in its handler (`_door_update`)."""
        # DESIGN decision 6: a message name is free text from the sender (an unknown
        # signal's, up to Temporal's limit); only one shaped like an id is recorded.
        name = doors.recordable_name(name)
        workflow.logger.warning("message %s refused at the door: %s", name, exc.reason)
        now = workflow.now()
        entry = str(workflow.uuid4())
        detail: dict[str, Any] = {"signal": name, "reason": exc.reason,
                                  "detail": exc.detail, "door": "temporal",
                                  "sent_as": method.lower()}
        if exc.field:
            detail["field"] = exc.field
        if exc.id_field and exc.message_id:
            detail[exc.id_field] = exc.message_id
        case_id = self.state.terms.case_id
        self.engine.pending.event(case_id, f"signal_refused:{name}:{entry}", now,
                                  "signal_refused", "C7" if exc.reason == "other_agency"
                                  else None, **detail)
        self.engine.pending.access.append(doors.access_entry(
            exc, workflow_id=workflow.info().workflow_id, name=name, entry=entry,
            method=method, case_id=case_id, at=now))
        self._wake = True

    def _refuse_cancel(self) -> None:
        """Record a cancellation requested through Temporal as refused: a `signal_refused`
        entry (reason `cancel_refused`) and an access-log row (method `CANCEL`), as for a
        message refused at the door. Temporal tells the workflow neither who asked nor
        with what authority, so the row's subject is `unauthenticated`; its own history
        keeps the requester's identity (WorkflowExecutionCancelRequested)."""
        workflow.logger.warning("cancellation requested through Temporal refused")
        now = workflow.now()
        entry = str(workflow.uuid4())
        case_id = self.state.terms.case_id
        self.engine.pending.event(
            case_id, f"signal_refused:cancel:{entry}", now, "signal_refused", None,
            signal="cancel", reason="cancel_refused", door="temporal",
            detail="a case is not cancelled through Temporal: it ends by its rules (E1, "
                   "E2) through the API")
        self.engine.pending.access.append(doors.access_entry(
            MessageRefused("cancel_refused", ""), workflow_id=workflow.info().workflow_id,
            name="cancel", entry=entry, method="CANCEL", case_id=case_id, at=now))
        self._wake = True

    def _admit_update(self, name: str, message: Any, validate: Callable[[Any], None]
                      ) -> None:
        """An update's validator: the door's checks, then the rules. What was sent being
        unreadable (plaintext, undecodable, an id that breaks the rule) or breaking a rule
        is the sender's error and leaves nothing in history -- no plaintext or name enters
        it (its access-log row goes through the worker, workflows/unrecorded_refusals.py).
        Who sent it being refused (no or a bad envelope, role, C7, actor) lets the update
        in, well-formed and encrypted, so its handler can record the refusal on the
        timeline and in the access log before rejecting it (`_door_update`) -- once the
        run is known to check its door (`_doors_on`): a run from before the doors, or one
        whose first activation has not yet decided, rejects it here as it always did."""
        try:
            admitted = self._admitted(name, message)
        except MessageRefused as exc:
            if exc.forbidden and self._doors_on:
                return
            unrecorded_refusals.report(name, exc.reason, self.state.terms.case_id)
            raise doors.rejection(exc) from None
        self._check(lambda: validate(admitted))

    def _door_update(self, name: str, message: Any) -> Any:
        """In an update's handler: the message as admitted (who acted attributed); as sent
        in histories recorded before the doors. Refused by the door, it is recorded
        (`_refuse`, method UPDATE) and rejected to its sender. No patch guards this: the
        validator rejected such updates before, so no recorded history reaches here
        with one."""
        if not self._doors():
            return message
        try:
            return self._admitted(name, message)
        except MessageRefused as exc:
            self._refuse(name, exc, method="UPDATE")
            raise doors.rejection(exc) from None

    @staticmethod
    def _check(validate: Callable[[], None]) -> None:
        try:
            validate()
        except CaseError as exc:
            raise ApplicationError(exc.message, exc.details(), type=exc.kind,
                                   non_retryable=True) from exc

    # endorse (C4)
    @workflow.update(name="endorse")
    async def endorse(self, message: EndorseContract) -> EndorsementRecorded:
        admitted = self._door_update("endorse", message)
        if not self.state.periods and workflow.patched(ENDORSE_AFTER_SCHEDULE):
            await workflow.wait_condition(lambda: bool(self.state.periods))
        result = self._handle(messages.apply_endorsement, admitted)
        # An endorsement can arrive while the first run is still scheduling; answer once
        # the periods exist so the caller's next read shows the whole schedule.
        await workflow.wait_condition(lambda: bool(self.state.periods))
        self._open_plan_review()
        return result

    @endorse.validator
    def _validate_endorse(self, message: EndorseContract) -> None:
        self._admit_update("endorse", message, lambda m: messages.validate_endorsement(
            self.state, m, workflow.now()))

    @workflow.signal(name="endorse")
    def endorse_signal(self, message: RawValue) -> None:
        self._door_signal("endorse", message, self._endorsement_rules,
                          self._endorse_once_scheduled)

    def _endorsement_rules(self, message: EndorseContract) -> None:
        messages.validate_endorsement(self.state, message, workflow.now())

    def _endorse_once_scheduled(self, engine: CaseEngine, message: EndorseContract,
                                now: datetime) -> EndorsementRecorded | None:
        """Let in at the door now (its envelope is this signal's), applied once the first
        schedule has made the periods (ENDORSE_AFTER_SCHEDULE; `_schedule_first_run`
        applies it)."""
        if not self.state.periods and workflow.patched(ENDORSE_AFTER_SCHEDULE):
            self._held_endorsements.append(message)
            return None
        return messages.apply_endorsement(engine, message, now)

    # submit_report (R4)
    @workflow.update(name="submit_report")
    def submit_report(self, message: SubmitReport) -> ReportAccepted:
        return self._handle(messages.apply_report,
                            self._report(self._door_update("submit_report", message)))

    @submit_report.validator
    def _validate_report(self, message: SubmitReport) -> None:
        self._admit_update("submit_report", message, lambda m: messages.validate_report(
            self.state, self._arrived(m), workflow.now()))

    @workflow.signal(name="submit_report")
    def submit_report_signal(self, message: RawValue) -> None:
        # The signal is also the API's durable path while no worker answers (issue 9.3):
        # its `received_at` is the API's acceptance, from before the outage.
        self._door_signal("submit_report", message, lambda m: messages.validate_report(
            self.state, m, workflow.now()), messages.apply_report, prepare=self._report)

    # assess_report (R4)
    @workflow.update(name="assess_report")
    def assess_report(self, message: AssessReport) -> AssessmentRecorded:
        return self._handle(messages.apply_assessment,
                            self._door_update("assess_report", message))

    @assess_report.validator
    def _validate_assessment(self, message: AssessReport) -> None:
        self._admit_update("assess_report", message, lambda m: messages.validate_assessment(
            self.state, m, workflow.now()))

    @workflow.signal(name="assess_report")
    def assess_report_signal(self, message: RawValue) -> None:
        self._door_signal("assess_report", message, lambda m: messages.validate_assessment(
            self.state, m, workflow.now()), messages.apply_assessment)

    # raise_event (R7)
    @workflow.update(name="raise_event")
    def raise_event(self, message: RaiseEvent) -> EventRecorded:
        return self._handle(audits.apply_event, self._door_update("raise_event", message))

    @raise_event.validator
    def _validate_event(self, message: RaiseEvent) -> None:
        self._admit_update("raise_event", message,
                           lambda m: audits.validate_event(self.state, m))

    @workflow.signal(name="raise_event")
    def raise_event_signal(self, message: RawValue) -> None:
        self._door_signal("raise_event", message,
                          lambda m: audits.validate_event(self.state, m), audits.apply_event)

    # record_audit_findings, close_audit (R8)
    @workflow.update(name="record_audit_findings")
    def record_audit_findings(self, message: RecordAuditFindings) -> AuditChanged:
        return self._handle(audits.apply_findings,
                            self._door_update("record_audit_findings", message))

    @record_audit_findings.validator
    def _validate_findings(self, message: RecordAuditFindings) -> None:
        self._admit_update("record_audit_findings", message,
                           lambda m: audits.validate_findings(self.state, m))

    @workflow.signal(name="record_audit_findings")
    def record_audit_findings_signal(self, message: RawValue) -> None:
        self._door_signal("record_audit_findings", message,
                          lambda m: audits.validate_findings(self.state, m),
                          audits.apply_findings)

    @workflow.update(name="close_audit")
    def close_audit(self, message: CloseAudit) -> AuditChanged:
        return self._handle(audits.apply_close_audit, self._door_update("close_audit", message))

    @close_audit.validator
    def _validate_close_audit(self, message: CloseAudit) -> None:
        self._admit_update("close_audit", message,
                           lambda m: audits.validate_close_audit(self.state, m))

    @workflow.signal(name="close_audit")
    def close_audit_signal(self, message: RawValue) -> None:
        self._door_signal("close_audit", message,
                          lambda m: audits.validate_close_audit(self.state, m),
                          audits.apply_close_audit)

    # complete_task
    @workflow.update(name="complete_task")
    def complete_task(self, message: CompleteTask) -> TaskCompleted:
        return self._handle(messages.apply_complete_task,
                            self._door_update("complete_task", message))

    @complete_task.validator
    def _validate_complete_task(self, message: CompleteTask) -> None:
        self._admit_update("complete_task", message,
                           lambda m: messages.validate_complete_task(self.state, m))

    @workflow.signal(name="complete_task")
    def complete_task_signal(self, message: RawValue) -> None:
        self._door_signal("complete_task", message,
                          lambda m: messages.validate_complete_task(self.state, m),
                          messages.apply_complete_task)

    # close_case (E2)
    @workflow.update(name="close_case")
    def close_case(self, message: CloseCase) -> CaseClosed:
        return self._handle(closure.apply_close, self._door_update("close_case", message))

    @close_case.validator
    def _validate_close(self, message: CloseCase) -> None:
        self._admit_update("close_case", message,
                           lambda m: closure.validate_close(self.state, m))

    @workflow.signal(name="close_case")
    def close_case_signal(self, message: RawValue) -> None:
        # Issue 18.3: the API's durable path while no worker accepts the update, as for
        # every other update (api/case_gateway.py). New: before it, a `close_case`
        # signal was refused by `unknown_signal`, and no recorded history has one.
        self._door_signal("close_case", message,
                          lambda m: closure.validate_close(self.state, m), closure.apply_close)

    # request_review (V3, V4), record_review_outcome (V1, V5, V6), record_contact (K1)
    @workflow.update(name="request_review")
    def request_review(self, message: RequestReview) -> ReviewRequested:
        return self._handle(reviews.apply_request_review,
                            self._door_update("request_review", message))

    @request_review.validator
    def _validate_request_review(self, message: RequestReview) -> None:
        self._admit_update("request_review", message, lambda m: reviews.validate_request_review(
            self.state, m, workflow.now()))

    @workflow.signal(name="request_review")
    def request_review_signal(self, message: RawValue) -> None:
        self._door_signal("request_review", message, lambda m: reviews.validate_request_review(
            self.state, m, workflow.now()), reviews.apply_request_review)

    @workflow.update(name="record_review_outcome")
    def record_review_outcome(self, message: ReviewOutcome) -> ReviewOutcomeRecorded:
        return self._handle(reviews.apply_review_outcome,
                            self._door_update("record_review_outcome", message))

    @record_review_outcome.validator
    def _validate_review_outcome(self, message: ReviewOutcome) -> None:
        self._admit_update("record_review_outcome", message,
                           lambda m: reviews.validate_review_outcome(self.state, m,
                                                                     workflow.now()))

    @workflow.signal(name="record_review_outcome")
    def record_review_outcome_signal(self, message: RawValue) -> None:
        self._door_signal("record_review_outcome", message,
                          lambda m: reviews.validate_review_outcome(self.state, m,
                                                                    workflow.now()),
                          reviews.apply_review_outcome)

    @workflow.update(name="record_contact")
    def record_contact(self, message: RecordContact) -> ContactRecorded:
        return self._handle(contacts.apply_contact, self._door_update("record_contact", message))

    @record_contact.validator
    def _validate_contact(self, message: RecordContact) -> None:
        self._admit_update("record_contact", message, lambda m: contacts.validate_contact(
            self.state, m, workflow.now()))

    @workflow.signal(name="record_contact")
    def record_contact_signal(self, message: RawValue) -> None:
        self._door_signal("record_contact", message, lambda m: contacts.validate_contact(
            self.state, m, workflow.now()), contacts.apply_contact)

    # calendar_changed (R1-R3 recomputation)
    @workflow.signal(name="calendar_changed")
    def calendar_changed(self, message: RawValue) -> None:
        self._door_signal("calendar_changed", message, lambda m: None, self._calendar_changed)

    def _calendar_changed(self, _engine: CaseEngine, message: CalendarChanged,
                          _now: datetime) -> None:
        key = f"calendar:{message.event_id}"
        if key in self.state.answered:
            return
        self.state.answered[key] = {"event_id": message.event_id}
        self.state.calendar_changes.append(message)

    # anything else (issue 10: refused and recorded, not buffered for ever or dropped)
    @workflow.update(dynamic=True)
    def unknown_update(self, name: str, args: Sequence[RawValue]) -> None:
        payload = args[0].payload if args else None
        id_field, message_id = doors.readable_id(name, payload)
        refused = MessageRefused(
            "unknown_message", f"this case has no message {doors.recordable_name(name)!r}",
            id_field=id_field, message_id=message_id)
        if self._doors():
            self._refuse(name, refused, method="UPDATE")
        raise doors.rejection(refused)

    @unknown_update.validator
    def _validate_unknown_update(self, name: str, args: Sequence[RawValue]) -> None:
        """One that is plaintext, or whose name is not an id, is rejected here, so it
        never enters history; else it is let in to be recorded and rejected by its
        handler."""
        refused = doors.refused_before_history(name, args)
        if refused is not None:
            unrecorded_refusals.report(name, refused.reason, self.state.terms.case_id)
            raise doors.rejection(refused)

    @workflow.signal(dynamic=True)
    def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        if not self._doors():
            return
        payload = args[0].payload if args else None
        id_field, message_id = doors.readable_id(name, payload)
        self._refuse(name, MessageRefused(
            "unknown_message", f"this case has no message {doors.recordable_name(name)!r}",
            id_field=id_field, message_id=message_id))


_NO_TERMS = ContractTerms(
    case_id="", agency_id="refused", phase=Phase.PROTECTION_ORDER,
    total_case_management=True, functions=[], aboriginal_child=False,
    acsass_consulted_on=None, child_birth_date=date(2000, 1, 1),
    schedule=ReportingSchedule(due_dates=[]), contract_start=date(2000, 1, 1),
    contract_end=date(2000, 1, 1), order_expiry=date(2000, 1, 1))
"""Placeholder terms of a run whose input the codec refused: it fails at once."""


def _period(index: int, scheduled: ScheduledPeriod) -> PeriodState:
    """A period as the schedule activity planned it, nothing yet sent or received."""
    return PeriodState(index=index, due_date=scheduled.due_date,
                       follow_up_at=scheduled.follow_up_at, overdue_at=scheduled.overdue_at,
                       escalation_at=scheduled.escalation_at, ends_at=scheduled.ends_at,
                       basis=scheduled.basis)


def _published_key(status: str, deadline: datetime | None, failures: int, audit: bool) -> str:
    """The search attributes' values as one string, to compare with those last published
    (also by the previous run: issue 13)."""
    return f"{status}|{deadline.isoformat() if deadline else ''}|{failures}|{audit}"


def _describe(effects: CaseEffects) -> str:
    """One line for the Temporal UI, so the history reads like the case's story."""
    kinds = [e.kind.replace("_", " ") for e in effects.timeline[:4]]
    if len(effects.timeline) > 4:
        kinds.append(f"+{len(effects.timeline) - 4} more")
    return f"Record: {'; '.join(kinds)}" if kinds else f"Record status {effects.case.status}"


