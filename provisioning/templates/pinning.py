"""Template configurations for a request or a stored job: fetched live
(or loaded at the version a request names), checked to be clonable, saved
as numbered versions once a request is accepted, and loaded back at those
pinned versions by every later step."""

from __future__ import annotations

from typing import Any

from botocore.client import BaseClient

from provisioning.errors import Problem, RequestRejected, SourceConfigError, Untranslatable
from provisioning.program.inputs import JobInputs, Pin
from provisioning.program.spec import Source
from provisioning.program.translation import translate
from provisioning.request.validation import ValidRequest
from provisioning.settings import Settings
from provisioning.templates.versions import ConfigStore, fetch, open_store


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


def load_sources(inputs: JobInputs, settings: Settings) -> dict[str, Source]:
    """The pinned template versions of a stored job, loaded once each."""
    store = open_store(settings.config_store_url)
    loaded: dict[Pin, Source] = {}
    for item in inputs.items:
        if item.pin is not None and item.pin not in loaded:
            config = store.load(item.pin.distribution_id, item.pin.version)
            loaded[item.pin] = Source(item.pin.distribution_id, item.pin.version, config)
    return {item.key: loaded[item.pin] for item in inputs.items if item.pin is not None}
