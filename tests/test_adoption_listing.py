"""Finding what a killed step left (moto's Resource Groups Tagging API) and
handing it to ``pulumi import``: every resource tagged with the job and an
item, named as the program names it, with the id pulumi-aws imports it by;
and the sorting of what is found, whatever order the listing gives."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from provisioning.aws_clients import AwsClients
from provisioning.engine import adoption
from provisioning.engine.adoption import ImportResource
from provisioning.program.resources import CERTIFICATE_TYPE, DISTRIBUTION_TYPE
from tests import moto_account
from tests.clients import ACM, CLOUDFRONT, PROCESS, StandIn
from tests.engine.jobs_helpers import aws as client

JOB = "11111111-2222-4333-8444-555555555555"
OTHER = "11111111-2222-4333-8444-666666666666"


def tags(job_id: str, item: str | None) -> list[dict[str, str]]:
    found = [{"Key": "ssl-saas:job", "Value": job_id}]
    return found + ([{"Key": "ssl-saas:item", "Value": item}] if item else [])


def certificate(name: str, job_id: str = JOB, item: str | None = None) -> str:
    return str(
        client("acm").request_certificate(
            DomainName=name, ValidationMethod="DNS", Tags=tags(job_id, item)
        )["CertificateArn"]
    )


def distribution(job_id: str = JOB, item: str | None = None) -> str:
    made = moto_account.distribution()
    cloudfront = client("cloudfront")
    arn = cloudfront.get_distribution(Id=made)["Distribution"]["ARN"]
    cloudfront.tag_resource(Resource=arn, Tags={"Items": tags(job_id, item)})
    return made


class Recording(AwsClients):
    """The process's clients, each (service, region) asked for recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[tuple[str, str | None]] = []

    def client(self, service: str, region: str | None = None) -> Any:
        self.asked.append((service, region))
        return PROCESS.client(service, region)


def test_tagged_names_each_resource_of_the_job_as_the_program_does(aws: str) -> None:
    first = certificate("a.example.com", item="cnameList-0")
    served = distribution(item="cnameList-0")
    second = certificate("b.example.com", item="pemList-1")
    certificate("c.example.com", OTHER, item="cnameList-0")  # another job's
    certificate("d.example.com")  # the job's, but no item's: not the program's
    distribution(OTHER, item="cnameList-0")
    sent: list[dict[str, Any]] = []
    tagging = PROCESS.client("resourcegroupstaggingapi", "us-east-1")
    tagging.meta.events.register(
        "provide-client-params.resource-groups-tagging-api.GetResources",
        lambda params, **_: sent.append(dict(params)),
    )
    clients = Recording()

    found = adoption.list_tagged(clients, JOB)

    assert clients.asked == [("resourcegroupstaggingapi", "us-east-1")]
    assert sent == [
        {
            "TagFilters": [{"Key": "ssl-saas:job", "Values": [JOB]}],
            "ResourceTypeFilters": ["acm:certificate", "cloudfront:distribution"],
        }
    ]
    assert sorted(found, key=lambda r: r["name"]) == [
        ImportResource(
            type=CERTIFICATE_TYPE, name="certificate-cnameList-0", id=f"{first}@us-east-1"
        ),
        ImportResource(
            type=CERTIFICATE_TYPE, name="certificate-pemList-1", id=f"{second}@us-east-1"
        ),
        ImportResource(type=DISTRIBUTION_TYPE, name="distribution-cnameList-0", id=served),
    ]


def test_tagged_finds_nothing_of_a_job_without_resources(aws: str) -> None:
    certificate("a.example.com", OTHER, item="cnameList-0")
    assert adoption.list_tagged(PROCESS, JOB) == []


def test_tagged_reads_every_page(aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    made = {certificate(f"n{n}.example.com", item=f"cnameList-{n}") for n in range(3)}
    tagging = PROCESS.client("resourcegroupstaggingapi", "us-east-1")

    def one_per_page(params: dict[str, Any], **_: Any) -> None:
        params["ResourcesPerPage"] = 1

    tagging.meta.events.register(
        "provide-client-params.resource-groups-tagging-api.GetResources", one_per_page
    )
    try:
        found = adoption.list_tagged(PROCESS, JOB)
    finally:
        tagging.meta.events.unregister(
            "provide-client-params.resource-groups-tagging-api.GetResources", one_per_page
        )
    assert {r["id"] for r in found} == {f"{arn}@us-east-1" for arn in made}


def listing(expected: AwsClients, expected_job: str, listed: list[ImportResource]) -> Any:
    def tagged(aws: AwsClients, job_id: str) -> list[ImportResource]:
        assert (aws, job_id) == (expected, expected_job)
        return listed

    return tagged


def test_held_and_gone_resources_listed_first_do_not_hide_live_ones(
    aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = certificate("held.example.com", item="cnameList-0")
    gone = certificate("gone.example.com", item="cnameList-1")
    client("acm").delete_certificate(CertificateArn=gone)
    live = certificate("live.example.com", item="cnameList-2")
    serving = distribution(item="cnameList-2")
    listed = [
        ImportResource(
            type=CERTIFICATE_TYPE, name="certificate-cnameList-0", id=f"{held}@us-east-1"
        ),
        ImportResource(
            type=CERTIFICATE_TYPE, name="certificate-cnameList-1", id=f"{gone}@us-east-1"
        ),
        ImportResource(type=DISTRIBUTION_TYPE, name="distribution-cnameList-1", id="EGONE0000000"),
        ImportResource(type=DISTRIBUTION_TYPE, name="distribution-cnameList-2", id=serving),
        ImportResource(
            type=CERTIFICATE_TYPE, name="certificate-cnameList-2", id=f"{live}@us-east-1"
        ),
    ]
    monkeypatch.setattr(adoption, "list_tagged", listing(PROCESS, JOB, listed))

    found = adoption.find_strays_deleting_timed_out(PROCESS, JOB, [held])
    assert found == [listed[3], listed[4]]
    assert adoption.find_strays_deleting_timed_out(PROCESS, JOB, [held, serving, live]) == []


class TimingOut:
    """ACM as the adoption sees it, ``timed_out`` reported as timed out in
    validation; deletions are recorded and made."""

    def __init__(self, timed_out: str) -> None:
        self.real = client("acm")
        self.exceptions = self.real.exceptions
        self.timed_out = timed_out
        self.deleted: list[str] = []

    def describe_certificate(self, *, CertificateArn: str) -> dict[str, Any]:
        answer = self.real.describe_certificate(CertificateArn=CertificateArn)
        if CertificateArn == self.timed_out:
            answer["Certificate"]["Status"] = "VALIDATION_TIMED_OUT"
        return dict(answer)

    def delete_certificate(self, *, CertificateArn: str) -> None:
        self.deleted.append(CertificateArn)
        self.real.delete_certificate(CertificateArn=CertificateArn)


def test_a_certificate_timed_out_in_validation_is_deleted_and_logged(
    aws: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    timed_out = certificate("late.example.com", item="cnameList-0")
    live = certificate("live.example.com", item="cnameList-1")
    acm = TimingOut(timed_out)
    aws = StandIn({ACM: acm, CLOUDFRONT: PROCESS.cloudfront()})
    listed = [
        ImportResource(
            type=CERTIFICATE_TYPE, name="certificate-cnameList-0", id=f"{timed_out}@us-east-1"
        ),
        ImportResource(
            type=CERTIFICATE_TYPE, name="certificate-cnameList-1", id=f"{live}@us-east-1"
        ),
    ]
    monkeypatch.setattr(adoption, "list_tagged", listing(aws, JOB, listed))
    with caplog.at_level(logging.INFO, logger="provisioning.engine.adoption"):
        assert adoption.find_strays_deleting_timed_out(aws, JOB, []) == [listed[1]]
    assert acm.deleted == [timed_out]
    assert logged(caplog) == [f"job {JOB}: deleting {timed_out}, timed out in validation"]


def logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "provisioning.engine.adoption"]


class Stack:
    """A stack as adopt uses it: its name, and imports recorded as asked."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.imports: list[dict[str, Any]] = []

    def import_resources(
        self,
        *,
        resources: list[ImportResource],
        protect: bool,
        generate_code: bool,
        show_secrets: bool,
    ) -> None:
        self.imports.append(
            {
                "resources": resources,
                "protect": protect,
                "generate_code": generate_code,
                "show_secrets": show_secrets,
            }
        )


def test_adopt_imports_what_was_found_unprotected_without_code_or_secrets(
    caplog: pytest.LogCaptureFixture,
) -> None:
    found = [
        ImportResource(
            type=CERTIFICATE_TYPE,
            name="certificate-cnameList-0",
            id="arn:aws:acm:us-east-1:123456789012:certificate/a@us-east-1",
        ),
        ImportResource(type=DISTRIBUTION_TYPE, name="distribution-cnameList-0", id="E1"),
    ]
    stack = Stack(JOB)
    with caplog.at_level(logging.INFO, logger="provisioning.engine.adoption"):
        adoption.adopt(stack, found)  # type: ignore[arg-type]
    assert stack.imports == [
        {"resources": found, "protect": False, "generate_code": False, "show_secrets": False}
    ]
    assert all(value is False for value in list(stack.imports[0].values())[1:])
    assert logged(caplog) == [f"job {JOB}: adopting what an interrupted step made: {found}"]
