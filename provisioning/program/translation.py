"""Turn a CloudFront ``DistributionConfig`` into arguments for
``pulumi_aws.cloudfront.Distribution``, so a clone is built from exactly what
the template distribution serves and nothing is lost without saying so.

The input is the dict boto3's ``get_distribution_config`` returns under
``"DistributionConfig"``; the output is snake_case keyword arguments with
nested values as the ``...ArgsDict`` forms pulumi-aws accepts. Empty strings
and empty lists mean "unset" in the CloudFront API, so they are left out
rather than sent as explicit empty values.

Fields pulumi-aws 7.51 cannot express, and what happens to them
(``UNEXPRESSED`` holds the same table for code and tests; the keys are
botocore shape names, ``*`` matching any shape):

``*.Quantity``
    Dropped silently: pulumi-aws recomputes every count from its list.
``DistributionConfig.CallerReference``
    Replaced silently: pulumi-aws makes a fresh one per distribution, which a
    clone needs anyway since CloudFront refuses a reused caller reference.
``DistributionConfig.ConnectionMode``
    ``direct`` (a standard distribution) is what the resource creates; a
    ``tenant-only`` (multi-tenant) template is refused, since
    ``aws.cloudfront.Distribution`` cannot create one.
``DistributionConfig.TenantConfig``
    Only valid on multi-tenant distributions: refused when it defines
    parameters, ignored when empty.
``LoggingConfig.Enabled``
    pulumi-aws enables (V1) logging exactly when ``logging_config`` names a
    bucket. Disabled logging that includes cookies (the cookie setting also
    applies to V2 logging) becomes a ``logging_config`` with
    ``include_cookies`` alone; without cookies, no ``logging_config``.
    CloudFront deletes the bucket and prefix of disabled logging itself; if a
    configuration still carries them they are dropped with a warning.
``TrustedSigners.Enabled``, ``TrustedKeyGroups.Enabled``
    Folded into the lists: pulumi-aws enables signed URLs exactly when the
    list is non-empty, which is also when CloudFront allows ``Enabled=true``.
``ViewerCertificate.Certificate``, ``ViewerCertificate.CertificateSource``
    Deprecated copies of ``ACMCertificateArn``/``IAMCertificateId``/
    ``CloudFrontDefaultCertificate``, which are translated; dropped silently.
``S3OriginConfig.OriginReadTimeout``
    Refused unless it is CloudFront's default of 30 seconds: a clone with a
    different timeout would fail, or fail over, different requests.
``CustomOriginConfig.OriginHttpVersion``, ``VpcOriginConfig.OriginHttpVersion``
    ``http2`` is dropped with a warning and the clone talks HTTP/1.1 to that
    origin. CloudFront already falls back to HTTP/1.1 whenever an origin does
    not negotiate HTTP/2, so responses are the same; only connection reuse to
    the origin differs.
``OriginGroup.SelectionCriteria``
    Refused unless ``default``: ``media-quality-based`` picks a different
    origin per request, which the clone would not do.

What pulumi-aws reads back without them, and so must not be sent: Terraform's
Read sets no ``origin_shield`` for a shield with ``Enabled`` false and no
``s3_origin_config`` for one with an empty ``OriginAccessIdentity`` (an S3
origin using origin access control). Both serve exactly as their absence
(pulumi-aws sends the empty S3 config itself), and a clone carrying them
would show as changed after every refresh, so each update would put it back
in progress without end. They are left out silently.

Not a translation gap but a clone rule, warned here so the warning reaches
each item: a clone is always served with ``sni-only``, so a template whose
``ViewerCertificate.SSLSupportMethod`` is ``vip`` or ``static-ip`` (dedicated
IP addresses) gets a warning that viewers sending no SNI can't reach it.

Not a pulumi-aws gap but a CloudFront rule: a cache behaviour with a
``CachePolicyId`` takes its caching from the policy, and CloudFront rejects
``ForwardedValues`` alongside one. Such a behaviour's ``ForwardedValues`` and
``MinTTL``/``DefaultTTL``/``MaxTTL`` are left out; a warning is given only
when they held anything but the neutral values CloudFront reports for
"unset" (no forwarding, TTLs of 0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from provisioning.errors import Untranslatable

UNEXPRESSED: Mapping[str, str] = {
    "*.Quantity": "dropped: pulumi-aws recomputes counts from lists",
    "DistributionConfig.CallerReference": "replaced by a fresh one per clone",
    "DistributionConfig.ConnectionMode": "direct accepted; tenant-only refused",
    "DistributionConfig.TenantConfig": "ignored when empty; refused when it defines parameters",
    "LoggingConfig.Enabled": "a bucket enables logging; false keeps include_cookies alone, "
    "stale bucket/prefix warned",
    "TrustedSigners.Enabled": "folded into the list of signers",
    "TrustedKeyGroups.Enabled": "folded into the list of key groups",
    "ViewerCertificate.Certificate": "dropped: deprecated copy of the certificate fields",
    "ViewerCertificate.CertificateSource": "dropped: deprecated copy of the certificate fields",
    "S3OriginConfig.OriginReadTimeout": "30 (the default) accepted; anything else refused",
    "CustomOriginConfig.OriginHttpVersion": "http2 dropped with a warning",
    "VpcOriginConfig.OriginHttpVersion": "http2 dropped with a warning",
    "OriginGroup.SelectionCriteria": "default accepted; media-quality-based refused",
}

DEFAULT_S3_ORIGIN_READ_TIMEOUT = 30
# The only way a clone is served (program.py): its own ACM certificate, by SNI.
CLONE_SSL_SUPPORT_METHOD = "sni-only"
DEDICATED_IP_METHODS = frozenset({"vip", "static-ip"})


@dataclass(frozen=True)
class Translation:
    args: dict[str, Any]  # kwargs for aws.cloudfront.Distribution, before the caller's overrides
    warnings: tuple[str, ...]  # each names the API field dropped or changed, and what happened


def translate(config: Mapping[str, Any]) -> Translation:
    warnings: list[str] = []
    _refuse_multi_tenant(config)
    args: dict[str, Any] = {
        "enabled": config["Enabled"],
        "origins": [
            _origin(origin, f"Origins.Items[{i}]", warnings)
            for i, origin in enumerate(_items(config["Origins"]))
        ],
        "default_cache_behavior": _cache_behavior(
            config["DefaultCacheBehavior"], "DefaultCacheBehavior", warnings
        ),
        "restrictions": _restrictions(config.get("Restrictions")),
        "viewer_certificate": _viewer_certificate(config.get("ViewerCertificate") or {}),
    }
    _warn_dedicated_ip(config.get("ViewerCertificate") or {}, warnings)
    _put(args, "comment", config.get("Comment"))
    _put(args, "aliases", _items(config.get("Aliases")))
    _put(args, "default_root_object", config.get("DefaultRootObject"))
    _put(
        args,
        "origin_groups",
        [
            _origin_group(group, f"OriginGroups.Items[{i}]")
            for i, group in enumerate(_items(config.get("OriginGroups")))
        ],
    )
    _put(
        args,
        "ordered_cache_behaviors",
        [
            _cache_behavior(behavior, f"CacheBehaviors.Items[{i}]", warnings)
            for i, behavior in enumerate(_items(config.get("CacheBehaviors")))
        ],
    )
    _put(
        args,
        "custom_error_responses",
        [_custom_error_response(r) for r in _items(config.get("CustomErrorResponses"))],
    )
    _put(args, "logging_config", _logging(config.get("Logging"), warnings))
    _put(args, "price_class", config.get("PriceClass"))
    _put(args, "web_acl_id", config.get("WebACLId"))
    _put(args, "http_version", config.get("HttpVersion"))
    _put(args, "is_ipv6_enabled", config.get("IsIPV6Enabled"))
    _put(args, "continuous_deployment_policy_id", config.get("ContinuousDeploymentPolicyId"))
    _put(args, "staging", config.get("Staging"))
    _put(args, "anycast_ip_list_id", config.get("AnycastIpListId"))
    _put(args, "viewer_mtls_config", _viewer_mtls(config.get("ViewerMtlsConfig")))
    _put(
        args,
        "connection_function_association",
        _renamed(config.get("ConnectionFunctionAssociation"), {"Id": "id"}),
    )
    _put(
        args,
        "cache_tag_config",
        _renamed(config.get("CacheTagConfig"), {"HeaderName": "header_name"}),
    )
    return Translation(args=args, warnings=tuple(warnings))


def _refuse_multi_tenant(config: Mapping[str, Any]) -> None:
    mode = config.get("ConnectionMode")
    if mode not in (None, "", "direct"):
        raise Untranslatable(
            f"ConnectionMode is {mode!r}: a multi-tenant distribution cannot be cloned as "
            "aws.cloudfront.Distribution, which only creates standard (direct) distributions"
        )
    if (config.get("TenantConfig") or {}).get("ParameterDefinitions"):
        raise Untranslatable(
            "TenantConfig.ParameterDefinitions is set: tenant parameters exist only on "
            "multi-tenant distributions, which aws.cloudfront.Distribution cannot create"
        )


def _origin(origin: Mapping[str, Any], where: str, warnings: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"origin_id": origin["Id"], "domain_name": origin["DomainName"]}
    _put(out, "origin_path", origin.get("OriginPath"))
    _put(
        out,
        "custom_headers",
        [
            {"name": h["HeaderName"], "value": h["HeaderValue"]}
            for h in _items(origin.get("CustomHeaders"))
        ],
    )
    _put(out, "s3_origin_config", _s3_origin(origin.get("S3OriginConfig"), where))
    _put(
        out,
        "custom_origin_config",
        _custom_origin(origin.get("CustomOriginConfig"), f"{where}.CustomOriginConfig", warnings),
    )
    _put(
        out,
        "vpc_origin_config",
        _vpc_origin(origin.get("VpcOriginConfig"), f"{where}.VpcOriginConfig", warnings),
    )
    _put(out, "connection_attempts", origin.get("ConnectionAttempts"))
    _put(out, "connection_timeout", origin.get("ConnectionTimeout"))
    _put(out, "response_completion_timeout", origin.get("ResponseCompletionTimeout"))
    _put(out, "origin_shield", _origin_shield(origin.get("OriginShield")))
    _put(out, "origin_access_control_id", origin.get("OriginAccessControlId"))
    return out


def _origin_shield(shield: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Only an enabled shield: Terraform reads a disabled one back as no
    origin_shield, so sending it would be a change after every refresh, and
    disabled it serves exactly as none."""
    if not shield or not shield.get("Enabled"):
        return None
    return _renamed(shield, {"Enabled": "enabled", "OriginShieldRegion": "origin_shield_region"})


def _s3_origin(s3: Mapping[str, Any] | None, where: str) -> dict[str, Any] | None:
    """None for an S3 origin without an origin access identity (one using
    origin access control): Terraform reads its empty config back as no
    s3_origin_config, and sends that empty config itself for an origin
    without a custom or VPC config, so leaving it out is the same request."""
    if s3 is None:
        return None
    timeout = s3.get("OriginReadTimeout")
    if timeout not in (None, DEFAULT_S3_ORIGIN_READ_TIMEOUT):
        raise Untranslatable(
            f"{where}.S3OriginConfig.OriginReadTimeout is {timeout}: pulumi-aws cannot set an "
            f"S3 origin's read timeout, so the clone would use {DEFAULT_S3_ORIGIN_READ_TIMEOUT}s "
            "and time out or fail over on different requests"
        )
    identity = s3.get("OriginAccessIdentity")
    return {"origin_access_identity": identity} if identity else None


def _custom_origin(
    custom: Mapping[str, Any] | None, where: str, warnings: list[str]
) -> dict[str, Any] | None:
    if custom is None:
        return None
    out: dict[str, Any] = {
        "http_port": custom["HTTPPort"],
        "https_port": custom["HTTPSPort"],
        "origin_protocol_policy": custom["OriginProtocolPolicy"],
        "origin_ssl_protocols": _items(custom.get("OriginSslProtocols")),
    }
    _put(out, "origin_read_timeout", custom.get("OriginReadTimeout"))
    _put(out, "origin_keepalive_timeout", custom.get("OriginKeepaliveTimeout"))
    _put(out, "ip_address_type", custom.get("IpAddressType"))
    _put(
        out,
        "origin_mtls_config",
        _renamed(
            custom.get("OriginMtlsConfig"), {"ClientCertificateArn": "client_certificate_arn"}
        ),
    )
    _warn_origin_http_version(custom, where, warnings)
    return out


def _vpc_origin(
    vpc: Mapping[str, Any] | None, where: str, warnings: list[str]
) -> dict[str, Any] | None:
    if vpc is None:
        return None
    _warn_origin_http_version(vpc, where, warnings)
    return _renamed(
        vpc,
        {
            "VpcOriginId": "vpc_origin_id",
            "OwnerAccountId": "owner_account_id",
            "OriginReadTimeout": "origin_read_timeout",
            "OriginKeepaliveTimeout": "origin_keepalive_timeout",
        },
    )


def _warn_origin_http_version(config: Mapping[str, Any], where: str, warnings: list[str]) -> None:
    version = config.get("OriginHttpVersion")
    if version not in (None, "", "http1.1"):
        warnings.append(
            f"{where}.OriginHttpVersion {version!r} dropped: pulumi-aws cannot set it, so the "
            "clone uses HTTP/1.1 to this origin (responses are unchanged)"
        )


def _origin_group(group: Mapping[str, Any], where: str) -> dict[str, Any]:
    criteria = group.get("SelectionCriteria")
    if criteria not in (None, "", "default"):
        raise Untranslatable(
            f"{where}.SelectionCriteria is {criteria!r}: pulumi-aws cannot set it, and the "
            "clone would choose origins differently"
        )
    return {
        "origin_id": group["Id"],
        "failover_criteria": {"status_codes": _items(group["FailoverCriteria"]["StatusCodes"])},
        "members": [{"origin_id": m["OriginId"]} for m in _items(group["Members"])],
    }


def _cache_behavior(behavior: Mapping[str, Any], where: str, warnings: list[str]) -> dict[str, Any]:
    methods = behavior.get("AllowedMethods") or {}
    out: dict[str, Any] = {}
    _put(out, "path_pattern", behavior.get("PathPattern"))
    out["target_origin_id"] = behavior["TargetOriginId"]
    out["viewer_protocol_policy"] = behavior["ViewerProtocolPolicy"]
    # CloudFront's defaults when a behaviour leaves methods out; pulumi-aws requires both.
    out["allowed_methods"] = _items(methods) or ["GET", "HEAD"]
    out["cached_methods"] = _items(methods.get("CachedMethods")) or ["GET", "HEAD"]
    _put(out, "compress", behavior.get("Compress"))
    _put(out, "smooth_streaming", behavior.get("SmoothStreaming"))
    _put(out, "cache_policy_id", behavior.get("CachePolicyId"))
    _put(out, "origin_request_policy_id", behavior.get("OriginRequestPolicyId"))
    _put(out, "response_headers_policy_id", behavior.get("ResponseHeadersPolicyId"))
    _put(out, "field_level_encryption_id", behavior.get("FieldLevelEncryptionId"))
    _put(out, "realtime_log_config_arn", behavior.get("RealtimeLogConfigArn"))
    _put(out, "trusted_signers", _items(behavior.get("TrustedSigners")))
    _put(out, "trusted_key_groups", _items(behavior.get("TrustedKeyGroups")))
    _put(
        out,
        "function_associations",
        [
            {"event_type": f["EventType"], "function_arn": f["FunctionARN"]}
            for f in _items(behavior.get("FunctionAssociations"))
        ],
    )
    _put(
        out,
        "lambda_function_associations",
        [_lambda_association(a) for a in _items(behavior.get("LambdaFunctionAssociations"))],
    )
    _put(out, "grpc_config", _renamed(behavior.get("GrpcConfig"), {"Enabled": "enabled"}))
    if behavior.get("CachePolicyId"):
        _warn_superseded_legacy_caching(behavior, where, warnings)
    else:
        _put(out, "forwarded_values", _forwarded_values(behavior.get("ForwardedValues")))
        _put(out, "min_ttl", behavior.get("MinTTL"))
        _put(out, "default_ttl", behavior.get("DefaultTTL"))
        _put(out, "max_ttl", behavior.get("MaxTTL"))
    return out


def _lambda_association(association: Mapping[str, Any]) -> dict[str, Any]:
    out = {"event_type": association["EventType"], "lambda_arn": association["LambdaFunctionARN"]}
    _put(out, "include_body", association.get("IncludeBody"))
    return out


def _warn_superseded_legacy_caching(
    behavior: Mapping[str, Any], where: str, warnings: list[str]
) -> None:
    dropped = [
        name for name in ("MinTTL", "DefaultTTL", "MaxTTL") if behavior.get(name) not in (None, 0)
    ]
    forwarded = behavior.get("ForwardedValues")
    if forwarded is not None and _forwarded_values(forwarded) != _NEUTRAL_FORWARDED_VALUES:
        dropped.insert(0, "ForwardedValues")
    if dropped:
        warnings.append(
            f"{where}: {', '.join(dropped)} dropped because CachePolicyId is set; CloudFront "
            "takes caching from the policy and rejects ForwardedValues next to one"
        )


def _forwarded_values(forwarded: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if forwarded is None:
        return None
    cookies = forwarded["Cookies"]
    out: dict[str, Any] = {
        "query_string": forwarded["QueryString"],
        "cookies": {"forward": cookies["Forward"]},
    }
    _put(out["cookies"], "whitelisted_names", _items(cookies.get("WhitelistedNames")))
    _put(out, "headers", _items(forwarded.get("Headers")))
    _put(out, "query_string_cache_keys", _items(forwarded.get("QueryStringCacheKeys")))
    return out


_NEUTRAL_FORWARDED_VALUES = {"query_string": False, "cookies": {"forward": "none"}}


def _custom_error_response(response: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"error_code": response["ErrorCode"]}
    _put(out, "response_page_path", response.get("ResponsePagePath"))
    # The API carries the replacement status as a string, pulumi-aws as a number.
    if response.get("ResponseCode"):
        out["response_code"] = int(response["ResponseCode"])
    _put(out, "error_caching_min_ttl", response.get("ErrorCachingMinTTL"))
    return out


def _restrictions(restrictions: Mapping[str, Any] | None) -> dict[str, Any]:
    geo = (restrictions or {}).get("GeoRestriction") or {"RestrictionType": "none"}
    out: dict[str, Any] = {"restriction_type": geo["RestrictionType"]}
    _put(out, "locations", _items(geo))
    return {"geo_restriction": out}


def _logging(logging: Mapping[str, Any] | None, warnings: list[str]) -> dict[str, Any] | None:
    """pulumi-aws enables logging exactly when a bucket is given, so disabled
    logging keeps only its cookie setting, which CloudFront applies to V2
    logging too; Terraform reads such a block back as it was sent."""
    if not logging:
        return None
    if logging.get("Enabled"):
        return _renamed(
            logging, {"Bucket": "bucket", "Prefix": "prefix", "IncludeCookies": "include_cookies"}
        )
    stale = [name for name in ("Bucket", "Prefix") if logging.get(name)]
    if stale:
        warnings.append(
            f"Logging.{' and Logging.'.join(stale)} dropped: Logging.Enabled is false, and "
            "pulumi-aws enables logging whenever a bucket is given (CloudFront discards them too)"
        )
    return {"include_cookies": True} if logging.get("IncludeCookies") else None


def _warn_dedicated_ip(certificate: Mapping[str, Any], warnings: list[str]) -> None:
    """A template served on dedicated IP addresses also reaches viewers that
    send no SNI; its clone, served by SNI only (program.py), doesn't."""
    method = certificate.get("SSLSupportMethod")
    if method in DEDICATED_IP_METHODS:
        warnings.append(
            f"ViewerCertificate.SSLSupportMethod {method!r} becomes "
            f"{CLONE_SSL_SUPPORT_METHOD!r}: the clone serves its own ACM certificate by SNI only, "
            "so viewers that send no SNI (some old browsers and HTTPS clients) can't reach it"
        )


def _viewer_certificate(certificate: Mapping[str, Any]) -> dict[str, Any]:
    return (
        _renamed(
            certificate,
            {
                "CloudFrontDefaultCertificate": "cloudfront_default_certificate",
                "ACMCertificateArn": "acm_certificate_arn",
                "IAMCertificateId": "iam_certificate_id",
                "SSLSupportMethod": "ssl_support_method",
                "MinimumProtocolVersion": "minimum_protocol_version",
            },
        )
        or {}
    )


def _viewer_mtls(mtls: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not mtls:
        return None
    out: dict[str, Any] = {}
    _put(out, "mode", mtls.get("Mode"))
    _put(
        out,
        "trust_store_config",
        _renamed(
            mtls.get("TrustStoreConfig"),
            {
                "TrustStoreId": "trust_store_id",
                "AdvertiseTrustStoreCaNames": "advertise_trust_store_ca_names",
                "IgnoreCertificateExpiry": "ignore_certificate_expiry",
            },
        ),
    )
    return out


def _renamed(source: Mapping[str, Any] | None, names: Mapping[str, str]) -> dict[str, Any] | None:
    """Copies the set members of a flat API structure under pulumi-aws names."""
    if source is None:
        return None
    out: dict[str, Any] = {}
    for api_name, arg_name in names.items():
        _put(out, arg_name, source.get(api_name))
    return out


def _items(container: Mapping[str, Any] | None) -> list[Any]:
    """The API wraps every list as ``{Quantity, Items}`` and may omit Items when empty."""
    return list((container or {}).get("Items") or [])


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is None or (isinstance(value, str | Sequence | Mapping) and len(value) == 0):
        return
    target[key] = value
