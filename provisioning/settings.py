"""The service's configuration: one object, read from the environment once per
process and passed down, so no module guesses at a variable on its own and a
test states its configuration instead of patching the environment.

Step processes inherit the environment of the process that starts them, so
they build the same Settings.
"""

from __future__ import annotations

import json
import os
import re
import socket
import urllib.parse
import uuid
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from provisioning.errors import ConfigurationError

PROJECT = "cf-ssl-saas"
DEFAULT_MINIMUM_PROTOCOL_VERSION = "TLSv1.2_2021"
# CloudFront takes certificates from ACM in this region only.
CERTIFICATE_REGION = "us-east-1"
# CloudFront's viewer TLS security policies, weakest first.
TLS_POLICIES = (
    "SSLv3",
    "TLSv1",
    "TLSv1_2016",
    "TLSv1.1_2016",
    "TLSv1.2_2018",
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SSL_SAAS_", frozen=True, extra="ignore", populate_by_name=True
    )

    api_key: SecretStr | None = None
    state_dir: Path = Path(".state")
    # "" keeps jobs under state_dir; dynamodb://TABLE shares them between instances.
    job_store: str = ""
    # "" keeps template versions under state_dir; s3://bucket/prefix shares them.
    config_store: str = ""
    # "" is Pulumi's passphrase provider; awskms://alias/NAME?region=... shares the key.
    secrets_provider: str = ""
    backend_url: str = Field(default="", validation_alias=AliasChoices("PULUMI_BACKEND_URL"))
    passphrase: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("PULUMI_CONFIG_PASSPHRASE")
    )
    # Where the Pulumi CLI keeps its plugins, logs and workspace files.
    pulumi_home: Path = Field(
        default_factory=lambda: Path.home() / ".pulumi",
        validation_alias=AliasChoices("PULUMI_HOME"),
    )
    max_items: int = Field(default=100, ge=1)
    workers: int = Field(default=2, ge=1)
    parallelism: int = Field(default=4, ge=1)
    poll_seconds: float = Field(default=30, gt=0)
    # How long a step's claim on a job lasts unless renewed: the longest a
    # killed instance's job waits before another instance takes it over.
    lease_seconds: float = Field(default=60, ge=3)
    minimum_protocol_version: str = DEFAULT_MINIMUM_PROTOCOL_VERSION
    # Path-style stack config every job gets (aws:assumeRoles in production,
    # aws:endpoints in the sandbox), as JSON.
    stack_config: dict[str, str] = {}
    # Where events go: webhook URLs (space- or comma-separated), signed
    # with the secret, and an SNS topic (the published system's channel).
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    sns_topic_arn: str = ""
    # How often an instance looks for certificates nearing their end.
    expiry_check_seconds: float = Field(default=3600, gt=0)

    @field_validator("minimum_protocol_version")
    @classmethod
    def _known_policy(cls, value: str) -> str:
        if value not in TLS_POLICIES:
            raise ValueError(
                f"not a CloudFront security policy; allowed: {', '.join(TLS_POLICIES)}"
            )
        return value

    @field_validator("job_store")
    @classmethod
    def _known_store(cls, value: str) -> str:
        if value and not (value.startswith("dynamodb://") and len(value) > len("dynamodb://")):
            raise ValueError("use dynamodb://TABLE, or leave unset for the local directory")
        return value

    @field_validator("secrets_provider")
    @classmethod
    def _known_provider(cls, value: str) -> str:
        if value and not value.startswith("awskms://"):
            raise ValueError(
                "use awskms://alias/NAME?region=REGION, or leave unset for a passphrase"
            )
        return value

    @field_validator("webhook_url")
    @classmethod
    def _web_urls(cls, value: str) -> str:
        for url in re.split(r"[\s,]+", value.strip()) if value.strip() else []:
            try:
                parts = urllib.parse.urlsplit(url)
                parts.port  # noqa: B018 - raises on a port that isn't a number
            except ValueError:
                parts = urllib.parse.urlsplit("")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"{url[:60]!r} is not an http:// or https:// URL")
            if parts.username or parts.password:
                raise ValueError(
                    "credentials in a webhook URL are not sent; receivers check the "
                    "X-SSL-SaaS-Signature header instead"
                )
        return value

    @field_validator("sns_topic_arn")
    @classmethod
    def _topic_arn(cls, value: str) -> str:
        if value and not re.fullmatch(r"arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]{1,256}", value):
            raise ValueError("not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")
        return value

    @property
    def webhook_urls(self) -> tuple[str, ...]:
        return tuple(u for u in re.split(r"[\s,]+", self.webhook_url.strip()) if u)

    def required_webhook_secret(self) -> bytes:
        """Checked when an instance starts, not at its first event."""
        if self.webhook_secret is None or not self.webhook_secret.get_secret_value():
            raise ConfigurationError(
                "SSL_SAAS_WEBHOOK_SECRET is not set: export SSL_SAAS_WEBHOOK_SECRET=<the secret "
                "receivers check X-SSL-SaaS-Signature with>, or unset SSL_SAAS_WEBHOOK_URL"
            )
        return self.webhook_secret.get_secret_value().encode()

    @cached_property
    def root(self) -> Path:
        return self.state_dir.resolve()

    @property
    def pulumi_backend(self) -> str:
        return self.backend_url or (self.root / "pulumi").as_uri()

    @property
    def config_store_url(self) -> str:
        return self.config_store or str(self.root / "config-versions")

    @property
    def scratch_dir(self) -> Path:
        """This instance's own disk: step workspaces, logs. Never shared, and
        nothing a job needs lives only here."""
        return self.root / "scratch"

    @cached_property
    def instance(self) -> str:
        """Names this process as a lease holder: where it runs and which one."""
        return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def as_env(self) -> dict[str, str]:
        """The variables that rebuild these settings in a child process (a
        step), whatever the parent's own environment says."""
        env = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is None:
                continue
            if isinstance(value, SecretStr):
                env[variable(name)] = value.get_secret_value()
            elif isinstance(value, dict):
                env[variable(name)] = json.dumps(value)
            elif isinstance(value, Path):
                env[variable(name)] = str(value.resolve())
            else:
                env[variable(name)] = str(value)
        return env

    def required_api_key(self) -> str:
        if self.api_key is None or not self.api_key.get_secret_value():
            raise ConfigurationError(
                "SSL_SAAS_API_KEY is not set: export SSL_SAAS_API_KEY=<the x-api-key clients send>"
            )
        return self.api_key.get_secret_value()

    def engine_env(self) -> dict[str, str]:
        """What the Pulumi CLI needs beyond the inherited environment."""
        if not self.secrets_provider and self.passphrase is None:
            raise ConfigurationError(
                "PULUMI_CONFIG_PASSPHRASE is not set: export it (it encrypts the private keys "
                "in every job's stack), or set SSL_SAAS_SECRETS_PROVIDER=awskms://..."
            )
        # No intermediate checkpoints: see provisioning/engine/adoption.py.
        return {"PULUMI_SKIP_UPDATE_CHECK": "true", "PULUMI_SKIP_CHECKPOINTS": "true"}


def load(**overrides: Any) -> Settings:
    """Settings from the environment, with a refusal named in one line."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "settings"
        raise ConfigurationError(f"{variable(field)}: {first['msg']}") from None
    except SettingsError as error:
        found = re.search(r'field "(\w+)"', str(error))
        field = found.group(1) if found else "settings"
        raise ConfigurationError(f"{variable(field)}: not valid JSON") from None


def variable(field: str) -> str:
    """The environment variable that sets a field."""
    spec = Settings.model_fields.get(field)
    alias = spec.validation_alias if spec else None
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"SSL_SAAS_{field.upper()}"
