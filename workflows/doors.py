"""One rule for every door (issue 10): what the case workflow checks of every message,
however it arrived -- through the REST API, `casework send`, a Temporal signal or update
from the CLI, the UI's "Send a Signal", or an SDK.

A message is applied only when
1. its payload is readable: not plaintext (the strict codec marks it, models/payloads.py),
   converts to the message's dataclass, and every id in it has the shape the REST API
   requires (models/ids.py) -- names and free text never enter history;
2. it carries a valid signed caller envelope (models/envelope.py) for this message, this
   case and this payload;
3. the envelope's roles may send it (models/permissions.py, the API's own table), and an
   agency-scoped caller is the case's agency while its contract is in force (C7);
4. who acted is the envelope's subject: an actor field left empty is filled with it, one
   naming somebody else is refused unless the caller is an admin.

Anything else raises `MessageRefused` with a short `reason`, the field at fault and the
message's id where one can be read (never a value that failed the id rule). Pure
functions of their inputs: the workflow calls them from its handlers, deterministically.

Signal handlers take `RawValue` and convert here, so a payload that cannot be converted
is refused and recorded instead of dropped by the SDK with the payload in its log; the
dynamic handler refuses an unknown name instead of buffering it for ever. Headers reach
the handlers through `DoorsInterceptor`, which puts each message's headers where
`current_headers` finds them for the duration of that handler.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.common import RawValue
from temporalio.converter import PayloadConverter
from temporalio.exceptions import ApplicationError
from temporalio.worker import (
    ExecuteWorkflowInput,
    HandleSignalInput,
    HandleUpdateInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from models.effects import AccessEntry
from models.envelope import (
    HEADER,
    REFUSAL_PREFIX,
    REFUSED_MARK,
    EnvelopeRefused,
    open_envelope,
    payload_digest,
)
from models.ids import is_id, is_person_ref, recordable_workflow_id
from models.messages import (
    AssessReport,
    CalendarChanged,
    CloseAudit,
    CloseCase,
    CompleteTask,
    EndorseContract,
    RaiseEvent,
    RecordAuditFindings,
    RecordContact,
    RequestReview,
    ReviewOutcome,
    SubmitReport,
)
from models.payloads import RefusedPayload, raw_digest, read_at_the_door
from models.permissions import MESSAGE_ACTIONS, Action, message_roles
from models.roles import AGENCY_SCOPED_ROLES, Role
from workflows.errors import FORBIDDEN, INVALID

DOORS_PATCH = "one-rule-for-every-door"
"""Patch id: messages are checked at the door (issue 10). Histories recorded before it
replay with messages applied as the SDK converted them."""

MESSAGE_TYPES: Mapping[str, type] = {
    "endorse": EndorseContract, "submit_report": SubmitReport,
    "assess_report": AssessReport, "raise_event": RaiseEvent,
    "record_audit_findings": RecordAuditFindings, "close_audit": CloseAudit,
    "complete_task": CompleteTask, "close_case": CloseCase,
    "request_review": RequestReview, "record_review_outcome": ReviewOutcome,
    "record_contact": RecordContact, "calendar_changed": CalendarChanged,
}
"""Every message the workflow accepts, by name, with its payload's dataclass."""
read_at_the_door(*MESSAGE_TYPES.values())

MESSAGE_ID_FIELDS: Mapping[str, str] = {
    "submit_report": "report_id", "assess_report": "report_id", "raise_event": "event_id",
    "record_audit_findings": "audit_id", "close_audit": "audit_id",
    "complete_task": "task_id", "close_case": "summary_id", "request_review": "review_id",
    "record_review_outcome": "review_id", "record_contact": "contact_id",
    "calendar_changed": "event_id",
}
"""The id that names a message on its refusal entry (the endorsement has none)."""
_ANY_ID_FIELDS = tuple(dict.fromkeys(MESSAGE_ID_FIELDS.values()))

ACTOR_FIELDS: Mapping[str, str] = {
    "submit_report": "submitted_by", "assess_report": "assessed_by",
    "raise_event": "raised_by", "record_audit_findings": "recorded_by",
    "close_audit": "closed_by", "complete_task": "completed_by", "close_case": "closed_by",
    "request_review": "requested_by", "record_review_outcome": "decided_by",
    "record_contact": "by", "endorse": "endorsement.team_manager_id",
}
"""Who acted, per message: attributed to the envelope's subject (as api/actors.py does)."""
_PERSON_FIELDS = frozenset(f.rsplit(".", 1)[-1] for f in ACTOR_FIELDS.values())
ON_BEHALF = frozenset({Role.ADMIN.value})

FORBIDDEN_REASONS = frozenset({"no_envelope", "forged_envelope", "stale_envelope",
                               "wrong_role", "other_agency", "other_district", "actor",
                               "cancel_refused"})
"""Reasons that are about who sent the message (403 in the access log); the others are
about what was sent (422)."""


class MessageRefused(Exception):
    """A message the door will not let in; see the module docstring."""

    def __init__(self, reason: str, detail: str, *, field: str = "",
                 message_id: str | None = None, id_field: str | None = None,
                 admission: Admission | None = None) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.field = field
        self.message_id = message_id
        self.id_field = id_field
        self.admission = admission

    @property
    def forbidden(self) -> bool:
        return self.reason in FORBIDDEN_REASONS


def plaintext_refused() -> MessageRefused:
    """Why a payload the strict codec marked (models/payloads.py) is refused."""
    return MessageRefused("plaintext", "the payload was not encrypted by the service's "
                          "codec: plaintext is refused")


def refused_payload(name: str, value: RefusedPayload, kind: type | None = None
                    ) -> MessageRefused:
    """Why a payload that stood in for message or input `name` (of type `kind`, by
    default the case message's) is refused: plaintext, or not the shape of its type."""
    if value.reason == "plaintext":
        return plaintext_refused()
    kind = kind or MESSAGE_TYPES.get(name)
    what = kind.__name__ if kind else f"{recordable_name(name)} message"
    return MessageRefused("undecodable", f"the payload is not a {what} "
                          "(see docs/workflow-messages.md)")


def refused_before_history(name: str, args: Sequence[RawValue]) -> MessageRefused | None:
    """Why an update of an unknown name is refused by its validator, so that nothing of
    it enters history: a plaintext payload, or a name that is not an id (the sender's
    free text, perhaps a person's name). None: let it in, to be recorded and rejected."""
    if any(arg.payload.metadata.get("encoding") == REFUSED_MARK for arg in args):
        return plaintext_refused()
    if not is_id(name):
        return MessageRefused("unknown_message",
                              f"this workflow has no message {UNREADABLE_NAME!r}")
    return None


def rejection(exc: MessageRefused) -> ApplicationError:
    """A refused message's error to its sender: 403-like for who sent it, else invalid
    (the API's `refusal` maps the type; the reason is in the message and details). The
    message stays readable without the codec (models/envelope.py `REFUSAL_PREFIX`)."""
    kind = FORBIDDEN if exc.forbidden else INVALID
    details = {"kind": kind, "rule": "C7" if exc.reason == "other_agency" else "",
               "field": exc.field, "message": exc.detail, "reason": exc.reason}
    return ApplicationError(f"{REFUSAL_PREFIX}{exc.reason}): {exc.detail}", details,
                            type=kind, non_retryable=True)


@dataclass(frozen=True)
class Admission:
    """The verified sender of one message."""

    subject: str
    roles: tuple[str, ...]
    agency_id: str | None
    action: str
    district_id: str | None = None


UNREADABLE_NAME = "(unreadable name)"
"""What a refusal records for a message name that is not shaped like an id."""


def recordable_name(name: str) -> str:
    """The message name as a refusal may record it (timeline, access-log path, log):
    itself when it has the shape of an id (models/ids.py), else `UNREADABLE_NAME`. An
    unknown signal's name is the sender's free text -- it could be a child's name --
    and DESIGN decision 6 keeps names out of history and the read model."""
    return name if is_id(name) else UNREADABLE_NAME


def access_entry(exc: MessageRefused, *, workflow_id: str, name: str, entry: str,
                 method: str, case_id: str, at: Any) -> AccessEntry:
    """The access-log row of a refusal at the Temporal door: who (the envelope's sender,
    else `unauthenticated`), what (`method`, path `temporal:<workflow id>/<name>#<entry>`,
    both as they may be recorded), 403 for who sent it, else 422."""
    sender = exc.admission
    workflow_id = recordable_workflow_id(workflow_id)
    return AccessEntry(
        at=at, subject=sender.subject if sender else "unauthenticated",
        roles=",".join(sender.roles) if sender else None,
        agency_id=sender.agency_id if sender else None, method=method,
        path=f"temporal:{workflow_id}/{recordable_name(name)}#{entry}",
        action=sender.action if sender else None,
        case_id=case_id if is_id(case_id) else "",
        status_code=403 if exc.forbidden else 422, outcome="refused")


# ---------------------------------------------------------------- reading a payload
def readable_id(name: str, payload: Payload | None) -> tuple[str | None, str | None]:
    """(id field, id) of a payload that could not be converted, where one can be read and
    has the shape of an id; never a value that breaks the id rule."""
    if payload is None or payload.metadata.get("encoding") != b"json/plain":
        return None, None
    try:
        body = json.loads(payload.data)
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    fields = [MESSAGE_ID_FIELDS[name]] if name in MESSAGE_ID_FIELDS else list(_ANY_ID_FIELDS)
    for field in fields:
        if field in body:
            value = body[field]
            return field, value if is_id(value) else None
    return None, None


def id_of(name: str, message: Any) -> tuple[str | None, str | None]:
    field = MESSAGE_ID_FIELDS.get(name)
    if field is None:
        return None, None
    value = getattr(message, field, None)
    return field, value if is_id(value) else None


def read_message(name: str, payload: Payload, converter: PayloadConverter) -> Any:
    """The message `name` carried by `payload`, converted and its ids checked."""
    kind = MESSAGE_TYPES.get(name)
    if kind is None:
        id_field, message_id = readable_id(name, payload)
        raise MessageRefused("unknown_message",
                             f"this case has no message {recordable_name(name)!r}",
                             id_field=id_field, message_id=message_id)
    if payload.metadata.get("encoding") == REFUSED_MARK:
        raise plaintext_refused()
    message: Any
    try:
        message = converter.from_payload(payload, kind)
    except Exception:  # whatever the converter raises; its text may quote the payload
        message = None
    if not isinstance(message, kind):
        id_field, message_id = readable_id(name, payload)
        raise MessageRefused("undecodable", f"the payload is not a {kind.__name__} "
                             "(see docs/workflow-messages.md)",
                             id_field=id_field, message_id=message_id)
    check_message(name, message)
    return message


def check_message(name: str, message: Any) -> None:
    """Raise `bad_id` when an id or actor field breaks the REST API's id rules."""
    if isinstance(message, RefusedPayload):
        raise refused_payload(name, message)
    bad = _bad_field(message, "")
    if bad is not None:
        id_field, message_id = id_of(name, message)
        raise MessageRefused("bad_id", f"{bad} is not an id (letters, digits, '.', '_', "
                             "':', '-'; at most 64): ids travel into history, names never",
                             field=bad, id_field=id_field, message_id=message_id)


def _bad_field(value: Any, path: str) -> str | None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _bad_field(item, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return None
    for field in dataclasses.fields(value):
        item = getattr(value, field.name)
        where = f"{path}.{field.name}" if path else field.name
        if field.name in _PERSON_FIELDS:
            if not is_person_ref(item):
                return where
        elif field.name.endswith(("_id", "_version")):
            if item is not None and not is_id(item):
                return where
        else:
            found = _bad_field(item, where)
            if found is not None:
                return found
    return None


# ---------------------------------------------------------------- who sent it
def sent_digest(message: Any, converter: PayloadConverter) -> str:
    """The digest of the payload `message` arrived in, which its envelope signed: read
    from the payload itself (models/payloads.py `raw_digest`), so a message type that
    gains a field still matches the envelopes recorded before; re-serialised only for a
    value that came from no payload."""
    return raw_digest(message) or payload_digest(converter.to_payload(message))


def admit(name: str, message: Any, header: Payload | None, *, digest: str,
          keys: Mapping[str, bytes], workflow_id: str, case_agency_id: str,
          in_force: bool, table: Mapping[str, tuple[Action, ...]] = MESSAGE_ACTIONS
          ) -> Admission:
    """The verified sender of `message`, allowed to send it to this case; else raises.
    `table`: the workflow's messages and their actions (the case workflow's by default;
    a district workflow passes its own, models/permissions.py)."""
    id_field, message_id = id_of(name, message)
    try:
        envelope = open_envelope(header, keys, message=name, workflow_id=workflow_id,
                                 digest=digest)
    except EnvelopeRefused as exc:
        raise MessageRefused(exc.reason, exc.detail, id_field=id_field,
                             message_id=message_id) from None
    admission = Admission(envelope.subject, envelope.roles, envelope.agency_id,
                          envelope.action, envelope.district_id)
    granted = set(envelope.roles) & {role.value for role in message_roles(
        name, envelope.action, table)}
    if not granted:
        raise MessageRefused("wrong_role", f"roles {', '.join(envelope.roles) or 'none'} may "
                             f"not send {name}", id_field=id_field, message_id=message_id,
                             admission=admission)
    if granted <= {role.value for role in AGENCY_SCOPED_ROLES} and (
            envelope.agency_id != case_agency_id or not in_force):
        # C7: as the API answers, the same as a case that is not there.
        raise MessageRefused("other_agency", "C7: this case is not the caller's agency's "
                             "contract in force", id_field=id_field, message_id=message_id,
                             admission=admission)
    return admission


def attribute(name: str, message: Any, admission: Admission) -> Any:
    """`message` with who acted set to the envelope's subject (api/actors.py's rule)."""
    path = ACTOR_FIELDS.get(name)
    if path is None:
        return message
    owner_path, _, field = path.rpartition(".")
    owner = getattr(message, owner_path) if owner_path else message
    given = getattr(owner, field)
    if given and given != admission.subject:
        if ON_BEHALF & set(admission.roles):
            return message
        id_field, message_id = id_of(name, message)
        raise MessageRefused("actor", f"{path} must be the sender's own id or left out",
                             field=path, id_field=id_field, message_id=message_id,
                             admission=admission)
    if given:
        return message
    if not is_person_ref(admission.subject):
        raise MessageRefused("actor", f"the sender's subject cannot be recorded as {path}",
                             field=path, admission=admission)
    changed = dataclasses.replace(owner, **{field: admission.subject})
    return dataclasses.replace(message, **{owner_path: changed}) if owner_path else changed


# ---------------------------------------------------------------- headers
_HEADERS: ContextVar[Mapping[str, Payload] | None] = ContextVar("casework_headers",
                                                                default=None)
_START: ContextVar[Mapping[str, Payload] | None] = ContextVar("casework_start_headers",
                                                              default=None)


def current_header() -> Payload | None:
    """The caller envelope of the message being handled (None: none came)."""
    headers = _HEADERS.get() or {}
    return headers.get(HEADER)


def start_header() -> Payload | None:
    """The caller envelope of the workflow's start (read at the top of `run`)."""
    headers = _START.get() or {}
    return headers.get(HEADER)


class _DoorsInbound(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        _START.set(input.headers)
        return await super().execute_workflow(input)

    async def handle_signal(self, input: HandleSignalInput) -> None:
        token = _HEADERS.set(input.headers)
        try:
            await super().handle_signal(input)
        finally:
            _HEADERS.reset(token)

    def handle_update_validator(self, input: HandleUpdateInput) -> None:
        token = _HEADERS.set(input.headers)
        try:
            super().handle_update_validator(input)
        finally:
            _HEADERS.reset(token)

    async def handle_update_handler(self, input: HandleUpdateInput) -> Any:
        token = _HEADERS.set(input.headers)
        try:
            return await super().handle_update_handler(input)
        finally:
            _HEADERS.reset(token)


class DoorsInterceptor(Interceptor):
    """The worker interceptor that hands each message's headers to its handler."""

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput
                                   ) -> type[WorkflowInboundInterceptor] | None:
        return _DoorsInbound
