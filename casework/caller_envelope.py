"""The client side of "one rule for every door" (issue 10): every message the service
sends a case workflow carries a signed caller envelope (models/envelope.py).

`CallerEnvelopeInterceptor` is installed on the service's Temporal clients (API, worker,
`casework send`; casework/temporal_client.py). Before a start, signal or update leaves,
it converts the argument to its payload (so the digest it signs is of exactly the bytes
sent), and adds the `casework-caller` header naming the caller of the current request:
`acting_as` sets it, the API's permission dependency does so for every request
(api/permissions.py). Without a caller no envelope is added, and the workflow refuses
the message like one sent from the Temporal CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import (
    Interceptor,
    OutboundInterceptor,
    SignalWorkflowInput,
    StartWorkflowInput,
    StartWorkflowUpdateInput,
    WorkflowHandle,
    WorkflowUpdateHandle,
)
from temporalio.common import RawValue
from temporalio.converter import PayloadConverter

from models.envelope import HEADER, Envelope, payload_digest, seal
from models.payloads import CaseworkPayloadConverter
from models.permissions import MESSAGE_ACTIONS, message_actions


@dataclass(frozen=True)
class CallerIdentity:
    """Who is sending, as verified by the door they came through (a token)."""

    subject: str
    roles: tuple[str, ...]
    agency_id: str | None
    action: str | None = None
    """The permission the caller was allowed under (models/permissions.py `Action`);
    None: the message's own action."""
    district_id: str | None = None
    """The token's district (T1-T4 scoping), None for state-wide staff."""


_CURRENT: ContextVar[CallerIdentity | None] = ContextVar("casework_caller", default=None)


def acting_as(identity: CallerIdentity | None) -> None:
    """Messages sent from this context on carry `identity` (the request's task)."""
    _CURRENT.set(identity)


def current_caller() -> CallerIdentity | None:
    return _CURRENT.get()


def start_message_name() -> str:
    """A workflow start is signed as the message `start` (action register_case)."""
    return "start"


class CallerEnvelopeInterceptor(Interceptor):
    """Signs every start, signal and update with the current caller's envelope.

    `keys` are the envelope keys (`EncryptionCodec.caller_keys`); `active_key_id` signs.
    `default` is the caller when none is set (the test clients act as one caller)."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str, *,
                 default: CallerIdentity | None = None,
                 converter: PayloadConverter | None = None) -> None:
        self.key = keys[active_key_id]
        self.key_id = active_key_id
        self.default = default
        self.converter = converter or CaseworkPayloadConverter()

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Signing(next, self)

    def sign(self, message: str, workflow_id: str, args: Any, headers: Mapping[str, Payload],
             workflow_type: str | None = None) -> tuple[list[Any], Mapping[str, Payload]]:
        """The args as raw payloads, and the headers with the envelope added (unchanged
        when there is no caller or not exactly one argument). The action is looked up in
        the message table of the workflow's type (a district workflow's own, T1-T4)."""
        caller = current_caller() or self.default
        if caller is None or len(args) != 1:
            return list(args), headers
        arg = args[0]
        payload = arg.payload if isinstance(arg, RawValue) else self.converter.to_payload(arg)
        table = message_actions(workflow_id, workflow_type)
        allowed = [a.value for a in table.get(message, ())]
        action = caller.action if caller.action in allowed else (allowed or [""])[0]
        # The district is signed only for the district workflows, whose door scopes by it
        # (T1-T4): a case's envelopes stay as workers before it verify them.
        district = caller.district_id if table is not MESSAGE_ACTIONS else None
        envelope = Envelope(subject=caller.subject, roles=tuple(caller.roles),
                            agency_id=caller.agency_id, action=action, message=message,
                            workflow_id=workflow_id, digest=payload_digest(payload),
                            key_id=self.key_id, district_id=district)
        return [RawValue(payload)], {**headers, HEADER: seal(envelope, self.key)}


class _Signing(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, parent: CallerEnvelopeInterceptor) -> None:
        super().__init__(next)
        self._parent = parent

    async def start_workflow(self, input: StartWorkflowInput) -> WorkflowHandle[Any, Any]:
        input.args, input.headers = self._parent.sign(start_message_name(), input.id,
                                                      input.args, input.headers,
                                                      input.workflow)
        return await super().start_workflow(input)

    async def signal_workflow(self, input: SignalWorkflowInput) -> None:
        input.args, input.headers = self._parent.sign(input.signal, input.id, input.args,
                                                      input.headers)
        await super().signal_workflow(input)

    async def start_workflow_update(self, input: StartWorkflowUpdateInput
                                    ) -> WorkflowUpdateHandle[Any]:
        input.args, input.headers = self._parent.sign(input.update, input.id, input.args,
                                                      input.headers)
        return await super().start_workflow_update(input)
