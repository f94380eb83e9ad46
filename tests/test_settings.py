"""The service's configuration: read once from the environment, refused in
one line naming the variable, and handed to child processes whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from provisioning.errors import ConfigurationError
from provisioning.settings import Settings, load


def test_defaults_are_the_one_box_local_setup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("PULUMI_BACKEND_URL", "SSL_SAAS_JOB_STORE", "SSL_SAAS_CONFIG_STORE"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.root == tmp_path / ".state"
    assert settings.pulumi_backend == (tmp_path / ".state" / "pulumi").as_uri()
    assert settings.config_store_url == str(tmp_path / ".state" / "config-versions")
    assert settings.job_store == "" and settings.secrets_provider == ""
    assert (settings.workers, settings.parallelism, settings.poll_seconds) == (2, 4, 30)


def test_environment_is_read_with_the_published_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_SAAS_JOB_STORE", "dynamodb://jobs")
    monkeypatch.setenv("SSL_SAAS_STACK_CONFIG", '{"aws:region": "eu-west-1"}')
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://state")
    monkeypatch.setenv("SSL_SAAS_WORKERS", "5")
    settings = load()
    assert settings.job_store == "dynamodb://jobs"
    assert settings.stack_config == {"aws:region": "eu-west-1"}
    assert settings.pulumi_backend == "s3://state"
    assert settings.workers == 5


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("SSL_SAAS_WORKERS", "many", "SSL_SAAS_WORKERS"),
        ("SSL_SAAS_JOB_STORE", "mysql://x", "SSL_SAAS_JOB_STORE"),
        ("SSL_SAAS_SECRETS_PROVIDER", "hashivault://x", "SSL_SAAS_SECRETS_PROVIDER"),
        ("SSL_SAAS_MINIMUM_PROTOCOL_VERSION", "TLS1", "SSL_SAAS_MINIMUM_PROTOCOL_VERSION"),
        ("SSL_SAAS_STACK_CONFIG", "not json", "SSL_SAAS_STACK_CONFIG"),
    ],
)
def test_a_wrong_setting_is_named_in_one_line(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as refused:
        load()
    message = str(refused.value)
    assert message.startswith(f"{named}:") and "\n" not in message


def test_missing_api_key_and_passphrase_say_how_to_set_them() -> None:
    bare = Settings(api_key=None, passphrase=None, secrets_provider="")
    with pytest.raises(ConfigurationError, match="export SSL_SAAS_API_KEY="):
        bare.required_api_key()
    with pytest.raises(ConfigurationError, match="PULUMI_CONFIG_PASSPHRASE is not set"):
        bare.engine_env()
    assert Settings(passphrase=None, secrets_provider="awskms://alias/x").engine_env()


def test_a_child_process_rebuilds_the_same_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    made = Settings(
        state_dir=tmp_path,
        api_key=SecretStr("k"),
        passphrase=SecretStr("p"),
        stack_config={"aws:region": "us-east-1"},
        poll_seconds=1.5,
        job_store="dynamodb://t",
    )
    for name, value in made.as_env().items():
        monkeypatch.setenv(name, value)
    assert Settings() == made
