"""The payload codec keeps case data out of Temporal's history in readable form
(DESIGN decision 6): round trips, tamper evidence, key rotation, remote codec JSON."""

from __future__ import annotations

import base64
import os
import stat
from datetime import date
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from casework.codec import (
    ENCRYPTED_ENCODING,
    KEY_ID_METADATA,
    CodecRequestError,
    EncryptionCodec,
    MissingEncryptionKeys,
    PayloadDecryptionError,
    UnknownEncryptionKey,
    codec_for_settings,
    codec_from_settings,
    decode_json,
    encode_json,
    generate_key,
    parse_keys,
)
from casework.config import Settings
from casework.temporal_client import make_data_converter

SECRET = b'{"child_name":"Alex Example","notes":"sensitive report text"}'


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _payloads() -> list[Payload]:
    return [
        Payload(metadata={"encoding": b"json/plain", "messageType": b"Report"}, data=SECRET),
        Payload(metadata={"encoding": b"binary/null"}, data=b""),
        Payload(metadata={"encoding": b"binary/plain"}, data=bytes(range(256))),
    ]


@pytest.fixture
def k1() -> bytes:
    return os.urandom(32)


@pytest.fixture
def k2() -> bytes:
    return os.urandom(32)


async def test_round_trip_gives_back_the_original_payloads(k1: bytes) -> None:
    codec = EncryptionCodec({"k1": k1}, "k1")
    originals = _payloads()

    encoded = await codec.encode(originals)
    decoded = await codec.decode(encoded)

    assert decoded == originals
    assert all(p.metadata["encoding"] == ENCRYPTED_ENCODING for p in encoded)
    assert all(p.metadata[KEY_ID_METADATA] == b"k1" for p in encoded)


async def test_ciphertext_reveals_neither_data_nor_metadata(k1: bytes) -> None:
    codec = EncryptionCodec({"k1": k1}, "k1")

    [encoded] = await codec.encode(_payloads()[:1])

    blob = encoded.SerializeToString()
    assert SECRET not in blob
    assert b"Alex Example" not in blob
    assert b"Report" not in blob
    assert set(encoded.metadata) == {"encoding", KEY_ID_METADATA}


async def test_same_payload_encrypts_differently_each_time(k1: bytes) -> None:
    codec = EncryptionCodec({"k1": k1}, "k1")

    first, second = await codec.encode(_payloads()[:1] * 2)

    assert first.data[:12] != second.data[:12]
    assert first.data != second.data


async def test_tampered_ciphertext_fails_to_decode(k1: bytes) -> None:
    codec = EncryptionCodec({"k1": k1}, "k1")
    [encoded] = await codec.encode(_payloads()[:1])
    flipped = bytearray(encoded.data)
    flipped[-1] ^= 0x01
    tampered = Payload(metadata=dict(encoded.metadata), data=bytes(flipped))

    with pytest.raises(PayloadDecryptionError):
        await codec.decode([tampered])


async def test_relabelled_key_id_fails_to_decode(k1: bytes) -> None:
    """The key id is associated data: moving a payload to another key name is detected."""
    same_key_two_names = EncryptionCodec({"k1": k1, "k9": k1}, "k1")
    [encoded] = await same_key_two_names.encode(_payloads()[:1])
    relabelled = Payload(
        metadata={"encoding": ENCRYPTED_ENCODING, KEY_ID_METADATA: b"k9"}, data=encoded.data
    )

    with pytest.raises(PayloadDecryptionError):
        await same_key_two_names.decode([relabelled])


async def test_truncated_ciphertext_fails_to_decode(k1: bytes) -> None:
    codec = EncryptionCodec({"k1": k1}, "k1")
    [encoded] = await codec.encode(_payloads()[:1])
    truncated = Payload(metadata=dict(encoded.metadata), data=encoded.data[:20])

    with pytest.raises(PayloadDecryptionError):
        await codec.decode([truncated])


async def test_key_rotation_keeps_old_payloads_readable(k1: bytes, k2: bytes) -> None:
    before = EncryptionCodec({"k1": k1}, "k1")
    old = await before.encode(_payloads())

    rotated = EncryptionCodec({"k2": k2, "k1": k1}, "k2")
    new = await rotated.encode(_payloads())

    assert all(p.metadata[KEY_ID_METADATA] == b"k2" for p in new)
    assert await rotated.decode(old) == _payloads()
    assert await rotated.decode(new) == _payloads()

    k1_retired = EncryptionCodec({"k2": k2}, "k2")
    assert await k1_retired.decode(new) == _payloads()
    with pytest.raises(UnknownEncryptionKey) as excinfo:
        await k1_retired.decode(old)
    assert excinfo.value.key_id == "k1"
    assert "k1" in str(excinfo.value)


async def test_payloads_that_are_not_encrypted_pass_through_decode(k1: bytes) -> None:
    codec = EncryptionCodec({"k1": k1}, "k1")
    plain = _payloads()

    assert await codec.decode(plain) == plain


def test_codec_refuses_bad_configuration(k1: bytes) -> None:
    with pytest.raises(ValueError, match="active"):
        EncryptionCodec({"k1": k1}, "k2")
    with pytest.raises(ValueError, match="16 bytes"):
        EncryptionCodec({"k1": k1[:16]}, "k1")
    with pytest.raises(ValueError, match="at least one"):
        EncryptionCodec({}, "k1")


async def test_remote_codec_json_round_trip(k1: bytes) -> None:
    """The Temporal UI posts proto3 JSON: bytes (data and metadata values) as base64."""
    codec = EncryptionCodec({"k1": k1}, "k1")
    body = {
        "payloads": [
            {"metadata": {"encoding": b64(b"json/plain")}, "data": b64(SECRET)},
            {"metadata": {"encoding": b64(b"json/plain")}, "data": b64(b'"2025-03-01"')},
        ]
    }

    encoded = await encode_json(codec, body)

    assert len(encoded["payloads"]) == 2
    first = encoded["payloads"][0]
    assert base64.b64decode(first["metadata"]["encoding"]) == ENCRYPTED_ENCODING
    assert base64.b64decode(first["metadata"][KEY_ID_METADATA]) == b"k1"
    assert SECRET not in base64.b64decode(first["data"])

    assert await decode_json(codec, encoded) == body


async def test_remote_codec_json_handles_empty_list_and_rejects_garbage(k1: bytes) -> None:
    codec = EncryptionCodec({"k1": k1}, "k1")

    assert await decode_json(codec, {"payloads": []}) == {"payloads": []}
    with pytest.raises(CodecRequestError):
        await decode_json(codec, {"payloads": [{"data": "!!not base64!!"}]})
    with pytest.raises(CodecRequestError):
        await decode_json(codec, {"unexpected": 1})


def test_parse_keys_accepts_standard_and_urlsafe_base64_in_listed_order() -> None:
    raw_a, raw_b = b"\xfb" * 32, os.urandom(32)
    spec = (
        f" k2:{base64.urlsafe_b64encode(raw_a).decode().rstrip('=')} ,"
        f"k1:{base64.b64encode(raw_b).decode()}"
    )

    keys = parse_keys(spec)

    assert keys == {"k2": raw_a, "k1": raw_b}
    assert list(keys) == ["k2", "k1"]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no encryption keys"),
        ("k1", "key_id:base64key"),
        (":" + base64.b64encode(b"x" * 32).decode(), "key_id:base64key"),
        ("k1:", "key_id:base64key"),
        ("k1:not*base64", "not valid base64"),
        ("k1:" + base64.b64encode(b"short").decode(), "5 bytes; expected 32"),
        (
            "k1:" + base64.b64encode(b"a" * 32).decode() + ",k1:"
            + base64.b64encode(b"b" * 32).decode(),
            "listed twice",
        ),
        ("k1:" + base64.b64encode(b"a" * 32).decode() + ",", "stray comma"),
        ("k 1:" + base64.b64encode(b"a" * 32).decode(), "invalid encryption key id"),
    ],
)
def test_parse_keys_errors_are_clear(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_keys(spec)


def test_parse_keys_errors_never_echo_key_material() -> None:
    wrong_length = base64.b64encode(b"super-secret-but-too-short").decode()

    with pytest.raises(ValueError) as excinfo:
        parse_keys(f"k1:{wrong_length}")

    assert wrong_length not in str(excinfo.value)


def test_generate_key_parses_back_to_32_bytes() -> None:
    assert len(parse_keys(f"k1:{generate_key()}")["k1"]) == 32
    assert generate_key() != generate_key()


async def test_codec_from_settings_defaults_to_first_listed_key() -> None:
    spec = f"k2:{generate_key()},k1:{generate_key()}"

    assert codec_from_settings(spec, None).active_key_id == "k2"
    assert codec_from_settings(spec, "k1").active_key_id == "k1"
    assert codec_from_settings(spec, None).key_ids == {"k1", "k2"}
    with pytest.raises(ValueError, match="k3"):
        codec_from_settings(spec, "k3")


async def test_data_converter_encrypts_values_end_to_end(k1: bytes) -> None:
    """The full converter (pydantic + codec) as clients and workers will use it."""
    converter = make_data_converter(EncryptionCodec({"k1": k1}, "k1"))

    payloads = await converter.encode(["Alex Example", date(2025, 3, 1)])

    assert all(p.metadata["encoding"] == ENCRYPTED_ENCODING for p in payloads)
    assert b"Alex Example" not in b"".join(p.data for p in payloads)
    assert await converter.decode(payloads, [str, date]) == ["Alex Example", date(2025, 3, 1)]
    assert make_data_converter(None).payload_codec is None


async def test_data_converter_hides_failure_messages_in_history(k1: bytes) -> None:
    """An error message can quote a case id: with the codec, the failure's message and
    stack trace travel inside an encrypted payload, and come back on decoding."""
    converter = make_data_converter(EncryptionCodec({"k1": k1}, "k1"))
    failure = Failure()
    await converter.encode_failure(ApplicationError("case-123 is not in force"), failure)

    assert "case-123" not in failure.message
    assert failure.encoded_attributes.metadata["encoding"] == ENCRYPTED_ENCODING
    assert b"case-123" not in failure.SerializeToString()
    decoded = await converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError) and decoded.message == "case-123 is not in force"


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **overrides)  # type: ignore[call-arg]


async def test_embedded_codec_key_file_is_created_private_then_reused(tmp_path: Path) -> None:
    """No setup on a laptop, yet a restarted `casework dev` reads what it wrote."""
    settings = _settings(tmp_path)
    first = codec_for_settings(settings)
    key_file = settings.codec_keys_file

    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    sealed = await first.encode(_payloads())
    again = codec_for_settings(settings)
    assert again.active_key_id == first.active_key_id
    assert await again.decode(sealed) == _payloads()


def test_configured_codec_keys_take_precedence_over_the_key_file(tmp_path: Path) -> None:
    settings = _settings(tmp_path, codec_keys=f"k2:{generate_key()},k1:{generate_key()}",
                         codec_active_key_id="k1")
    codec = codec_for_settings(settings)

    assert codec.key_ids == {"k1", "k2"} and codec.active_key_id == "k1"
    assert not settings.codec_keys_file.exists()


def test_production_refuses_to_run_without_codec_keys(tmp_path: Path) -> None:
    settings = _settings(tmp_path, environment="production")

    with pytest.raises(MissingEncryptionKeys, match="CODEC_KEYS"):
        codec_for_settings(settings)
    assert not settings.codec_keys_file.exists(), "no key is invented in production"
    configured = _settings(tmp_path, environment="production",
                           codec_keys=f"k1:{generate_key()}")
    assert codec_for_settings(configured).key_ids == {"k1"}
