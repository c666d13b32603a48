"""One settings class for every process, read from the environment (pydantic-settings).

Production fails closed: every secret is at least 32 bytes and none is a development value (the
previous JWT secret of a rotation included), cookies are Secure, and no error quotes a setting's value.
"""
from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The built page and API-documentation assets (`make install`: web/build.mjs); the container image sets
# ONWARD_WEB_DIST to its copy. Read at import: the pages and /docs mount it when an app is built.
WEB_DIST = Path(os.environ.get("ONWARD_WEB_DIST") or Path(__file__).resolve().parent.parent / "web" / "dist")

# Development-only secrets; Settings refuses them when ONWARD_ENV=production.
DEV_JWT_SECRET = "onward-development-jwt-secret-not-for-production"
DEV_PERSON_KEY_SECRET = "onward-development-person-key-secret"
DEV_SECRETS = frozenset({DEV_JWT_SECRET, DEV_PERSON_KEY_SECRET})
MIN_SECRET_BYTES = 32


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting's error never quotes its value (secrets included).
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)

    env: Literal["development", "test", "production"] = Field("development", validation_alias="ONWARD_ENV")
    # The service's own database (each service owns one; never another's tables).
    database_url: str = Field("postgresql://postgres@127.0.0.1:5544/postgres", validation_alias="DATABASE_URL")
    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", validation_alias="KAFKA_BOOTSTRAP_SERVERS")
    # Kafka security (onward/kafka_security.py): PLAINTEXT locally; SASL_SSL with SCRAM in production.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", validation_alias="KAFKA_SECURITY_PROTOCOL")
    kafka_sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = Field(
        "SCRAM-SHA-512", validation_alias="KAFKA_SASL_MECHANISM")
    kafka_sasl_username: str | None = Field(None, validation_alias="KAFKA_SASL_USERNAME")
    kafka_sasl_password: SecretStr | None = Field(None, validation_alias="KAFKA_SASL_PASSWORD")
    kafka_ssl_cafile: str | None = Field(None, validation_alias="KAFKA_SSL_CAFILE")
    jwt_secret: SecretStr = Field(SecretStr(DEV_JWT_SECRET), validation_alias="ONWARD_JWT_SECRET")
    # During a rotation, tokens signed with the previous secret are still accepted until they expire.
    jwt_secret_previous: SecretStr | None = Field(None, validation_alias="ONWARD_JWT_SECRET_PREVIOUS")
    person_key_secret: SecretStr = Field(SecretStr(DEV_PERSON_KEY_SECRET), validation_alias="ONWARD_PERSON_KEY_SECRET")
    topic_partitions: int = Field(6, validation_alias="ONWARD_TOPIC_PARTITIONS")
    # Replicas of each topic `prepare` creates: 3 on a production cluster (with min.insync.replicas=2).
    topic_replication: int = Field(1, ge=1, validation_alias="ONWARD_TOPIC_REPLICATION")
    log_level: str = Field("INFO", validation_alias="ONWARD_LOG_LEVEL")
    # The relay wakes on LISTEN/NOTIFY; this slow poll only covers a missed notification.
    relay_poll_seconds: float = Field(5.0, validation_alias="ONWARD_RELAY_POLL_SECONDS")
    relay_batch_size: int = Field(500, validation_alias="ONWARD_RELAY_BATCH_SIZE")
    db_pool_max: int = Field(10, validation_alias="ONWARD_DB_POOL_MAX")
    # ncs_referral: failed contact attempts, or days claimed without an outcome, before 'could not contact'.
    ncs_claim_days: int = Field(14, validation_alias="ONWARD_NCS_CLAIM_DAYS")
    # How often each worker applies the retention rules (onward/retention.py).
    purge_interval_seconds: float = Field(3600.0, validation_alias="ONWARD_PURGE_INTERVAL_SECONDS")
    sweep_interval_seconds: float = Field(60.0, validation_alias="ONWARD_SWEEP_INTERVAL_SECONDS")
    worker_replicas: int = Field(1, ge=1, le=6, validation_alias="ONWARD_WORKER_REPLICAS")
    replica: str = "worker"  # set per process by `onward serve`; keeps each replica's faust data apart
    # Web pages (la_tracker, ncs_referral). Cookies are Secure: browsers accept them from http://localhost
    # and 127.0.0.1; set ONWARD_COOKIE_SECURE=false only behind no TLS at all (never in production).
    cookie_secure: bool = Field(True, validation_alias="ONWARD_COOKIE_SECURE")
    # The development sign-in page (pick a role and scope, no password). Refused in production.
    dev_sign_in: bool = Field(True, validation_alias="ONWARD_DEV_SIGN_IN")
    # OIDC sign-in for production: the identity provider's issuer URL (its discovery document is
    # <issuer>/.well-known/openid-configuration) and this service's client registration. The ID token
    # (or userinfo) must carry `role` and the scope claim (`la` or `ncs_area`), as the API's JWTs do.
    oidc_issuer: str | None = Field(None, validation_alias="ONWARD_OIDC_ISSUER")
    oidc_client_id: str | None = Field(None, validation_alias="ONWARD_OIDC_CLIENT_ID")
    oidc_client_secret: SecretStr | None = Field(None, validation_alias="ONWARD_OIDC_CLIENT_SECRET")
    # Workers and relays serve Prometheus /metrics here (the APIs serve it on their own port).
    metrics_port: int | None = Field(None, validation_alias="ONWARD_METRICS_PORT")
    run_dir: str = Field(".run", validation_alias=AliasChoices("ONWARD_RUN_DIR"))
    # Tokens: the issuer the services write and expect (`iss`), and the longest lifetime accepted.
    jwt_issuer: str = Field("onward", validation_alias="ONWARD_JWT_ISSUER")
    token_max_ttl_seconds: int = Field(12 * 3600, ge=60, validation_alias="ONWARD_TOKEN_MAX_TTL_SECONDS")
    # The APIs' internal port: in production /docs, /openapi.json and /metrics answer only there.
    internal_port: int | None = Field(None, validation_alias="ONWARD_INTERNAL_PORT")
    # Request bodies: JSON and forms (a 5,000-leaver batch is about 2.5 MB: room for 1.6 KB a leaver),
    # and multipart uploads (school_exit's import takes files of up to 20 MB).
    max_json_bytes: int = Field(8 * 1024 * 1024, ge=1024, validation_alias="ONWARD_MAX_JSON_BYTES")
    max_upload_bytes: int = Field(21 * 1024 * 1024, ge=1024, validation_alias="ONWARD_MAX_UPLOAD_BYTES")
    # Rate limits per minute (onward/limits.py): sign-in per client and per account, failed token checks
    # per client, exports per account. 0 switches one off.
    rate_sign_in_per_client: int = Field(30, ge=0, validation_alias="ONWARD_RATE_SIGN_IN_PER_CLIENT")
    rate_sign_in_per_account: int = Field(10, ge=0, validation_alias="ONWARD_RATE_SIGN_IN_PER_ACCOUNT")
    rate_failed_tokens_per_client: int = Field(60, ge=0, validation_alias="ONWARD_RATE_FAILED_TOKENS_PER_CLIENT")
    rate_exports_per_account: int = Field(30, ge=0, validation_alias="ONWARD_RATE_EXPORTS_PER_ACCOUNT")
    rate_exports_per_client: int = Field(60, ge=0, validation_alias="ONWARD_RATE_EXPORTS_PER_CLIENT")
    # la_tracker: each LA's NCCIS DatabaseID, "831:123,873:456" (services/la_tracker/nccis_ids.py).
    nccis_database_ids: str = Field("", validation_alias="ONWARD_NCCIS_DATABASE_IDS")
    # The young person's pages (la_tracker /you/, issue 17): where links point, how long a link works,
    # token look-ups a client may make an hour; GOV.UK Notify (else the development mailbox /dev/messages).
    public_url: str = Field("http://127.0.0.1:8002", validation_alias="ONWARD_PUBLIC_URL")
    you_link_days: int = Field(14, ge=1, le=90, validation_alias="ONWARD_YOU_LINK_DAYS")
    you_lookups_per_hour: int = Field(30, ge=1, validation_alias="ONWARD_YOU_LOOKUPS_PER_HOUR")
    notify_api_key: SecretStr | None = Field(None, validation_alias="ONWARD_NOTIFY_API_KEY")
    notify_sms_template_id: str | None = Field(None, validation_alias="ONWARD_NOTIFY_SMS_TEMPLATE_ID")
    notify_email_template_id: str | None = Field(None, validation_alias="ONWARD_NOTIFY_EMAIL_TEMPLATE_ID")
    # Pacing (onward/notify.py): Notify allows 3,000 messages a minute; the budget leaves headroom for other
    # senders of the service. The development mailbox has no limit unless one is set (tests set a small one).
    notify_messages_per_minute: int = Field(2500, ge=1, le=3000, validation_alias="ONWARD_NOTIFY_MESSAGES_PER_MINUTE")
    dev_messages_per_minute: int | None = Field(None, ge=1, validation_alias="ONWARD_DEV_MESSAGES_PER_MINUTE")
    you_send_attempts: int = Field(5, ge=1, le=20, validation_alias="ONWARD_YOU_SEND_ATTEMPTS")
    notify_base_url: str = Field("https://api.notifications.service.gov.uk", validation_alias="ONWARD_NOTIFY_BASE_URL")

    @model_validator(mode="after")
    def _production_fails_closed(self) -> "Settings":
        """In production: secrets of at least 32 bytes, no development value anywhere, Secure cookies,
        no development sign-in. Messages name the setting, never its value."""
        if self.env != "production":
            return self
        secrets = {"ONWARD_JWT_SECRET": self.jwt_secret, "ONWARD_PERSON_KEY_SECRET": self.person_key_secret,
                   "ONWARD_JWT_SECRET_PREVIOUS": self.jwt_secret_previous}
        for name, secret in secrets.items():
            if secret is None:
                continue
            value = secret.get_secret_value()
            if value in DEV_SECRETS:
                raise ValueError(f"{name} must not be a development value in production")
            if len(value.encode()) < MIN_SECRET_BYTES:
                raise ValueError(f"{name} must be at least {MIN_SECRET_BYTES} random bytes in production")
        if not self.cookie_secure:
            raise ValueError("ONWARD_COOKIE_SECURE must be true in production (cookies only over TLS)")
        if self.dev_sign_in:
            raise ValueError("ONWARD_DEV_SIGN_IN must be false in production (use OIDC sign-in)")
        return self

    def check_bind(self, host: str) -> None:
        """A process started without an explicit ONWARD_ENV runs as development, with public secrets:
        it may listen on loopback only."""
        if "env" in self.model_fields_set or is_loopback(host):
            return
        raise ValueError(f"refusing to listen on {host}: set ONWARD_ENV (production, or development to"
                         " accept the public development secrets) to serve beyond loopback")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@lru_cache
def get_settings() -> Settings:
    return Settings()
