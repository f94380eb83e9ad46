"""Template configurations for a request or a stored job: fetched live
(or loaded at the version a request names), checked to be clonable, saved
as numbered versions once a request is accepted, and loaded back at those
pinned versions by every later step."""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient

from provisioning.aws_clients import AwsClients
from provisioning.errors import Problem, RequestRejected, TemplateUnavailable, Untranslatable
from provisioning.program.inputs import JobInputs, TemplatePin
from provisioning.program.spec import Template
from provisioning.program.translation import translate
from provisioning.request.validation import ValidRequest
from provisioning.settings import Settings
from provisioning.templates.versions import TemplateStore, fetch, open_store


def resolve_templates(
    request: ValidRequest, store: TemplateStore, client: BaseClient, *, save: bool = True
) -> dict[str, Template]:
    """Fetches (or loads) each template once and checks it can be cloned, so
    a job is refused up front rather than failing half-built. Live templates
    are saved as new versions only once every item has passed, and never
    for a preview (``save`` false: their version is then 0)."""
    if not request.auto_creation:
        return {}
    problems: list[Problem] = []
    found: dict[tuple[str, int | None], dict[str, Any] | str] = {}
    for item in request.items:
        if item.template is None:
            continue
        wanted = (item.template.distribution_id, item.template.config_version_id)
        if wanted not in found:
            found[wanted] = fetch_template(store, client, *wanted)
        if isinstance(found[wanted], str):
            problems.append(Problem(f"{item.key}.existing_cf_info", str(found[wanted])))
    if problems:
        raise RequestRejected(problems)
    templates = {
        wanted: Template(wanted[0], wanted[1] or 0, config)
        for wanted, config in found.items()
        if isinstance(config, dict)
    }
    resolved = {
        item.key: templates[(item.template.distribution_id, item.template.config_version_id)]
        for item in request.items
        if item.template is not None
    }
    return save_live_templates(resolved, store) if save else resolved


def save_live_templates(
    templates: dict[str, Template], store: TemplateStore
) -> dict[str, Template]:
    """Each live template (version 0) saved as a new version, once."""
    versions: dict[str, Template] = {}
    for template in templates.values():
        if template.version == 0 and template.distribution_id not in versions:
            version = store.save(template.distribution_id, dict(template.config))
            versions[template.distribution_id] = Template(
                template.distribution_id, version, template.config
            )
    return {
        key: versions[s.distribution_id] if s.version == 0 else s for key, s in templates.items()
    }


def fetch_template(
    store: TemplateStore, client: BaseClient, distribution_id: str, version: int | None
) -> dict[str, Any] | str:
    """The template's configuration, or why it can't be cloned."""
    try:
        config = (
            fetch(client, distribution_id)
            if version is None
            else store.load(distribution_id, version)
        )
        translate(config)
    except (TemplateUnavailable, Untranslatable) as error:
        return str(error)
    if config.get("Staging"):
        return (
            f"{distribution_id} is a staging distribution, which can't serve alternate "
            "domain names; name its primary distribution instead"
        )
    return config


def load_templates(inputs: JobInputs, settings: Settings, aws: AwsClients) -> dict[str, Template]:
    """The pinned template versions of a stored job, loaded once each."""
    store = open_store(settings.config_store_url, aws)
    loaded: dict[TemplatePin, Template] = {}
    for item in inputs.items:
        if item.pin is not None and item.pin not in loaded:
            config = store.load(item.pin.distribution_id, item.pin.version)
            loaded[item.pin] = Template(item.pin.distribution_id, item.pin.version, config)
    return {item.key: loaded[item.pin] for item in inputs.items if item.pin is not None}
