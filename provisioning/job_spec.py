"""What one job's Pulumi program is a function of, gathered before any
resource exists: the validated request, the template configurations it
clones (pinned to saved versions) and which requested certificates ACM has
issued. Anything that can refuse a job (an unknown template or version, a
template that can't be cloned faithfully) fails here, so nothing is created.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.client import BaseClient

from provisioning import aws_clients
from provisioning.distribution_translation import Untranslatable, translate
from provisioning.errors import Problem, RequestRejected
from provisioning.source_config import (
    ConfigStore,
    SourceConfigError,
    cloudfront_client,
    default_store_url,
    fetch,
    open_store,
)
from provisioning.state import stack_outputs
from provisioning.validation import ValidRequest, validate_text

DEFAULT_MINIMUM_PROTOCOL_VERSION = "TLSv1.2_2021"
# CloudFront's viewer TLS security policies, weakest first.
TLS_POLICIES = (
    "SSLv3",
    "TLSv1",
    "TLSv1_2016",
    "TLSv1.1_2016",
    "TLSv1.2_2018",
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
)


def minimum_protocol_version(value: str | None) -> str:
    """The service's minimum viewer TLS policy, checked before any job uses it."""
    chosen = value or DEFAULT_MINIMUM_PROTOCOL_VERSION
    if chosen not in TLS_POLICIES:
        raise RequestRejected(
            [
                Problem(
                    "minimumProtocolVersion",
                    f"{chosen!r} is not a CloudFront security policy; allowed: "
                    + ", ".join(TLS_POLICIES),
                )
            ]
        )
    return chosen


@dataclass(frozen=True)
class Source:
    distribution_id: str
    version: int
    config: Mapping[str, Any]


@dataclass(frozen=True)
class JobSpec:
    job_id: str
    request: ValidRequest
    sources: Mapping[str, Source]  # by item key, only for items that get a distribution
    issued: frozenset[str] = field(default_factory=frozenset)  # item keys ACM reports ISSUED
    minimum_protocol_version: str = DEFAULT_MINIMUM_PROTOCOL_VERSION

    def makes_distribution(self, key: str) -> bool:
        """Imported certificates are usable at once; requested ones only once
        ISSUED, since CloudFront refuses a distribution with any other."""
        item = next(i for i in self.request.items if i.key == key)
        usable = item.imported is not None or key in self.issued
        return self.request.auto_creation and key in self.sources and usable


def resolve_sources(
    request: ValidRequest, store: ConfigStore, client: BaseClient, *, save: bool = True
) -> dict[str, Source]:
    """Fetches (or loads) each template once and checks it can be cloned, so
    a job is refused up front rather than failing half-built. Live templates
    are saved as new versions only once every item has passed, and never
    for a preview (``save`` false: their version is then 0)."""
    if not request.auto_creation:
        return {}
    problems: list[Problem] = []
    found: dict[tuple[str, int | None], dict[str, Any] | str] = {}
    for item in request.items:
        if item.source is None:
            continue
        wanted = (item.source.distribution_id, item.source.config_version_id)
        if wanted not in found:
            found[wanted] = template(store, client, *wanted)
        if isinstance(found[wanted], str):
            problems.append(Problem(f"{item.key}.existing_cf_info", str(found[wanted])))
    if problems:
        raise RequestRejected(problems)
    sources = {
        wanted: Source(wanted[0], version_of(store, wanted, config, save), config)
        for wanted, config in found.items()
        if isinstance(config, dict)
    }
    return {
        item.key: sources[(item.source.distribution_id, item.source.config_version_id)]
        for item in request.items
        if item.source is not None
    }


def template(
    store: ConfigStore, client: BaseClient, distribution_id: str, version: int | None
) -> dict[str, Any] | str:
    """The template's configuration, or why it can't be cloned."""
    try:
        config = (
            fetch(client, distribution_id)
            if version is None
            else store.load(distribution_id, version)
        )
        translate(config)
    except (SourceConfigError, Untranslatable) as error:
        return str(error)
    if config.get("Staging"):
        return (
            f"{distribution_id} is a staging distribution, which can't serve alternate "
            "domain names; name its primary distribution instead"
        )
    return config


def version_of(
    store: ConfigStore, wanted: tuple[str, int | None], config: dict[str, Any], save: bool
) -> int:
    distribution_id, version = wanted
    if version is not None:
        return version
    return store.save(distribution_id, config) if save else 0


def accept(body: bytes, *, save: bool = True) -> tuple[ValidRequest, dict[str, Source]]:
    """Everything that can refuse a request, with nothing created: the
    checks, then the templates (fetched and saved as versions, or loaded)."""
    valid = validate_text(body)
    store = open_store(default_store_url())
    return valid, resolve_sources(valid, store, cloudfront_client(), save=save)


def issued_items(job_id: str) -> frozenset[str]:
    """Item keys whose requested certificate ACM now reports ISSUED, found
    from the job's previous outputs; items that already have a distribution
    are not asked about again."""
    acm = aws_clients.acm()
    issued = set()
    for item in (stack_outputs(job_id) or {}).get("items", []):
        arn = item.get("certificateArn")
        if item.get("distributionId"):
            issued.add(item["key"])
        elif (
            arn
            and acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"] == "ISSUED"
        ):
            issued.add(item["key"])
    return frozenset(issued)
