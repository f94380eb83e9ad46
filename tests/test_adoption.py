"""What a killed step left in AWS, as the next step sorts it (moto): live
resources to import, gone ones skipped (the Tagging API may still list a
resource just deleted), certificates that timed out deleted."""

from __future__ import annotations

import pytest
from moto.acm.models import acm_backends

from provisioning.aws_clients import AwsClients
from provisioning.engine import adoption
from provisioning.engine.adoption import ImportResource
from provisioning.program.resources import CERTIFICATE_TYPE, DISTRIBUTION_TYPE
from provisioning.sandbox.session import ACCOUNT
from tests.clients import PROCESS
from tests.engine.jobs_helpers import aws as client

JOB = "11111111-2222-4333-8444-555555555555"


def requested(name: str) -> str:
    tags = [{"Key": "ssl-saas:job", "Value": JOB}, {"Key": "ssl-saas:item", "Value": name}]
    return str(
        client("acm").request_certificate(DomainName=name, ValidationMethod="DNS", Tags=tags)[
            "CertificateArn"
        ]
    )


def test_only_what_still_lives_is_imported(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    live, stale, timed_out, held = (requested(f"{n}.example.com") for n in "abcd")
    client("acm").delete_certificate(CertificateArn=stale)
    acm_backends[ACCOUNT]["us-east-1"].get_certificate(timed_out).status = "VALIDATION_TIMED_OUT"
    listed = [
        ImportResource(type=CERTIFICATE_TYPE, name=f"certificate-{n}", id=f"{arn}@us-east-1")
        for n, arn in zip("abcd", (live, stale, timed_out, held), strict=True)
    ] + [ImportResource(type=DISTRIBUTION_TYPE, name="distribution-a", id="EGONE0000000")]

    def tagged(aws: AwsClients, job_id: str) -> list[ImportResource]:
        assert (aws, job_id) == (PROCESS, JOB)
        return listed

    monkeypatch.setattr(adoption, "list_tagged", tagged)

    found = adoption.find_strays_deleting_timed_out(PROCESS, JOB, [held])

    assert [r["id"] for r in found] == [f"{live}@us-east-1"]
    arns = {
        c["CertificateArn"] for c in client("acm").list_certificates()["CertificateSummaryList"]
    }
    assert arns == {live, held}  # the timed-out one deleted, the held one kept
