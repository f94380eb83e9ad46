"""The product's kind of program (an imported ACM certificate and a CloudFront
distribution using it) through the real Pulumi engine, the Automation API and
the sandbox, checked against what landed in moto."""

from __future__ import annotations

import json
import multiprocessing
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import boto3
import pulumi
import pulumi_aws as aws
import pytest
from pulumi import automation as auto
from pulumi.automation.events import EngineEvent

from provisioning.sandbox.environment import SandboxEnv
from provisioning.sandbox.moto_server import FAKE_CREDENTIALS
from provisioning.sandbox.provider.properties import SECRET_SIGNATURE, SIGNATURE_KEY
from tests.material import issue

pytestmark = pytest.mark.engine

PROJECT = "sandbox-engine-test"
NAMES = ["www.example.com", "example.com"]
MATERIAL = issue(NAMES)
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def program(aliases: list[str]) -> Callable[[], None]:
    def run() -> None:
        certificate = aws.acm.Certificate(
            "cert",
            certificate_body=MATERIAL.cert_pem,
            private_key=MATERIAL.key_pem,
            certificate_chain=MATERIAL.chain_pem,
            tags={"app": "sandbox-test"},
        )
        distribution = aws.cloudfront.Distribution(
            "cdn",
            enabled=True,
            aliases=aliases,
            origins=[
                aws.cloudfront.DistributionOriginArgs(
                    origin_id="app",
                    domain_name="app.example.net",
                    custom_origin_config=aws.cloudfront.DistributionOriginCustomOriginConfigArgs(
                        http_port=80,
                        https_port=443,
                        origin_protocol_policy="https-only",
                        origin_ssl_protocols=["TLSv1.2"],
                    ),
                )
            ],
            default_cache_behavior=aws.cloudfront.DistributionDefaultCacheBehaviorArgs(
                target_origin_id="app",
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=["GET", "HEAD"],
                cached_methods=["GET", "HEAD"],
                cache_policy_id=CACHING_OPTIMIZED,
            ),
            restrictions=aws.cloudfront.DistributionRestrictionsArgs(
                geo_restriction=aws.cloudfront.DistributionRestrictionsGeoRestrictionArgs(
                    restriction_type="none"
                )
            ),
            viewer_certificate=aws.cloudfront.DistributionViewerCertificateArgs(
                acm_certificate_arn=certificate.arn,
                ssl_support_method="sni-only",
                minimum_protocol_version="TLSv1.2_2021",
            ),
        )
        pulumi.export("certificate_arn", certificate.arn)
        pulumi.export("distribution_id", distribution.id)
        pulumi.export("domain_name", distribution.domain_name)

    return run


def stack(env: SandboxEnv, name: str, run: Callable[[], None]) -> auto.Stack:
    selected = auto.create_or_select_stack(
        stack_name=name,
        project_name=PROJECT,
        program=run,
        opts=auto.LocalWorkspaceOptions(
            pulumi_command=auto.PulumiCommand(root=str(env.cli.parent.parent)),
            env_vars=env.env,
            project_settings=auto.ProjectSettings(name=PROJECT, runtime="python"),
        ),
    )
    selected.set_all_config(
        {k: auto.ConfigValue(v) for k, v in env.stack_config.items()}, path=True
    )
    return selected


def unique() -> str:
    return "t" + uuid.uuid4().hex[:10]


def client(env: SandboxEnv, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=env.endpoint,
        region_name="us-east-1",
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


_start_together: Any = None


def share_barrier(barrier: Any) -> None:
    """Synchronisation objects reach spawned workers only as they start."""
    global _start_together
    _start_together = barrier


def up_in_own_process(
    env: SandboxEnv, name: str, aliases: list[str]
) -> tuple[dict[str, int], float, float]:
    """Runs in a spawned process, an engine per process as concurrent jobs
    have; the barrier makes the two updates overlap whatever start-up costs."""
    selected = stack(env, name, program(aliases))
    _start_together.wait(timeout=120)
    started = time.time()
    changes = dict(selected.up().summary.resource_changes or {})
    return changes, started, time.time()


def test_up_creates_the_certificate_and_distribution_in_aws(engine: SandboxEnv) -> None:
    fresh = stack(engine, unique(), program(["www.example.com"]))
    assert fresh.preview().change_summary == {"create": 3}
    result = fresh.up()
    assert result.summary.resource_changes == {"create": 3}
    arn = result.outputs["certificate_arn"].value
    certificate = client(engine, "acm").describe_certificate(CertificateArn=arn)["Certificate"]
    assert (certificate["DomainName"], certificate["Type"]) == ("www.example.com", "IMPORTED")
    live = client(engine, "cloudfront").get_distribution(
        Id=result.outputs["distribution_id"].value
    )["Distribution"]
    config = live["DistributionConfig"]
    assert config["Aliases"]["Items"] == ["www.example.com"]
    assert config["ViewerCertificate"]["ACMCertificateArn"] == arn
    assert result.outputs["domain_name"].value == live["DomainName"]


def test_second_up_of_the_same_program_changes_nothing(engine: SandboxEnv) -> None:
    name = unique()
    stack(engine, name, program(["www.example.com"])).up()
    again = stack(engine, name, program(["www.example.com"]))
    assert again.preview().change_summary == {"same": 3}
    assert again.up().summary.resource_changes == {"same": 3}
    assert again.refresh().summary.resource_changes == {"same": 3}
    assert again.up().summary.resource_changes == {"same": 3}


def test_alias_change_updates_the_distribution_in_place(engine: SandboxEnv) -> None:
    name = unique()
    first = stack(engine, name, program(["www.example.com"])).up()
    changed = stack(engine, name, program(NAMES))
    assert changed.preview().change_summary == {"same": 2, "update": 1}
    events: list[EngineEvent] = []
    second = changed.up(on_event=events.append)

    assert second.summary.resource_changes == {"same": 2, "update": 1}
    distribution_id = second.outputs["distribution_id"].value
    assert distribution_id == first.outputs["distribution_id"].value
    config = client(engine, "cloudfront").get_distribution(Id=distribution_id)["Distribution"][
        "DistributionConfig"
    ]
    assert sorted(config["Aliases"]["Items"]) == sorted(NAMES)
    outputs_at = [
        i
        for i, e in enumerate(events)
        if e.res_outputs_event and e.res_outputs_event.metadata.urn.endswith("::cdn")
    ]
    summary_at = [i for i, e in enumerate(events) if e.summary_event]
    assert outputs_at and summary_at and outputs_at[0] < summary_at[0]
    assert events[outputs_at[0]].res_outputs_event.metadata.op == "update"
    history = changed.history()
    assert [(h.kind, h.result) for h in history] == [("update", "succeeded")] * 2
    assert history[0].resource_changes == {"same": 2, "update": 1}
    assert changed.outputs()["distribution_id"].value == distribution_id


def test_private_key_is_secret_in_the_state(engine: SandboxEnv) -> None:
    name = unique()
    deployed = stack(engine, name, program(["www.example.com"]))
    arn = deployed.up().outputs["certificate_arn"].value
    resources = deployed.export_stack().deployment["resources"]
    certificate = next(r for r in resources if r["type"] == "aws:acm/certificate:Certificate")
    for side in ("inputs", "outputs"):
        assert certificate[side]["privateKey"][SIGNATURE_KEY] == SECRET_SIGNATURE
    at_rest = [path.read_text() for path in engine.state_dir.rglob("*.json") if name in path.name]
    assert any(arn in text for text in at_rest)
    assert not any("PRIVATE KEY" in text for text in at_rest)
    assert "PRIVATE KEY" not in json.dumps(deployed.outputs(), default=str)


def test_destroy_removes_both_from_aws(engine: SandboxEnv) -> None:
    deployed = stack(engine, unique(), program(["www.example.com"]))
    deployed.up()
    assert deployed.destroy().summary.resource_changes == {"delete": 3}
    assert client(engine, "cloudfront").list_distributions()["DistributionList"]["Quantity"] == 0
    assert client(engine, "acm").list_certificates()["CertificateSummaryList"] == []


def test_certificates_land_where_their_region_or_provider_says(engine: SandboxEnv) -> None:
    """A requested certificate pinned with ``region`` (as the product asks
    for them) and an imported one through a provider set to another region."""

    def run() -> None:
        europe = aws.Provider("europe", region="eu-west-1")
        requested = aws.acm.Certificate(
            "requested",
            domain_name=NAMES[0],
            subject_alternative_names=NAMES,
            validation_method="DNS",
            region="us-east-1",
        )
        imported = aws.acm.Certificate(
            "imported",
            certificate_body=MATERIAL.cert_pem,
            private_key=MATERIAL.key_pem,
            opts=pulumi.ResourceOptions(provider=europe),
        )
        pulumi.export("requested", requested.arn)
        pulumi.export("records", requested.domain_validation_options)
        pulumi.export("imported", imported.arn)

    name = unique()
    outputs = stack(engine, name, run).up().outputs
    assert outputs["requested"].value.startswith("arn:aws:acm:us-east-1:")
    assert sorted(r["domainName"] for r in outputs["records"].value) == sorted(NAMES)
    assert outputs["imported"].value.startswith("arn:aws:acm:eu-west-1:")
    assert stack(engine, name, run).up().summary.resource_changes == {"same": 4}


def test_stacks_update_at_the_same_time_in_separate_processes(engine: SandboxEnv) -> None:
    names = [unique(), unique()]
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2)
    with ProcessPoolExecutor(2, spawn, initializer=share_barrier, initargs=(barrier,)) as pool:
        results = list(
            pool.map(up_in_own_process, [engine] * 2, names, [["a.example.com"], ["b.example.com"]])
        )
    assert [changes for changes, _, _ in results] == [{"create": 3}, {"create": 3}]
    assert max(start for _, start, _ in results) < min(end for _, _, end in results)
    listed = client(engine, "cloudfront").list_distributions()["DistributionList"]["Items"]
    assert sorted(d["Aliases"]["Items"][0] for d in listed) == ["a.example.com", "b.example.com"]
