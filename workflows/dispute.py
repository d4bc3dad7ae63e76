"""The dispute workflow (DOMAIN T3): one per rejected request, id
`dispute-<dispute_id>`, where the dispute id is "<kind>-<request_id>".

A rejection is the receiving district's disagreement: it should come within 2 working
days of the request (recorded as on time or late). Then the ladder: the assistant
district directors negotiate within 1 working day of receiving the dispute; failing
that, the district directors within 2; failing that, a director, service delivery,
decides within 5 -- a final decision recorded with its rationale (a note; only its id
is in history, DESIGN decision 6). Each level's deadline, when it passes, refers the
dispute to the next; the whole process should take no more than 10 working days from
the request, and passing that is escalated too. Returns the decision to the request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.district import (
        DISPUTE,
        SERVICE,
        TRANSFER,
        DisputeChanged,
        DisputeInput,
        DisputeResult,
        ReferDispute,
        RequestEntry,
        RequestStatus,
        ResolveDispute,
    )
    from models.payloads import RefusedPayload
    from workflows import district_policy as policy
    from workflows.district_doors import DistrictDoor, RefusesUnknownMessages
    from workflows.errors import CaseError
    from workflows.request_runtime import (
        ESCALATION,
        RequestRuntime,
        day_of,
        plain_deadline,
        refuse,
    )


def dispute_workflow_id(dispute_id: str) -> str:
    return f"dispute-{dispute_id}"


def request_workflow_id(input: DisputeInput) -> str:
    """The workflow of the request the dispute is about: the only one that starts it
    (issue 10; workflows/transfer.py and service_request.py name them so)."""
    prefix = {TRANSFER: "transfer", SERVICE: "service-request"}.get(input.request_kind,
                                                                    input.request_kind)
    return f"{prefix}-{input.request_id}"


def dispute_id_for(kind: str, request_id: str) -> str:
    """One dispute per request: its id names the request it is about."""
    return f"{kind}-{request_id}"


@workflow.defn(name="Dispute")
class DisputeWorkflow(RefusesUnknownMessages):
    @workflow.init
    def __init__(self, input: DisputeInput) -> None:
        # Issue 10: a plaintext start (never the request's own): `run` refuses it.
        if isinstance(input, RefusedPayload):
            input = DisputeInput(dispute_id="refused", request_kind="refused",
                                 request_id="refused", case_id="",
                                 from_district="refused", to_district="refused",
                                 request_opened_at=workflow.now(), reason_id="refused")
        self.input = input
        self.rt = RequestRuntime(
            kind=DISPUTE, request_id=input.dispute_id, case_id=input.case_id,
            from_district=input.from_district, to_district=input.to_district,
            workflow_id=dispute_workflow_id(input.dispute_id),
            jurisdiction=input.jurisdiction, time_zone=input.time_zone)
        self.stage = policy.ASSISTANT_DIRECTORS
        self.request_status = policy.OPEN
        self.opened_at: datetime | None = None
        self.outcome: str | None = None
        self.rationale_id: str | None = None
        self.decided_at: datetime | None = None
        self.stage_pending = True  # the current level's deadline is still to compute
        self.answered: dict[str, DisputeChanged] = {}
        self.door = DistrictDoor("Dispute", input.case_id, input.from_district,
                                 input.to_district)
        self.door.open_run()
        self.runtime = self.rt

    @workflow.run
    async def run(self, input: DisputeInput) -> DisputeResult:
        refused = self.door.start_refusal(input, parent=request_workflow_id(input))
        if refused is not None:
            await self.door.refuse_start(self.rt, refused)
        return await self.door.run_refusing_cancellation(self.rt, self._run(input))

    async def _run(self, input: DisputeInput) -> DisputeResult:
        now = workflow.now()
        self.opened_at = now
        ladder = await self.rt.compute(input.request_opened_at, policy.dispute_deadlines())
        disagreement, whole = ladder
        # T3 step 1: the rejection *is* the disagreement, notified now; it was due within
        # 2 working days of the request.
        on_time = now <= disagreement.due_at
        disagreement.met_at = now
        self.rt.deadlines.append(disagreement)
        if whole.due_at > now:
            self.rt.deadlines.append(whole)
        self.rt.event("disagreement", "dispute_opened", "T3", on_time=on_time,
                      request_kind=input.request_kind, request_id=input.request_id,
                      reason_id=input.reason_id, disagreement_due_at=disagreement.due_at,
                      whole_process_due_at=whole.due_at)
        if not on_time:
            self.rt.notify("disagreement-late", "dispute_disagreement_late", "T3",
                           "assistant_district_director",
                           f"T3: disagreement with {input.request_kind} {input.request_id} "
                           f"(case {input.case_id}) came after {day_of(disagreement)}, the "
                           f"2 working days from the request ({input.to_district})")
        while True:
            self.rt.wake = False
            if self.stage_pending and self.request_status == policy.OPEN:
                await self._open_stage()
            for due in self.rt.due(workflow.now()):
                self._act_on(due.deadline.key, due.action == ESCALATION, day_of(due.deadline))
            closed = self.request_status == policy.RESOLVED
            await self.rt.flush(self._entry(closed))
            if closed and not self.rt.wake:
                await workflow.wait_condition(workflow.all_handlers_finished)
                assert self.outcome is not None and self.decided_at is not None
                return DisputeResult(dispute_id=input.dispute_id, outcome=self.outcome,
                                     stage=self.stage, decided_at=self.decided_at,
                                     rationale_id=self.rationale_id or "")
            await self.rt.sleep_until_next(lambda: self.stage_pending)

    async def _open_stage(self) -> None:
        """T3: the level now holding the dispute has its working days from now."""
        stage = self.stage
        [deadline] = await self.rt.compute(workflow.now(),
                                           [policy.stage_deadline(stage)])
        self.stage_pending = False
        if self.stage != stage or self.request_status != policy.OPEN:
            return  # referred on or decided while the activity ran
        self.rt.deadlines.append(deadline)
        self.rt.event(f"stage-{stage}", "dispute_stage_opened", "T3", stage=stage,
                      due_at=deadline.due_at, basis=deadline.basis)
        self.rt.notify(f"stage-{stage}", "dispute_referred", "T3",
                       policy.STAGE_RECIPIENT[stage],
                       f"T3: dispute {self.input.dispute_id} (case {self.input.case_id}, "
                       f"{self.input.from_district} / {self.input.to_district}) is with the "
                       f"{stage.replace('_', ' ')}: decide by the end of {day_of(deadline)}")

    def _act_on(self, key: str, escalation: bool, day: str) -> None:
        """A reminder or a passed deadline: a level's passed deadline refers the dispute
        up the ladder (the director's is escalated as overdue), the whole process's
        passing is escalated to the district directors and the director."""
        subject = (f"dispute {self.input.dispute_id} (case {self.input.case_id}, "
                   f"{self.input.from_district} / {self.input.to_district})")
        if not escalation:
            recipient = policy.STAGE_RECIPIENT.get(key, "district_director")
            self.rt.notify(f"{key}-reminder", "dispute_reminder", "T3", recipient,
                           f"T3 reminder: {subject} is due by the end of {day}")
            return
        if key == "whole_process":
            self.rt.event("whole-process-passed", "dispute_overdue", "T3", deadline=key)
            for recipient in ("district_director", "director_service_delivery"):
                self.rt.notify(f"whole-process-{recipient}", "dispute_overdue", "T3",
                               recipient, f"T3: {subject} has taken more than 10 working "
                               f"days (by the end of {day})")
            return
        upper = policy.next_stage(key)
        self.rt.event(f"{key}-passed", "dispute_stage_overdue", "T3", stage=key,
                      referred_to=upper)
        if upper is None:
            self.rt.notify(f"{key}-overdue", "dispute_overdue", "T3",
                           "director_service_delivery",
                           f"T3: the final decision on {subject} was due by the end of {day}")
            return
        self._refer(upper)

    def _refer(self, upper: str) -> None:
        self.rt.meet(self.stage, workflow.now())
        self.stage = upper
        self.stage_pending = True

    def _entry(self, closed: bool) -> RequestEntry:
        assert self.opened_at is not None
        return self.rt.entry(self.request_status, self.opened_at, stage=self.stage, closed=closed,
                             summary=self._summary())

    def _summary(self) -> dict[str, Any]:
        return {"request_kind": self.input.request_kind, "request_id": self.input.request_id,
                "reason_id": self.input.reason_id, "outcome": self.outcome,
                "rationale_id": self.rationale_id,
                "decided_at": self.decided_at.isoformat() if self.decided_at else None,
                "deadlines": [plain_deadline(d) for d in self.rt.deadlines]}

    # ------------------------------------------------------------ messages
    @workflow.update
    def refer(self, message: ReferDispute) -> DisputeChanged:
        """T3: negotiation failed at this level; the next one takes it now."""
        self.door.handle(self.rt, "refer", message)
        key = f"refer:{message.from_stage}"
        if key in self.answered:
            return _duplicate(self.answered[key])
        upper = policy.next_stage(self.stage)
        assert upper is not None  # the validator refused a referral from the director
        self._refer(upper)
        self.rt.event(f"referred-{message.from_stage}", "dispute_referred", "T3",
                      from_stage=message.from_stage, to_stage=self.stage,
                      referred_by=message.referred_by)
        self.rt.wake = True
        answer = DisputeChanged(dispute_id=self.input.dispute_id, stage=self.stage,
                                status=self.request_status, at=workflow.now())
        self.answered[key] = answer
        return answer

    @refer.validator
    def _check_refer(self, message: ReferDispute) -> None:
        if not self.door.validate("refer", message):
            return
        if f"refer:{message.from_stage}" in self.answered:
            return
        try:
            policy.check_referral(self.stage, self.request_status, message.from_stage)
        except CaseError as error:
            raise refuse(error) from error

    @workflow.update
    def resolve(self, message: ResolveDispute) -> DisputeChanged:
        """T3: the resolution, agreed at a level or decided (finally) by the director;
        the decision and its rationale (a note id) are recorded."""
        self.door.handle(self.rt, "resolve", message)
        previous = self.answered.get("resolve")
        if previous is not None:
            return _duplicate(previous)
        now = workflow.now()
        self.request_status = policy.RESOLVED
        self.outcome = message.outcome
        self.rationale_id = message.rationale_id
        self.decided_at = now
        for deadline in self.rt.open_deadlines():
            deadline.met_at = now
        final = self.stage == policy.DIRECTOR
        self.rt.event("resolved", "dispute_decided" if final else "dispute_resolved", "T3",
                      stage=self.stage, outcome=message.outcome, final=final,
                      rationale_id=message.rationale_id, decided_by=message.decided_by)
        self.rt.wake = True
        answer = DisputeChanged(dispute_id=self.input.dispute_id, stage=self.stage,
                                status=self.request_status, at=now, outcome=message.outcome)
        self.answered["resolve"] = answer
        return answer

    @resolve.validator
    def _check_resolve(self, message: ResolveDispute) -> None:
        if not self.door.validate("resolve", message):
            return
        previous = self.answered.get("resolve")
        if previous is not None:
            if previous.outcome != message.outcome or self.rationale_id != message.rationale_id:
                raise refuse(CaseError("Conflict", "the dispute was decided otherwise",
                                       field="outcome", rule="T3"))
            return
        try:
            policy.check_resolution(self.request_status, message.outcome)
        except CaseError as error:
            raise refuse(error) from error

    @workflow.query
    def status(self) -> RequestStatus:
        return RequestStatus(
            kind=DISPUTE, request_id=self.input.dispute_id, case_id=self.input.case_id,
            from_district=self.input.from_district, to_district=self.input.to_district,
            status=self.request_status, opened_at=self.opened_at or self.input.request_opened_at,
            stage=self.stage, deadlines=list(self.rt.deadlines), outcome=self.outcome,
            reason_id=self.input.reason_id, rationale_id=self.rationale_id)


def _duplicate(answer: DisputeChanged) -> DisputeChanged:
    return DisputeChanged(**{**answer.__dict__, "duplicate": True})

