"""Every template's clone is stable through the real engine: once it is
created and deployed, a refresh followed by a preview of the job's stack
shows no change.

The sandbox provider reads a distribution back as Terraform's Read does
(distribution_wire.from_api), so a clone carrying something pulumi-aws drops
on Read shows as an update here, as it would against AWS, where each
refresh-and-update after Deployed would put the clone back in progress and
the job would never settle. The stacks are driven directly, with the job's
program (``provisioning.program.resources.run``) inline.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from pulumi import automation as auto
from pydantic import SecretStr

from provisioning.program import resources
from provisioning.program.inputs import JobInputs, JobItem, TemplatePin
from provisioning.program.spec import JobSpec, Template
from provisioning.program.translation import Translation, translate
from provisioning.sandbox.environment import SandboxEnv
from provisioning.sandbox.moto_server import FAKE_CREDENTIALS
from provisioning.sandbox.session import EXAMPLE_TEMPLATE_IDS, template_config
from tests.distribution_configs import TEMPLATES
from tests.material import issue

pytestmark = pytest.mark.engine

PROJECT = "clone-stability-test"
TEMPLATE_ID = EXAMPLE_TEMPLATE_IDS[0]
NAME = "shop.example.org"
ITEM = "pemList[0]"
MATERIAL = issue([NAME])
# The sandbox's own template (session.template_config), as the sandbox saves it.
SANDBOX_TEMPLATE = "sandbox-template"
# Templates whose clone can't serve as they do, and say so in the item's warnings.
DEDICATED_IP = {"vip"}


def cloudfront(env: SandboxEnv) -> Any:
    return boto3.client(
        "cloudfront",
        endpoint_url=env.endpoint,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def template(env: SandboxEnv, name: str) -> dict[str, Any]:
    """The sandbox template is made in moto and fetched back, as the sandbox
    does before saving it as a version, so it carries what moto adds (a
    disabled origin shield on every origin); the others are configurations as
    CloudFront reports them."""
    if name != SANDBOX_TEMPLATE:
        return TEMPLATES[name]()
    client = cloudfront(env)
    made = client.create_distribution(DistributionConfig=template_config(TEMPLATE_ID))
    return dict(client.get_distribution_config(Id=made["Distribution"]["Id"])["DistributionConfig"])


def job_spec(job_id: str, config: dict[str, Any]) -> JobSpec:
    """An import job of one item cloning ``config``: the certificate is
    usable at once, so one update makes certificate and clone."""
    item = JobItem(
        key=ITEM,
        names=(NAME,),
        pin=TemplatePin(distribution_id=TEMPLATE_ID, version=1),
        certificate_pem=MATERIAL.cert_pem,
        chain_pem=MATERIAL.chain_pem,
    )
    inputs = JobInputs(
        job_type="import",
        auto_creation=True,
        items=(item,),
        minimum_protocol_version="TLSv1.2_2021",
        accepted_at=datetime.now(UTC),
    )
    return JobSpec(
        job_id=job_id,
        inputs=inputs,
        templates={ITEM: Template(TEMPLATE_ID, 1, config)},
        keys={ITEM: SecretStr(MATERIAL.key_pem)},
    )


def job_stack(env: SandboxEnv, job: JobSpec) -> auto.Stack:
    """The job's stack, named by its job id, running the product's program."""
    stack = auto.create_or_select_stack(
        stack_name=job.job_id,
        project_name=PROJECT,
        program=lambda: resources.run(job),
        opts=auto.LocalWorkspaceOptions(
            pulumi_command=auto.PulumiCommand(root=str(env.cli.parent.parent)),
            env_vars=env.env,
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python"),
        ),
    )
    stack.set_all_config({k: auto.ConfigValue(v) for k, v in env.stack_config.items()}, path=True)
    return stack


def wait_deployed(env: SandboxEnv, distribution_id: str, timeout: float = 60) -> None:
    """moto moves a distribution to Deployed as it is read, as CloudFront
    does some minutes after an update; the watcher refreshes only then."""
    deadline = time.monotonic() + timeout
    client = cloudfront(env)
    while client.get_distribution(Id=distribution_id)["Distribution"]["Status"] != "Deployed":
        assert time.monotonic() < deadline, f"{distribution_id} never reported Deployed"
        time.sleep(0.5)


def deployed_clone(env: SandboxEnv, config: dict[str, Any]) -> tuple[auto.Stack, dict[str, Any]]:
    """Runs the job's first update and waits for its clone to deploy;
    returns the stack and the item's outputs."""
    job = job_spec("t" + uuid.uuid4().hex[:10], config)
    stack = job_stack(env, job)
    result = stack.up()
    assert result.summary.resource_changes == {"create": 3}
    [item] = result.outputs["items"].value
    wait_deployed(env, item["distributionId"])
    return stack, item


@pytest.mark.parametrize("name", [*TEMPLATES, SANDBOX_TEMPLATE])
def test_deployed_clone_is_unchanged_by_refresh(engine: SandboxEnv, name: str) -> None:
    config = template(engine, name)
    stack, item = deployed_clone(engine, config)

    stack.refresh()
    preview = stack.preview(diff=True)

    assert set(preview.change_summary) == {"same"}, preview.stdout
    # The translation's warnings reach the item: a dedicated-IP template's
    # clone says it serves by SNI only.
    assert set(translate(config).warnings) <= set(item["warnings"])
    sni_warnings = [w for w in item["warnings"] if "SSLSupportMethod" in w]
    assert len(sni_warnings) == (name in DEDICATED_IP), item["warnings"]
    # The clone logs as the template does, cookie-only logging included.
    clone = cloudfront(engine).get_distribution_config(Id=item["distributionId"])
    logging = clone["DistributionConfig"]["Logging"]
    wanted = config.get("Logging") or {}
    assert (logging["Enabled"], logging["IncludeCookies"]) == (
        bool(wanted.get("Enabled")),
        bool(wanted.get("IncludeCookies")),
    )


def test_clone_still_carrying_a_disabled_shield_is_updated_after_refresh(
    engine: SandboxEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: with the translation as it was, sending the
    disabled shield moto reports on the sandbox template's origin, the
    refresh reads the shield back as none and the next update changes the
    clone again."""

    def with_disabled_shields(config: dict[str, Any]) -> Translation:
        found = translate(config)
        origins = [
            {**origin, "origin_shield": origin.get("origin_shield", {"enabled": False})}
            for origin in found.args["origins"]
        ]
        return Translation(args={**found.args, "origins": origins}, warnings=found.warnings)

    monkeypatch.setattr(resources, "translate", with_disabled_shields)
    stack, _ = deployed_clone(engine, template(engine, SANDBOX_TEMPLATE))

    stack.refresh()

    assert stack.preview().change_summary.get("update") == 1
