"""The translation must carry every field a template distribution uses into
what the Pulumi engine receives, and say so whenever it cannot.

FULL (in distribution_configs.py) uses every translatable field of the
CloudFront API; it is checked against botocore's validation and moto by
creating it, the engine inputs are observed through Pulumi's mocks, and the
coverage tests walk botocore's ``DistributionConfig`` shape so a field added
to the API fails here until it is translated or listed in ``UNEXPRESSED``.
What the translation sends must also come back unchanged when read the way
pulumi-aws reads a distribution (the sandbox provider's Terraform rules), or
every refresh would update the clone again.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import botocore.session
import pulumi
import pulumi_aws
import pytest
from botocore.model import ListShape, StructureShape

from provisioning.errors import Untranslatable
from provisioning.program.translation import UNEXPRESSED, translate
from provisioning.sandbox.provider import distribution_wire as wire
from provisioning.sandbox.provider.distribution import diff_distribution, refreshed_inputs
from provisioning.sandbox.provider.properties import from_struct, to_struct
from tests.distribution_configs import (
    AUTH_LAMBDA,
    EDGE_CASES,
    FULL,
    HEADER_LAMBDA,
    MTLS_CERT,
    TEMPLATES,
    VARIANTS,
    cookie_only_logging,
    dedicated_ip_certificate,
    disabled_origin_shield,
    legacy_caching,
    origin_access_control_only,
)

ENGINE_INPUTS_FOR_FULL: dict[str, Any] = {
    "aliases": ["www.example.com", "example.com"],
    "anycastIpListId": "aip-1",
    "cacheTagConfig": {"headerName": "Cache-Tag"},
    "comment": "template distribution",
    "connectionFunctionAssociation": {"id": "cfa-1"},
    "continuousDeploymentPolicyId": "cdp-1",
    "customErrorResponses": [
        {
            "errorCachingMinTtl": 30,
            "errorCode": 404,
            "responseCode": 404,
            "responsePagePath": "/404.html",
        }
    ],
    "defaultCacheBehavior": {
        "allowedMethods": ["GET", "HEAD", "OPTIONS"],
        "cachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        "cachedMethods": ["GET", "HEAD"],
        "compress": True,
        "fieldLevelEncryptionId": "FLE1",
        "functionAssociations": [
            {
                "eventType": "viewer-request",
                "functionArn": "arn:aws:cloudfront::123456789012:function/rewrite",
            }
        ],
        "grpcConfig": {"enabled": True},
        "lambdaFunctionAssociations": [
            {
                "eventType": "origin-request",
                "includeBody": True,
                "lambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:edge:3",
            }
        ],
        "originRequestPolicyId": "216adef6-5c7f-47e4-b989-5492eafa07d3",
        "realtimeLogConfigArn": "arn:aws:cloudfront::123456789012:realtime-log-config/rt",
        "responseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03",
        "smoothStreaming": False,
        "targetOriginId": "app",
        "trustedKeyGroups": ["KG1"],
        "trustedSigners": ["self"],
        "viewerProtocolPolicy": "redirect-to-https",
    },
    "defaultRootObject": "index.html",
    "enabled": True,
    "httpVersion": "http2and3",
    "isIpv6Enabled": True,
    "loggingConfig": {"bucket": "logs.s3.amazonaws.com", "includeCookies": True, "prefix": "cf/"},
    "orderedCacheBehaviors": [
        {
            "allowedMethods": ["GET", "HEAD"],
            "cachedMethods": ["GET", "HEAD"],
            "compress": False,
            "defaultTtl": 3600,
            "forwardedValues": {
                "cookies": {"forward": "whitelist", "whitelistedNames": ["session"]},
                "headers": ["Origin"],
                "queryString": True,
                "queryStringCacheKeys": ["v"],
            },
            "maxTtl": 86400,
            "minTtl": 1,
            "pathPattern": "/static/*",
            "smoothStreaming": True,
            "targetOriginId": "assets",
            "viewerProtocolPolicy": "https-only",
        },
        {
            "allowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
            "cachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
            "cachedMethods": ["GET", "HEAD", "OPTIONS"],
            "fieldLevelEncryptionId": "FLE2",
            "functionAssociations": [
                {
                    "eventType": "viewer-response",
                    "functionArn": "arn:aws:cloudfront::123456789012:function/headers",
                }
            ],
            "grpcConfig": {"enabled": False},
            "lambdaFunctionAssociations": [
                {
                    "eventType": "viewer-request",
                    "includeBody": False,
                    "lambdaArn": AUTH_LAMBDA,
                },
                {
                    "eventType": "origin-response",
                    "lambdaArn": HEADER_LAMBDA,
                },
            ],
            "originRequestPolicyId": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
            "pathPattern": "/api/*",
            "realtimeLogConfigArn": "arn:aws:cloudfront::123456789012:realtime-log-config/api",
            "responseHeadersPolicyId": "5cc3b908-e619-4b99-88e5-2cf7f45965bd",
            "targetOriginId": "app-with-fallback",
            "trustedKeyGroups": ["KG2", "KG3"],
            "trustedSigners": ["111122223333"],
            "viewerProtocolPolicy": "allow-all",
        },
    ],
    "originGroups": [
        {
            "failoverCriteria": {"statusCodes": [500, 503]},
            "members": [{"originId": "app"}, {"originId": "private"}],
            "originId": "app-with-fallback",
        }
    ],
    "origins": [
        {
            "connectionAttempts": 2,
            "connectionTimeout": 7,
            "customHeaders": [{"name": "X-Origin-Secret", "value": "s3cr3t"}],
            "customOriginConfig": {
                "httpPort": 8080,
                "httpsPort": 8443,
                "ipAddressType": "dualstack",
                "originKeepaliveTimeout": 10,
                "originMtlsConfig": {"clientCertificateArn": MTLS_CERT},
                "originProtocolPolicy": "https-only",
                "originReadTimeout": 45,
                "originSslProtocols": ["TLSv1.1", "TLSv1.2"],
            },
            "domainName": "app.example.net",
            "originId": "app",
            "originPath": "/v1",
            "originShield": {"enabled": True, "originShieldRegion": "eu-west-1"},
            "responseCompletionTimeout": 60,
        },
        {
            "domainName": "assets.s3.us-east-1.amazonaws.com",
            "originAccessControlId": "E3OAC",
            "originId": "assets",
            "s3OriginConfig": {
                "originAccessIdentity": "origin-access-identity/cloudfront/E2QWRUHAPOMQZL"
            },
        },
        {
            "domainName": "internal.example.net",
            "originId": "private",
            "vpcOriginConfig": {
                "originKeepaliveTimeout": 6,
                "originReadTimeout": 20,
                "ownerAccountId": "123456789012",
                "vpcOriginId": "vo_123",
            },
        },
    ],
    "priceClass": "PriceClass_200",
    "restrictions": {"geoRestriction": {"locations": ["DE", "FR"], "restrictionType": "whitelist"}},
    "staging": False,
    "viewerCertificate": {
        "acmCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "minimumProtocolVersion": "TLSv1.2_2021",
        "sslSupportMethod": "sni-only",
    },
    "viewerMtlsConfig": {
        "mode": "optional",
        "trustStoreConfig": {
            "advertiseTrustStoreCaNames": True,
            "ignoreCertificateExpiry": False,
            "trustStoreId": "ts-1",
        },
    },
    "webAclId": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/acl/1",
}


class _Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.inputs: dict[str, dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.inputs[args.name] = args.inputs
        return f"{args.name}-id", args.inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def engine_inputs(args: dict[str, Any]) -> dict[str, Any]:
    """What the engine would be asked to create for these keyword arguments."""
    recorder = _Recorder()
    pulumi.runtime.set_mocks(recorder, preview=False)

    @pulumi.runtime.test
    def create() -> pulumi.Output[str]:
        return pulumi_aws.cloudfront.Distribution("clone", **args).id

    create()
    return recorder.inputs["clone"]


def test_engine_receives_every_translated_field() -> None:
    source = copy.deepcopy(FULL)
    translation = translate(source)

    assert translation.warnings == ()
    assert engine_inputs(translation.args) == ENGINE_INPUTS_FOR_FULL
    assert source == FULL


@pytest.mark.parametrize("variant", VARIANTS)
def test_fixture_is_a_configuration_cloudfront_accepts(aws: str, variant: str) -> None:
    client = boto3.client("cloudfront")
    created = client.create_distribution(DistributionConfig=VARIANTS[variant]())
    stored = client.get_distribution_config(Id=created["Distribution"]["Id"])

    assert translate(stored["DistributionConfig"]).warnings == ()


def test_legacy_caching_reaches_the_engine() -> None:
    inputs = engine_inputs(translate(legacy_caching()).args)

    behavior = inputs["defaultCacheBehavior"]
    assert behavior["forwardedValues"] == {
        "queryString": True,
        "cookies": {"forward": "whitelist", "whitelistedNames": ["id"]},
        "headers": ["Host", "Accept"],
        "queryStringCacheKeys": ["page"],
    }
    assert (behavior["minTtl"], behavior["defaultTtl"], behavior["maxTtl"]) == (5, 60, 600)
    assert "cachePolicyId" not in behavior
    assert inputs["viewerCertificate"] == {
        "iamCertificateId": "ASCAEXAMPLE",
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2019",
    }


def test_moto_round_trip_translates_like_the_source(aws: str) -> None:
    """moto keeps only part of a configuration; what it keeps must translate
    exactly as the hand-written source does."""
    client = boto3.client("cloudfront")
    created = client.create_distribution(DistributionConfig=copy.deepcopy(FULL))
    stored = client.get_distribution_config(Id=created["Distribution"]["Id"])

    from_moto = translate(stored["DistributionConfig"])
    from_source = translate(FULL).args
    kept_by_moto = [
        "aliases", "anycast_ip_list_id", "cache_tag_config", "comment",
        "connection_function_association", "continuous_deployment_policy_id",
        "custom_error_responses", "default_root_object", "enabled", "http_version",
        "is_ipv6_enabled", "logging_config", "origin_groups", "price_class", "restrictions",
        "staging", "viewer_mtls_config", "web_acl_id",
    ]  # fmt: skip
    assert from_moto.warnings == ()
    assert {k: from_moto.args[k] for k in kept_by_moto} == {k: from_source[k] for k in kept_by_moto}
    assert from_moto.args["ordered_cache_behaviors"][0] == from_source["ordered_cache_behaviors"][0]
    # moto reports neutral ForwardedValues and zero TTLs next to a cache policy,
    # which CloudFront would reject if sent back.
    default_behavior = from_moto.args["default_cache_behavior"]
    assert default_behavior["cache_policy_id"] == "658327ea-f89d-4fab-a63d-7e88639e58f6"
    assert not {"forwarded_values", "min_ttl", "default_ttl", "max_ttl"} & default_behavior.keys()


def test_minimal_configuration_created_in_moto(aws: str) -> None:
    client = boto3.client("cloudfront")
    created = client.create_distribution(
        DistributionConfig={
            "CallerReference": "minimal",
            "Comment": "",
            "Enabled": False,
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "web",
                        "DomainName": "web.example.net",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "match-viewer",
                            "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "web",
                "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
        }
    )
    stored = client.get_distribution_config(Id=created["Distribution"]["Id"])

    translation = translate(stored["DistributionConfig"])

    # moto reports a disabled shield on the origin, which is left out.
    assert stored["DistributionConfig"]["Origins"]["Items"][0]["OriginShield"] == {"Enabled": False}
    assert translation.warnings == ()
    assert engine_inputs(translation.args) == {
        "enabled": False,
        "origins": [
            {
                "originId": "web",
                "domainName": "web.example.net",
                "connectionAttempts": 3,
                "connectionTimeout": 10,
                "customOriginConfig": {
                    "httpPort": 80,
                    "httpsPort": 443,
                    "originProtocolPolicy": "match-viewer",
                    "originSslProtocols": ["TLSv1.2"],
                    "originReadTimeout": 30,
                    "originKeepaliveTimeout": 5,
                },
            }
        ],
        "defaultCacheBehavior": {
            "targetOriginId": "web",
            "viewerProtocolPolicy": "allow-all",
            "allowedMethods": ["HEAD", "GET"],
            "cachedMethods": ["GET", "HEAD"],
            "cachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "compress": True,
            "smoothStreaming": False,
        },
        "restrictions": {"geoRestriction": {"restrictionType": "none"}},
        "viewerCertificate": {
            "cloudfrontDefaultCertificate": True,
            "sslSupportMethod": "sni-only",
            "minimumProtocolVersion": "TLSv1",
        },
        "priceClass": "PriceClass_All",
        "httpVersion": "http2",
        "isIpv6Enabled": True,
    }


@pytest.mark.parametrize("template", EDGE_CASES)
def test_edge_case_is_a_configuration_cloudfront_accepts(aws: str, template: str) -> None:
    created = boto3.client("cloudfront").create_distribution(
        DistributionConfig=EDGE_CASES[template]()
    )

    assert created["Distribution"]["Id"]


@pytest.mark.parametrize(
    "shield",
    [{"Enabled": False}, {"Enabled": False, "OriginShieldRegion": "eu-west-1"}],
    ids=["without-region", "with-region"],
)
def test_disabled_origin_shield_is_left_out(shield: dict[str, Any]) -> None:
    """Terraform reads a disabled shield back as none; sent, it would show as
    a change after every refresh."""
    config = disabled_origin_shield()
    _origin(config, "app")["OriginShield"] = shield

    translation = translate(config)

    assert translation.warnings == ()
    [app] = [o for o in engine_inputs(translation.args)["origins"] if o["originId"] == "app"]
    assert "originShield" not in app
    full_app = next(o for o in ENGINE_INPUTS_FOR_FULL["origins"] if o["originId"] == "app")
    assert app == {k: v for k, v in full_app.items() if k != "originShield"}


def test_s3_origin_without_identity_keeps_only_its_access_control() -> None:
    translation = translate(origin_access_control_only())

    assert translation.warnings == ()
    [assets] = [o for o in engine_inputs(translation.args)["origins"] if o["originId"] == "assets"]
    assert assets == {
        "originId": "assets",
        "domainName": "assets.s3.us-east-1.amazonaws.com",
        "originAccessControlId": "E3OAC",
    }


def test_cookie_only_logging_keeps_include_cookies() -> None:
    translation = translate(cookie_only_logging())

    assert translation.warnings == ()
    assert translation.args["logging_config"] == {"include_cookies": True}
    assert engine_inputs(translation.args)["loggingConfig"] == {"includeCookies": True}


def test_disabled_logging_with_stale_bucket_keeps_its_cookies_and_warns() -> None:
    config = copy.deepcopy(FULL)
    config["Logging"]["Enabled"] = False

    translation = translate(config)

    assert translation.args["logging_config"] == {"include_cookies": True}
    [warning] = translation.warnings
    assert "Logging.Bucket and Logging.Prefix dropped" in warning


@pytest.mark.parametrize("method", ["vip", "static-ip"])
def test_dedicated_ip_serving_is_warned(method: str) -> None:
    config = dedicated_ip_certificate()
    config["ViewerCertificate"]["SSLSupportMethod"] = method

    translation = translate(config)

    [warning] = translation.warnings
    assert f"ViewerCertificate.SSLSupportMethod {method!r} becomes 'sni-only'" in warning
    assert "SNI" in warning


def checked(inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs as the stand-in provider holds them after Check: through
    the wire's Struct, defaults filled in."""
    return wire.with_defaults(from_struct(to_struct(inputs)))


@pytest.mark.parametrize("template", TEMPLATES)
def test_clone_reads_back_without_a_change(template: str) -> None:
    """What the engine receives for a template, sent to CloudFront and read
    back the way the stand-in reads it (Terraform's way), shows no change:
    a refresh followed by an update leaves the clone alone."""
    inputs = checked(engine_inputs(translate(TEMPLATES[template]()).args))
    read_back = wire.from_api(wire.to_api(inputs, "ref"))

    assert diff_distribution(refreshed_inputs(read_back, inputs), inputs, frozenset()).diffs == []


def test_clone_still_carrying_a_disabled_shield_would_change_after_refresh() -> None:
    """The check above can fail: the translation before this rule sent the
    disabled shield, which Terraform's Read drops."""
    inputs = checked(engine_inputs(translate(disabled_origin_shield()).args))
    for origin in inputs["origins"]:
        origin.setdefault("originShield", {"enabled": False})
    read_back = wire.from_api(wire.to_api(inputs, "ref"))

    assert diff_distribution(refreshed_inputs(read_back, inputs), inputs, frozenset()).diffs == [
        "origins"
    ]


def _with(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    config = copy.deepcopy(FULL)
    change(config)
    return config


def _origin(config: dict[str, Any], origin_id: str) -> dict[str, Any]:
    return next(o for o in config["Origins"]["Items"] if o["Id"] == origin_id)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda c: _origin(c, "app")["CustomOriginConfig"].update(OriginHttpVersion="http2"),
            "Origins.Items[0].CustomOriginConfig.OriginHttpVersion",
        ),
        (
            lambda c: _origin(c, "private")["VpcOriginConfig"].update(OriginHttpVersion="http2"),
            "Origins.Items[2].VpcOriginConfig.OriginHttpVersion",
        ),
        (lambda c: c["Logging"].update(Enabled=False), "Logging.Bucket and Logging.Prefix"),
        (
            lambda c: c["CacheBehaviors"]["Items"][1].update(
                ForwardedValues={"QueryString": True, "Cookies": {"Forward": "all"}}
            ),
            "CacheBehaviors.Items[1]: ForwardedValues dropped",
        ),
        (
            lambda c: c["DefaultCacheBehavior"].update(MinTTL=0, DefaultTTL=86400),
            "DefaultCacheBehavior: DefaultTTL dropped",
        ),
    ],
    ids=["custom-origin-http2", "vpc-origin-http2", "disabled-logging", "forwarded", "ttl"],
)
def test_dropped_field_is_warned(change: Callable[[dict[str, Any]], None], field: str) -> None:
    translation = translate(_with(change))

    assert len(translation.warnings) == 1
    assert field in translation.warnings[0]


@pytest.mark.parametrize(
    "change",
    [
        lambda c: _origin(c, "app")["CustomOriginConfig"].update(OriginHttpVersion="http1.1"),
        lambda c: _origin(c, "assets")["S3OriginConfig"].update(OriginReadTimeout=30),
        lambda c: c["OriginGroups"]["Items"][0].update(SelectionCriteria="default"),
        lambda c: c.update(TenantConfig={}, ConnectionMode="direct"),
        lambda c: c["CacheBehaviors"]["Items"][1].update(
            ForwardedValues={"QueryString": False, "Cookies": {"Forward": "none"}},
            MinTTL=0,
            DefaultTTL=0,
            MaxTTL=0,
        ),
        lambda c: c.update(CallerReference="another-reference"),
        lambda c: c["ViewerCertificate"].update(Certificate="legacy", CertificateSource="iam"),
    ],
    ids=[
        "http1.1",
        "s3-default-timeout",
        "default-selection",
        "direct-mode",
        "neutral-legacy-caching",
        "caller-reference",
        "legacy-certificate-fields",
    ],
)
def test_value_without_effect_is_dropped_silently(
    change: Callable[[dict[str, Any]], None],
) -> None:
    translation = translate(_with(change))

    assert translation.warnings == ()
    assert translation.args == translate(FULL).args


def test_disabled_logging_means_no_logging_config() -> None:
    translation = translate(
        _with(lambda c: c.update(Logging={"Enabled": False, "IncludeCookies": False, "Bucket": ""}))
    )

    assert translation.warnings == ()
    assert "logging_config" not in translation.args


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (
            lambda c: _origin(c, "assets")["S3OriginConfig"].update(OriginReadTimeout=90),
            "Origins.Items[1].S3OriginConfig.OriginReadTimeout",
        ),
        (
            lambda c: c["OriginGroups"]["Items"][0].update(SelectionCriteria="media-quality-based"),
            "OriginGroups.Items[0].SelectionCriteria",
        ),
        (lambda c: c.update(ConnectionMode="tenant-only"), "ConnectionMode"),
        (
            lambda c: c.update(
                TenantConfig={
                    "ParameterDefinitions": [
                        {
                            "Name": "tenant",
                            "Definition": {"StringSchema": {"Required": True}},
                        }
                    ]
                }
            ),
            "TenantConfig.ParameterDefinitions",
        ),
    ],
    ids=["s3-read-timeout", "media-quality-selection", "multi-tenant", "tenant-parameters"],
)
def test_behaviour_changing_field_is_refused(
    change: Callable[[dict[str, Any]], None], field: str
) -> None:
    with pytest.raises(Untranslatable, match=field.replace("[", r"\[").replace(".", r"\.")):
        translate(_with(change))


CLOUDFRONT = botocore.session.get_session().get_service_model("cloudfront")


def _listed(shape: str, member: str) -> bool:
    return f"{shape}.{member}" in UNEXPRESSED or f"*.{member}" in UNEXPRESSED


def _api_fields(shape: StructureShape, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Paths to every value below ``shape`` that is not listed in UNEXPRESSED;
    ``[]`` stands for each element of a list of structures."""
    for name, member in shape.members.items():
        if _listed(shape.name, name):
            continue
        if isinstance(member, StructureShape):
            yield from _api_fields(member, (*path, name))
        elif isinstance(member, ListShape) and isinstance(member.member, StructureShape):
            yield from _api_fields(member.member, (*path, name, "[]"))
        else:
            yield (*path, name)


API_FIELDS = list(_api_fields(CLOUDFRONT.shape_for("DistributionConfig")))


def _changed(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return str(int(value) + 1) if value.isdigit() else f"{value}-changed"
    return [*value, _changed(value[0])]


def _change_everywhere(node: Any, path: tuple[str, ...]) -> int:
    """Changes the value at ``path`` wherever it occurs; returns how often."""
    head, *rest = path
    if head == "[]":
        return sum(_change_everywhere(item, tuple(rest)) for item in node)
    if head not in node:
        return 0
    if not rest:
        node[head] = _changed(node[head])
        return 1
    return _change_everywhere(node[head], tuple(rest))


@pytest.mark.parametrize("path", API_FIELDS, ids=["/".join(p) for p in API_FIELDS])
def test_api_field_is_translated(path: tuple[str, ...]) -> None:
    """Each field that UNEXPRESSED does not list must appear in a fixture and
    reach the arguments: changing it changes them."""
    exercised = 0
    for make in VARIANTS.values():
        config = make()
        if _change_everywhere(config, path):
            exercised += 1
            assert translate(config).args != translate(make()).args
    assert exercised, f"no fixture sets {'.'.join(path)}: add it or list it in UNEXPRESSED"


def test_listed_fields_exist_in_the_api() -> None:
    shapes = {CLOUDFRONT.shape_for(name) for name in CLOUDFRONT.shape_names}
    members = {
        (shape.name, member)
        for shape in shapes
        if isinstance(shape, StructureShape)
        for member in shape.members
    }
    for key in UNEXPRESSED:
        shape, member = key.split(".")
        assert (shape, member) in members or (
            shape == "*" and any(m == member for _, m in members)
        ), key
