"""Temporal's remote codec protocol, so operations staff can read encrypted history.

The Temporal UI (and `temporal workflow show --codec-endpoint ...`) POST the payloads of
a history here to see them decrypted, and POST operator input to be encrypted like any
other payload (DESIGN decision 6). Decrypting history discloses case data, so the
endpoint sits behind the same tokens as the rest of the API, for operations and admin
only (see api/permissions.py), and each call is in the access log. The UI's preflight
(OPTIONS) is answered by the CORS middleware without a token (api/cors.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header

from api.deps import StateDep
from api.errors import Unprocessable
from api.openapi import problems
from api.permissions import Action, permitted
from casework.codec import (
    CodecRequestError,
    PayloadDecryptionError,
    UnknownEncryptionKey,
    decode_json,
    encode_json,
)

router = APIRouter(prefix="/codec", tags=["codec"])

PayloadsJson = Annotated[dict[str, Any], Body(
    description="proto3 JSON of `temporal.api.common.v1.Payloads`: "
    '`{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}`.')]
NamespaceHeader = Annotated[str | None, Header(
    alias="X-Namespace", description="The namespace the payloads belong to (the UI sends it).")]


def _check_namespace(state: StateDep, namespace: str | None) -> None:
    """This codec holds the keys of one namespace; payloads of another are not ours to
    open, and encoding them with our key would make them unreadable there."""
    expected = state.settings.temporal_namespace
    if namespace is not None and namespace != expected:
        raise Unprocessable(f"This codec serves namespace {expected!r} only.",
                            field="X-Namespace")


@router.post("/encode", dependencies=[Depends(permitted(Action.ENCODE_PAYLOADS))],
             summary="Encrypt payloads (Temporal remote codec protocol)",
             responses=problems())
async def encode(body: PayloadsJson, state: StateDep,
                 namespace: NamespaceHeader = None) -> dict[str, Any]:
    _check_namespace(state, namespace)
    try:
        return await encode_json(state.codec, body)
    except CodecRequestError as exc:
        raise Unprocessable(str(exc), field="payloads") from exc


@router.post("/decode", dependencies=[Depends(permitted(Action.DECODE_PAYLOADS))],
             summary="Decrypt history payloads (Temporal remote codec protocol)",
             responses=problems())
async def decode(body: PayloadsJson, state: StateDep,
                 namespace: NamespaceHeader = None) -> dict[str, Any]:
    """Payloads that are not encrypted come back unchanged. A payload sealed with a key
    this deployment no longer holds, or altered, is refused naming the key id."""
    _check_namespace(state, namespace)
    try:
        return await decode_json(state.codec, body)
    except (CodecRequestError, UnknownEncryptionKey, PayloadDecryptionError) as exc:
        raise Unprocessable(str(exc), field="payloads") from exc
