"""The signed caller envelope: who sent a message to a case, travelling with it through
Temporal (issue 10, "one rule for every door").

Every message the service sends a case workflow -- its start, each signal and update --
carries a `casework-caller` header: the caller's subject, roles and agency, the action
it was allowed under, the message name, the workflow it is for, and a digest of the
payload, signed with HMAC-SHA256. The key is derived (HKDF) from the payload codec's
keys (casework/codec.py `caller_keys`), so there is no new secret and the same rotation
rule holds: a retired key stays listed while histories need it.

Binding the workflow id, the message name and the payload digest means an envelope
seen in one history cannot be replayed onto another case or another message; nothing
here reads a clock, so verifying is deterministic on replay. Standard library only:
the workflow verifies inside the sandbox with the keys the worker installed when it was
built (`install_keys`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from temporalio.api.common.v1 import Payload

from models.ids import is_id

HEADER = "casework-caller"
"""The Temporal header that carries the envelope."""
ENVELOPE_ENCODING = b"json/plain"
VERSION = 1

_INSTALLED: dict[str, bytes] = {}


class EnvelopeRefused(ValueError):
    """The envelope is missing, unreadable, unsigned by a held key, or for another
    message; `reason` is a short code the timeline and access log record."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Envelope:
    subject: str
    roles: tuple[str, ...]
    agency_id: str | None
    action: str
    message: str
    workflow_id: str
    digest: str
    key_id: str
    district_id: str | None = None
    """The district a CP staff member acts for (T1-T4), None for state-wide staff and
    everyone else. In the signed body only when set, so envelopes signed before it
    existed verify unchanged."""


def install_keys(keys: Mapping[str, bytes]) -> None:
    """Make `keys` available to workflow code (called when a worker is built). Added to,
    never replaced: several workers in one process (tests) each bring their own."""
    _INSTALLED.update(keys)


def installed_keys() -> Mapping[str, bytes]:
    return dict(_INSTALLED)


def payload_digest(payload: Payload) -> str:
    """SHA-256 of the payload's encoding and data: what the envelope vouches for."""
    encoding = payload.metadata.get("encoding", b"")
    return hashlib.sha256(encoding + b"\0" + payload.data).hexdigest()


def _body(envelope: Envelope) -> dict[str, Any]:
    return {"v": VERSION, "sub": envelope.subject, "roles": list(envelope.roles),
            "agency_id": envelope.agency_id, "action": envelope.action,
            "message": envelope.message, "workflow_id": envelope.workflow_id,
            "digest": envelope.digest, "kid": envelope.key_id,
            **({"district_id": envelope.district_id} if envelope.district_id is not None
               else {})}


def _signature(body: Mapping[str, Any], key: bytes) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(key, canonical, hashlib.sha256).hexdigest()


def seal(envelope: Envelope, key: bytes) -> Payload:
    """The header payload: the envelope and its signature under `key` (whose id is
    `envelope.key_id`)."""
    body = _body(envelope)
    body["sig"] = _signature(body, key)
    return Payload(metadata={"encoding": ENVELOPE_ENCODING},
                   data=json.dumps(body, sort_keys=True).encode())


def open_envelope(header: Payload | None, keys: Mapping[str, bytes], *, message: str,
                  workflow_id: str, digest: str) -> Envelope:
    """The verified envelope of message `message` to `workflow_id` whose payload has
    `digest`; raises `EnvelopeRefused` otherwise. Pure: same inputs, same answer."""
    if header is None:
        raise EnvelopeRefused("no_envelope", "the message carries no signed caller envelope")
    if header.metadata.get("encoding") != ENVELOPE_ENCODING:
        raise EnvelopeRefused("plaintext" if header.metadata.get("encoding") == REFUSED_MARK
                              else "forged_envelope", "the caller envelope is not readable")
    try:
        body = json.loads(header.data)
        if not isinstance(body, dict) or body.get("v") != VERSION:
            raise ValueError("version")
        envelope = Envelope(
            subject=str(body["sub"]), roles=tuple(str(r) for r in body["roles"]),
            agency_id=None if body["agency_id"] is None else str(body["agency_id"]),
            action=str(body["action"]), message=str(body["message"]),
            workflow_id=str(body["workflow_id"]), digest=str(body["digest"]),
            key_id=str(body["kid"]),
            district_id=None if body.get("district_id") is None else str(body["district_id"]))
        signature = str(body["sig"])
    except (ValueError, KeyError, TypeError):
        raise EnvelopeRefused("forged_envelope", "the caller envelope is malformed") from None
    key = keys.get(envelope.key_id)
    if key is None:
        # Not verified yet: the sender's text, quoted only when it is an id.
        named = repr(envelope.key_id) if is_id(envelope.key_id) else "an unreadable id"
        raise EnvelopeRefused("forged_envelope",
                              f"the caller envelope names key {named}, which this worker "
                              "does not hold")
    if not hmac.compare_digest(signature, _signature(_body(envelope), key)):
        raise EnvelopeRefused("forged_envelope", "the caller envelope's signature is wrong")
    if (envelope.message, envelope.workflow_id, envelope.digest) != (message, workflow_id,
                                                                      digest):
        raise EnvelopeRefused("stale_envelope", "the caller envelope was signed for another "
                              "message, case or payload")
    return envelope


REFUSAL_PREFIX = "refused ("
"""How the message of every refusal at the door begins: `refused (<reason>): <detail>`.
Such a message names only the reason, roles, message names and ids, so the failure
converter leaves it readable to a sender without the codec (casework/temporal_client.py)."""


def is_door_refusal(message: str) -> bool:
    return message.startswith(REFUSAL_PREFIX)


REFUSED_MARK = b"binary/casework-refused-plaintext"
"""`encoding` of the payload the strict codec puts in place of a plaintext one
(casework/codec.py): it carries no data, so nothing plaintext goes further."""
