"""Checks against the account before anything is created, at submission and
in preview: what AWS would refuse later, after the customer has already
added DNS records, is refused now with one reason per item.

- A name already an alternate domain name of a distribution: CloudFront
  allows a name on one distribution only (CNAMEAlreadyExists). The
  account's own distributions are listed (their aliases come with the
  listing); names the template's certificate covers are also asked of
  CloudFront's ListConflictingAliases, which sees other accounts too but
  answers only for names the given distribution's certificate includes.
- Quotas: ACM certificates (in us-east-1) and CloudFront distributions, each
  from Service Quotas (the account's applied value, else AWS's default,
  else the documented default when Service Quotas can't tell), less what
  the account already has, against what the request would make.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from provisioning.aws_clients import AwsClients, list_certificates
from provisioning.errors import Problem, RequestRejected
from provisioning.program.inputs import covered, shared_certificates
from provisioning.program.spec import Template
from provisioning.request.validation import Item, ValidRequest
from provisioning.settings import CERTIFICATE_REGION

log = logging.getLogger("provisioning.actions.preflight")

PARALLEL_REQUESTS = 8


@dataclass(frozen=True)
class Quota:
    what: str
    service: str
    code: str
    default: int  # documented default, used when Service Quotas can't tell


CERTIFICATES = Quota("ACM certificates", "acm", "L-F141DD1D", 2500)
DISTRIBUTIONS = Quota("CloudFront distributions", "cloudfront", "L-24B04930", 500)


def check(aws: AwsClients, valid: ValidRequest, templates: Mapping[str, Template]) -> None:
    """Raises RequestRejected naming each item AWS would refuse. What is
    asked of the account is asked all at once: each is a round trip or a
    few, and a submission waits for them."""
    serving = [i for i in valid.items if valid.auto_creation and i.key in templates]
    shared = shared_certificates(valid)
    certifying = [i.key for i in valid.items if i.key not in shared]
    acm, cloudfront = aws.acm(), aws.cloudfront()
    quotas = aws.client("service-quotas", CERTIFICATE_REGION)
    with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
        listed = pool.submit(list_distributions, cloudfront) if serving else None
        names = pool.submit(fetch_template_names, acm, templates) if serving else None
        certificates = pool.submit(count_certificates, acm) if certifying else None
        certificate_limit = pool.submit(fetch_quota, quotas, CERTIFICATES) if certifying else None
        distribution_limit = pool.submit(fetch_quota, quotas, DISTRIBUTIONS) if serving else None
        found = find_conflicts(
            cloudfront,
            serving,
            templates,
            listed.result() if listed else [],
            names.result() if names else {},
        )
        if certificates and certificate_limit:
            found += over_quota(
                CERTIFICATES, certifying, certificates.result(), certificate_limit.result()
            )
        if listed and distribution_limit:
            keys = [i.key for i in serving]
            found += over_quota(
                DISTRIBUTIONS, keys, len(listed.result()), distribution_limit.result()
            )
    reasons: dict[str, list[str]] = {}
    for problem in found:
        reasons.setdefault(problem.location, []).append(problem.message)
    if reasons:  # one refusal per item, giving each of its reasons
        raise RequestRejected([Problem(key, "; ".join(found)) for key, found in reasons.items()])


def list_distributions(cloudfront: Any) -> list[dict[str, Any]]:
    """The account's distributions, as listed (aliases included)."""
    pages = cloudfront.get_paginator("list_distributions").paginate()
    return [summary for page in pages for summary in page["DistributionList"].get("Items") or []]


def find_conflicts(
    cloudfront: Any,
    serving: list[Item],
    templates: Mapping[str, Template],
    listed: list[dict[str, Any]],
    names: Mapping[str, tuple[str, ...]],
) -> list[Problem]:
    held = {
        alias.lower(): summary["Id"]
        for summary in listed
        for alias in (summary.get("Aliases") or {}).get("Items") or []
    }
    asks = [
        (name, templates[item.key].distribution_id)
        for item in serving
        for name in item.names
        if name not in held and covered(name, names.get(templates[item.key].distribution_id, ()))
    ]
    with ThreadPoolExecutor(max_workers=PARALLEL_REQUESTS) as pool:
        answers = pool.map(lambda ask: ask_conflicting_alias(cloudfront, *ask), asks)
        elsewhere = dict(zip(asks, answers, strict=True))
    problems = []
    for item in serving:
        reasons = [
            f"{name} is already an alternate domain name of distribution {held[name]} in this "
            "account; remove it there (or delete the job that made it) first"
            for name in item.names
            if name in held
        ]
        reasons += [
            f"{name} is already an alternate domain name of distribution {found}; it must be "
            "removed there first"
            for name in item.names
            if (found := elsewhere.get((name, templates[item.key].distribution_id)))
        ]
        if reasons:
            problems.append(Problem(item.key, "; ".join(reasons)))
    return problems


def fetch_template_names(acm: Any, templates: Mapping[str, Template]) -> dict[str, tuple[str, ...]]:
    """Template distribution id -> the names its ACM certificate includes."""
    found: dict[str, tuple[str, ...]] = {}
    for template in templates.values():
        arn = (template.config.get("ViewerCertificate") or {}).get("ACMCertificateArn")
        if template.distribution_id in found or not arn:
            continue
        try:
            detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        except ClientError:
            detail = {}  # the template's certificate is gone: nothing to ask with
        found[template.distribution_id] = tuple(detail.get("SubjectAlternativeNames") or ())
    return found


def ask_conflicting_alias(cloudfront: Any, name: str, template_id: str) -> str | None:
    """The (partly hidden) id of a distribution, in any account, that has
    ``name`` itself as an alias; a wildcard overlapping it is no conflict."""
    found = cloudfront.list_conflicting_aliases(DistributionId=template_id, Alias=name)
    for entry in found["ConflictingAliasesList"].get("Items") or []:
        if entry["Alias"].lower() == name:
            return f"{entry['DistributionId']} (account {entry['AccountId']})"
    return None


def over_quota(quota: Quota, keys: list[str], in_use: int, limit: int) -> list[Problem]:
    """The items (``keys``, in request order) past the quota's headroom."""
    headroom = max(limit - in_use, 0)
    return [
        Problem(
            key,
            f"{quota.what}: the account has {in_use} of its quota of {limit} "
            f"({quota.service} {quota.code}) and this request needs {len(keys)}; ask AWS "
            "for a higher quota or submit fewer items",
        )
        for key in keys[headroom:]
    ]


def fetch_quota(quotas: Any, quota: Quota) -> int:
    """The applied quota, else AWS's default for it, else the documented one.
    ``quotas``: Service Quotas in the certificates' region."""
    for ask in (quotas.get_service_quota, quotas.get_aws_default_service_quota):
        try:
            return int(ask(ServiceCode=quota.service, QuotaCode=quota.code)["Quota"]["Value"])
        except ClientError as error:
            if error.response["Error"]["Code"] not in {
                "NoSuchResourceException",
                "AccessDeniedException",
                "IllegalArgumentException",
            }:
                raise
    return quota.default


def count_certificates(acm: Any) -> int:
    return sum(1 for _ in list_certificates(acm))
