"""Keys sealed between acceptance and the first step: readable only with the
service's secret (passphrase or KMS key), never stored in clear."""

from __future__ import annotations

import json

import boto3
import pytest
from cryptography.exceptions import InvalidTag
from pydantic import SecretStr

from provisioning.jobs.sealed_keys import seal, unseal
from provisioning.settings import Settings
from tests.clients import PROCESS, StandIn

KEY = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


def test_passphrase_sealed_keys_open_only_with_that_passphrase() -> None:
    settings = Settings(passphrase=SecretStr("right"), secrets_provider="")
    no_aws = StandIn({})  # a passphrase needs no AWS: any client asked for fails the test
    sealed = seal({"pemList[0]": SecretStr(KEY)}, settings, no_aws)
    assert b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in sealed
    assert unseal(sealed, settings, no_aws) == {"pemList[0]": SecretStr(KEY)}
    with pytest.raises(InvalidTag):
        unseal(sealed, Settings(passphrase=SecretStr("wrong"), secrets_provider=""), no_aws)


def test_kms_sealed_keys_need_the_kms_key(aws: str) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/jobs", TargetKeyId=key)
    settings = Settings(passphrase=None, secrets_provider="awskms://alias/jobs?region=us-east-1")
    # KMS in the region the provider URL names, and nothing else.
    clients = StandIn({("kms", "us-east-1"): PROCESS.client("kms", "us-east-1")})
    sealed = seal({"pemList[0]": SecretStr(KEY)}, settings, clients)
    assert b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in sealed
    assert unseal(sealed, settings, clients) == {"pemList[0]": SecretStr(KEY)}
    assert json.loads(sealed)["kms"] == "alias/jobs"  # no passphrase involved
    tampered = json.loads(sealed)
    tampered["ciphertext"] = "00" + tampered["ciphertext"][2:]
    with pytest.raises(InvalidTag):
        unseal(json.dumps(tampered).encode(), settings, clients)
