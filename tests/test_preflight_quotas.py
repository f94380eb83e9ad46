"""Where pre-flight's quotas come from when Service Quotas can't tell (no
applied value, no permission, a quota it doesn't know): AWS's default, else
the documented one; any other failure is not hidden. And the template
certificates' names, read for every template that has one."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from provisioning.actions import preflight
from provisioning.program.spec import Template

CERTIFICATES = {"ServiceCode": "acm", "QuotaCode": "L-F141DD1D"}


def refused(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "GetServiceQuota")


class Quotas:
    """Service Quotas answering ``applied`` and ``default`` (a value, or an
    error code it fails with); every question is recorded."""

    def __init__(self, applied: float | str, default: float | str) -> None:
        self.answers = {"applied": applied, "default": default}
        self.asked: list[tuple[str, dict[str, str]]] = []

    def answer(self, which: str, asked: dict[str, str]) -> dict[str, Any]:
        self.asked.append((which, asked))
        found = self.answers[which]
        if isinstance(found, str):
            raise refused(found)
        return {"Quota": {"Value": found}}

    def get_service_quota(self, *, ServiceCode: str, QuotaCode: str) -> dict[str, Any]:
        return self.answer("applied", {"ServiceCode": ServiceCode, "QuotaCode": QuotaCode})

    def get_aws_default_service_quota(self, *, ServiceCode: str, QuotaCode: str) -> dict[str, Any]:
        return self.answer("default", {"ServiceCode": ServiceCode, "QuotaCode": QuotaCode})


@pytest.mark.parametrize(
    "code", ["NoSuchResourceException", "AccessDeniedException", "IllegalArgumentException"]
)
def test_what_service_quotas_cannot_tell_falls_back_to_aws_default(code: str) -> None:
    found = Quotas(code, 1000.0)
    assert preflight.fetch_quota(found, preflight.CERTIFICATES) == 1000
    assert found.asked == [("applied", CERTIFICATES), ("default", CERTIFICATES)]


@pytest.mark.parametrize(
    "code", ["NoSuchResourceException", "AccessDeniedException", "IllegalArgumentException"]
)
def test_without_any_answer_the_documented_default_is_used(code: str) -> None:
    found = Quotas("AccessDeniedException", code)
    assert preflight.fetch_quota(found, preflight.CERTIFICATES) == 2500
    assert preflight.fetch_quota(found, preflight.DISTRIBUTIONS) == 500
    assert found.asked[-1] == (
        "default",
        {"ServiceCode": "cloudfront", "QuotaCode": "L-24B04930"},
    )


def test_the_applied_value_is_taken_first() -> None:
    found = Quotas(3000.0, 1000.0)
    assert preflight.fetch_quota(found, preflight.CERTIFICATES) == 3000
    assert found.asked == [("applied", CERTIFICATES)]


@pytest.mark.parametrize("which", ["applied", "default"])
def test_other_failures_are_not_taken_for_a_missing_quota(which: str) -> None:
    answers = {"applied": "NoSuchResourceException", "default": 1000.0}
    found = Quotas(**(answers | {which: "ThrottlingException"}))
    with pytest.raises(ClientError) as failed:
        preflight.fetch_quota(found, preflight.CERTIFICATES)
    assert failed.value.response["Error"]["Code"] == "ThrottlingException"


class Acm:
    """ACM describing the certificates of ``names`` (ARN -> names); asked
    ARNs are recorded."""

    def __init__(self, names: dict[str, list[str]]) -> None:
        self.names = names
        self.asked: list[str] = []

    def describe_certificate(self, *, CertificateArn: str) -> dict[str, Any]:
        self.asked.append(CertificateArn)
        return {"Certificate": {"SubjectAlternativeNames": self.names[CertificateArn]}}


def template(distribution_id: str, arn: str | None) -> Template:
    viewer = {"ACMCertificateArn": arn} if arn else {"CloudFrontDefaultCertificate": True}
    return Template(
        distribution_id=distribution_id, version=1, config={"ViewerCertificate": viewer}
    )


def test_every_templates_certificate_names_are_read_past_one_without() -> None:
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/t"
    acm = Acm({arn: ["*.example.com", "example.com"]})
    templates = {
        "cnameList[0]": template("EDEFAULT", None),
        "cnameList[1]": template("EWITH", arn),
        "cnameList[2]": template("EWITH", arn),
    }
    found = preflight.fetch_template_names(acm, templates)
    assert found == {"EWITH": ("*.example.com", "example.com")}
    assert acm.asked == [arn]
