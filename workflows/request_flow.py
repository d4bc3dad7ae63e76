"""What a transfer request (T1) and a service request (T2) share: a request one district
sends another, with working-day deadlines, reminders before them, escalation to the
assistant district director when one passes, accept / complete / reject, and a rejection
that starts the T3 dispute and waits for its decision.

A plain class the two workflows hold: handlers change state without awaiting (so they
need no lock), and the workflow's loop does everything that awaits -- computing
deadlines, starting the dispute, recording.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.workflow import ParentClosePolicy

from models.district import (
    TRANSFER,
    DeadlineSpec,
    Decide,
    Decided,
    DisputeInput,
    DisputeResult,
    RequestStatus,
)
from workflows import district_policy as policy
from workflows.errors import CaseError, conflict
from workflows.request_runtime import (
    ESCALATION,
    RequestRuntime,
    day_of,
    plain_deadline,
    refuse,
)

RECEIVING_ROLE = "assistant_district_director"
TEAM_ROLE = "team_leader"


@dataclass
class RequestFacts:
    """Who asked whom about which case (the request's input, both kinds)."""

    kind: str
    request_id: str
    case_id: str
    from_district: str
    to_district: str
    jurisdiction: str
    time_zone: str
    child_in_care: bool | None = None


class RequestFlow:
    def __init__(self, facts: RequestFacts, workflow_id: str) -> None:
        self.facts = facts
        self.rule = "T1" if facts.kind == TRANSFER else "T2"
        self.rt = RequestRuntime(
            kind=facts.kind, request_id=facts.request_id, case_id=facts.case_id,
            from_district=facts.from_district, to_district=facts.to_district,
            workflow_id=workflow_id, jurisdiction=facts.jurisdiction,
            time_zone=facts.time_zone)
        self.status = policy.OPEN
        self.opened_at: datetime | None = None
        self.reason_id: str | None = None
        self.dispute_id: str | None = None
        self.outcome: str | None = None
        self.rejected_by = ""
        self.answered: dict[str, Decided] = {}

    # ------------------------------------------------------------ the loop
    async def run(self, specs: list[DeadlineSpec], after_dispute: DeadlineSpec | None,
                  dispute_workflow: Any, dispute_id: str, dispute_workflow_id: str
                  ) -> RequestStatus:
        """Open the request, then act on each instant and message until it is done."""
        self.opened_at = workflow.now()
        self.rt.deadlines = await self.rt.compute(self.opened_at, specs)
        first = self.rt.deadlines[0]
        self.rt.event("opened", f"{self.facts.kind}_requested", self.rule,
                      child_in_care=self.facts.child_in_care,
                      deadlines=[plain_deadline(d) for d in self.rt.deadlines])
        self.rt.notify("opened", f"{self.facts.kind}_requested", self.rule, RECEIVING_ROLE,
                       f"{self.rule}: {self._subject()} received; "
                       f"{first.key} by the end of {day_of(first)}")
        while True:
            self.rt.wake = False
            if self.status == policy.DISPUTED and self.dispute_id is None:
                await self._dispute(dispute_workflow, dispute_id, dispute_workflow_id,
                                    after_dispute)
                continue
            for due in self.rt.due(workflow.now()):
                self._act_on(due.deadline.key, due.action == ESCALATION, day_of(due.deadline))
            done = self.status in (policy.COMPLETED, policy.DECLINED) or (
                self.status == policy.ACCEPTED and after_dispute is None)
            await self.rt.flush(self.rt.entry(self.status, self.opened_at,
                                              child_in_care=self.facts.child_in_care,
                                              closed=done, summary=self._summary()))
            if done and not self.rt.wake:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return self.status_view()
            await self.rt.sleep_until_next()

    async def _dispute(self, dispute_workflow: Any, dispute_id: str, workflow_id: str,
                       after_dispute: DeadlineSpec | None) -> None:
        """T3: the rejection starts the dispute, which outlives nothing but stands on its
        own (abandoned, not cancelled, if this request were terminated); the request
        waits for its decision: proceed (T1: completion runs afresh from the decision;
        T2: accepted) or withdraw (declined)."""
        assert self.opened_at is not None and self.reason_id is not None
        handle = await workflow.start_child_workflow(
            dispute_workflow, DisputeInput(
                dispute_id=dispute_id, request_kind=self.facts.kind,
                request_id=self.facts.request_id, case_id=self.facts.case_id,
                from_district=self.facts.from_district, to_district=self.facts.to_district,
                request_opened_at=self.opened_at, reason_id=self.reason_id,
                raised_by=self.rejected_by, jurisdiction=self.facts.jurisdiction,
                time_zone=self.facts.time_zone),
            id=workflow_id, parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=f"T3 dispute over {self.facts.kind} {self.facts.request_id}")
        self.dispute_id = dispute_id
        await self.rt.flush(self.rt.entry(self.status, self.opened_at,
                                          child_in_care=self.facts.child_in_care,
                                          summary=self._summary()))
        result: DisputeResult = await handle
        self.outcome = result.outcome
        self.rt.event("dispute-decided", "dispute_decided", "T3", dispute_id=dispute_id,
                      outcome=result.outcome, rationale_id=result.rationale_id)
        if result.outcome != "proceed":
            self.status = policy.DECLINED
            return
        self.status = policy.ACCEPTED
        if after_dispute is not None:
            [completion] = await self.rt.compute(workflow.now(), [after_dispute])
            completion.key = "complete_after_dispute"
            self.rt.deadlines.append(completion)

    def _act_on(self, key: str, escalation: bool, day: str) -> None:
        """Reminders go to the team that owes the step; a passed deadline is escalated to
        the assistant district director of that district (the receiving district owes
        the answer, the transferring district the completion)."""
        owes = self.facts.from_district if key.startswith("complete") else self.facts.to_district
        if escalation:
            self.rt.event(f"{key}-passed", f"{self.facts.kind}_overdue", self.rule,
                          deadline=key, district=owes)
            self.rt.notify(f"{key}-escalation", f"{self.facts.kind}_escalated", self.rule,
                           RECEIVING_ROLE, f"{self.rule}: {self._subject()} not {_done(key)} "
                           f"by the end of {day}; escalated to the assistant district "
                           f"director of {owes}")
        else:
            self.rt.notify(f"{key}-reminder", f"{self.facts.kind}_reminder", self.rule,
                           TEAM_ROLE, f"{self.rule} reminder: {self._subject()} to be "
                           f"{_done(key)} by the end of {day} ({owes})")

    # ------------------------------------------------------------ messages
    def validate(self, message: Decide) -> None:
        previous = self.answered.get(message.decision)
        if previous is not None:
            if message.decision == "reject" and self.reason_id != message.reason_id:
                raise refuse(conflict("the request was rejected with another reason",
                                      field="reason", rule="T3"))
            return
        try:
            policy.check_decision(self.facts.kind, self.status, message.decision,
                                  message.reason_id)
        except CaseError as error:
            raise refuse(error) from error

    def decide(self, message: Decide, dispute_id: str) -> Decided:
        """T1/T2: accept (resolved in principle), complete, or reject (T3 dispute)."""
        previous = self.answered.get(message.decision)
        if previous is not None:
            return Decided(**{**previous.__dict__, "duplicate": True})
        now = workflow.now()
        if message.decision == "accept":
            self.status = policy.ACCEPTED
            self.rt.meet("resolve" if self.facts.kind == TRANSFER else "accept", now)
        elif message.decision == "complete":
            self.status = policy.COMPLETED
            for deadline in self.rt.open_deadlines():
                deadline.met_at = now
        else:
            self.status = policy.DISPUTED
            self.reason_id = message.reason_id
            self.rejected_by = message.decided_by
            for deadline in self.rt.open_deadlines():
                deadline.met_at = now  # the dispute's own deadlines take over (T3)
        self.rt.event(message.decision, f"{self.facts.kind}_{_done(message.decision)}",
                      self.rule, decided_by=message.decided_by, reason_id=message.reason_id)
        self.rt.wake = True
        answer = Decided(request_id=self.facts.request_id, decision=message.decision,
                         status=self.status, at=now,
                         dispute_id=dispute_id if message.decision == "reject" else None)
        self.answered[message.decision] = answer
        return answer

    # ------------------------------------------------------------ views
    def _subject(self) -> str:
        return (f"{self.facts.kind} request {self.facts.request_id} (case "
                f"{self.facts.case_id}, {self.facts.from_district} -> "
                f"{self.facts.to_district})")

    def _summary(self) -> dict[str, Any]:
        return {"reason_id": self.reason_id, "dispute_id": self.dispute_id,
                "outcome": self.outcome,
                "deadlines": [plain_deadline(d) for d in self.rt.deadlines]}

    def status_view(self) -> RequestStatus:
        return RequestStatus(
            kind=self.facts.kind, request_id=self.facts.request_id,
            case_id=self.facts.case_id, from_district=self.facts.from_district,
            to_district=self.facts.to_district, status=self.status,
            opened_at=self.opened_at or workflow.now(), child_in_care=self.facts.child_in_care,
            deadlines=list(self.rt.deadlines), outcome=self.outcome,
            dispute_id=self.dispute_id, reason_id=self.reason_id)


def _done(key: str) -> str:
    return {"resolve": "resolved", "accept": "accepted", "reject": "rejected",
            "complete": "completed", "complete_after_dispute": "completed"}.get(key, key)
