"""An item's stack outputs, as one type: the program exports them under these
names, existing stacks hold them, and the published record shows them, so
the names are written here and nowhere else. Every reader parses the outputs
into ``ItemOutputs`` and reads attributes.

Pure: no import reaches AWS, a store or the Pulumi state.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ValidationRecord(BaseModel):
    """A DNS record that proves control of a name to ACM."""

    name: str
    type: str
    value: str


class ItemOutputs(BaseModel):
    """One request item's certificate and distribution. AWS's own statuses
    are strings, as AWS spells them. Serialised under the exported names
    (the aliases); built in code under the attribute names."""

    model_config = ConfigDict(
        frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    key: str = Field(description="the item's place in the request, e.g. cnameList[0]")
    names: list[str]
    certificate_arn: str | None = Field(default=None, alias="certificateArn")
    certificate_status: str | None = Field(
        default=None, alias="certificateStatus", description="ACM's status"
    )
    validation_records: list[ValidationRecord] = Field(default=[], alias="validationRecords")
    template_distribution_id: str | None = Field(default=None, alias="sourceDistributionId")
    template_version: int | None = Field(default=None, alias="configVersion")
    distribution_id: str | None = Field(default=None, alias="distributionId")
    distribution_arn: str | None = Field(default=None, alias="distributionArn")
    distribution_domain_name: str | None = Field(default=None, alias="distributionDomainName")
    distribution_status: str | None = Field(
        default=None, alias="distributionStatus", description="InProgress or Deployed"
    )
    warnings: list[str] = []
    certificate_from: str | None = Field(
        default=None,
        alias="certificateFrom",
        description="with dist_aggregate: the item whose wildcard certificate this one uses",
    )

    @classmethod
    def exported(cls, **fields: Any) -> dict[str, Any]:
        """The outputs as the program exports them, by attribute name. The
        values are Pulumi outputs, resolved only once the update runs, so
        the type gives their names and can't check them; a name it lacks
        raises KeyError."""
        return {cls.model_fields[name].alias or name: value for name, value in fields.items()}


def items_of(outputs: Mapping[str, Any] | None) -> list[ItemOutputs]:
    """The items of a job's stack outputs (none before its first update), or
    of its published record, whose items carry the same fields and more."""
    return [ItemOutputs.model_validate(item) for item in (outputs or {}).get("items", [])]
