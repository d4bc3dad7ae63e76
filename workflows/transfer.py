"""The case transfer request workflow (DOMAIN T1): one per request, id
`transfer-<request_id>`.

Opened by the transferring district with the case, the receiving district and whether
the child is in the CEO's care. Resolved in principle within 2 working days and
completed within 5 (in care: resolved within 5 working days, transferred in under four
weeks), counted on the AU-WA calendar by an activity; reminders on each deadline's last
working day, escalation to the assistant district director when one passes. The
receiving district accepts or rejects; a rejection starts the T3 dispute
(workflows/dispute.py) and the transfer waits for its decision.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.district import TRANSFER, Decide, Decided, RequestStatus, TransferInput
    from models.payloads import RefusedPayload
    from workflows import district_policy as policy
    from workflows.dispute import DisputeWorkflow, dispute_id_for, dispute_workflow_id
    from workflows.district_doors import DistrictDoor, RefusesUnknownMessages
    from workflows.request_flow import RequestFacts, RequestFlow


def transfer_workflow_id(request_id: str) -> str:
    return f"transfer-{request_id}"


@workflow.defn(name="TransferRequest")
class TransferRequestWorkflow(RefusesUnknownMessages):
    @workflow.init
    def __init__(self, input: TransferInput) -> None:
        # Issue 10: the strict codec refused a plaintext start; `run` refuses it.
        if isinstance(input, RefusedPayload):
            input = TransferInput(request_id="refused", case_id="",
                                  from_district="refused", to_district="refused",
                                  child_in_care=False)
        self.flow = RequestFlow(RequestFacts(
            kind=TRANSFER, request_id=input.request_id, case_id=input.case_id,
            from_district=input.from_district, to_district=input.to_district,
            jurisdiction=input.jurisdiction, time_zone=input.time_zone,
            child_in_care=input.child_in_care), transfer_workflow_id(input.request_id))
        self.door = DistrictDoor("TransferRequest", input.case_id, input.from_district,
                                 input.to_district)
        self.door.open_run()
        self.runtime = self.flow.rt
        self.dispute_id = dispute_id_for(TRANSFER, input.request_id)

    @workflow.run
    async def run(self, input: TransferInput) -> RequestStatus:
        refused = self.door.start_refusal(input)
        if refused is not None:
            await self.door.refuse_start(self.flow.rt, refused)
        return await self.door.run_refusing_cancellation(self.flow.rt, self.flow.run(
            policy.transfer_deadlines(input.child_in_care),
            policy.completion_after_dispute(input.child_in_care),
            DisputeWorkflow.run, self.dispute_id, dispute_workflow_id(self.dispute_id)))

    @workflow.update
    def decide(self, message: Decide) -> Decided:
        """T1: accept (resolved in principle), complete, or reject (starts T3)."""
        self.door.handle(self.flow.rt, "decide", message)
        return self.flow.decide(message, self.dispute_id)

    @decide.validator
    def _check(self, message: Decide) -> None:
        if self.door.validate("decide", message):
            self.flow.validate(message)

    @workflow.query
    def status(self) -> RequestStatus:
        return self.flow.status_view()
