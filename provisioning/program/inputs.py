"""A job's inputs: everything its program is a function of except the private
keys, written once when the job is accepted and read back as is by every
later step, on any instance, without validating the request again.

The keys live apart, as Pulumi secrets in the job's stack config, so these
inputs can be stored and shown in plain text.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from pydantic import BaseModel, ConfigDict, SecretStr

from provisioning.request.validation import ValidRequest


class TemplatePin(BaseModel):
    """The template configuration version an item's distribution clones."""

    model_config = ConfigDict(frozen=True)

    distribution_id: str
    version: int


class JobItem(BaseModel):
    """One certificate (its own, or with dist_aggregate an earlier item's)
    and, with auto_creation, one distribution serving exactly its names."""

    model_config = ConfigDict(frozen=True)

    key: str  # the item's place in the request, e.g. cnameList[0]
    names: tuple[str, ...]  # the primary name first
    pin: TemplatePin | None = None
    certificate_pem: str | None = None  # imported items only; public material
    chain_pem: str | None = None
    certificate_from: str | None = None  # the key of the item whose certificate it uses

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


def covered(name: str, names: Collection[str]) -> bool:
    """Whether a certificate for ``names`` serves ``name``: an exact name
    serves itself, and ``*.example.com`` exactly one label more
    (``a.example.com``, not ``example.com`` nor ``a.b.example.com``)."""
    parent = name.partition(".")[2]
    return name in names or (bool(parent) and f"*.{parent}" in names)


def shared_certificates(valid: ValidRequest) -> dict[str, str]:
    """With dist_aggregate, the items that reuse the certificate of an earlier
    item instead of requesting their own, by key: every one of their names is
    covered by that item's names, a wildcard among them. Only requested
    certificates are shared: each imported certificate is its own. Decided
    once, at acceptance, so every later step makes the same certificates."""
    if not (valid.request.dist_aggregate and valid.acm_op == "create"):
        return {}
    shared: dict[str, str] = {}
    wildcards: list[tuple[str, frozenset[str]]] = []  # items requesting one, in request order
    for item in valid.items:
        owner = next(
            (key for key, names in wildcards if all(covered(n, names) for n in item.names)), None
        )
        if owner is not None:
            shared[item.key] = owner
        elif any(name.startswith("*.") for name in item.names):
            wildcards.append((item.key, frozenset(item.names)))
    return shared


def job_inputs(
    valid: ValidRequest,
    pins: dict[str, TemplatePin],
    minimum_protocol_version: str,
    accepted_at: datetime,
) -> JobInputs:
    shared = shared_certificates(valid)
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
                certificate_from=shared.get(item.key),
            )
            for item in valid.items
        ),
        minimum_protocol_version=minimum_protocol_version,
        accepted_at=accepted_at,
    )


def private_keys(valid: ValidRequest) -> dict[str, SecretStr]:
    """The imported items' private keys by item key."""
    return {item.key: item.imported.private_key_pem for item in valid.items if item.imported}
