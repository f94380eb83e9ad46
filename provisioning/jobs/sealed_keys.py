"""Private keys between acceptance and the job's first step.

A job must be durable the moment its id is answered, but putting keys into a
stack takes Pulumi CLI calls that don't belong on the caller's time. So the
keys are sealed here, with the same secret the stacks use (the passphrase,
or a data key from the KMS key that Pulumi's awskms provider uses), stored in
the job store as ciphertext, and deleted once the first step has moved them
into the stack's config as Pulumi secrets.
"""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import parse_qs

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from pydantic import SecretStr

from provisioning.aws_clients import AwsClients
from provisioning.errors import ConfigurationError
from provisioning.settings import Settings

FORMAT = "ssl-saas-sealed-keys/1"


def kms_key(provider: str) -> tuple[str, str | None]:
    """``awskms://alias/NAME?region=R`` -> (``alias/NAME``, ``R``), as Pulumi
    reads its secrets provider URL."""
    key, _, query = provider.removeprefix("awskms://").partition("?")
    region = parse_qs(query).get("region", [None])[0]
    return key, region


def passphrase_key(settings: Settings, salt: bytes) -> bytes:
    if settings.passphrase is None:
        raise ConfigurationError("PULUMI_CONFIG_PASSPHRASE is not set: export it to seal keys")
    return Scrypt(salt=salt, length=32, n=2**14, r=8, p=1).derive(
        settings.passphrase.get_secret_value().encode()
    )


def seal(keys: dict[str, SecretStr], settings: Settings, aws: AwsClients) -> bytes:
    plain = json.dumps({k: v.get_secret_value() for k, v in keys.items()}).encode()
    nonce, salt = os.urandom(12), os.urandom(16)
    header: dict[str, Any] = {"format": FORMAT, "nonce": nonce.hex()}
    if settings.secrets_provider:
        key_id, region = kms_key(settings.secrets_provider)
        made = aws.client("kms", region).generate_data_key(KeyId=key_id, KeySpec="AES_256")
        data_key = made["Plaintext"]
        header |= {"kms": key_id, "region": region, "wrapped": made["CiphertextBlob"].hex()}
    else:
        data_key = passphrase_key(settings, salt)
        header |= {"salt": salt.hex()}
    sealed = AESGCM(data_key).encrypt(nonce, plain, FORMAT.encode())
    return json.dumps({**header, "ciphertext": sealed.hex()}).encode()


def unseal(blob: bytes, settings: Settings, aws: AwsClients) -> dict[str, SecretStr]:
    sealed = json.loads(blob)
    if "kms" in sealed:
        data_key = aws.client("kms", sealed["region"]).decrypt(
            CiphertextBlob=bytes.fromhex(sealed["wrapped"]), KeyId=sealed["kms"]
        )["Plaintext"]
    else:
        data_key = passphrase_key(settings, bytes.fromhex(sealed["salt"]))
    plain = AESGCM(data_key).decrypt(
        bytes.fromhex(sealed["nonce"]), bytes.fromhex(sealed["ciphertext"]), FORMAT.encode()
    )
    return {k: SecretStr(v) for k, v in json.loads(plain).items()}
