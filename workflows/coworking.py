"""The co-working arrangement workflow (DOMAIN T4): one per arrangement, id
`coworking-<arrangement_id>`.

An ongoing arrangement is reviewed every three months: the review is due by the end of
the day three calendar months after the start (then after the last review); both
districts are reminded five working days before (AU-WA calendar) and the case-managing
district's assistant district director is told when it passes. Each review starts a new
run (continue-as-new), so an arrangement of many years keeps a small history.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.district import (
        COWORKING,
        CoworkingChanged,
        CoworkingInput,
        CoworkingState,
        EndCoworking,
        RecordCoworkingReview,
        RequestStatus,
    )
    from models.payloads import RefusedPayload
    from workflows import district_policy as policy
    from workflows.carried_input import check_carried_input
    from workflows.deadlines import local_instant
    from workflows.district_doors import DistrictDoor, RefusesUnknownMessages
    from workflows.errors import CaseError, conflict, invalid
    from workflows.request_runtime import (
        ESCALATION,
        RequestRuntime,
        day_of,
        plain_deadline,
        refuse,
    )
    from workflows.working_days import local_day

MIDDAY = time(12, 0)


def coworking_workflow_id(arrangement_id: str) -> str:
    return f"coworking-{arrangement_id}"


@workflow.defn(name="Coworking")
class CoworkingWorkflow(RefusesUnknownMessages):
    @workflow.init
    def __init__(self, input: CoworkingInput) -> None:
        # Issue 10: the strict codec refused a plaintext start, or it was not a
        # co-working input; `run` refuses it. A continued run's must be readable.
        check_carried_input(input)
        if isinstance(input, RefusedPayload):
            input = CoworkingInput(arrangement_id="refused", case_id="",
                                   from_district="refused", to_district="refused",
                                   started_on=workflow.now().date())
        self.input = input
        self.state = input.state or CoworkingState(opened_at=workflow.now())
        self.rt = RequestRuntime(
            kind=COWORKING, request_id=input.arrangement_id, case_id=input.case_id,
            from_district=input.from_district, to_district=input.to_district,
            workflow_id=coworking_workflow_id(input.arrangement_id),
            jurisdiction=input.jurisdiction, time_zone=input.time_zone)
        self.request_status = policy.ACTIVE
        self.reviewed: RecordCoworkingReview | None = None
        self.door = DistrictDoor("Coworking", input.case_id, input.from_district,
                                 input.to_district)
        self.door.open_run()
        self.runtime = self.rt

    @workflow.run
    async def run(self, input: CoworkingInput) -> RequestStatus:
        refused = self.door.start_refusal(input)
        if refused is not None:
            await self.door.refuse_start(self.rt, refused)
        return await self.door.run_refusing_cancellation(self.rt, self._run(input))

    async def _run(self, input: CoworkingInput) -> RequestStatus:
        since = self.state.last_reviewed_on or input.started_on
        # T4: counted from the local day of the start or the last review.
        self.rt.deadlines = await self.rt.compute(
            local_instant(since, MIDDAY, input.time_zone), [policy.coworking_review()])
        if input.state is None:
            self.rt.event("started", "coworking_started", "T4", started_on=input.started_on,
                          review=plain_deadline(self.rt.deadlines[0]))
        while True:
            self.rt.wake = False
            for due in self.rt.due(workflow.now()):
                self._act_on(due.action == ESCALATION, day_of(due.deadline))
            ended = self.request_status == policy.ENDED
            await self.rt.flush(self.rt.entry(self.request_status, self.state.opened_at,
                                              closed=ended, summary=self._summary()))
            if (ended or self.reviewed is not None) and not self.rt.wake:
                await workflow.wait_condition(workflow.all_handlers_finished)
                if ended:
                    return self.status()
                workflow.continue_as_new(CoworkingInput(
                    **{**input.__dict__, "state": self.state}))
            await self.rt.sleep_until_next()

    def _act_on(self, escalation: bool, day: str) -> None:
        subject = (f"co-working arrangement {self.input.arrangement_id} (case "
                   f"{self.input.case_id}, {self.input.from_district} with "
                   f"{self.input.to_district})")
        if escalation:
            self.rt.event(f"review-{day}-passed", "coworking_review_overdue", "T4", due=day)
            self.rt.notify(f"review-{day}-escalation", "coworking_review_overdue", "T4",
                           "assistant_district_director",
                           f"T4: review of {subject} was due by the end of {day}; escalated "
                           f"to the assistant district director of {self.input.from_district}")
        else:
            self.rt.notify(f"review-{day}-reminder", "coworking_review_reminder", "T4",
                           "team_leader", f"T4 reminder: review {subject} by the end of {day}")

    # ------------------------------------------------------------ messages
    @workflow.update
    def record_review(self, message: RecordCoworkingReview) -> CoworkingChanged:
        """T4: the review held; the next is due three months after it."""
        self.door.handle(self.rt, "record_review", message)
        previous = self.state.answered.get(message.review_id)
        if previous is not None:
            return CoworkingChanged(**{**previous, "at": datetime.fromisoformat(previous["at"]),
                                       "duplicate": True})
        self.reviewed = message
        self.state.reviews.append(message.review_id)
        self.state.last_reviewed_on = message.reviewed_on
        self.rt.meet("review", workflow.now())
        self.rt.event(f"review-{message.review_id}", "coworking_reviewed", "T4",
                      review_id=message.review_id, reviewed_on=message.reviewed_on,
                      notes_id=message.notes_id, reviewed_by=message.reviewed_by)
        self.rt.wake = True
        answer = CoworkingChanged(arrangement_id=self.input.arrangement_id,
                                  status=self.request_status, at=workflow.now())
        self.state.answered[message.review_id] = {
            **answer.__dict__, "at": answer.at.isoformat()}
        return answer

    @record_review.validator
    def _check_review(self, message: RecordCoworkingReview) -> None:
        if not self.door.validate("record_review", message):
            return
        if message.review_id in self.state.answered:
            return
        today = local_day(workflow.now(), self.input.time_zone)
        since = self.state.last_reviewed_on or self.input.started_on
        problem: CaseError | None = None
        if self.request_status != policy.ACTIVE:
            problem = conflict("the arrangement has ended", field="status", rule="T4")
        elif self.reviewed is not None:
            problem = conflict("a review is being recorded; try again", field="review_id",
                               rule="T4")
        elif not since <= message.reviewed_on <= today:
            problem = invalid(f"a review is held between {since.isoformat()} and today",
                              field="reviewed_on", rule="T4")
        if problem is not None:
            raise refuse(problem)

    @workflow.update
    def end(self, message: EndCoworking) -> CoworkingChanged:
        """The arrangement ends: no more reviews are due."""
        self.door.handle(self.rt, "end", message)
        if self.request_status != policy.ENDED:
            self.request_status = policy.ENDED
            self.rt.meet("review", workflow.now())
            self.rt.event("ended", "coworking_ended", "T4", ended_by=message.ended_by)
            self.rt.wake = True
        return CoworkingChanged(arrangement_id=self.input.arrangement_id,
                                status=self.request_status, at=workflow.now())

    @end.validator
    def _check_end(self, message: EndCoworking) -> None:
        self.door.validate("end", message)

    @workflow.query
    def status(self) -> RequestStatus:
        review = self.rt.deadlines[0] if self.rt.deadlines else None
        return RequestStatus(
            kind=COWORKING, request_id=self.input.arrangement_id,
            case_id=self.input.case_id, from_district=self.input.from_district,
            to_district=self.input.to_district, status=self.request_status,
            opened_at=self.state.opened_at, deadlines=list(self.rt.deadlines),
            next_review_on=(date.fromisoformat(str(review.basis["last_day"]))
                            if review and review.met_at is None else None),
            reviews=list(self.state.reviews), started_on=self.input.started_on)

    def _summary(self) -> dict[str, Any]:
        return {"started_on": self.input.started_on.isoformat(),
                "last_reviewed_on": (self.state.last_reviewed_on.isoformat()
                                     if self.state.last_reviewed_on else None),
                "reviews": list(self.state.reviews),
                "deadlines": [plain_deadline(d) for d in self.rt.deadlines]}

