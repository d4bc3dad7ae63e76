"""One rule for every door (issue 10) at the four district workflows (T1-T4, issue 14):
a start or an update is applied only with a valid signed caller envelope from the
service (models/envelope.py) whose roles may send it -- the same verification as the case
workflow's (workflows/doors.py `admit`), against each workflow type's own row of the one
permission table (models/permissions.py `DISTRICT_MESSAGE_ACTIONS`).

A dispute (T3) is never started by a client: its request's workflow starts it on a
rejection, so its start is admitted when its parent is that request's workflow.

What the door refuses is recorded where it can be seen: a `signal_refused` timeline entry
on the request (name, reason, door; never the payload) and an access-log row
(`UPDATE`/`START`, path `temporal:<workflow id>/<name>#<entry>`), written by the
request's recording activity. A refused update is rejected to its sender with the reason
(its handler records, then raises; the API maps it to 403 or 422); one refused for what
it carries (plaintext, undecodable, a bad id) is rejected by the validator, so neither
plaintext nor a name enters history. A district's staff act only on their district's
requests (`check_district`). A signal or an unknown update name is refused and recorded
(`RefusesUnknownMessages`). A refused start records its
access-log row and fails the run with a non-retryable error naming the reason.

Behind `workflow.patched(DISTRICT_DOORS_PATCH)`, decided once when the run begins:
histories recorded before it replay with every message applied, and a run already
under way keeps the open door until it ends (or, T4, continues as new).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RawValue

from models.district import (
    CoworkingInput,
    Decide,
    DisputeInput,
    EndCoworking,
    RecordCoworkingReview,
    ReferDispute,
    ResolveDispute,
    ServiceRequestInput,
    TransferInput,
)
from models.envelope import installed_keys
from models.payloads import RefusedPayload, read_at_the_door
from models.permissions import DISTRICT_MESSAGE_ACTIONS
from workflows import doors, unrecorded_refusals
from workflows.cancellation import refusing_cancellation
from workflows.doors import Admission, MessageRefused, rejection
from workflows.request_runtime import RequestRuntime

Result = TypeVar("Result")

read_at_the_door(TransferInput, ServiceRequestInput, DisputeInput, CoworkingInput, Decide,
                 ReferDispute, ResolveDispute, RecordCoworkingReview, EndCoworking)

DISTRICT_DOORS_PATCH = "district-doors"
"""Patch id: the district workflows check the caller envelope at their door (issue 10)."""
DISTRICT_REFUSE_CANCEL = "district-refuse-temporal-cancel"
"""Patch id: a cancellation requested through Temporal is refused and recorded (issue 10
review, as at the case workflow); a run started before it ends CANCELED, as it did."""
DISTRICT_UNKNOWN_PATCH = "district-unknown-messages"
"""Patch id: a signal or an unknown update sent to a district workflow is recorded as
refused (issue 10.3) instead of buffered."""


def check_parent(parent_workflow_id: str | None, expected: str) -> None:
    """T3: a dispute is started by its own request's workflow and nothing else."""
    if parent_workflow_id != expected:
        raise MessageRefused("no_envelope", "a dispute is started by its request's "
                             f"workflow ({expected}) on a rejection, not sent")


@dataclass
class DistrictDoor:
    """The door of one district workflow run: `workflow_type` names its row of the
    permission table, `case_id` the case its access-log rows name, `from_district` and
    `to_district` the districts whose staff may act on it (T1-T4 scoping, as the API's
    `visible_request`; the opener's own district opens it, as `check_own_district`)."""

    workflow_type: str
    case_id: str
    from_district: str = ""
    to_district: str = ""
    workflow_id: str = ""
    active: bool = False

    def open_run(self) -> None:
        """Called once from the workflow's init: is this run checked at the door?"""
        self.workflow_id = workflow.info().workflow_id
        self.active = workflow.patched(DISTRICT_DOORS_PATCH)

    def admit(self, name: str, message: Any, header: Any) -> Admission:
        """The verified sender of `message` (the start's input or an update's argument);
        raises `MessageRefused`."""
        if isinstance(message, RefusedPayload):
            raise doors.refused_payload(name, message)
        doors.check_message(name, message)
        digest = doors.sent_digest(message, workflow.payload_converter())
        admission = doors.admit(name, message, header, digest=digest, keys=installed_keys(),
                                workflow_id=self.workflow_id, case_agency_id="",
                                in_force=False,
                                table=DISTRICT_MESSAGE_ACTIONS[self.workflow_type])
        self.check_district(name, admission)
        return admission

    def check_district(self, name: str, admission: Admission) -> None:
        """T1-T4 scoping at the door: staff of a district (an envelope naming one) act
        only on requests their district sent or received, and open them only in their
        own district's name; state-wide staff (none named) on any."""
        district = admission.district_id
        if district is None:
            return
        allowed = (self.from_district,) if name == "start" else (self.from_district,
                                                                  self.to_district)
        if district not in allowed:
            raise MessageRefused("other_district", f"the sender acts for district "
                                 f"{district!r}, not a district of this request",
                                 admission=admission)

    def start_refusal(self, input: Any, parent: str | None = None) -> MessageRefused | None:
        """Why this run's start is refused (None: admitted, not checked, or continued).
        `parent`: a dispute's, the workflow id of the request that must have started it."""
        if not self.active or workflow.info().continued_run_id is not None:
            return None
        try:
            if parent is not None:
                started_by = workflow.info().parent
                check_parent(started_by.workflow_id if started_by else None, parent)
            else:
                self.admit("start", input, doors.start_header())
        except MessageRefused as exc:
            return exc
        return None

    async def refuse_start(self, rt: RequestRuntime, exc: MessageRefused) -> None:
        """Record the refused start's access-log row (there is no request to put on a
        timeline), then fail the run, naming the reason."""
        self.refuse(rt, "start", exc, method="START")
        await rt.record_access(refused_start=True)
        raise rejection(exc)

    def update_refusal(self, name: str, message: Any) -> MessageRefused | None:
        """Why update `name` is refused at the door (None: admitted or not checked)."""
        if not self.active:
            return None
        try:
            self.admit(name, message, doors.current_header())
        except MessageRefused as exc:
            return exc
        return None

    def validate(self, name: str, message: Any) -> bool:
        """In an update's validator: False when the door refuses who sent it -- the
        handler then records the refusal and rejects it. One refused for what it
        carries (plaintext, undecodable, an id that breaks the rule) is rejected here,
        so neither plaintext nor a name enters history. True: go on to the rules."""
        refused = self.update_refusal(name, message)
        if refused is None:
            return True
        if not refused.forbidden:
            unrecorded_refusals.report(name, refused.reason, self.case_id)
            raise rejection(refused)
        return False

    def refuse(self, rt: RequestRuntime, name: str, exc: MessageRefused,
               method: str = "UPDATE") -> None:
        """Note a refused message: a `signal_refused` timeline entry on the request (name,
        reason, door; never the payload) and an access-log row, recorded by the loop's
        next batch, which this wakes."""
        name = doors.recordable_name(name)  # an unknown name is free text (DESIGN 6)
        workflow.logger.warning("message %s refused at the door: %s", name, exc.reason)
        entry = str(workflow.uuid4())
        detail: dict[str, Any] = {"signal": name, "reason": exc.reason,
                                  "detail": exc.detail, "door": "temporal",
                                  "sent_as": method.lower()}
        if exc.field:
            detail["field"] = exc.field
        if method != "START":
            rt.event(f"refused:{name}:{entry}", "signal_refused", None, **detail)
        rt.access.append(doors.access_entry(
            exc, workflow_id=self.workflow_id, name=name, entry=entry, method=method,
            case_id=self.case_id, at=workflow.now()))
        rt.wake = True

    def handle(self, rt: RequestRuntime, name: str, message: Any) -> None:
        """In an update's handler, before it changes anything: a message the door
        refuses is recorded and rejected to its sender."""
        refused = self.update_refusal(name, message)
        if refused is not None:
            self.refuse(rt, name, refused)
            raise rejection(refused)

    async def run_refusing_cancellation(self, rt: RequestRuntime,
                                        work: Coroutine[Any, Any, Result]) -> Result:
        """The run's `work`, refusing every cancellation requested through Temporal
        meanwhile (workflows/cancellation.py): each is recorded like a refused message
        (`cancel_refused`, method CANCEL) and the request runs on, to end by its rules."""
        if not workflow.patched(DISTRICT_REFUSE_CANCEL):
            return await work
        body = asyncio.create_task(work)

        def refuse() -> None:
            self.refuse(rt, "cancel", MessageRefused(
                "cancel_refused", "a request between districts is not cancelled through "
                "Temporal: it ends by its rules (T1-T4) through the API"), method="CANCEL")

        await refusing_cancellation(body, refuse)
        while rt.access:  # refused as the run ended: its row still goes (its entry cannot)
            await refusing_cancellation(asyncio.create_task(rt.record_access()), refuse)
        return body.result()  # or raises: continue-as-new

    def refuse_unknown(self, rt: RequestRuntime, name: str, args: Sequence[RawValue],
                       method: str) -> MessageRefused:
        """A signal (the district workflows take none) or an update of a name this
        workflow does not know: recorded like any refusal, not buffered for ever or
        rejected unseen (issue 10.3). Behind DISTRICT_UNKNOWN_PATCH: a history recorded
        before it, whose signals were buffered, replays recording nothing."""
        payload = args[0].payload if args else None
        id_field, message_id = doors.readable_id(name, payload)
        refused = MessageRefused("unknown_message", "this request has no message "
                                 f"{doors.recordable_name(name)!r}", id_field=id_field,
                                 message_id=message_id)
        if workflow.patched(DISTRICT_UNKNOWN_PATCH):
            self.refuse(rt, name, refused, method=method)
        return refused


class RefusesUnknownMessages:
    """The four district workflows' handlers for any other signal or update name
    (`DistrictDoor.refuse_unknown`). A subclass sets `door` and its request's runtime,
    `runtime`, in its init."""

    door: DistrictDoor
    runtime: RequestRuntime

    @workflow.signal(dynamic=True)
    def unknown_signal(self, name: str, args: Sequence[RawValue]) -> None:
        self.door.refuse_unknown(self.runtime, name, args, "SIGNAL")

    @workflow.update(dynamic=True)
    def unknown_update(self, name: str, args: Sequence[RawValue]) -> None:
        raise rejection(self.door.refuse_unknown(self.runtime, name, args, "UPDATE"))

    @unknown_update.validator
    def _validate_unknown_update(self, name: str, args: Sequence[RawValue]) -> None:
        """One that is plaintext, or whose name is not an id, is rejected here, so it
        never enters history."""
        refused = doors.refused_before_history(name, args)
        if refused is not None:
            unrecorded_refusals.report(name, refused.reason, self.door.case_id)
            raise rejection(refused)
