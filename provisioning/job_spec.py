"""What one job's Pulumi program is a function of, gathered before any
resource exists: the validated request, the template configurations it
clones (pinned to saved versions) and which requested certificates ACM has
issued. Anything that can refuse a job (an unknown template or version, a
template that can't be cloned faithfully) fails here, so nothing is created.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.client import BaseClient
from pydantic import SecretStr

from provisioning import aws_clients
from provisioning.backend import stack_outputs
from provisioning.distribution_translation import Untranslatable, translate
from provisioning.errors import Problem, RequestRejected
from provisioning.job_inputs import JobInputs, JobItem, Pin, job_inputs, private_keys
from provisioning.lifecycle import CertificateStatus
from provisioning.settings import Settings

if TYPE_CHECKING:
    from provisioning.service import Service
from provisioning.source_config import (
    ConfigStore,
    SourceConfigError,
    cloudfront_client,
    fetch,
    open_store,
)
from provisioning.validation import ValidRequest, validate_text


@dataclass(frozen=True)
class Source:
    distribution_id: str
    version: int
    config: Mapping[str, Any]

    @property
    def pin(self) -> Pin:
        return Pin(distribution_id=self.distribution_id, version=self.version)


@dataclass(frozen=True)
class JobSpec:
    """Everything one run of the program needs: the stored inputs, the
    private keys from the stack's secrets, the pinned template
    configurations, and what AWS says now."""

    job_id: str
    inputs: JobInputs
    sources: Mapping[str, Source]  # by item key, only for items that get a distribution
    keys: Mapping[str, SecretStr] = field(default_factory=dict)  # imported items' keys
    issued: frozenset[str] = field(default_factory=frozenset)  # item keys ACM reports ISSUED
    failed: frozenset[str] = field(default_factory=frozenset)  # item keys the job records failed

    def makes_distribution(self, item: JobItem) -> bool:
        """Imported certificates are usable at once; requested ones only once
        ISSUED, since CloudFront refuses a distribution with any other. An
        item reusing another's certificate waits for that item's."""
        usable = item.imported or (item.certificate_from or item.key) in self.issued
        return self.inputs.auto_creation and item.key in self.sources and usable


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
        wanted: Source(wanted[0], wanted[1] or 0, config)
        for wanted, config in found.items()
        if isinstance(config, dict)
    }
    resolved = {
        item.key: sources[(item.source.distribution_id, item.source.config_version_id)]
        for item in request.items
        if item.source is not None
    }
    return saved(resolved, store) if save else resolved


def saved(sources: dict[str, Source], store: ConfigStore) -> dict[str, Source]:
    """Each live template (version 0) saved as a new version, once."""
    versions: dict[str, Source] = {}
    for source in sources.values():
        if source.version == 0 and source.distribution_id not in versions:
            version = store.save(source.distribution_id, dict(source.config))
            versions[source.distribution_id] = Source(
                source.distribution_id, version, source.config
            )
    return {key: versions[s.distribution_id] if s.version == 0 else s for key, s in sources.items()}


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


def accept(
    body: bytes,
    settings: Settings,
    *,
    save: bool = True,
    check: Callable[[ValidRequest, Mapping[str, Source]], None] | None = None,
) -> tuple[ValidRequest, dict[str, Source]]:
    """Everything that can refuse a request, with nothing created: the
    checks, the templates (fetched or loaded), then ``check`` (the account's
    pre-flight); only then are live templates saved as versions."""
    valid = validate_text(body, max_items=settings.max_items)
    store = open_store(settings.config_store_url)
    sources = resolve_sources(valid, store, cloudfront_client(), save=False)
    if check is not None:
        check(valid, sources)
    return valid, saved(sources, store) if save else sources


def load_sources(inputs: JobInputs, settings: Settings) -> dict[str, Source]:
    """The pinned template versions of a stored job, loaded once each."""
    store = open_store(settings.config_store_url)
    loaded: dict[Pin, Source] = {}
    for item in inputs.items:
        if item.pin is not None and item.pin not in loaded:
            config = store.load(item.pin.distribution_id, item.pin.version)
            loaded[item.pin] = Source(item.pin.distribution_id, item.pin.version, config)
    return {item.key: loaded[item.pin] for item in inputs.items if item.pin is not None}


def issued_items(outputs: Mapping[str, Any] | None) -> frozenset[str]:
    """Item keys whose requested certificate ACM now reports ISSUED, found
    from the job's previous outputs; items that already have a distribution
    are not asked about again, nor is a certificate items share."""
    acm = aws_clients.acm()
    statuses: dict[str, str] = {}  # by ARN
    issued = set()
    for item in (outputs or {}).get("items", []):
        arn = item.get("certificateArn")
        if item.get("distributionId"):
            issued.add(item["key"])
        elif arn:
            if arn not in statuses:
                found = acm.describe_certificate(CertificateArn=arn)["Certificate"]
                statuses[arn] = found["Status"]
            if statuses[arn] == CertificateStatus.ISSUED:
                issued.add(item["key"])
    return frozenset(issued)


def request_file_spec(job_id: str, request_file: Path, service: Service) -> JobSpec:
    """`pulumi up` on the project: the request file is read on every run and
    templates are fetched live (and saved as versions) each time."""
    valid, sources = accept(request_file.read_bytes(), service.settings)
    pins = {key: source.pin for key, source in sources.items()}
    inputs = job_inputs(valid, pins, service.settings.minimum_protocol_version, datetime.now(UTC))
    return JobSpec(
        job_id=job_id,
        inputs=inputs,
        sources=sources,
        keys=private_keys(valid),
        issued=issued_items(stack_outputs(service.backend, job_id)),
    )
