"""One settings class for every process, read from the environment (pydantic-settings)."""
from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Development-only secrets; Settings refuses them when ONWARD_ENV=production.
DEV_JWT_SECRET = "onward-development-jwt-secret-not-for-production"
DEV_PERSON_KEY_SECRET = "onward-development-person-key-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

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
    ncs_max_contact_attempts: int = Field(3, validation_alias="ONWARD_NCS_MAX_CONTACT_ATTEMPTS")
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
    # The young person's pages (la_tracker /you/, issue 17): where links point, how long a link works,
    # token look-ups a client may make an hour; GOV.UK Notify (else the development mailbox /dev/messages).
    public_url: str = Field("http://127.0.0.1:8002", validation_alias="ONWARD_PUBLIC_URL")
    you_link_days: int = Field(14, ge=1, le=90, validation_alias="ONWARD_YOU_LINK_DAYS")
    you_lookups_per_hour: int = Field(30, ge=1, validation_alias="ONWARD_YOU_LOOKUPS_PER_HOUR")
    notify_api_key: SecretStr | None = Field(None, validation_alias="ONWARD_NOTIFY_API_KEY")
    notify_sms_template_id: str | None = Field(None, validation_alias="ONWARD_NOTIFY_SMS_TEMPLATE_ID")
    notify_email_template_id: str | None = Field(None, validation_alias="ONWARD_NOTIFY_EMAIL_TEMPLATE_ID")

    @model_validator(mode="after")
    def _no_development_secrets_in_production(self) -> "Settings":
        if self.env == "production":
            if self.jwt_secret.get_secret_value() == DEV_JWT_SECRET:
                raise ValueError("ONWARD_JWT_SECRET must be set in production")
            if self.person_key_secret.get_secret_value() == DEV_PERSON_KEY_SECRET:
                raise ValueError("ONWARD_PERSON_KEY_SECRET must be set in production")
            if self.dev_sign_in:
                raise ValueError("ONWARD_DEV_SIGN_IN must be false in production (use OIDC sign-in)")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
