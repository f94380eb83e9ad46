"""A job's inputs: everything its program is a function of except the private
keys, written once when the job is accepted and read back as is by every
later step, on any instance, without validating the request again.

The keys live apart, as Pulumi secrets in the job's stack config, so these
inputs can be stored and shown in plain text.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, SecretStr

from provisioning.validation import ValidRequest


class Pin(BaseModel):
    """The template configuration version an item's distribution clones."""

    model_config = ConfigDict(frozen=True)

    distribution_id: str
    version: int


class JobItem(BaseModel):
    """One certificate and, with auto_creation, one distribution serving
    exactly its names."""

    model_config = ConfigDict(frozen=True)

    key: str  # the item's place in the request, e.g. cnameList[0]
    names: tuple[str, ...]  # the primary name first
    pin: Pin | None = None
    certificate_pem: str | None = None  # imported items only; public material
    chain_pem: str | None = None

    @property
    def imported(self) -> bool:
        return self.certificate_pem is not None


class JobInputs(BaseModel):
    model_config = ConfigDict(frozen=True)

    job_type: str  # the published acm_op: create or import
    auto_creation: bool
    items: tuple[JobItem, ...]
    minimum_protocol_version: str
    accepted_at: datetime


def job_inputs(
    valid: ValidRequest, pins: dict[str, Pin], minimum_protocol_version: str, accepted_at: datetime
) -> JobInputs:
    return JobInputs(
        job_type=valid.acm_op,
        auto_creation=valid.auto_creation,
        items=tuple(
            JobItem(
                key=item.key,
                names=item.names,
                pin=pins.get(item.key),
                certificate_pem=item.imported and item.imported.certificate_pem,
                chain_pem=item.imported and item.imported.chain_pem,
            )
            for item in valid.items
        ),
        minimum_protocol_version=minimum_protocol_version,
        accepted_at=accepted_at,
    )


def private_keys(valid: ValidRequest) -> dict[str, SecretStr]:
    """The imported items' private keys by item key."""
    return {item.key: item.imported.private_key_pem for item in valid.items if item.imported}
