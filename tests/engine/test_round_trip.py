"""The round trip over a template using every translatable field: saved as a
configuration version, cloned by a real job through the engine and the
sandbox provider, the clone shows no difference from the template but the
overrides.

Two views of the clone are compared. The engine's record (the checkpoint's
inputs, turned back into a DistributionConfig by the sandbox provider's own,
independent mapping) carries every field, so it is compared with the
hand-written FULL in full. moto keeps only part of a configuration, so the
clone as moto stores it is compared with the template as moto stores it.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from provisioning.actions import job_calls
from provisioning.engine.state import stack_resources
from provisioning.sandbox.provider.distribution_wire import to_api
from provisioning.service import Service
from provisioning.templates.versions import open_store
from provisioning.worker.supervisor import Supervisor
from tests.distribution_configs import FULL
from tests.engine.jobs_helpers import TEMPLATE, aws, comparable, drive

pytestmark = pytest.mark.engine

NAMES = ["shop.example.org", "www.shop.example.org"]
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
# CloudFront's value for a field a configuration leaves out, so that the
# field set to it and the field left out configure the same distribution.
# pulumi-aws fills in its schema's defaults (ConnectionAttempts, IncludeBody,
# ...) where the template leaves them out, and the translation leaves out
# ConnectionMode "direct" and SelectionCriteria "default" (see UNEXPRESSED),
# the only values it accepts for them.
CLOUDFRONT_DEFAULTS: dict[str, Any] = {
    "ConnectionMode": "direct",
    "SelectionCriteria": "default",
    "ConnectionAttempts": 3,
    "ConnectionTimeout": 10,
    "SmoothStreaming": False,
    "IncludeBody": False,
}
# How the API spells a list that is unset.
EMPTY_LIST = {"Quantity": 0}


def template_config() -> dict[str, Any]:
    """FULL with Compress stated on every cache behaviour, as a configuration
    fetched from CloudFront states it: left out, CloudFront and pulumi-aws
    take it as false but moto as true, and moto's template would then differ
    from the clone for no reason of the product's."""
    config = copy.deepcopy(FULL)
    for behavior in [config["DefaultCacheBehavior"], *config["CacheBehaviors"]["Items"]]:
        behavior.setdefault("Compress", False)
    return config


def test_clone_of_every_field_differs_from_its_template_only_by_the_overrides(
    service: Service,
) -> None:
    source = template_config()
    cloudfront = aws("cloudfront")
    live = cloudfront.get_distribution_config(Id=TEMPLATE)
    reference = live["DistributionConfig"]["CallerReference"]
    # The template becomes this configuration in moto too, so that moto's
    # copies of template and clone can be compared; the job clones the saved
    # version, since moto drops much of what it is given.
    cloudfront.update_distribution(
        Id=TEMPLATE,
        IfMatch=live["ETag"],
        DistributionConfig={**source, "CallerReference": reference},
    )
    version = open_store(service.settings.config_store_url, service.aws).save(TEMPLATE, source)
    supervisor = Supervisor(service)
    job_id = job_calls.submit(service, json.dumps(request(version)).encode(), supervisor.launch)
    job = drive(job_id, supervisor, "SUCCESS")
    [item] = job["items"]
    assert (item["sourceDistributionId"], item["configVersion"]) == (TEMPLATE, version)

    # What the engine sent for the clone carries every field of the source.
    resource = distribution_resource(service, job_id)
    sent = to_api(resource["inputs"], caller_reference=resource["outputs"]["callerReference"])
    assert normalised(sent) == normalised(source)

    # moto holds the clone as it holds the template, for the fields it keeps.
    clone = cloudfront.get_distribution_config(Id=item["distributionId"])["DistributionConfig"]
    template = cloudfront.get_distribution_config(Id=TEMPLATE)["DistributionConfig"]
    assert normalised(clone) == normalised(template)

    # The overrides make the clone this item's.
    for config in (sent, clone):
        assert config["Aliases"]["Items"] == item["names"] == NAMES
        certificate = config["ViewerCertificate"]
        assert certificate["ACMCertificateArn"] == item["certificateArn"] == job["certList"][0]
        assert certificate["SSLSupportMethod"] == "sni-only"
        assert certificate["MinimumProtocolVersion"] == "TLSv1.2_2021"
        assert job_id in config["Comment"]
        assert config["CallerReference"] not in (FULL["CallerReference"], reference)
        assert not config["ContinuousDeploymentPolicyId"]
    assert sent["CallerReference"] == clone["CallerReference"]
    assert len(item["warnings"]) == 1
    assert "ContinuousDeploymentPolicyId" in item["warnings"][0]


def request(version: int) -> dict[str, Any]:
    return {
        "acm_op": "create",
        "auto_creation": "true",
        "cnameList": [
            {
                "domainName": NAMES[0],
                "sanList": NAMES,
                "existing_cf_info": {"distribution_id": TEMPLATE, "config_version_id": version},
            }
        ],
    }


def distribution_resource(service: Service, job_id: str) -> dict[str, Any]:
    """The clone as the engine recorded it in the job's checkpoint: the
    inputs it sent the provider and the outputs it got back."""
    resources = stack_resources(service.backend, job_id)
    [resource] = [r for r in resources if r["type"] == DISTRIBUTION]
    return dict(resource)


def normalised(config: dict[str, Any]) -> Any:
    """``comparable`` (no overrides, no empty values) without the fields that
    hold CloudFront's default or an empty list: each says what leaving the
    field out says."""
    return _without_defaults(comparable(config))


def _without_defaults(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _without_defaults(v)
            for k, v in value.items()
            if v != EMPTY_LIST and not (k in CLOUDFRONT_DEFAULTS and v == CLOUDFRONT_DEFAULTS[k])
        }
    if isinstance(value, list):
        return [_without_defaults(v) for v in value]
    return value
