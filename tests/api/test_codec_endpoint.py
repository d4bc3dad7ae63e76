"""Issue 6 / DESIGN decision 6: the remote codec endpoint the Temporal UI uses.

Round trip and key rotation through `/codec/encode` and `/codec/decode`; only operations
and admin may call it; the UI's origin gets through CORS (its preflight needs no token),
other origins do not."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from google.protobuf import json_format
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.api.common.v1 import Payload, Payloads

from casework.codec import ENCRYPTED_ENCODING, KEY_ID_METADATA, EncryptionCodec
from casework.tokens import Role
from models.tables import AccessLogRow
from tests.api.conftest import UI_ORIGIN, ApiClient, assert_problem

SECRET = {"case_id": "case-codec-1", "due_date": "2027-03-01"}


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _plain_payloads() -> dict[str, Any]:
    return {"payloads": [
        {"metadata": {"encoding": _b64(b"json/plain")}, "data": _b64(json.dumps(SECRET).encode())},
        {"metadata": {"encoding": _b64(b"binary/null")}},
    ]}


def _payloads(body: dict[str, Any]) -> list[Payload]:
    return list(json_format.ParseDict(body, Payloads()).payloads)


@pytest.fixture
def operations(api: ApiClient) -> ApiClient:
    return api.as_role(Role.OPERATIONS)


async def test_encode_then_decode_gives_back_the_payloads(operations: ApiClient) -> None:
    encoded = await operations.post("/codec/encode", json=_plain_payloads(),
                                    headers={"X-Namespace": "default"})
    assert encoded.status_code == 200, encoded.text
    sealed = _payloads(encoded.json())
    assert [p.metadata["encoding"] for p in sealed] == [ENCRYPTED_ENCODING] * 2
    assert {p.metadata[KEY_ID_METADATA] for p in sealed} == {b"k2"}, "the first key seals"
    assert b"case-codec-1" not in b"".join(p.SerializeToString() for p in sealed)

    decoded = await operations.post("/codec/decode", json=encoded.json(),
                                    headers={"X-Namespace": "default"})
    assert decoded.status_code == 200, decoded.text
    assert _payloads(decoded.json()) == _payloads(_plain_payloads())


async def test_key_rotation_history_sealed_with_the_old_key_still_decodes(
        operations: ApiClient, old_codec_key: str) -> None:
    """The settings list `k2` (new, first: it seals) then `k1` (retired: it only opens)."""
    retired = EncryptionCodec({"k1": base64.b64decode(old_codec_key)}, "k1")
    old = await retired.encode(_payloads(_plain_payloads()))
    body = json_format.MessageToDict(Payloads(payloads=old))

    decoded = await operations.post("/codec/decode", json=body)
    assert decoded.status_code == 200, decoded.text
    assert _payloads(decoded.json()) == _payloads(_plain_payloads())


async def test_a_payload_sealed_with_an_unknown_key_is_refused_naming_it(
        operations: ApiClient) -> None:
    stranger = EncryptionCodec({"k9": b"\x01" * 32}, "k9")
    body = json_format.MessageToDict(Payloads(payloads=await stranger.encode(
        _payloads(_plain_payloads()))))
    problem = assert_problem(await operations.post("/codec/decode", json=body), 422,
                             field="payloads")
    assert "'k9'" in problem["detail"]


async def test_garbage_and_other_namespaces_are_refused(operations: ApiClient) -> None:
    assert_problem(await operations.post("/codec/decode", json={"payloads": "nope"}), 422,
                   field="payloads")
    assert_problem(await operations.post("/codec/decode", json=_plain_payloads(),
                                         headers={"X-Namespace": "other"}), 422,
                   field="X-Namespace")


@pytest.mark.parametrize("path", ["/codec/encode", "/codec/decode"])
async def test_the_codec_refuses_anonymous_and_non_operations_callers(
        api: ApiClient, path: str) -> None:
    assert_problem(await api.with_token(None).post(path, json=_plain_payloads()), 401)
    for role in (Role.PRACTITIONER, Role.TEAM_MANAGER, Role.CASE_PLANNER):
        assert_problem(await api.as_role(role).post(path, json=_plain_payloads()), 403)
    for role in (Role.AGENCY, Role.INTEGRATION):
        client = api.as_role(role, agency="agency-codec")
        assert_problem(await client.post(path, json=_plain_payloads()), 403)
    assert (await api.as_role(Role.ADMIN).post(path, json=_plain_payloads())).status_code == 200


async def test_the_ui_origin_passes_cors_and_its_preflight_needs_no_token(
        api: ApiClient) -> None:
    anonymous = api.with_token(None)
    preflight = await anonymous.options("/codec/decode", headers={
        "Origin": UI_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace"})
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == UI_ORIGIN
    allowed = preflight.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-namespace"} <= set(allowed.replace(" ", "")
                                                                   .split(","))
    actual = await api.as_role(Role.OPERATIONS).post(
        "/codec/decode", json=_plain_payloads(), headers={"Origin": UI_ORIGIN})
    assert actual.status_code == 200
    assert actual.headers["access-control-allow-origin"] == UI_ORIGIN
    refused = await anonymous.post("/codec/decode", json={}, headers={"Origin": UI_ORIGIN})
    assert refused.status_code == 401, "the UI can read why it was refused"
    assert refused.headers["access-control-allow-origin"] == UI_ORIGIN


async def test_cors_keeps_the_ui_and_the_front_end_apart(api: ApiClient) -> None:
    """The front-end may not decrypt history; the UI may not call the rest of the API."""
    front_to_codec = await api.options("/codec/decode", headers={
        "Origin": "https://front.example", "Access-Control-Request-Method": "POST"})
    assert front_to_codec.status_code == 400
    assert "access-control-allow-origin" not in front_to_codec.headers
    ui_to_cases = await api.options("/cases", headers={
        "Origin": UI_ORIGIN, "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in ui_to_cases.headers
    evil = await api.options("/codec/decode", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert evil.status_code == 400


async def test_decoding_is_in_the_access_log(
        api: ApiClient, sessions: async_sessionmaker[AsyncSession]) -> None:
    """Decrypting history discloses case data: who did it is recorded."""
    client = api.as_role(Role.OPERATIONS, subject="ops-who-decoded")
    assert (await client.post("/codec/decode", json=_plain_payloads())).status_code == 200
    async with sessions() as session:
        rows = (await session.scalars(select(AccessLogRow).where(
            AccessLogRow.subject == "ops-who-decoded"))).all()
    assert [(r.action, r.status_code) for r in rows] == [("decode_payloads", 200)]
