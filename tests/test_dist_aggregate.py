"""dist_aggregate: which items reuse an earlier item's wildcard certificate,
decided at acceptance and kept in the job's inputs, and how a reusing item
waits for that certificate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from provisioning.engine.issued import describe_issued_items
from provisioning.program.inputs import JobInputs, covered, job_inputs
from provisioning.program.spec import JobSpec, Template
from provisioning.request.validation import validate
from tests.material import issue

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def create(*items: list[str], aggregate: str = "true") -> dict[str, Any]:
    return {
        "acm_op": "create",
        "auto_creation": "false",
        "dist_aggregate": aggregate,
        "cnameList": [{"domainName": names[0], "sanList": names[1:]} for names in items],
    }


def sharing(request: dict[str, Any]) -> dict[str, str | None]:
    inputs = job_inputs(validate(request), {}, "TLSv1.2_2021", NOW)
    return {item.key: item.certificate_from for item in inputs.items}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.example.com", True),
        ("example.com", False),  # the wildcard's apex
        ("a.b.example.com", False),  # two labels more
        ("*.example.com", True),  # an exact name covers itself
        ("*.a.example.com", False),
        ("a.example.org", False),
        ("www.shop.example.net", True),  # exact
        ("shop.example.net", False),
    ],
)
def test_a_wildcard_covers_exactly_one_label_and_an_exact_name_itself(
    name: str, expected: bool
) -> None:
    assert covered(name, {"*.example.com", "www.shop.example.net"}) is expected


def test_items_under_an_earlier_wildcard_use_its_certificate() -> None:
    request = create(
        ["*.shop.example.com", "shop.example.com"],
        ["a.shop.example.com"],
        ["b.shop.example.com", "c.shop.example.com"],
        ["d.shop.example.com", "shop.example.org"],  # one name not covered
        ["x.y.shop.example.com"],  # two labels under the wildcard
    )
    assert sharing(request) == {
        "cnameList[0]": None,
        "cnameList[1]": "cnameList[0]",
        "cnameList[2]": "cnameList[0]",
        "cnameList[3]": None,
        "cnameList[4]": None,
    }


def test_only_an_earlier_wildcard_is_reused_and_each_later_one_can_be() -> None:
    request = create(
        ["a.shop.example.com"],  # before the wildcard: requests its own
        ["*.shop.example.com"],
        ["*.blog.example.com"],
        ["x.blog.example.com"],
        ["y.shop.example.com"],
    )
    assert sharing(request) == {
        "cnameList[0]": None,
        "cnameList[1]": None,
        "cnameList[2]": None,
        "cnameList[3]": "cnameList[2]",
        "cnameList[4]": "cnameList[1]",
    }


def test_without_dist_aggregate_every_item_requests_its_own() -> None:
    request = create(["*.shop.example.com"], ["a.shop.example.com"], aggregate="false")
    assert sharing(request) == {"cnameList[0]": None, "cnameList[1]": None}
    del request["dist_aggregate"]
    assert sharing(request) == {"cnameList[0]": None, "cnameList[1]": None}


def test_an_import_job_ignores_dist_aggregate() -> None:
    def pem(names: list[str]) -> dict[str, str]:
        issued = issue(names)
        return {
            "CertPem": issued.cert_pem,
            "PrivateKeyPem": issued.key_pem,
            "ChainPem": issued.chain_pem,
        }

    request = {
        "acm_op": "import",
        "auto_creation": "false",
        "dist_aggregate": "true",
        "pemList": [pem(["*.shop.example.com"]), pem(["a.shop.example.com"])],
    }
    assert sharing(request) == {"pemList[0]": None, "pemList[1]": None}


def test_the_decision_is_stored_and_older_inputs_still_read() -> None:
    inputs = job_inputs(
        validate(create(["*.shop.example.com"], ["a.shop.example.com"])), {}, "TLSv1.2_2021", NOW
    )
    again = JobInputs.model_validate_json(inputs.model_dump_json())
    assert again.items[1].certificate_from == "cnameList[0]"
    older = inputs.model_dump(mode="json")
    for item in older["items"]:
        del item["certificate_from"]
    assert JobInputs.model_validate(older).items[1].certificate_from is None


def test_a_reusing_item_gets_its_distribution_when_the_shared_certificate_is_issued() -> None:
    request = {
        **create(["*.shop.example.com"], ["a.shop.example.com"]),
        "auto_creation": "true",
    }
    for entry in request["cnameList"]:
        entry["existing_cf_info"] = {"distribution_id": "E195R1W5GIVPF5"}
    inputs = job_inputs(validate(request), {}, "TLSv1.2_2021", NOW)
    templates = {item.key: Template("E195R1W5GIVPF5", 1, {}) for item in inputs.items}
    reusing = inputs.items[1]

    def spec(issued: set[str]) -> JobSpec:
        return JobSpec(job_id="j", inputs=inputs, templates=templates, issued=frozenset(issued))

    assert not spec(set()).makes_distribution(reusing)
    assert spec({"cnameList[0]"}).makes_distribution(reusing)


class Counting:
    """ACM, counting DescribeCertificate calls."""

    def __init__(self, acm: Any) -> None:
        self.acm, self.described = acm, 0

    def describe_certificate(self, **kwargs: Any) -> Any:
        self.described += 1
        return self.acm.describe_certificate(**kwargs)


def test_items_sharing_an_issued_certificate_are_all_issued_and_ask_acm_once(aws: str) -> None:
    made = issue(["*.shop.example.com"])
    acm = boto3.client("acm", region_name="us-east-1", endpoint_url=aws)
    arn = acm.import_certificate(
        Certificate=made.cert_pem, PrivateKey=made.key_pem, CertificateChain=made.chain_pem
    )["CertificateArn"]
    pending = acm.request_certificate(DomainName="blog.example.net")["CertificateArn"]
    counting = Counting(acm)
    outputs = {
        "items": [
            {"key": "cnameList[0]", "names": ["cnamelist0.example.com"], "certificateArn": arn},
            {
                "key": "cnameList[1]",
                "names": ["cnamelist1.example.com"],
                "certificateArn": arn,
                "certificateFrom": "cnameList[0]",
            },
            {
                "key": "cnameList[2]",
                "names": ["cnamelist2.example.com"],
                "certificateArn": arn,
                "certificateFrom": "cnameList[0]",
            },
            {"key": "cnameList[3]", "names": ["cnamelist3.example.com"], "certificateArn": pending},
        ]
    }
    assert describe_issued_items(counting, outputs) == {
        "cnameList[0]",
        "cnameList[1]",
        "cnameList[2]",
    }
    assert counting.described == 2
