"""The stand-in pulumi-aws provider, driven over gRPC in-process against moto:
the same calls the engine makes, without the engine."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import grpc
import pulumi_aws.cloudfront as cloudfront_sdk
import pytest
from botocore.validate import ParamValidator
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from provisioning.sandbox.provider import distribution_wire as wire
from provisioning.sandbox.provider.diffing import canonical
from provisioning.sandbox.provider.properties import (
    UNKNOWN,
    from_struct,
    is_secret,
    reveal,
    secret,
    to_struct,
)
from provisioning.sandbox.provider.server import serve
from tests.material import issue, private_ca

Props = dict[str, Any]
Stub = provider_pb2_grpc.ResourceProviderStub
CERT = "urn:pulumi:test::sandbox::aws:acm/certificate:Certificate::cert"
DIST = "urn:pulumi:test::sandbox::aws:cloudfront/distribution:Distribution::cdn"
KIND = provider_pb2.PropertyDiff
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"


def channel_to(port: int) -> grpc.Channel:
    """Its own TCP connection, as each provider instance of the Go engine has;
    Python's gRPC would otherwise share one between channels."""
    return grpc.insecure_channel(
        f"127.0.0.1:{port}", options=[("grpc.use_local_subchannel_pool", 1)]
    )


def connect(port: int, config: Props) -> tuple[grpc.Channel, Stub]:
    """A connection is one provider instance, configured as the engine would."""
    channel = channel_to(port)
    stub = Stub(channel)
    stub.Configure(provider_pb2.ConfigureRequest(args=to_struct(config), acceptSecrets=True))
    return channel, stub


@pytest.fixture(scope="module")
def port(moto_endpoint: str) -> Iterator[int]:
    server, bound = serve(0)
    yield bound
    server.stop(grace=None)


@pytest.fixture(scope="module")
def stub(port: int) -> Iterator[Stub]:
    config = {"region": "us-east-1", "defaultTags": {"tags": {"owner": "sandbox"}}}
    channel, connected = connect(port, config)
    yield connected
    channel.close()


# ---- helpers that make the engine's calls --------------------------------------------------


def check(stub: Stub, urn: str, news: Props) -> struct_pb2.Struct:
    response = stub.Check(provider_pb2.CheckRequest(urn=urn, news=to_struct(news)))
    assert not response.failures, response.failures
    return response.inputs


def diff(
    stub: Stub, urn: str, old: Props, new: Props, olds: Props | None = None
) -> provider_pb2.DiffResponse:
    old_inputs = check(stub, urn, old)
    return stub.Diff(
        provider_pb2.DiffRequest(
            id="x",
            urn=urn,
            old_inputs=old_inputs,
            news=check(stub, urn, new),
            olds=to_struct(olds if olds is not None else {"region": "us-east-1"}),
        )
    )


def create(
    stub: Stub, urn: str, news: Props
) -> tuple[struct_pb2.Struct, provider_pb2.CreateResponse]:
    inputs = check(stub, urn, news)
    return inputs, stub.Create(provider_pb2.CreateRequest(urn=urn, properties=inputs))


def update(
    stub: Stub,
    urn: str,
    resource_id: str,
    old_inputs: struct_pb2.Struct,
    olds: struct_pb2.Struct,
    news: Props,
) -> tuple[struct_pb2.Struct, Props]:
    inputs = check(stub, urn, news)
    response = stub.Update(
        provider_pb2.UpdateRequest(
            id=resource_id, urn=urn, olds=olds, old_inputs=old_inputs, news=inputs
        )
    )
    return inputs, from_struct(response.properties)


def read(
    stub: Stub, urn: str, resource_id: str, inputs: struct_pb2.Struct, outputs: struct_pb2.Struct
) -> provider_pb2.ReadResponse:
    return stub.Read(
        provider_pb2.ReadRequest(id=resource_id, urn=urn, inputs=inputs, properties=outputs)
    )


def rpc_error(call: Any) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def imported(names: list[str], tags: Props | None = None, ca: str = "Sandbox") -> Props:
    material = issue(names, ca=private_ca(ca))
    props: Props = {
        "certificateBody": material.cert_pem,
        "privateKey": material.key_pem,
        "certificateChain": material.chain_pem,
    }
    return {**props, "tags": tags} if tags else props


def distribution(certificate_arn: str, aliases: list[str], **extra: Any) -> Props:
    return {
        "enabled": True,
        "aliases": aliases,
        "comment": "sandbox",
        "origins": [
            {
                "originId": "app",
                "domainName": "app.example.net",
                "customOriginConfig": {
                    "httpPort": 80,
                    "httpsPort": 443,
                    "originProtocolPolicy": "https-only",
                    "originSslProtocols": ["TLSv1.2"],
                },
            }
        ],
        "defaultCacheBehavior": {
            "targetOriginId": "app",
            "viewerProtocolPolicy": "redirect-to-https",
            "allowedMethods": ["GET", "HEAD", "OPTIONS"],
            "cachedMethods": ["GET", "HEAD"],
            "cachePolicyId": CACHING_OPTIMIZED,
        },
        "restrictions": {"geoRestriction": {"restrictionType": "none"}},
        "viewerCertificate": {
            "acmCertificateArn": certificate_arn,
            "sslSupportMethod": "sni-only",
            "minimumProtocolVersion": "TLSv1.2_2021",
        },
        **extra,
    }


def acm() -> Any:
    return boto3.client("acm", region_name="us-east-1")


def cloudfront() -> Any:
    return boto3.client("cloudfront", region_name="us-east-1")


# ---- plugin surface ------------------------------------------------------------------------


def test_plugin_reports_the_pulumi_aws_version(stub: Stub) -> None:
    assert stub.GetPluginInfo(empty_pb2.Empty()).version == "7.51.1"
    schema = json.loads(stub.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert (schema["name"], schema["version"]) == ("aws", "7.51.1")


def test_configure_accepts_secrets_resources_and_previews(port: int) -> None:
    channel = channel_to(port)
    response = Stub(channel).Configure(provider_pb2.ConfigureRequest(acceptSecrets=True))
    channel.close()
    assert (response.acceptSecrets, response.acceptResources, response.supportsPreview) == (
        True,
        True,
        True,
    )


def test_functions_are_refused_by_name(stub: Stub) -> None:
    error = rpc_error(
        lambda: stub.Invoke(
            provider_pb2.InvokeRequest(tok="aws:index/getCallerIdentity:getCallerIdentity")
        )
    )
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "getCallerIdentity" in error.details()


def test_other_resource_types_are_refused(stub: Stub) -> None:
    error = rpc_error(
        lambda: stub.Check(
            provider_pb2.CheckRequest(
                urn="urn:pulumi:test::sandbox::aws:s3/bucket:Bucket::b",
                type="aws:s3/bucket:Bucket",
                news=to_struct({}),
            )
        )
    )
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED


# ---- Check ---------------------------------------------------------------------------------


def test_check_makes_the_private_key_secret(stub: Stub) -> None:
    props = imported(["www.example.com"])
    inputs = from_struct(check(stub, CERT, props))
    assert is_secret(inputs["privateKey"])
    assert reveal(inputs["privateKey"]) == props["privateKey"]
    assert inputs["certificateBody"] == props["certificateBody"]


def test_check_keeps_program_secrets_secret(stub: Stub) -> None:
    props = distribution(
        "arn:aws:acm:us-east-1:1:certificate/x", ["a.example.com"], comment=secret("internal")
    )
    inputs = from_struct(check(stub, DIST, props))
    assert is_secret(inputs["comment"])
    assert inputs["httpVersion"] == "http2"


@pytest.mark.parametrize(
    ("props", "property_name"),
    [
        ({**imported(["a.example.com"]), "domainName": "a.example.com"}, "domainName"),
        ({"validationMethod": "DNS"}, "domainName"),
        ({"domainName": "a.example.com", "certificateBody": "x"}, "certificateBody"),
        ({"domainName": "a.example.com", "privateKeyWo": "x"}, "privateKeyWo"),
    ],
)
def test_check_rejects_what_pulumi_aws_rejects(
    stub: Stub, props: Props, property_name: str
) -> None:
    response = stub.Check(provider_pb2.CheckRequest(urn=CERT, news=to_struct(props)))
    assert property_name in {f.property for f in response.failures}


def test_check_fills_distribution_defaults_like_pulumi_aws(stub: Stub) -> None:
    inputs = from_struct(check(stub, DIST, distribution("arn:x", [])))
    assert {
        k: inputs[k]
        for k in (
            "httpVersion",
            "isIpv6Enabled",
            "priceClass",
            "retainOnDelete",
            "waitForDeployment",
            "staging",
        )
    } == {
        "httpVersion": "http2",
        "isIpv6Enabled": False,
        "priceClass": "PriceClass_All",
        "retainOnDelete": False,
        "waitForDeployment": True,
        "staging": False,
    }
    assert inputs["origins"][0]["connectionAttempts"] == 3
    assert inputs["origins"][0]["customOriginConfig"]["originReadTimeout"] == 30
    assert inputs["defaultCacheBehavior"]["minTtl"] == 0
    assert inputs["viewerCertificate"]["minimumProtocolVersion"] == "TLSv1.2_2021"


# ---- Diff: replace versus update as the Terraform AWS provider decides ---------------------

REQUESTED = {
    "domainName": "a.example.com",
    "subjectAlternativeNames": ["b.example.com"],
    "validationMethod": "DNS",
    "keyAlgorithm": "RSA_2048",
    "tags": {"app": "x"},
}


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        # ACM lists the domain name among the SANs, so those change with it.
        ({"domainName": "c.example.com"}, ["domainName", "subjectAlternativeNames"]),
        ({"subjectAlternativeNames": ["c.example.com"]}, ["subjectAlternativeNames"]),
        ({"validationMethod": "EMAIL"}, ["validationMethod"]),
        ({"keyAlgorithm": "EC_prime256v1"}, ["keyAlgorithm"]),
        ({"region": "eu-west-1"}, ["region"]),
        ({"tags": {"app": "y"}}, []),
        ({"options": {"certificateTransparencyLoggingPreference": "DISABLED"}}, []),
    ],
)
def test_requested_certificate_changes(stub: Stub, change: Props, replaces: list[str]) -> None:
    response = diff(stub, CERT, REQUESTED, {**REQUESTED, **change})
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.replaces) == replaces
    assert list(response.diffs) == sorted({*change, *replaces})


@pytest.mark.parametrize("changed", ["certificateBody", "certificateChain", "privateKey"])
def test_new_certificate_material_updates_in_place(stub: Stub, changed: str) -> None:
    old, new = imported(["a.example.com"]), imported(["a.example.com"], ca="Other")
    response = diff(stub, CERT, old, {**old, changed: new[changed]})
    assert (list(response.diffs), list(response.replaces)) == ([changed], [])
    assert response.detailedDiff[changed].kind == KIND.UPDATE


@pytest.mark.parametrize(
    "new",
    [
        REQUESTED,
        {**REQUESTED, "subjectAlternativeNames": ["a.example.com", "b.example.com"]},
        {k: v for k, v in REQUESTED.items() if k != "keyAlgorithm"},
    ],
)
def test_certificate_without_real_change_has_no_diff(stub: Stub, new: Props) -> None:
    assert diff(stub, CERT, REQUESTED, new).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_provider_region_change_replaces_certificate(stub: Stub) -> None:
    response = diff(stub, CERT, REQUESTED, REQUESTED, olds={"region": "eu-west-1"})
    assert list(response.replaces) == ["region"]
    assert response.detailedDiff["region"].kind == KIND.UPDATE_REPLACE


DISTRIBUTION = distribution(
    "arn:aws:acm:us-east-1:1:certificate/x", ["a.example.com", "b.example.com"]
)


@pytest.mark.parametrize(
    "new",
    [
        DISTRIBUTION,
        {**DISTRIBUTION, "aliases": ["b.example.com", "a.example.com"]},
        {**DISTRIBUTION, "httpVersion": "http2", "isIpv6Enabled": False},
    ],
)
def test_distribution_without_real_change_has_no_diff(stub: Stub, new: Props) -> None:
    assert diff(stub, DIST, DISTRIBUTION, new).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_omitted_computed_ttl_keeps_its_value(stub: Stub) -> None:
    behavior = {**DISTRIBUTION["defaultCacheBehavior"], "cachePolicyId": "", "defaultTtl": 60}
    old = {**DISTRIBUTION, "defaultCacheBehavior": behavior}
    new = {
        **DISTRIBUTION,
        "defaultCacheBehavior": {k: v for k, v in behavior.items() if k != "defaultTtl"},
    }
    assert diff(stub, DIST, old, new).changes == provider_pb2.DiffResponse.DIFF_NONE


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"aliases": ["a.example.com"]}, "aliases"),
        ({"comment": "other"}, "comment"),
        (
            {
                "viewerCertificate": {
                    **DISTRIBUTION["viewerCertificate"],
                    "acmCertificateArn": "arn:y",
                }
            },
            "viewerCertificate.acmCertificateArn",
        ),
        (
            {
                "viewerCertificate": {
                    **DISTRIBUTION["viewerCertificate"],
                    "acmCertificateArn": UNKNOWN,
                }
            },
            "viewerCertificate.acmCertificateArn",
        ),
        ({"retainOnDelete": True}, "retainOnDelete"),
    ],
)
def test_distribution_changes_update_in_place(stub: Stub, change: Props, path: str) -> None:
    response = diff(stub, DIST, DISTRIBUTION, {**DISTRIBUTION, **change})
    assert response.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(response.replaces) == []
    assert path in response.detailedDiff


APP_ORIGIN: Props = DISTRIBUTION["origins"][0]
S3_ORIGIN: Props = {"originId": "s3", "domainName": "bucket.s3.amazonaws.com"}
TWO_ORIGINS: Props = {**DISTRIBUTION, "origins": [APP_ORIGIN, S3_ORIGIN]}
DISABLED_SHIELD = {"originShield": {"enabled": False}}
DISABLED_SHIELD_IN_REGION = {"originShield": {"enabled": False, "originShieldRegion": "us-east-2"}}
EMPTY_IDENTITY = {"s3OriginConfig": {"originAccessIdentity": ""}}


@pytest.mark.parametrize(
    "origins",
    [
        [{**APP_ORIGIN, **DISABLED_SHIELD}, S3_ORIGIN],
        [APP_ORIGIN, {**S3_ORIGIN, **EMPTY_IDENTITY}],
    ],
    ids=["disabled-shield", "empty-s3-origin-config"],
)
def test_block_of_zero_values_differs_from_no_block(stub: Stub, origins: list[Props]) -> None:
    """Terraform counts blocks, so one whose fields are all unset is still a
    change from none: how a clone still carrying a disabled shield shows once
    a refresh has read the shield back as none."""
    response = diff(stub, DIST, TWO_ORIGINS, {**DISTRIBUTION, "origins": origins})
    assert list(response.diffs) == ["origins"]
    assert list(response.replaces) == []


def test_empty_values_and_the_order_of_sets_are_no_change(stub: Stub) -> None:
    new = {
        **TWO_ORIGINS,
        "origins": [S3_ORIGIN, APP_ORIGIN],
        "tags": {},
        "defaultRootObject": "",
        "customErrorResponses": [],
    }
    assert diff(stub, DIST, TWO_ORIGINS, new).changes == provider_pb2.DiffResponse.DIFF_NONE


def test_order_of_ordered_cache_behaviors_is_a_change(stub: Stub) -> None:
    """Terraform's ordered_cache_behavior is a list, unlike its sets."""
    behaviors = [
        {**DISTRIBUTION["defaultCacheBehavior"], "pathPattern": path} for path in ("/a/*", "/b/*")
    ]
    old = {**DISTRIBUTION, "orderedCacheBehaviors": behaviors}
    new = {**DISTRIBUTION, "orderedCacheBehaviors": behaviors[::-1]}
    assert list(diff(stub, DIST, old, new).diffs) == ["orderedCacheBehaviors"]


# ---- certificates against moto -------------------------------------------------------------


def test_imported_certificate_lifecycle(aws: str, stub: Stub) -> None:
    props = imported(["www.example.com", "example.com"], tags={"app": "web"})
    inputs, created = create(stub, CERT, props)
    outputs = from_struct(created.properties)
    arn = created.id
    assert outputs["arn"] == outputs["id"] == arn
    assert (outputs["domainName"], outputs["type"], outputs["status"]) == (
        "www.example.com",
        "IMPORTED",
        "ISSUED",
    )
    assert sorted(outputs["subjectAlternativeNames"]) == ["example.com", "www.example.com"]
    assert outputs["validationMethod"] == "NONE"
    assert outputs["tagsAll"] == {"app": "web", "owner": "sandbox"}
    assert outputs["tags"] == {"app": "web"}
    assert is_secret(outputs["privateKey"]) and not is_secret(outputs["certificateBody"])
    serial = acm().describe_certificate(CertificateArn=arn)["Certificate"]["Serial"]

    renewed = imported(["www.example.com", "example.com"], tags={"app": "web", "tier": "1"})
    inputs, outputs = update(stub, CERT, arn, inputs, created.properties, renewed)
    detail = acm().describe_certificate(CertificateArn=arn)["Certificate"]
    assert outputs["arn"] == arn and detail["Serial"] != serial
    assert is_secret(outputs["privateKey"])
    assert reveal(outputs["privateKey"]) == renewed["privateKey"]
    listed = acm().list_tags_for_certificate(CertificateArn=arn)["Tags"]
    assert {t["Key"]: t["Value"] for t in listed} == {"app": "web", "tier": "1", "owner": "sandbox"}

    refreshed = read(stub, CERT, arn, inputs, to_struct(outputs))
    assert refreshed.id == arn
    assert is_secret(from_struct(refreshed.properties)["privateKey"])
    assert from_struct(refreshed.inputs) == from_struct(inputs)

    stub.Delete(provider_pb2.DeleteRequest(id=arn, urn=CERT, properties=to_struct(outputs)))
    assert acm().list_certificates()["CertificateSummaryList"] == []
    gone = read(stub, CERT, arn, inputs, to_struct(outputs))
    assert gone.id == ""


def test_requested_certificate_exposes_dns_validation_records(aws: str, stub: Stub) -> None:
    _, created = create(stub, CERT, REQUESTED)
    outputs = from_struct(created.properties)
    assert (outputs["status"], outputs["type"], outputs["validationMethod"]) == (
        "PENDING_VALIDATION",
        "AMAZON_ISSUED",
        "DNS",
    )
    assert sorted(outputs["subjectAlternativeNames"]) == ["a.example.com", "b.example.com"]
    records = {o["domainName"]: o for o in outputs["domainValidationOptions"]}
    assert sorted(records) == ["a.example.com", "b.example.com"]
    assert records["a.example.com"]["resourceRecordType"] == "CNAME"
    assert records["a.example.com"]["resourceRecordName"].endswith(".a.example.com.")


def test_requested_certificate_needs_a_validation_method(aws: str, stub: Stub) -> None:
    error = rpc_error(lambda: create(stub, CERT, {"domainName": "a.example.com"}))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "validationMethod" in error.details()


def test_certificate_region_follows_the_provider_it_belongs_to(aws: str, port: int) -> None:
    channel, europe = connect(port, {"region": "eu-west-1"})
    _, created = create(europe, CERT, imported(["eu.example.com"]))
    channel.close()
    assert created.id.startswith("arn:aws:acm:eu-west-1:")
    assert from_struct(created.properties)["region"] == "eu-west-1"


def test_aws_errors_keep_their_code_and_never_carry_pem(aws: str, stub: Stub) -> None:
    props = imported(["bad.example.com"])
    broken = {**props, "privateKey": props["privateKey"].replace("\n", "\nX", 3)}
    error = rpc_error(lambda: create(stub, CERT, broken))
    assert "ValidationException" in error.details()
    assert "BEGIN" not in error.details() and "PRIVATE" not in error.details()


def test_preview_create_reaches_no_aws_and_leaves_computed_unknown(aws: str, stub: Stub) -> None:
    inputs = check(stub, CERT, imported(["preview.example.com"]))
    created = stub.Create(provider_pb2.CreateRequest(urn=CERT, properties=inputs, preview=True))
    outputs = from_struct(created.properties)
    assert created.id == ""
    assert outputs["arn"] == UNKNOWN and is_secret(outputs["privateKey"])
    assert acm().list_certificates()["CertificateSummaryList"] == []


# ---- distributions against moto ------------------------------------------------------------


def test_distribution_lifecycle(aws: str, stub: Stub) -> None:
    props = distribution(
        "arn:aws:acm:us-east-1:123456789012:certificate/c", ["www.example.com"], tags={"app": "web"}
    )
    inputs, created = create(stub, DIST, props)
    outputs = from_struct(created.properties)
    dist_id = created.id
    live = cloudfront().get_distribution(Id=dist_id)["Distribution"]
    assert live["DistributionConfig"]["Aliases"]["Items"] == ["www.example.com"]
    assert (
        live["DistributionConfig"]["ViewerCertificate"]["ACMCertificateArn"]
        == (props["viewerCertificate"]["acmCertificateArn"])
    )
    assert (outputs["id"], outputs["arn"], outputs["domainName"]) == (
        dist_id,
        live["ARN"],
        live["DomainName"],
    )
    assert outputs["hostedZoneId"] == "Z2FDTNDATAQYW2" and outputs["status"] == "Deployed"
    assert outputs["callerReference"] == live["DistributionConfig"]["CallerReference"]
    assert outputs["tagsAll"] == {"app": "web", "owner": "sandbox"}
    tags = cloudfront().list_tags_for_resource(Resource=live["ARN"])["Tags"]["Items"]
    assert {t["Key"]: t["Value"] for t in tags} == {"app": "web", "owner": "sandbox"}

    refreshed = read(stub, DIST, dist_id, inputs, created.properties)
    drift = stub.Diff(
        provider_pb2.DiffRequest(
            id=dist_id,
            urn=DIST,
            olds=refreshed.properties,
            old_inputs=refreshed.inputs,
            news=inputs,
        )
    )
    assert drift.changes == provider_pb2.DiffResponse.DIFF_NONE

    moved = {**props, "aliases": ["example.com"], "tags": {"app": "site"}}
    _, outputs = update(stub, DIST, dist_id, inputs, created.properties, moved)
    live = cloudfront().get_distribution(Id=dist_id)["Distribution"]
    assert outputs["id"] == dist_id and outputs["aliases"] == ["example.com"]
    assert live["DistributionConfig"]["Aliases"]["Items"] == ["example.com"]
    tags = cloudfront().list_tags_for_resource(Resource=live["ARN"])["Tags"]["Items"]
    assert {t["Key"]: t["Value"] for t in tags} == {"app": "site", "owner": "sandbox"}

    stub.Delete(provider_pb2.DeleteRequest(id=dist_id, urn=DIST, properties=to_struct(outputs)))
    assert cloudfront().list_distributions()["DistributionList"]["Quantity"] == 0


def test_retain_on_delete_only_disables(aws: str, stub: Stub) -> None:
    _, created = create(stub, DIST, distribution("arn:x", [], retainOnDelete=True))
    stub.Delete(provider_pb2.DeleteRequest(id=created.id, urn=DIST, properties=created.properties))
    config = cloudfront().get_distribution(Id=created.id)["Distribution"]["DistributionConfig"]
    assert config["Enabled"] is False


def test_refresh_sees_drift_and_deletion(aws: str, stub: Stub) -> None:
    inputs, created = create(stub, DIST, distribution("arn:x", ["a.example.com"]))
    live = cloudfront().get_distribution_config(Id=created.id)
    cloudfront().update_distribution(
        Id=created.id,
        IfMatch=live["ETag"],
        DistributionConfig={**live["DistributionConfig"], "Comment": "edited by hand"},
    )
    refreshed = read(stub, DIST, created.id, inputs, created.properties)
    assert from_struct(refreshed.inputs)["comment"] == "edited by hand"
    drift = stub.Diff(
        provider_pb2.DiffRequest(
            id=created.id,
            urn=DIST,
            olds=refreshed.properties,
            old_inputs=refreshed.inputs,
            news=inputs,
        )
    )
    assert list(drift.diffs) == ["comment"]

    cloudfront().delete_distribution(Id=created.id, IfMatch=live["ETag"])
    assert read(stub, DIST, created.id, inputs, created.properties).id == ""


def test_update_of_a_missing_distribution_reports_the_aws_error(aws: str, stub: Stub) -> None:
    inputs = check(stub, DIST, distribution("arn:x", []))
    olds = to_struct(
        {"etag": "E1", "arn": "arn:aws:cloudfront::1:distribution/NOPE", "callerReference": "c"}
    )
    error = rpc_error(
        lambda: stub.Update(
            provider_pb2.UpdateRequest(
                id="NOPE",
                urn=DIST,
                olds=olds,
                old_inputs=inputs,
                news=check(stub, DIST, distribution("arn:x", [], comment="changed")),
            )
        )
    )
    assert "NoSuchDistribution" in error.details()


def refresh_then_diff(stub: Stub, props: Props) -> tuple[Props, provider_pb2.DiffResponse]:
    """Creates the distribution, refreshes it and diffs the same program
    against what the refresh stored, as ``pulumi refresh`` then ``pulumi
    preview`` do; returns the refreshed inputs and the diff."""
    inputs, created = create(stub, DIST, props)
    refreshed = read(stub, DIST, created.id, inputs, created.properties)
    drift = stub.Diff(
        provider_pb2.DiffRequest(
            id=created.id,
            urn=DIST,
            olds=refreshed.properties,
            old_inputs=refreshed.inputs,
            news=inputs,
        )
    )
    return from_struct(refreshed.inputs), drift


@pytest.mark.parametrize(
    ("origins", "dropped"),
    [
        ([{**APP_ORIGIN, **DISABLED_SHIELD}, S3_ORIGIN], "originShield"),
        ([{**APP_ORIGIN, **DISABLED_SHIELD_IN_REGION}, S3_ORIGIN], "originShield"),
        ([APP_ORIGIN, {**S3_ORIGIN, **EMPTY_IDENTITY}], "s3OriginConfig"),
    ],
    ids=["disabled-shield", "disabled-shield-with-region", "empty-s3-identity"],
)
def test_refresh_drops_what_terraform_drops_from_an_origin(
    aws: str, stub: Stub, origins: list[Props], dropped: str
) -> None:
    """Read sets what Terraform's Read sets, so an input Terraform drops is a
    change on the next update here as against AWS, where it would update the
    clone again after every refresh."""
    props = distribution("arn:x", ["a.example.com"], origins=origins)
    refreshed, drift = refresh_then_diff(stub, props)
    assert [dropped in o for o in refreshed["origins"]] == [False, False]
    assert list(drift.diffs) == ["origins"]


def test_refresh_drops_logging_without_bucket_or_cookies(aws: str, stub: Stub) -> None:
    props = distribution("arn:x", ["a.example.com"], loggingConfig={"includeCookies": False})
    refreshed, drift = refresh_then_diff(stub, props)
    assert refreshed["loggingConfig"] is None
    assert list(drift.diffs) == ["loggingConfig"]


@pytest.mark.parametrize(
    "change",
    [
        {
            "origins": [
                {**APP_ORIGIN, "originShield": {"enabled": True, "originShieldRegion": "us-east-2"}}
            ]
        },
        {
            "origins": [
                APP_ORIGIN,
                {
                    **S3_ORIGIN,
                    "s3OriginConfig": {
                        "originAccessIdentity": "origin-access-identity/cloudfront/E1"
                    },
                },
            ]
        },
        {"origins": [APP_ORIGIN, {**S3_ORIGIN, "originAccessControlId": "oac-1"}]},
        {"loggingConfig": {"includeCookies": True}},
        {"loggingConfig": {"bucket": "logs.s3.amazonaws.com", "prefix": "cdn/"}},
    ],
    ids=["enabled-shield", "s3-identity", "access-control-only", "cookie-only-logging", "logging"],
)
def test_refresh_keeps_what_terraform_keeps(aws: str, stub: Stub, change: Props) -> None:
    _, drift = refresh_then_diff(stub, distribution("arn:x", ["a.example.com"], **change))
    assert drift.changes == provider_pb2.DiffResponse.DIFF_NONE, list(drift.diffs)


def test_cookie_only_logging_includes_cookies_with_logging_off(aws: str, stub: Stub) -> None:
    """pulumi-aws enables logging exactly when a bucket is given."""
    _, created = create(
        stub, DIST, distribution("arn:x", [], loggingConfig={"includeCookies": True})
    )
    config = cloudfront().get_distribution_config(Id=created.id)["DistributionConfig"]
    logging = config["Logging"]
    assert (logging["Enabled"], logging["IncludeCookies"], logging["Bucket"]) == (False, True, "")
    assert from_struct(created.properties)["loggingV1Enabled"] is False


# ---- the wire <-> API translation ----------------------------------------------------------

BEHAVIOR = {
    "allowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
    "cachedMethods": ["GET", "HEAD"],
    "compress": True,
    "fieldLevelEncryptionId": "fle-1",
    "functionAssociations": [
        {"eventType": "viewer-request", "functionArn": "arn:aws:cloudfront::1:function/f"}
    ],
    "grpcConfig": {"enabled": True},
    "lambdaFunctionAssociations": [
        {
            "eventType": "origin-request",
            "includeBody": True,
            "lambdaArn": "arn:aws:lambda:us-east-1:1:function:l:1",
        }
    ],
    "realtimeLogConfigArn": "arn:aws:cloudfront::1:realtime-log-config/r",
    "smoothStreaming": True,
    "targetOriginId": "custom",
    "trustedKeyGroups": ["kg-1", "kg-2"],
    "trustedSigners": ["self"],
    "viewerProtocolPolicy": "https-only",
}
EVERY_FIELD: Props = {
    "aliases": ["a.example.com", "b.example.com"],
    "anycastIpListId": "aip-1",
    "cacheTagConfig": {"headerName": "x-cache-tags"},
    "comment": "every field",
    "connectionFunctionAssociation": {"id": "cfa-1"},
    "continuousDeploymentPolicyId": "cdp-1",
    "customErrorResponses": [
        {
            "errorCode": 404,
            "errorCachingMinTtl": 10,
            "responseCode": 200,
            "responsePagePath": "/404.html",
        },
        {"errorCode": 503, "errorCachingMinTtl": 0},
    ],
    "defaultCacheBehavior": {
        **BEHAVIOR,
        "cachePolicyId": "cp-1",
        "originRequestPolicyId": "orp-1",
        "responseHeadersPolicyId": "rhp-1",
    },
    "defaultRootObject": "index.html",
    "enabled": True,
    "httpVersion": "http2and3",
    "isIpv6Enabled": True,
    "loggingConfig": {"bucket": "logs.s3.amazonaws.com", "includeCookies": True, "prefix": "cdn/"},
    "orderedCacheBehaviors": [
        {
            **BEHAVIOR,
            "pathPattern": "/static/*",
            "targetOriginId": "s3",
            "defaultTtl": 3600,
            "maxTtl": 86400,
            "minTtl": 5,
            "forwardedValues": {
                "cookies": {"forward": "whitelist", "whitelistedNames": ["session"]},
                "headers": ["Host", "Origin"],
                "queryString": True,
                "queryStringCacheKeys": ["v", "lang"],
            },
        },
        {
            **BEHAVIOR,
            "pathPattern": "/api/*",
            "cachePolicyId": "cp-2",
            "originRequestPolicyId": "orp-2",
            "responseHeadersPolicyId": "rhp-2",
        },
        {
            **BEHAVIOR,
            "pathPattern": "/legacy/*",
            "defaultTtl": 60,
            "maxTtl": 120,
            "minTtl": 1,
            "forwardedValues": {"cookies": {"forward": "none"}, "queryString": False},
        },
    ],
    "originGroups": [
        {
            "originId": "group",
            "failoverCriteria": {"statusCodes": [500, 502]},
            "members": [{"originId": "custom"}, {"originId": "s3"}],
        }
    ],
    "origins": [
        {
            "originId": "custom",
            "domainName": "app.example.net",
            "originPath": "/v1",
            "connectionAttempts": 2,
            "connectionTimeout": 5,
            "responseCompletionTimeout": 60,
            "originAccessControlId": "oac-1",
            "customHeaders": [{"name": "X-Origin", "value": "cdn"}],
            "originShield": {"enabled": True, "originShieldRegion": "us-east-2"},
            "customOriginConfig": {
                "httpPort": 8080,
                "httpsPort": 8443,
                "originProtocolPolicy": "match-viewer",
                "originSslProtocols": ["TLSv1.2", "TLSv1.1"],
                "originKeepaliveTimeout": 10,
                "originReadTimeout": 45,
                "ipAddressType": "dualstack",
                "originMtlsConfig": {"clientCertificateArn": "arn:acm:m"},
            },
        },
        {
            "originId": "s3",
            "domainName": "bucket.s3.amazonaws.com",
            "s3OriginConfig": {"originAccessIdentity": "origin-access-identity/cloudfront/E1"},
        },
        {
            "originId": "vpc",
            "domainName": "internal.example.net",
            "vpcOriginConfig": {
                "vpcOriginId": "vo-1",
                "originKeepaliveTimeout": 6,
                "originReadTimeout": 31,
                "ownerAccountId": "123456789012",
            },
        },
    ],
    "priceClass": "PriceClass_100",
    "restrictions": {"geoRestriction": {"restrictionType": "whitelist", "locations": ["DE", "US"]}},
    "retainOnDelete": True,
    "staging": True,
    "tags": {"app": "web"},
    "viewerCertificate": {
        "acmCertificateArn": "arn:aws:acm:us-east-1:1:certificate/c",
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    },
    "viewerMtlsConfig": {
        "mode": "required",
        "trustStoreConfig": {
            "trustStoreId": "ts-1",
            "advertiseTrustStoreCaNames": True,
            "ignoreCertificateExpiry": True,
        },
    },
    "waitForDeployment": False,
    "webAclId": "arn:aws:wafv2:us-east-1:1:global/webacl/w/1",
}


# The default behavior can't have a cache policy and forwarded values at once.
LEGACY_CACHING: Props = {
    **EVERY_FIELD,
    "defaultCacheBehavior": {
        k: v for k, v in EVERY_FIELD["orderedCacheBehaviors"][0].items() if k != "pathPattern"
    },
}


# The ways to pick a viewer certificate exclude each other too.
CERTIFICATES: list[Props] = [
    EVERY_FIELD["viewerCertificate"],
    {"iamCertificateId": "ASCA1", "sslSupportMethod": "vip", "minimumProtocolVersion": "TLSv1"},
    {"cloudfrontDefaultCertificate": True, "minimumProtocolVersion": "TLSv1"},
]


def wire_paths(value: Any, prefix: str = "") -> set[str]:
    if isinstance(value, list):
        return set().union(*(wire_paths(v, prefix) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    return set().union(*({prefix + k} | wire_paths(v, f"{prefix}{k}.") for k, v in value.items()))


def sdk_paths(args_class: type, prefix: str = "") -> set[str]:
    """Every input name pulumi_aws's Distribution accepts, nested ones included."""
    paths: set[str] = set()
    for attribute in vars(args_class).values():
        name = getattr(getattr(attribute, "fget", None), "_pulumi_name", None)
        if name is None:
            continue
        paths.add(prefix + name)
        nested = re.search(r"ForwardRef\('(\w+Args)'\)", repr(attribute.fget.__annotations__))
        if nested:
            paths |= sdk_paths(getattr(cloudfront_sdk, nested.group(1)), f"{prefix}{name}.")
    return paths


def test_every_field_fixture_covers_the_sdk_schema() -> None:
    covered = wire_paths(
        [EVERY_FIELD, LEGACY_CACHING, *({"viewerCertificate": c} for c in CERTIFICATES)]
    )
    assert sdk_paths(cloudfront_sdk.DistributionArgs) - covered == set()


@pytest.mark.parametrize("props", [EVERY_FIELD, LEGACY_CACHING])
def test_api_request_is_valid_for_cloudfront(props: Props) -> None:
    model = botocore.session.get_session().get_service_model("cloudfront")
    shape = model.shape_for("DistributionConfig")
    report = ParamValidator().validate(wire.to_api(props, "ref"), shape)
    assert not report.has_errors(), report.generate_report()


@pytest.mark.parametrize(
    ("fixture", "certificate"),
    [
        (EVERY_FIELD, CERTIFICATES[0]),
        (LEGACY_CACHING, CERTIFICATES[1]),
        (EVERY_FIELD, CERTIFICATES[2]),
    ],
)
def test_wire_survives_a_round_trip_through_the_api(fixture: Props, certificate: Props) -> None:
    props = wire.with_defaults({**fixture, "viewerCertificate": certificate})
    back = wire.from_api(wire.to_api(props, "ref"))
    config_only = {k: v for k, v in props.items() if k not in wire.PROVIDER_ONLY}
    assert canonical(back, wire.ORDERED_LISTS) == canonical(config_only, wire.ORDERED_LISTS)


def test_terraform_quirks_are_kept_in_the_request() -> None:
    minimal = wire.with_defaults(distribution("arn:c", []))
    minimal["origins"].append({"originId": "bare", "domainName": "bare.example.net"})
    api = wire.to_api(minimal, "ref")
    assert "MinTTL" not in api["DefaultCacheBehavior"]
    assert api["Origins"]["Items"][1]["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert api["Logging"] == {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""}
    with_error_page = wire.to_api(
        {
            **minimal,
            "customErrorResponses": [
                {"errorCode": 404, "responseCode": 200, "responsePagePath": "/"}
            ],
        },
        "ref",
    )
    assert with_error_page["CustomErrorResponses"]["Items"][0]["ResponseCode"] == "200"


@pytest.mark.parametrize("props", [EVERY_FIELD, LEGACY_CACHING], ids=["every-field", "legacy"])
def test_refresh_of_every_field_shows_no_drift(aws: str, stub: Stub, props: Props) -> None:
    """moto keeps only part of a configuration; Read puts back what it drops
    as it was last written, so only drift moto can see, or what Terraform
    drops, shows as a change."""
    refreshed, drift = refresh_then_diff(stub, props)
    assert drift.changes == provider_pb2.DiffResponse.DIFF_NONE, list(drift.diffs)
    vpc = next(o for o in refreshed["origins"] if o["originId"] == "vpc")
    assert vpc["vpcOriginConfig"]["vpcOriginId"] == "vo-1"


def test_moto_drops_what_read_puts_back(aws: str, stub: Stub) -> None:
    """The other side of the test above: without Read's help these would
    read back as drift."""
    _, created = create(stub, DIST, EVERY_FIELD)
    config = cloudfront().get_distribution_config(Id=created.id)["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]["Items"]}
    assert "VpcOriginConfig" not in origins["vpc"]
    assert "S3OriginConfig" not in origins["s3"]
    assert "OriginAccessControlId" not in origins["custom"]
    assert config["DefaultCacheBehavior"]["LambdaFunctionAssociations"] == {"Quantity": 0}
