"""What the HTTP API takes and answers, as models: the routes declare them,
so the served OpenAPI document describes every request and response, and
FastAPI checks every answer against them.

The published routes' answers keep their published field names and
shapes. Fields that a record carries only sometimes (an item's ``error``,
an API error's ``errors``) are optional and are left out, never sent as
null: routes serialise with ``exclude_unset``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from provisioning.jobs.states import JobStatus, Phase, Stage
from provisioning.program.outputs import ItemOutputs
from provisioning.request.contract import DISTRIBUTION_ID_PATTERN


class ErrorDetail(BaseModel):
    location: str = Field(description="where in the request, e.g. cnameList[1].sanList[2]")
    message: str


class ApiErrorBody(BaseModel):
    """Every refusal and failure: a stable code, words a caller can act on,
    and for a refused request every problem at its place."""

    error: str = Field(description="a stable code: invalid_request, unauthorized, not_found, ...")
    message: str
    errors: list[ErrorDetail] | None = None
    service: str | None = Field(default=None, description="the AWS service out of reach (503)")
    operation: str | None = Field(default=None, description="the AWS operation that failed (503)")


class SubmitAnswer(BaseModel):
    """The published answer of ``POST /ssl_for_saas``."""

    statusCode: int = Field(description="always 200")
    body: str = Field(description="the jobId")


class DcvRecord(BaseModel):
    type: str
    value: str


class ItemDetail(ItemOutputs):
    """One request item: its certificate and its distribution. AWS's own
    statuses are strings, as AWS spells them."""

    error: str | None = Field(default=None, description="why this item failed (only if it did)")
    check_error: str | None = Field(
        default=None,
        alias="checkError",
        description="why AWS could not be asked about this item (only then)",
    )


class JobRecordOut(BaseModel):
    """The published job record, plus ``status``, ``phase`` and ``items``."""

    jobId: str
    jobType: str = Field(description="create or import (empty for a damaged job)")
    creationDate: str = Field(description="ISO 8601")
    job_input: dict[str, Any] = Field(description="the normalised request, without pemList")
    cert_total_number: int
    cert_completed_number: int
    cloudfront_distribution_total_number: int
    cloudfront_distribution_created_number: int
    certCreateStageStatus: Stage
    certValidationStageStatus: Stage
    distStageStatus: Stage
    certList: list[str]
    distList: list[str]
    promptInfo: str = Field(description="every reason the job or an item failed, one per line")
    dcv_validation_msg: dict[str, DcvRecord] = Field(
        description="DNS validation records still to add, by record name"
    )
    status: JobStatus
    phase: Phase | None = Field(description="null when the job's record can't be read")
    items: list[ItemDetail]


class JobPage(BaseModel):
    """One page of ``list_ssl_jobs`` when the caller pages."""

    jobs: list[JobRecordOut]
    next: str | None = Field(description="the token for the next page; null on the last")


class CertificateSummary(BaseModel):
    arn: str
    domainName: str | None = None
    subjectAlternativeNames: list[str] = []
    status: str | None = Field(default=None, description="ACM's status")
    type: str | None = Field(default=None, description="AMAZON_ISSUED or IMPORTED")
    keyAlgorithm: str | None = None
    notBefore: str | None = Field(default=None, description="ISO 8601")
    notAfter: str | None = Field(default=None, description="ISO 8601")
    inUse: bool | None = None


class DistributionSource(BaseModel):
    distributionId: str
    version: int = Field(description="the configuration version; 0 for the live configuration")


class PreviewItem(BaseModel):
    key: str
    names: list[str]
    certificate: str = Field(description="imported, or requested (DNS validation)")
    distributionFrom: DistributionSource | None = Field(
        description="the template the distribution is cloned from; null when none is made"
    )


class PreviewAnswer(BaseModel):
    jobType: Literal["create", "import"]
    items: list[PreviewItem]


class DeleteAnswer(BaseModel):
    jobId: str
    status: Literal["DESTROYING"]


class RetryAnswer(BaseModel):
    jobId: str
    retried: list[str]  # the keys of the items run again
    status: Literal["QUEUED"]


class RenewAnswer(BaseModel):
    jobId: str
    key: str
    status: Literal["QUEUED"]


# The request body, for the document only. The service reads the body as
# bytes and validates it itself (provisioning.request.validation): it accepts the
# published examples' trailing commas and reports every problem at once,
# which a JSON Schema check before it would not. tests/test_openapi.py keeps
# these field names equal to the contract's (provisioning.request.contract).


class Described(BaseModel):
    model_config = ConfigDict(extra="forbid")


Flag = Literal["true", "false"] | bool


class ExistingCfInfoIn(Described):
    distribution_id: str = Field(pattern=DISTRIBUTION_ID_PATTERN)
    config_version_id: int | str | None = Field(
        default=None, description="a saved configuration version (a positive integer)"
    )


class CnameItemIn(Described):
    domainName: str
    sanList: list[str] = []
    existing_cf_info: ExistingCfInfoIn | None = Field(
        default=None, description="required when auto_creation is true"
    )


class CertificateFilesIn(Described):
    """An imported certificate: PEM leaf, its private key and the chain."""

    CertPem: str
    PrivateKeyPem: str = Field(json_schema_extra={"writeOnly": True})
    ChainPem: str


class PemItemIn(CertificateFilesIn):
    existing_cf_info: ExistingCfInfoIn | None = Field(
        default=None, description="required when auto_creation is true"
    )


class SslRequestIn(Described):
    """The published request: create certificates (cnameList) or import
    them (pemList), and with auto_creation clone a distribution per item."""

    acm_op: Literal["create", "import"]
    auto_creation: Flag
    dist_aggregate: Flag = False
    enable_cname_check: Flag = False
    cnameList: list[CnameItemIn] = []
    pemList: list[PemItemIn] = []
