"""The service request workflow (DOMAIN T2): one per request, id
`service-request-<request_id>`.

A district asks another for services for one of its cases; the receiving district
accepts within 1 working day (AU-WA calendar), reminded on that day and escalated to its
assistant district director when it passes. A rejection starts the T3 dispute
(workflows/dispute.py); the request waits for its decision.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from models.district import SERVICE, Decide, Decided, RequestStatus, ServiceRequestInput
    from models.payloads import RefusedPayload
    from workflows import district_policy as policy
    from workflows.dispute import DisputeWorkflow, dispute_id_for, dispute_workflow_id
    from workflows.district_doors import DistrictDoor, RefusesUnknownMessages
    from workflows.request_flow import RequestFacts, RequestFlow


def service_request_workflow_id(request_id: str) -> str:
    return f"service-request-{request_id}"


@workflow.defn(name="ServiceRequest")
class ServiceRequestWorkflow(RefusesUnknownMessages):
    @workflow.init
    def __init__(self, input: ServiceRequestInput) -> None:
        # Issue 10: the strict codec refused a plaintext start; `run` refuses it.
        if isinstance(input, RefusedPayload):
            input = ServiceRequestInput(request_id="refused", case_id="",
                                        from_district="refused", to_district="refused")
        self.flow = RequestFlow(RequestFacts(
            kind=SERVICE, request_id=input.request_id, case_id=input.case_id,
            from_district=input.from_district, to_district=input.to_district,
            jurisdiction=input.jurisdiction, time_zone=input.time_zone),
            service_request_workflow_id(input.request_id))
        self.door = DistrictDoor("ServiceRequest", input.case_id, input.from_district,
                                 input.to_district)
        self.door.open_run()
        self.runtime = self.flow.rt
        self.dispute_id = dispute_id_for(SERVICE, input.request_id)

    @workflow.run
    async def run(self, input: ServiceRequestInput) -> RequestStatus:
        refused = self.door.start_refusal(input)
        if refused is not None:
            await self.door.refuse_start(self.flow.rt, refused)
        return await self.door.run_refusing_cancellation(self.flow.rt, self.flow.run(
            policy.service_deadlines(), None, DisputeWorkflow.run, self.dispute_id,
            dispute_workflow_id(self.dispute_id)))

    @workflow.update
    def decide(self, message: Decide) -> Decided:
        """T2: accept, or reject (starts T3)."""
        self.door.handle(self.flow.rt, "decide", message)
        return self.flow.decide(message, self.dispute_id)

    @decide.validator
    def _check(self, message: Decide) -> None:
        if self.door.validate("decide", message):
            self.flow.validate(message)

    @workflow.query
    def status(self) -> RequestStatus:
        return self.flow.status_view()
