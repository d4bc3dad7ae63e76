"""Issue 6: production refuses to start unsafe, and the embedded default is wired for
security (`casework token`, the UI pointed at the codec endpoint, CORS for its origin).

No server is started here: every refusal happens before one would be."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.app import create_app
from api.cors import codec_origins
from casework import cli
from casework.codec import MissingEncryptionKeys, generate_key
from casework.config import Settings
from casework.dev import _print_addresses, temporal_dev_server_args
from casework.temporal_client import connect
from casework.tokens import LocalSigningKeyRefused


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, **overrides)  # type: ignore[call-arg]


def test_production_refuses_to_start_with_the_local_signing_key(tmp_path: Path) -> None:
    settings = _settings(tmp_path, environment="production", codec_keys=f"k1:{generate_key()}")
    with pytest.raises(LocalSigningKeyRefused, match="production refuses the local signing key"):
        create_app(settings)
    assert not settings.local_signing_key_file.exists(), "no key is created in production"


def test_production_refuses_to_start_without_codec_keys(tmp_path: Path) -> None:
    settings = _settings(tmp_path, environment="production",
                         auth_jwks_url="https://idp.example/.well-known/jwks.json",
                         auth_issuer="https://idp.example")
    with pytest.raises(MissingEncryptionKeys, match="CODEC_KEYS"):
        create_app(settings)
    assert not settings.codec_keys_file.exists()


def test_production_with_a_jwks_url_and_codec_keys_starts(tmp_path: Path) -> None:
    settings = _settings(tmp_path, environment="production", codec_keys=f"k1:{generate_key()}",
                         auth_jwks_url="https://idp.example/.well-known/jwks.json",
                         auth_issuer="https://idp.example")
    assert create_app(settings).title == "casework"
    assert list(tmp_path.iterdir()) == [], "production writes no key files"


async def test_the_worker_and_cli_clients_refuse_production_without_codec_keys(
        tmp_path: Path) -> None:
    """`connect` is how the worker, `casework reconcile` and the API reach Temporal."""
    with pytest.raises(MissingEncryptionKeys):
        await connect(_settings(tmp_path, environment="production"))


def test_casework_token_refuses_production(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    monkeypatch.setattr(cli, "get_settings",
                        lambda: _settings(tmp_path, environment="production"))
    with pytest.raises(SystemExit, match="production refuses the local signing key"):
        cli.main(["token", "--role", "practitioner"])
    assert not (tmp_path / "signing-key.pem").exists()


def test_casework_token_refuses_when_an_identity_provider_is_configured(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "get_settings", lambda: _settings(
        tmp_path, auth_jwks_url="https://idp.example/.well-known/jwks.json"))
    with pytest.raises(SystemExit, match="AUTH_JWKS_URL"):
        cli.main(["token", "--role", "admin"])


def test_c7_casework_token_needs_an_agency_for_agency_roles(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "get_settings", lambda: _settings(tmp_path))
    for role in ("agency", "integration"):
        with pytest.raises(SystemExit, match="--agency"):
            cli.main(["token", "--role", role])
    with pytest.raises(SystemExit):  # argparse: not a role
        cli.main(["token", "--role", "superuser"])


def test_casework_dev_points_the_ui_at_the_codec_endpoint(tmp_path: Path) -> None:
    """Issue 11: a path on the page's own origin (the UI is served by the API under
    /ui/), so the codec call is same-origin whatever host name the person typed."""
    args = temporal_dev_server_args(_settings(tmp_path, api_port=8123))
    assert args[args.index("--ui-codec-endpoint") + 1] == "/codec"
    assert args[args.index("--ui-public-path") + 1] == "/ui"


def test_casework_dev_says_how_to_get_a_token(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    _print_addresses(_settings(tmp_path))
    printed = capsys.readouterr().out
    assert "casework token --role practitioner" in printed
    # Issue 11: where staff read decrypted history, and the code they sign in with.
    assert "http://127.0.0.1:8000/ui/" in printed
    code = (tmp_path / "staff-sign-in-code").read_text(encoding="ascii").strip()
    assert f"Staff sign-in code: {code}" in printed
    _print_addresses(_settings(tmp_path, auth_jwks_url="https://idp.example/jwks"))
    assert "casework token" not in capsys.readouterr().out


def test_the_codec_cors_origin_defaults_to_the_embedded_ui(tmp_path: Path) -> None:
    assert codec_origins(_settings(tmp_path, temporal_ui_port=9233)) == [
        "http://127.0.0.1:9233", "http://localhost:9233"]
    configured = _settings(tmp_path, codec_cors_origins=["https://temporal.example"])
    assert codec_origins(configured) == ["https://temporal.example"]


@pytest.mark.parametrize("origin", ["*", "https://ui.example.org/console", "ui.example.org",
                                    "ftp://ui.example.org", "https://ui.example.org?x=1"])
def test_cors_origins_must_be_exact_http_origins(tmp_path: Path, origin: str) -> None:
    """`*` would let any site call the codec endpoint with an operator's cookie (it is
    sent with credentials); a path or a bare host never matches a browser's Origin."""
    for name in ("codec_cors_origins", "cors_origins"):
        with pytest.raises(ValidationError, match="is not an origin"):
            _settings(tmp_path, **{name: [origin]})


def test_cors_origins_are_kept_without_a_trailing_slash(tmp_path: Path) -> None:
    settings = _settings(tmp_path, codec_cors_origins=["https://ui.example.org/"],
                         cors_origins=["http://127.0.0.1:3000"])
    assert settings.codec_cors_origins == ["https://ui.example.org"]
    assert settings.cors_origins == ["http://127.0.0.1:3000"]


@pytest.mark.parametrize(("jwks_url", "issuer", "refused"), [
    ("http://idp.example/jwks.json", "https://idp.example", "must be https"),
    ("https://idp.example/jwks.json", "casework-local", "AUTH_ISSUER"),
])
def test_production_trusts_only_keys_over_tls_from_a_named_issuer(
        tmp_path: Path, jwks_url: str, issuer: str, refused: str) -> None:
    with pytest.raises(ValidationError, match=refused):
        _settings(tmp_path, environment="production", auth_jwks_url=jwks_url,
                  auth_issuer=issuer)
    # Plain http is fine on this host (a sidecar), and outside production.
    _settings(tmp_path, environment="production", auth_issuer="https://idp.example",
              auth_jwks_url="http://127.0.0.1:8080/jwks.json")
    _settings(tmp_path, auth_jwks_url=jwks_url)

