"""Connecting to Temporal with the project's data converter, and registering the
custom search attributes (DESIGN decision 5).

Every client -- API, worker, CLI, reconcile -- goes through `connect` so they all share
the pydantic data converter (needed for `date` values) and the payload codec (DESIGN
decision 6): one side writing payloads the other cannot read is then impossible.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from opentelemetry.trace import Tracer
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.failure.v1 import Failure
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import HeaderCodecBehavior
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverter,
    PayloadCodec,
    PayloadConverter,
)
from temporalio.exceptions import ApplicationError
from temporalio.runtime import Runtime
from temporalio.service import RPCError, RPCStatusCode

from casework.caller_envelope import CallerEnvelopeInterceptor, CallerIdentity
from casework.codec import EncryptionCodec, codec_for_settings
from casework.config import SEARCH_ATTRIBUTES, Settings
from casework.telemetry import CaseTracingInterceptor, tracer_for
from models.envelope import is_door_refusal
from models.payloads import CaseworkPayloadConverter

_INDEXED_TYPES = {
    "Keyword": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "Datetime": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "Int": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "Bool": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
    "Text": IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
    "Double": IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
}


class SealedFailureConverter(DefaultFailureConverter):
    """Failure messages and stack traces move into the encoded (sealed) attributes, as
    with the SDK's `DefaultFailureConverterWithEncodedAttributes`, except a refusal at the
    door (issue 10): its message -- `refused (<reason>): <detail>`, naming only the
    reason, roles, message names and ids (workflows/doors.py `rejection`) -- stays
    readable, so a sender without the codec (the Temporal CLI, the UI) learns why instead
    of reading "Encoded failure". Its details and stack trace stay sealed."""

    def __init__(self) -> None:
        super().__init__(encode_common_attributes=True)

    def to_failure(self, exception: BaseException, payload_converter: PayloadConverter,
                   failure: Failure) -> None:
        super().to_failure(exception, payload_converter, failure)
        if isinstance(exception, ApplicationError) and is_door_refusal(exception.message):
            failure.message = exception.message


def make_data_converter(codec: PayloadCodec | None = None) -> DataConverter:
    """The pydantic converter (needed for `date` values), with the payload codec applied.

    The one converter of the project: every client and worker must use the same, or one
    side writes payloads the other cannot read. With a codec, failure messages and stack
    traces also move into an encoded payload, because an error message can quote a case
    id or a date and would otherwise sit in the history in plain text -- but for the
    door's refusals (`SealedFailureConverter`). Without a codec
    (the workflow tests) failures stay as they are, readable in test output.
    """
    base = dataclasses.replace(pydantic_data_converter,
                               payload_converter_class=CaseworkPayloadConverter)
    if codec is None:
        return dataclasses.replace(base, payload_codec=None)
    if isinstance(codec, EncryptionCodec):
        codec = codec.strict()  # issue 10: no plaintext payload reaches a case workflow
    return dataclasses.replace(
        base, payload_codec=codec,
        failure_converter_class=SealedFailureConverter,
    )


def client_options(codec: PayloadCodec | None, *, default_caller: CallerIdentity | None = None,
                   tracer: Tracer | None = None) -> dict[str, Any]:
    """What every client of the service is built with (`Client.connect(**...)` or
    `Client(service_client, **...)`): the data converter; with an encryption codec,
    headers sealed by it too and every message signed with a caller envelope (issue 10).
    With a `tracer` (issue 15), the SDK's TracingInterceptor: spans for each call, and
    their context in a header that a worker built on this client continues (the worker
    takes a client's interceptors that are also worker interceptors).
    """
    options: dict[str, Any] = {"data_converter": make_data_converter(codec)}
    interceptors: list[Any] = []
    if isinstance(codec, EncryptionCodec):
        options["header_codec_behavior"] = HeaderCodecBehavior.CODEC
        interceptors.append(CallerEnvelopeInterceptor(
            codec.caller_keys, codec.active_key_id, default=default_caller))
    if tracer is not None:
        interceptors.append(CaseTracingInterceptor(tracer))
    if interceptors:
        options["interceptors"] = interceptors
    return options


async def connect(settings: Settings, codec: PayloadCodec | None = None, *,
                  runtime: Runtime | None = None, tracer: Tracer | None = None) -> Client:
    """A client of the configured namespace that encrypts every payload.

    The codec defaults to `codec_for_settings`, so no caller can forget it; production
    without `codec_keys` raises `MissingEncryptionKeys` here, before anything is sent.
    `runtime`: the worker's, with the SDK's metrics exporter (casework/telemetry.py);
    `tracer`: default the process's OTLP tracer when one is configured (`tracer_for`).
    """
    return await Client.connect(
        settings.effective_temporal_address,
        namespace=settings.temporal_namespace,
        runtime=runtime,
        **client_options(codec if codec is not None else codec_for_settings(settings),
                         tracer=tracer or tracer_for(settings)),
    )


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the missing custom search attributes; returns the names it added.

    Idempotent, so `casework dev` can call it on every start and a real cluster can be
    prepared with the same code.
    """
    try:
        existing = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        known = set(existing.custom_attributes)
    except RPCError as exc:
        # The time-skipping test server can add search attributes but not list them.
        if exc.status != RPCStatusCode.UNIMPLEMENTED:
            raise
        known = set()
    missing = {
        name: _INDEXED_TYPES[kind]
        for name, kind in SEARCH_ATTRIBUTES.items()
        if name not in known
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)
