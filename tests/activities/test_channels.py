"""Issue 15 (4): the outbox over real channels -- e-mail through a real SMTP server on
127.0.0.1 (aiosmtpd, STARTTLS required, AUTH required) and signed webhooks -- with the
outbox's guarantees kept: sent once, a failure kept on the row and retried after a
backoff, nothing dropped. On PostgreSQL and on SQLite."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.channels import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SmtpDeliverer,
    SmtpSettings,
    UnknownRecipient,
    WebhookDeliverer,
    resolve_address,
    verify_webhook,
)
from activities.notifications import deliver_undelivered, retry_delay_seconds
from models.tables import NotificationRow
from tests.activities.test_outbox_claims import _rows
from tests.activities.test_record_case_effects import _outbox
from tests.webhook_receiver import webhook_receiver

ADDRESSES = {"agency-1": {"agency": "intake@agency-1.example"},
             "*": {"practitioner": "cp-team@dffh.example"}}
USER, PASSWORD = "casework", "relay-password"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Relay:
    port: int
    ca_file: str
    messages: list[Any] = field(default_factory=list)
    """(envelope, session.ssl was on, authenticated user) per message received."""


class _Handler:
    def __init__(self, relay: Relay) -> None:
        self.relay = relay

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = getattr(session.auth_data, "login", None)
        self.relay.messages.append((envelope, session.ssl is not None, login))
        return "250 OK"


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                   auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Relay]:
    """An SMTP server that accepts nothing before STARTTLS and AUTH, with a certificate
    for 127.0.0.1 made here (its own CA file, trusted by the deliverer's setting)."""
    folder = tmp_path_factory.mktemp("smtp")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    server = Relay(port=free_port(), ca_file=str(cert_file))
    controller = Controller(_Handler(server), hostname="127.0.0.1", port=server.port,
                            tls_context=context, require_starttls=True,
                            auth_required=True, auth_require_tls=True,
                            authenticator=_authenticator)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def smtp(relay: Relay, password: str = PASSWORD) -> SmtpDeliverer:
    return SmtpDeliverer(SmtpSettings(host="127.0.0.1", port=relay.port,
                                      sender="casework@dffh.example", username=USER,
                                      password=password, ca_file=relay.ca_file), ADDRESSES)


def test_recipients_resolve_from_the_agency_then_the_shared_contacts() -> None:
    assert resolve_address(ADDRESSES, "agency-1", "agency") == "intake@agency-1.example"
    assert resolve_address(ADDRESSES, "agency-1", "practitioner") == "cp-team@dffh.example"
    with pytest.raises(UnknownRecipient, match="NOTIFICATION_ADDRESSES"):
        resolve_address(ADDRESSES, "agency-2", "agency")


def test_backoff_doubles_to_a_cap() -> None:
    assert [retry_delay_seconds(n, 30, 3600) for n in (0, 1, 2, 3, 8, 50)] == [
        0, 30, 60, 120, 3600, 3600]


async def test_a_notice_is_mailed_once_over_starttls_with_auth(
        relay: Relay, sessions: async_sessionmaker[AsyncSession], unique_id: str) -> None:
    [key] = await _outbox(sessions, f"mail-{unique_id}", [0])
    deliverer = smtp(relay)
    async with sessions() as session:
        assert await deliver_undelivered(session, deliverer, [key]) == 1
        assert await deliver_undelivered(session, deliverer, [key]) == 0  # not twice
    ours = [m for m in relay.messages if key.encode() in m[0].content]
    assert len(ours) == 1
    envelope, over_tls, user = ours[0]
    assert over_tls and user == USER.encode()
    assert envelope.rcpt_tos == ["intake@agency-1.example"]
    assert envelope.mail_from == "casework@dffh.example"
    mail = message_from_bytes(envelope.content)
    assert mail["Subject"] == "s" and re.fullmatch(r"<[0-9a-f]{40}@casework>",
                                                    mail["Message-ID"] or "")
    [row] = await _rows(sessions, [key])
    assert row.delivered_at is not None and row.attempts == 1 and row.last_error is None


async def test_a_refused_login_keeps_the_notice_with_its_error_and_rests_it(
        relay: Relay, sessions: async_sessionmaker[AsyncSession], unique_id: str) -> None:
    [key] = await _outbox(sessions, f"mail-{unique_id}", [0])
    async with sessions() as session:
        assert await deliver_undelivered(session, smtp(relay, "wrong"), [key]) == 0
        # Resting (backoff): the next round leaves it alone, even with the right password.
        assert await deliver_undelivered(session, smtp(relay), [key]) == 0
    [row] = await _rows(sessions, [key])
    assert row.delivered_at is None and row.attempts == 1
    assert row.last_error is not None and row.last_error.startswith("SMTPAuthenticationError")
    assert row.claim_token is None and row.claimed_until is not None
    assert not [m for m in relay.messages if key.encode() in m[0].content]
    async with sessions() as session:  # the rest is over: it goes out, once
        await session.execute(update(NotificationRow).where(
            NotificationRow.notification_key == key).values(
            claimed_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
        await session.commit()
        assert await deliver_undelivered(session, smtp(relay), [key]) == 1
    assert len([m for m in relay.messages if key.encode() in m[0].content]) == 1
    [row] = await _rows(sessions, [key])
    assert row.attempts == 2 and row.delivered_at is not None and row.last_error is None


async def test_an_unknown_recipient_stays_in_the_outbox_naming_the_setting(
        relay: Relay, sessions: async_sessionmaker[AsyncSession], unique_id: str) -> None:
    [key] = await _outbox(sessions, f"mail-{unique_id}", [0])
    deliverer = SmtpDeliverer(SmtpSettings(host="127.0.0.1", port=relay.port, username=USER,
                                           password=PASSWORD, ca_file=relay.ca_file), {})
    async with sessions() as session:
        assert await deliver_undelivered(session, deliverer, [key]) == 0
    [row] = await _rows(sessions, [key])
    assert row.delivered_at is None and row.attempts == 1
    assert row.last_error is not None and "NOTIFICATION_ADDRESSES" in row.last_error


def _documented_verify() -> Any:
    """The receiver-side snippet of docs/webhooks.md, run as written."""
    [code] = re.findall(r"```python\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.S)
    namespace: dict[str, Any] = {}
    exec(compile(code, str(DOCS), "exec"), namespace)
    return namespace["verify"]


async def test_a_webhook_is_signed_over_timestamp_and_body_and_verifies_as_documented(
        sessions: async_sessionmaker[AsyncSession], unique_id: str) -> None:
    [key] = await _outbox(sessions, f"hook-{unique_id}", [0])
    secret = b"shared-secret-of-agency-1"
    with webhook_receiver() as receiver:
        async with sessions() as session:
            assert await deliver_undelivered(
                session, WebhookDeliverer(receiver.url, secret=secret), [key]) == 1
    [(headers, body)] = [(h, b) for h, b in receiver.raw if h.get("Idempotency-Key") == key]
    verify = _documented_verify()
    assert verify(secret, headers, body)
    assert verify_webhook(secret, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER],
                          body, time.time())
    assert not verify(b"another-secret", headers, body)
    assert not verify(secret, headers, body.replace(b'"R1"', b'"R2"'))  # tampered
    stale = int(headers[TIMESTAMP_HEADER]) - 301
    assert not verify_webhook(secret, str(stale), headers[SIGNATURE_HEADER], body,
                              time.time())
    assert not verify_webhook(secret, headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER],
                              body, time.time() + 600)  # replayed ten minutes later


def test_the_log_stays_the_embedded_default_and_settings_pick_the_channel(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """worker.deliverer_for: nothing configured -> None (the log, LogDeliverer); an SMTP
    relay wins over a webhook; a webhook with a secret signs."""
    from pydantic import ValidationError

    from casework.config import Settings
    from worker import deliverer_for

    base = Settings(_env_file=None)  # type: ignore[call-arg]
    assert deliverer_for(base) is None
    hook = deliverer_for(base.model_copy(update={
        "notification_webhook_url": "http://127.0.0.1:9/notices"}))
    assert isinstance(hook, WebhookDeliverer)
    mail = deliverer_for(base.model_copy(update={
        "smtp_host": "relay.example", "notification_webhook_url": "http://127.0.0.1:9/n"}))
    assert isinstance(mail, SmtpDeliverer)
    # The agency contact settings, as a deployment sets them (JSON in the environment).
    monkeypatch.setenv("NOTIFICATION_ADDRESSES",
                       '{"agency-1": {"agency": "intake@agency-1.example"}}')
    parsed = Settings(_env_file=None)  # type: ignore[call-arg]
    assert parsed.notification_addresses == {"agency-1": {"agency": "intake@agency-1.example"}}
    # Notices name cases: in production plain SMTP only to a relay on this host.
    with pytest.raises(ValidationError, match="SMTP_STARTTLS"):
        Settings(_env_file=None, environment="production", smtp_host="relay.example",  # type: ignore[call-arg]
                 smtp_starttls=False, auth_jwks_url="https://idp.example/jwks",
                 auth_issuer="https://idp.example/",
                 codec_keys=f"k1:{'A' * 43}=")
