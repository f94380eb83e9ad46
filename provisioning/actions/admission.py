"""Admitting a request: everything that can refuse it, with nothing
created, in the order that costs least; and the `pulumi up` path, which
admits its request file on every run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from provisioning.aws_clients import AwsClients
from provisioning.engine.issued import describe_issued_items
from provisioning.engine.state import stack_outputs
from provisioning.program.inputs import job_inputs, private_keys
from provisioning.program.spec import JobSpec, Template
from provisioning.request.validation import ValidRequest, validate_text
from provisioning.service import Service
from provisioning.templates.pinning import resolve_templates, save_live_templates
from provisioning.templates.versions import open_store


def accept(
    body: bytes,
    service: Service,
    *,
    save: bool = True,
    check: Callable[[AwsClients, ValidRequest, Mapping[str, Template]], None] | None = None,
) -> tuple[ValidRequest, dict[str, Template]]:
    """Everything that can refuse a request, with nothing created: the
    checks, the templates (fetched or loaded), then ``check`` (the account's
    pre-flight); only then are live templates saved as versions."""
    settings, aws = service.settings, service.aws
    valid = validate_text(body, max_items=settings.max_items)
    store = open_store(settings.config_store_url, aws)
    templates = resolve_templates(valid, store, aws.cloudfront(), save=False)
    if check is not None:
        check(aws, valid, templates)
    return valid, save_live_templates(templates, store) if save else templates


def request_file_spec(job_id: str, request_file: Path, service: Service) -> JobSpec:
    """`pulumi up` on the project: the request file is read on every run and
    templates are fetched live (and saved as versions) each time."""
    valid, templates = accept(request_file.read_bytes(), service)
    pins = {key: template.pin for key, template in templates.items()}
    inputs = job_inputs(valid, pins, service.settings.minimum_protocol_version, datetime.now(UTC))
    return JobSpec(
        job_id=job_id,
        inputs=inputs,
        templates=templates,
        keys=private_keys(valid),
        issued=describe_issued_items(service.aws.acm(), stack_outputs(service.backend, job_id)),
    )
