"""Payload encryption for everything casework sends through Temporal (DESIGN decision 6).

Workflow histories live in Temporal's database for years and are readable by anyone
with access to that database or to the Temporal UI. Even though workflows carry ids and
dates rather than names or report contents, every payload is encrypted before it leaves
the process, so a leaked history or an over-broad UI login reveals nothing about a
child. Authorised operations staff read payloads through the remote codec endpoint
(`encode_json` / `decode_json` below), which the API guards with a token.

Keys are named (`k1`, `k2`, ...) and every encrypted payload records the name of the key
that sealed it. Rotating means adding a new key, making it active and keeping the old
ones for as long as histories encrypted with them may be read.
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from casework.config import Settings
from models.payloads import refused_payload

ENCRYPTED_ENCODING = b"binary/encrypted"
"""`encoding` metadata of a payload sealed by `EncryptionCodec`."""
KEY_ID_METADATA = "encryption-key-id"
"""Metadata entry naming the key that sealed a payload, so rotation needs no guessing."""
KEY_SIZE_BYTES = 32
"""AES-256: one key size everywhere, so a short key is always a configuration mistake."""
NONCE_SIZE_BYTES = 12
"""The GCM standard nonce size; random nonces of this size are safe for ~2**32 messages
per key, far beyond what one key will seal before it is rotated."""
_TAG_SIZE_BYTES = 16
EMBEDDED_KEY_ID = "local1"
"""Id of the key `casework dev` creates; distinct from ids people choose (k1, k2 ...) so a
production key list never silently shadows it."""


class UnknownEncryptionKey(ValueError):
    """A payload was sealed with a key this process does not hold.

    Usually a rotation mistake: the old key was removed while histories encrypted with
    it are still being read. The message names the key id so operators know which key
    to restore.
    """

    def __init__(self, key_id: str) -> None:
        super().__init__(
            f"payload was encrypted with key {key_id!r}, which is not configured; "
            "keep retired keys in the key list until no history needs them"
        )
        self.key_id = key_id


class PayloadDecryptionError(ValueError):
    """An encrypted payload is malformed or was altered after it was sealed.

    GCM authenticates the ciphertext and the key id, so any change to either ends
    here rather than producing silently corrupted workflow input.
    """


class MissingEncryptionKeys(RuntimeError):
    """Production was started without `codec_keys`: refuse rather than write plaintext
    history or invent a key no other process holds."""


class CodecRequestError(ValueError):
    """A remote-codec request body is not the JSON form of `temporal.api.common.v1.Payloads`.

    A separate type so the HTTP route can answer 400 without catching unrelated errors.
    """


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over the whole serialised payload, metadata included.

    Encrypting the serialised `Payload` (not just its data) also hides the original
    encoding and any type hints in its metadata. The key id is bound as associated
    data, so a payload cannot be relabelled to be decrypted under another key.
    """

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str, *,
                 strict: bool = False) -> None:
        if not keys:
            raise ValueError("at least one encryption key is required")
        for key_id, key in keys.items():
            _check_key_id(key_id)
            if len(key) != KEY_SIZE_BYTES:
                raise ValueError(
                    f"encryption key {key_id!r} is {len(key)} bytes; "
                    f"expected {KEY_SIZE_BYTES} (AES-256)"
                )
        if active_key_id not in keys:
            raise ValueError(
                f"active encryption key {active_key_id!r} is not among the configured "
                f"keys ({', '.join(sorted(keys))})"
            )
        self._ciphers: dict[str, AESGCM] = {
            key_id: AESGCM(bytes(key)) for key_id, key in keys.items()
        }
        self._active_key_id = active_key_id
        self._keys = dict(keys)
        self._strict = strict

    def strict(self) -> EncryptionCodec:
        """The same keys, refusing plaintext on decode (issue 10): what every client and
        worker of a case workflow uses (`make_data_converter`). A plaintext payload -- a
        signal sent without the codec, from the CLI or the UI -- is not raised on (that
        would fail the workflow task for ever) but replaced by an empty payload of
        encoding `REFUSED_MARK`, which the workflow refuses by name. The remote codec
        endpoint keeps the lenient codec: the UI shows what history holds."""
        return EncryptionCodec(self._keys, self._active_key_id, strict=True)

    @property
    def is_strict(self) -> bool:
        return self._strict

    @property
    def caller_keys(self) -> dict[str, bytes]:
        """The keys that sign caller envelopes (models/envelope.py), one per codec key
        and under the same id, derived with HKDF: no new secret, same rotation."""
        return caller_keys(self._keys)

    @property
    def active_key_id(self) -> str:
        """The key that seals new payloads."""
        return self._active_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        """Every key this codec can open (active and retired)."""
        return frozenset(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Seal every payload with the active key and a fresh random nonce."""
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open sealed payloads; others are refused when strict (marked, see `strict`),
        else left alone -- the remote codec endpoint shows the UI what history holds.
        """
        return [self._decrypt(payload) for payload in payloads]

    def _encrypt(self, payload: Payload) -> Payload:
        key_id = self._active_key_id
        nonce = os.urandom(NONCE_SIZE_BYTES)
        sealed = self._ciphers[key_id].encrypt(
            nonce, payload.SerializeToString(), key_id.encode()
        )
        return Payload(
            metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: key_id.encode()},
            data=nonce + sealed,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCRYPTED_ENCODING:
            return refused_payload() if self._strict else payload
        raw_key_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_key_id is None:
            raise PayloadDecryptionError(
                f"encrypted payload has no {KEY_ID_METADATA!r} metadata"
            )
        try:
            key_id = raw_key_id.decode()
        except UnicodeDecodeError as exc:
            raise PayloadDecryptionError("encrypted payload has a non-text key id") from exc
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownEncryptionKey(key_id)
        if len(payload.data) < NONCE_SIZE_BYTES + _TAG_SIZE_BYTES:
            raise PayloadDecryptionError("encrypted payload is too short to be genuine")
        nonce, sealed = payload.data[:NONCE_SIZE_BYTES], payload.data[NONCE_SIZE_BYTES:]
        try:
            plain = cipher.decrypt(nonce, sealed, raw_key_id)
        except InvalidTag as exc:
            raise PayloadDecryptionError(
                f"encrypted payload failed authentication under key {key_id!r} "
                "(altered, truncated or sealed with a different key of that name)"
            ) from exc
        try:
            return Payload.FromString(plain)
        except DecodeError as exc:
            raise PayloadDecryptionError("decrypted bytes are not a Temporal payload") from exc


CALLER_KEY_INFO = b"casework caller envelope v1"
"""HKDF `info`: keys for signing envelopes can never equal the encryption keys."""


def caller_keys(keys: Mapping[str, bytes]) -> dict[str, bytes]:
    """HKDF-SHA256 of each codec key: the envelope signing key under the same id."""
    return {key_id: HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                         info=CALLER_KEY_INFO).derive(bytes(key))
            for key_id, key in keys.items()}


def _check_key_id(key_id: str) -> None:
    """Key ids go into metadata and settings strings; keep them short and unambiguous."""
    if not key_id or any(ch.isspace() or ch in ",:" for ch in key_id):
        raise ValueError(
            f"invalid encryption key id {key_id!r}: must be non-empty, without spaces, "
            "commas or colons"
        )


def _decode_key(key_id: str, text: str) -> bytes:
    """Accept standard or urlsafe base64, padded or not: people paste keys from
    different tools. Never echo the key itself in an error message."""
    normalised = text.replace("-", "+").replace("_", "/")
    normalised += "=" * (-len(normalised) % 4)
    try:
        key = base64.b64decode(normalised, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"encryption key {key_id!r} is not valid base64") from exc
    if len(key) != KEY_SIZE_BYTES:
        raise ValueError(
            f"encryption key {key_id!r} decodes to {len(key)} bytes; "
            f"expected {KEY_SIZE_BYTES} (generate one with `generate_key()`)"
        )
    return key


def parse_keys(spec: str) -> dict[str, bytes]:
    """Parse `"k2:BASE64,k1:BASE64"` from settings into `{key_id: key}`, in listed order.

    The order matters to `codec_from_settings`: the first key listed is the default
    active key, so rotation is "prepend the new key".
    """
    keys: dict[str, bytes] = {}
    entries = [entry.strip() for entry in spec.split(",")]
    if not any(entries):
        raise ValueError("no encryption keys configured; expected 'key_id:base64key,...'")
    for position, entry in enumerate(entries, start=1):
        if not entry:
            raise ValueError(f"encryption key entry {position} is empty (stray comma?)")
        key_id, sep, encoded = entry.partition(":")
        key_id, encoded = key_id.strip(), encoded.strip()
        if not sep or not key_id or not encoded:
            raise ValueError(
                f"encryption key entry {position} must look like 'key_id:base64key'"
            )
        _check_key_id(key_id)
        if key_id in keys:
            raise ValueError(f"encryption key id {key_id!r} is listed twice")
        keys[key_id] = _decode_key(key_id, encoded)
    return keys


def generate_key() -> str:
    """A new random AES-256 key as standard base64, ready for the settings string."""
    return base64.b64encode(os.urandom(KEY_SIZE_BYTES)).decode("ascii")


def codec_from_settings(keys_spec: str, active_key_id: str | None) -> EncryptionCodec:
    """Build the codec from settings; without an explicit active key, the first listed."""
    keys = parse_keys(keys_spec)
    active = active_key_id if active_key_id else next(iter(keys))
    return EncryptionCodec(keys, active)


def codec_for_settings(settings: Settings) -> EncryptionCodec:
    """The codec every client and worker of this deployment uses.

    Keys come from `codec_keys` when set. Otherwise, in the embedded default only, from a
    key file in the data folder, created on first use: a laptop needs no setup, and a
    restarted `casework dev` can still read the histories it wrote. Production refuses to
    run without explicit keys: a key generated on one host would leave every other
    worker and API replica unable to read the history.
    """
    if settings.codec_keys:
        return codec_from_settings(settings.codec_keys, settings.codec_active_key_id)
    if settings.environment == "production":
        raise MissingEncryptionKeys(
            "production refuses to run without payload encryption keys: set CODEC_KEYS "
            "to 'key_id:base64key,...' (generate a key with "
            "`python -c 'from casework.codec import generate_key; print(generate_key())'`)"
        )
    return codec_from_settings(load_or_create_key_file(settings.codec_keys_file),
                               settings.codec_active_key_id)


def load_or_create_key_file(path: Path) -> str:
    """Read the embedded key file (the `codec_keys` format), creating it mode 0600.

    Created with `O_EXCL` and restrictive permissions from the start, so the key is never
    readable by others, and two processes starting at once agree on one key.
    """
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    spec = f"{EMBEDDED_KEY_ID}:{generate_key()}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(spec + "\n")
    return spec


def _payloads_from_json(body: Any) -> Payloads:
    if not isinstance(body, dict):
        raise CodecRequestError("codec request body must be a JSON object with 'payloads'")
    try:
        return json_format.ParseDict(body, Payloads())
    except json_format.ParseError as exc:
        raise CodecRequestError(f"codec request body is not valid Payloads JSON: {exc}") from exc


def _payloads_to_json(payloads: Sequence[Payload]) -> dict[str, Any]:
    result = json_format.MessageToDict(Payloads(payloads=payloads))
    # proto3 JSON omits empty repeated fields; the UI expects the key to be there.
    result.setdefault("payloads", [])
    return result


async def encode_json(codec: PayloadCodec, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /codec/encode` of Temporal's remote codec protocol.

    The body is proto3 JSON of `temporal.api.common.v1.Payloads`: bytes (data and each
    metadata value) are base64 strings. The UI and CLI use this to encode input typed by
    an operator (e.g. a signal sent from the UI) so it is sealed like any other payload.
    """
    payloads = _payloads_from_json(body)
    return _payloads_to_json(await codec.encode(payloads.payloads))


async def decode_json(codec: PayloadCodec, body: dict[str, Any]) -> dict[str, Any]:
    """`POST /codec/decode` of Temporal's remote codec protocol, same JSON shape.

    This is how the Temporal UI shows decrypted history to operations staff; the route
    that calls it must check the caller's token (and the `X-Namespace` header the UI
    sends) before decrypting anything.
    """
    payloads = _payloads_from_json(body)
    return _payloads_to_json(await codec.decode(payloads.payloads))
