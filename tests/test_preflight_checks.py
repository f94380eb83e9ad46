"""Pre-flight at submission, without the engine: names already alternate
domain names of a distribution (in the account's listing, or found by
ListConflictingAliases) and the ACM and CloudFront quotas refuse the items
AWS would refuse later, each at its key; a refused request saves no template
version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from provisioning.actions import preflight
from provisioning.actions.admission import accept
from provisioning.errors import RequestRejected
from provisioning.program.spec import Template
from provisioning.request.validation import ValidRequest, validate
from provisioning.sandbox import aws_gaps
from provisioning.service import Service
from provisioning.settings import Settings
from provisioning.templates.pinning import resolve_templates
from provisioning.templates.versions import open_store
from tests.clients import ACM, CLOUDFRONT, PROCESS, StandIn
from tests.material import issue, private_ca
from tests.moto_account import ACCOUNT_SHOWN, CERTIFICATES, DISTRIBUTIONS, certificate, distribution


def shown(distribution_id: str) -> str:
    return "*" * (len(distribution_id) - 6) + distribution_id[-6:]


def create(
    *items: list[str],
    template: str | None = None,
    auto_creation: bool = True,
    aggregate: bool = False,
) -> dict[str, Any]:
    """A create request, each item cloning ``template`` when there is one."""
    source = {"existing_cf_info": {"distribution_id": template}} if template else {}
    return {
        "acm_op": "create",
        "auto_creation": str(auto_creation).lower(),
        "dist_aggregate": str(aggregate).lower(),
        "cnameList": [{"domainName": names[0], "sanList": names[1:], **source} for names in items],
    }


def sources_of(valid: ValidRequest, tmp_path: Path) -> dict[str, Template]:
    store = open_store(str(tmp_path), StandIn({}))
    return resolve_templates(valid, store, PROCESS.cloudfront(), save=False)


def account() -> StandIn:
    """Moto's ACM and Service Quotas in us-east-1, and CloudFront: what
    pre-flight asks, each only in the region it must be asked in."""
    quotas = ("service-quotas", "us-east-1")
    return StandIn(
        {ACM: PROCESS.acm(), CLOUDFRONT: PROCESS.cloudfront(), quotas: PROCESS.client(*quotas)}
    )


def checked(request: dict[str, Any], tmp_path: Path) -> dict[str, str]:
    """The problems pre-flight finds, by location; {} when it passes."""
    valid = validate(request)
    try:
        preflight.check(account(), valid, sources_of(valid, tmp_path))
    except RequestRejected as rejected:
        found = {p.location: p.message for p in rejected.problems}
        assert len(found) == len(rejected.problems), "one problem per item"
        return found
    return {}


def existing_distributions() -> int:
    listed = boto3.client("cloudfront").list_distributions()["DistributionList"]
    return len(listed.get("Items") or [])


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(distribution id, alias) of every ListConflictingAliases the sandbox answers."""
    calls: list[tuple[str, str]] = []
    answer = aws_gaps.conflicting_aliases

    def recorded(distribution_id: str, alias: str) -> aws_gaps.Answer:
        calls.append((distribution_id, alias))
        return answer(distribution_id, alias)

    monkeypatch.setattr(aws_gaps, "conflicting_aliases", recorded)
    return calls


@pytest.fixture
def unlisted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The account's listing shows nothing, as if every other distribution
    were another account's: only ListConflictingAliases can find them."""
    monkeypatch.setattr(preflight, "list_distributions", lambda _: [])


# -- names already on a distribution of the account --------------------------------


def test_a_name_on_a_distribution_of_the_account_refuses_its_item(aws: str, tmp_path: Path) -> None:
    template = distribution(["old.example.com"])
    other = distribution(["blog.example.com", "News.Example.com"])
    found = checked(
        create(
            ["shop.example.com", "www.shop.example.com"],
            ["news.example.com", "Blog.Example.com"],
            ["a.example.org"],
            ["old.example.com"],
            template=template,
        ),
        tmp_path,
    )
    assert list(found) == ["cnameList[1]", "cnameList[3]"]
    assert found["cnameList[1]"] == (
        f"news.example.com is already an alternate domain name of distribution {other} in this "
        "account; remove it there (or delete the job that made it) first; "
        f"blog.example.com is already an alternate domain name of distribution {other} in this "
        "account; remove it there (or delete the job that made it) first"
    )
    assert (
        f"old.example.com is already an alternate domain name of distribution {template}"
        in (found["cnameList[3]"])
    )


def test_free_names_pass(aws: str, tmp_path: Path) -> None:
    template = distribution(["old.example.com"])
    distribution(["blog.example.com", "*.news.example.com"])
    assert (
        checked(create(["shop.example.com"], ["news.example.com"], template=template), tmp_path)
        == {}
    )


def test_without_auto_creation_aliases_are_not_checked(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distribution(["shop.example.com"])

    def unexpected(_: Any) -> list[dict[str, Any]]:
        raise AssertionError("the account's distributions were listed")

    monkeypatch.setattr(preflight, "list_distributions", unexpected)
    assert checked(create(["shop.example.com"], auto_creation=False), tmp_path) == {}


def test_a_wildcard_elsewhere_refuses_only_itself_not_a_name_under_it(
    aws: str, tmp_path: Path
) -> None:
    wildcard = distribution(["*.example.com"])
    found = checked(
        create(["a.example.com"], ["*.example.com"], ["example.com"], template=distribution()),
        tmp_path,
    )
    assert list(found) == ["cnameList[1]"]
    assert (
        f"*.example.com is already an alternate domain name of distribution {wildcard}"
        in (found["cnameList[1]"])
    )


# -- names found by ListConflictingAliases -------------------------------------------


def test_names_the_template_certificate_includes_are_asked_of_cloudfront(
    aws: str, tmp_path: Path, unlisted: None, asked: list[tuple[str, str]]
) -> None:
    template = distribution(
        certificate_arn=certificate("shop.example.com", "www.shop.example.com", "*.example.com")
    )
    taken = distribution(["shop.example.com"])
    wildcard = distribution(["*.example.com"])
    found = checked(
        create(
            ["shop.example.com", "www.shop.example.com"],
            ["*.example.com"],
            ["other.example.org"],  # not in the certificate: not asked, so no InvalidArgument
            template=template,
        ),
        tmp_path,
    )
    assert found == {
        "cnameList[0]": f"shop.example.com is already an alternate domain name of distribution "
        f"{shown(taken)} (account {ACCOUNT_SHOWN}); it must be removed there first",
        "cnameList[1]": f"*.example.com is already an alternate domain name of distribution "
        f"{shown(wildcard)} (account {ACCOUNT_SHOWN}); it must be removed there first",
    }
    assert sorted(asked) == sorted(
        [
            (template, "shop.example.com"),
            (template, "www.shop.example.com"),
            (template, "*.example.com"),
        ]
    )


def test_names_already_in_the_listing_are_not_asked_again(
    aws: str, tmp_path: Path, asked: list[tuple[str, str]]
) -> None:
    template = distribution(certificate_arn=certificate("shop.example.com", "blog.example.com"))
    taken = distribution(["shop.example.com"])
    found = checked(create(["shop.example.com"], ["blog.example.com"], template=template), tmp_path)
    assert list(found) == ["cnameList[0]"]
    assert f"distribution {taken} in this account" in found["cnameList[0]"]
    assert asked == [(template, "blog.example.com")]


def test_without_an_acm_certificate_on_the_template_nothing_is_asked(
    aws: str, tmp_path: Path, unlisted: None, asked: list[tuple[str, str]]
) -> None:
    distribution(["shop.example.com"])
    gone = certificate("shop.example.com")
    deleted = distribution(certificate_arn=gone)
    boto3.client("acm", region_name="us-east-1").delete_certificate(CertificateArn=gone)
    for template in (distribution(), deleted):
        assert checked(create(["shop.example.com"], template=template), tmp_path) == {}
    assert asked == []


def test_a_name_under_the_template_wildcard_certificate_is_asked(
    aws: str, tmp_path: Path, unlisted: None
) -> None:
    template = distribution(certificate_arn=certificate("*.shop.example.com"))
    taken = distribution(["b.shop.example.com"])
    found = checked(
        create(["a.shop.example.com"], ["b.shop.example.com"], template=template), tmp_path
    )
    assert list(found) == ["cnameList[1]"]
    assert shown(taken) in found["cnameList[1]"]


# -- quotas ----------------------------------------------------------------------------


def test_items_past_the_distribution_quota_are_refused(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = distribution()
    distribution(["unrelated.example.org"])
    existing = existing_distributions()
    assert existing == 2
    request = create(["a.example.com"], ["b.example.com"], template=template)

    monkeypatch.setitem(aws_gaps.APPLIED, DISTRIBUTIONS, float(existing + 1))
    found = checked(request, tmp_path)
    assert found == {
        "cnameList[1]": f"CloudFront distributions: the account has {existing} of its quota of "
        f"{existing + 1} (cloudfront L-24B04930) and this request needs 2; ask AWS for a higher "
        "quota or submit fewer items"
    }

    monkeypatch.setitem(aws_gaps.APPLIED, DISTRIBUTIONS, 1.0)  # already past it
    assert list(checked(request, tmp_path)) == ["cnameList[0]", "cnameList[1]"]

    monkeypatch.setitem(aws_gaps.APPLIED, DISTRIBUTIONS, float(existing + 2))
    assert checked(request, tmp_path) == {}
    monkeypatch.delitem(aws_gaps.APPLIED, DISTRIBUTIONS)  # AWS's default, 500
    assert checked(request, tmp_path) == {}


def test_without_auto_creation_no_distribution_is_counted(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distribution()
    monkeypatch.setitem(aws_gaps.APPLIED, DISTRIBUTIONS, 0.0)
    assert checked(create(["a.example.com"], auto_creation=False), tmp_path) == {}


def test_items_past_the_certificate_quota_are_refused(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(aws_gaps.APPLIED, CERTIFICATES, 0.0)
    issued = issue(["shop.example.com"], key="ec-p256", ca=private_ca(key="ec-p256"))
    imported = {
        "acm_op": "import",
        "auto_creation": "false",
        "pemList": [
            {
                "CertPem": issued.cert_pem,
                "PrivateKeyPem": issued.key_pem,
                "ChainPem": issued.chain_pem,
            }
        ],
    }
    found = checked(imported, tmp_path)
    assert list(found) == ["pemList[0]"]
    assert found["pemList[0]"].startswith(
        "ACM certificates: the account has 0 of its quota of 0 (acm L-F141DD1D) and this "
        "request needs 1"
    )
    found = checked(create(["a.example.com"], template=distribution()), tmp_path)
    assert list(found) == ["cnameList[0]"]
    assert found["cnameList[0]"].startswith("ACM certificates:")


def test_certificates_of_every_key_type_are_counted(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificate("rsa.example.com")  # RSA 2048
    issued = issue(["ec.example.com"], key="ec-p256", ca=private_ca(key="ec-p256"))
    boto3.client("acm", region_name="us-east-1").import_certificate(
        Certificate=issued.cert_pem.encode(),
        PrivateKey=issued.key_pem.encode(),
        CertificateChain=issued.chain_pem.encode(),
    )
    monkeypatch.setitem(aws_gaps.APPLIED, CERTIFICATES, 3.0)
    found = checked(create(["a.example.com"], ["b.example.com"], auto_creation=False), tmp_path)
    assert list(found) == ["cnameList[1]"]
    assert "ACM certificates: the account has 2 of its quota of 3" in found["cnameList[1]"]


def test_items_sharing_a_wildcard_certificate_count_it_once(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificate("existing.example.com")
    monkeypatch.setitem(aws_gaps.APPLIED, CERTIFICATES, 2.0)
    items = (["*.shop.example.com", "shop.example.com"], ["a.shop.example.com"])
    assert checked(create(*items, aggregate=True, auto_creation=False), tmp_path) == {}
    found = checked(create(*items, aggregate=False, auto_creation=False), tmp_path)
    assert list(found) == ["cnameList[1]"]
    assert "the account has 1 of its quota of 2" in found["cnameList[1]"]


def test_an_item_is_refused_for_every_reason_at_its_key(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    template = distribution(["a.example.com"])
    monkeypatch.setitem(aws_gaps.APPLIED, CERTIFICATES, 0.0)
    monkeypatch.setitem(aws_gaps.APPLIED, DISTRIBUTIONS, 0.0)
    valid = validate(create(["a.example.com"], template=template))
    with pytest.raises(RequestRejected) as rejected:
        preflight.check(account(), valid, sources_of(valid, tmp_path))
    problems = [(p.location, p.message) for p in rejected.value.problems]
    assert [location for location, _ in problems] == ["cnameList[0]"] * len(problems)
    text = " ".join(message for _, message in problems)
    assert "alternate domain name" in text
    assert "ACM certificates" in text and "CloudFront distributions" in text


# -- through accept() -------------------------------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"minimum_protocol_version": "TLSv1.2_2019"})


def body(request: dict[str, Any]) -> bytes:
    return json.dumps(request).encode()


def test_a_refused_request_saves_no_template_version(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = distribution(), distribution()
    distribution(["blog.example.com"])
    store = open_store(service.settings.config_store_url, service.aws)
    request = create(["a.example.com"], ["blog.example.com"], template=first)
    request["cnameList"][0]["existing_cf_info"] = {"distribution_id": second}
    with pytest.raises(RequestRejected) as rejected:
        accept(body(request), service, check=preflight.check)
    assert [p.location for p in rejected.value.problems] == ["cnameList[1]"]

    monkeypatch.setitem(aws_gaps.APPLIED, DISTRIBUTIONS, float(existing_distributions()))
    with pytest.raises(RequestRejected) as rejected:
        accept(body(create(["a.example.com"], template=first)), service, check=preflight.check)
    assert "CloudFront distributions" in str(rejected.value)
    assert store.versions(first) == store.versions(second) == []


def test_an_accepted_request_saves_one_version_per_live_template(service: Service) -> None:
    first, second = distribution(), distribution()
    request = create(["a.example.com"], ["b.example.com"], ["c.example.com"], template=first)
    request["cnameList"][2]["existing_cf_info"] = {"distribution_id": second}
    valid, templates = accept(body(request), service, check=preflight.check)
    assert [item.key for item in valid.items] == ["cnameList[0]", "cnameList[1]", "cnameList[2]"]
    assert {key: source.pin.model_dump() for key, source in templates.items()} == {
        "cnameList[0]": {"distribution_id": first, "version": 1},
        "cnameList[1]": {"distribution_id": first, "version": 1},
        "cnameList[2]": {"distribution_id": second, "version": 1},
    }
    store = open_store(service.settings.config_store_url, service.aws)
    assert [v.version for v in store.versions(first)] == [1]
    assert [v.version for v in store.versions(second)] == [1]
