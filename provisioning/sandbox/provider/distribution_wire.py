"""Translation between pulumi-aws's Distribution properties (the camelCase
names the engine sends) and CloudFront's DistributionConfig.

Kept apart from the gRPC plumbing because it is the part that must track
pulumi-aws: it mirrors the Terraform provider's expand and flatten functions,
quirks included (TTLs are sent only without a cache policy, an origin with no
origin config gets an empty S3 config, logging is sent disabled rather than
left out, the response code of an error page is a string), so a program that
works against the sandbox sends AWS the request pulumi-aws would send.

The way back (``from_api``) drops what Terraform's Read drops, so that an
input Terraform would not find again after a refresh shows up here as the
same change it would cause against AWS: a disabled origin shield, an S3
origin config without an origin access identity, logging that neither has a
bucket nor includes cookies.

Values here are plain: the provider strips secret wrappers before calling in.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

Props = dict[str, Any]

HOSTED_ZONE_ID = "Z2FDTNDATAQYW2"

# Terraform declares these lists as TypeList; every other list of the schema
# (origins, origin groups, aliases, error responses, methods, associations,
# headers, ...) is a TypeSet, compared as a set: its order carries no meaning
# and must not cause a diff.
ORDERED_LISTS = frozenset(
    {
        "orderedCacheBehaviors",
        "members",
        "queryStringCacheKeys",
        "trustedKeyGroups",
        "trustedSigners",
    }
)

# Terraform's TypeMap attributes: an empty map reads back as no map. Every
# other object in the properties is a nested block (a MaxItems 1 list in
# Terraform), which is there or not whatever its fields hold.
MAPS = frozenset({"tags", "tagsAll"})

# Optional+Computed properties: leaving one out of the program keeps the value
# it had, as Terraform's planner does, instead of removing it.
_BEHAVIOR_COMPUTED = (
    ("defaultTtl",),
    ("maxTtl",),
    ("forwardedValues", "headers"),
    ("forwardedValues", "queryStringCacheKeys"),
    ("forwardedValues", "cookies", "whitelistedNames"),
)
COMPUTED_INPUTS: tuple[tuple[str, ...], ...] = (
    ("continuousDeploymentPolicyId",),
    ("restrictions", "geoRestriction", "locations"),
    ("origins[]", "responseCompletionTimeout"),
    ("defaultCacheBehavior", "trustedKeyGroups"),
    ("defaultCacheBehavior", "trustedSigners"),
    *(("defaultCacheBehavior", *path) for path in _BEHAVIOR_COMPUTED),
    *(("orderedCacheBehaviors[]", *path) for path in _BEHAVIOR_COMPUTED),
)

# Properties outside the DistributionConfig: changing them needs no UpdateDistribution.
PROVIDER_ONLY = frozenset({"retainOnDelete", "waitForDeployment", "tags"})

_BEHAVIOR_DEFAULTS: Props = {
    "compress": False,
    "minTtl": 0,
    "lambdaFunctionAssociations[]": {"includeBody": False},
}
_TIMEOUT_DEFAULTS: Props = {"originKeepaliveTimeout": 5, "originReadTimeout": 30}
# Terraform schema defaults, which pulumi-aws fills in during Check.
DEFAULTS: Props = {
    "httpVersion": "http2",
    "isIpv6Enabled": False,
    "priceClass": "PriceClass_All",
    "retainOnDelete": False,
    "waitForDeployment": True,
    "staging": False,
    "defaultCacheBehavior": _BEHAVIOR_DEFAULTS,
    "orderedCacheBehaviors[]": _BEHAVIOR_DEFAULTS,
    "origins[]": {
        "connectionAttempts": 3,
        "connectionTimeout": 10,
        "originPath": "",
        "customOriginConfig": _TIMEOUT_DEFAULTS,
        "vpcOriginConfig": _TIMEOUT_DEFAULTS,
    },
    "loggingConfig": {"includeCookies": False, "prefix": ""},
    "viewerCertificate": {"minimumProtocolVersion": "TLSv1"},
    "viewerMtlsConfig": {
        "trustStoreConfig": {"advertiseTrustStoreCaNames": False, "ignoreCertificateExpiry": False}
    },
}


def with_defaults(props: Props, spec: Props = DEFAULTS) -> Props:
    """Unknown values (preview) are strings, not objects, so they pass through."""
    out = dict(props)
    for key, default in spec.items():
        name = key.removesuffix("[]")
        value = out.get(name)
        if key.endswith("[]"):
            if isinstance(value, list):
                out[name] = [with_defaults(v, default) if isinstance(v, dict) else v for v in value]
        elif isinstance(default, dict):
            if isinstance(value, dict):
                out[name] = with_defaults(value, default)
        elif value is None:
            out[name] = default
    return out


def _items(values: list[Any] | None) -> Props:
    values = list(values or [])
    return {"Quantity": len(values), "Items": values} if values else {"Quantity": 0}


def _listed(api: Props | None) -> list[Any]:
    return list((api or {}).get("Items") or [])


def _copy(source: Props, mapping: dict[str, str]) -> Props:
    """Copies the keys of ``mapping`` that are present, renaming them."""
    return {dst: source[src] for src, dst in mapping.items() if source.get(src) is not None}


# ---- wire -> API ---------------------------------------------------------------------------


def to_api(props: Props, caller_reference: str) -> Props:
    config: Props = {
        "CallerReference": caller_reference,
        "Aliases": _items(props.get("aliases")),
        "DefaultRootObject": props.get("defaultRootObject") or "",
        "Origins": _items([_origin_to_api(o) for o in props.get("origins") or []]),
        "OriginGroups": _items([_origin_group_to_api(g) for g in props.get("originGroups") or []]),
        "DefaultCacheBehavior": _behavior_to_api(props["defaultCacheBehavior"]),
        "CacheBehaviors": _items(
            [_behavior_to_api(b) for b in props.get("orderedCacheBehaviors") or []]
        ),
        "CustomErrorResponses": _items(
            [_error_response_to_api(e) for e in props.get("customErrorResponses") or []]
        ),
        "Comment": props.get("comment") or "",
        "Logging": _logging_to_api(props.get("loggingConfig")),
        "PriceClass": props.get("priceClass") or "PriceClass_All",
        "Enabled": bool(props["enabled"]),
        "ViewerCertificate": _viewer_certificate_to_api(props.get("viewerCertificate") or {}),
        "WebACLId": props.get("webAclId") or "",
        "HttpVersion": props.get("httpVersion") or "http2",
        "IsIPV6Enabled": bool(props.get("isIpv6Enabled")),
        "ContinuousDeploymentPolicyId": props.get("continuousDeploymentPolicyId") or "",
        "Staging": bool(props.get("staging")),
    }
    restrictions = (props.get("restrictions") or {}).get("geoRestriction")
    if restrictions:
        locations = restrictions.get("locations") or []
        config["Restrictions"] = {
            "GeoRestriction": {
                "RestrictionType": restrictions["restrictionType"],
                **_items(locations),
            }
        }
    if props.get("anycastIpListId"):
        config["AnycastIpListId"] = props["anycastIpListId"]
    if props.get("connectionFunctionAssociation"):
        association = props["connectionFunctionAssociation"]
        config["ConnectionFunctionAssociation"] = {"Id": association["id"]}
    if props.get("cacheTagConfig"):
        config["CacheTagConfig"] = {"HeaderName": props["cacheTagConfig"]["headerName"]}
    if props.get("viewerMtlsConfig"):
        config["ViewerMtlsConfig"] = _mtls_to_api(props["viewerMtlsConfig"])
    return config


def _origin_to_api(origin: Props) -> Props:
    api: Props = {
        "Id": origin["originId"],
        "DomainName": origin["domainName"],
        "OriginPath": origin.get("originPath") or "",
        "CustomHeaders": _items(
            [
                {"HeaderName": h["name"], "HeaderValue": h["value"]}
                for h in origin.get("customHeaders") or []
            ]
        ),
        **_copy(
            origin,
            {
                "connectionAttempts": "ConnectionAttempts",
                "connectionTimeout": "ConnectionTimeout",
                "originAccessControlId": "OriginAccessControlId",
            },
        ),
    }
    if origin.get("responseCompletionTimeout"):
        api["ResponseCompletionTimeout"] = origin["responseCompletionTimeout"]
    if origin.get("customOriginConfig"):
        custom = origin["customOriginConfig"]
        api["CustomOriginConfig"] = {
            "HTTPPort": custom["httpPort"],
            "HTTPSPort": custom["httpsPort"],
            "OriginProtocolPolicy": custom["originProtocolPolicy"],
            "OriginSslProtocols": _items(custom.get("originSslProtocols")),
            **_copy(
                custom,
                {
                    "originReadTimeout": "OriginReadTimeout",
                    "originKeepaliveTimeout": "OriginKeepaliveTimeout",
                },
            ),
        }
        if custom.get("ipAddressType"):
            api["CustomOriginConfig"]["IpAddressType"] = custom["ipAddressType"]
        if custom.get("originMtlsConfig"):
            api["CustomOriginConfig"]["OriginMtlsConfig"] = {
                "ClientCertificateArn": custom["originMtlsConfig"]["clientCertificateArn"]
            }
    if origin.get("vpcOriginConfig"):
        api["VpcOriginConfig"] = _copy(
            origin["vpcOriginConfig"],
            {
                "vpcOriginId": "VpcOriginId",
                "ownerAccountId": "OwnerAccountId",
                "originReadTimeout": "OriginReadTimeout",
                "originKeepaliveTimeout": "OriginKeepaliveTimeout",
            },
        )
    if origin.get("originShield"):
        api["OriginShield"] = _copy(
            origin["originShield"],
            {"enabled": "Enabled", "originShieldRegion": "OriginShieldRegion"},
        )
    if origin.get("s3OriginConfig"):
        api["S3OriginConfig"] = {
            "OriginAccessIdentity": origin["s3OriginConfig"].get("originAccessIdentity") or ""
        }
    elif "CustomOriginConfig" not in api and "VpcOriginConfig" not in api:
        # CloudFront wants one origin config; Terraform sends an empty S3 one.
        api["S3OriginConfig"] = {"OriginAccessIdentity": ""}
    return api


def _origin_group_to_api(group: Props) -> Props:
    return {
        "Id": group["originId"],
        "FailoverCriteria": {"StatusCodes": _items(list(group["failoverCriteria"]["statusCodes"]))},
        "Members": _items([{"OriginId": m["originId"]} for m in group["members"]]),
    }


def _signers(values: list[str] | None) -> Props:
    return {"Enabled": bool(values), **_items(values)}


def _behavior_to_api(behavior: Props) -> Props:
    api: Props = {
        "TargetOriginId": behavior["targetOriginId"],
        "ViewerProtocolPolicy": behavior["viewerProtocolPolicy"],
        "TrustedSigners": _signers(behavior.get("trustedSigners")),
        "TrustedKeyGroups": _signers(behavior.get("trustedKeyGroups")),
        "AllowedMethods": {
            **_items(behavior.get("allowedMethods")),
            "CachedMethods": _items(behavior.get("cachedMethods")),
        },
        "SmoothStreaming": bool(behavior.get("smoothStreaming")),
        "Compress": bool(behavior.get("compress")),
        "LambdaFunctionAssociations": _items(
            [
                {
                    "LambdaFunctionARN": a["lambdaArn"],
                    "EventType": a["eventType"],
                    "IncludeBody": bool(a.get("includeBody")),
                }
                for a in behavior.get("lambdaFunctionAssociations") or []
            ]
        ),
        "FunctionAssociations": _items(
            [
                {"FunctionARN": a["functionArn"], "EventType": a["eventType"]}
                for a in behavior.get("functionAssociations") or []
            ]
        ),
        "FieldLevelEncryptionId": behavior.get("fieldLevelEncryptionId") or "",
        "CachePolicyId": behavior.get("cachePolicyId") or "",
        "OriginRequestPolicyId": behavior.get("originRequestPolicyId") or "",
        "ResponseHeadersPolicyId": behavior.get("responseHeadersPolicyId") or "",
    }
    if "pathPattern" in behavior:
        api["PathPattern"] = behavior["pathPattern"]
    if behavior.get("realtimeLogConfigArn"):
        api["RealtimeLogConfigArn"] = behavior["realtimeLogConfigArn"]
    if behavior.get("grpcConfig"):
        api["GrpcConfig"] = {"Enabled": bool(behavior["grpcConfig"].get("enabled"))}
    if behavior.get("forwardedValues"):
        api["ForwardedValues"] = _forwarded_values_to_api(behavior["forwardedValues"])
    if not behavior.get("cachePolicyId"):
        api["MinTTL"] = behavior.get("minTtl") or 0
        api["DefaultTTL"] = behavior.get("defaultTtl") or 0
        api["MaxTTL"] = behavior.get("maxTtl") or 0
    return api


def _forwarded_values_to_api(values: Props) -> Props:
    cookies = values.get("cookies") or {}
    api: Props = {
        "QueryString": bool(values.get("queryString")),
        "Cookies": {"Forward": cookies.get("forward", "none")},
    }
    if cookies.get("whitelistedNames") is not None:
        api["Cookies"]["WhitelistedNames"] = _items(cookies["whitelistedNames"])
    if values.get("headers") is not None:
        api["Headers"] = _items(values["headers"])
    if values.get("queryStringCacheKeys") is not None:
        api["QueryStringCacheKeys"] = _items(values["queryStringCacheKeys"])
    return api


def _error_response_to_api(response: Props) -> Props:
    api: Props = {
        "ErrorCode": response["errorCode"],
        "ResponseCode": str(response["responseCode"]) if response.get("responseCode") else "",
    }
    if response.get("errorCachingMinTtl") is not None:
        api["ErrorCachingMinTTL"] = response["errorCachingMinTtl"]
    if response.get("responsePagePath") is not None:
        api["ResponsePagePath"] = response["responsePagePath"]
    return api


def _logging_to_api(logging: Props | None) -> Props:
    """Terraform enables (V1) logging exactly when ``logging_config`` names a
    bucket; a block with ``include_cookies`` alone sets CloudFront's cookie
    flag, which also applies to V2 logging, with V1 logging off."""
    if not logging:
        return {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""}
    return {
        "Enabled": bool(logging.get("bucket")),
        "IncludeCookies": bool(logging.get("includeCookies")),
        "Bucket": logging.get("bucket") or "",
        "Prefix": logging.get("prefix") or "",
    }


def _viewer_certificate_to_api(cert: Props) -> Props:
    if cert.get("iamCertificateId"):
        api: Props = {
            "IAMCertificateId": cert["iamCertificateId"],
            "SSLSupportMethod": cert.get("sslSupportMethod") or "",
        }
    elif cert.get("acmCertificateArn"):
        api = {
            "ACMCertificateArn": cert["acmCertificateArn"],
            "SSLSupportMethod": cert.get("sslSupportMethod") or "",
        }
    else:
        api = {"CloudFrontDefaultCertificate": bool(cert.get("cloudfrontDefaultCertificate"))}
    if cert.get("minimumProtocolVersion"):
        api["MinimumProtocolVersion"] = cert["minimumProtocolVersion"]
    return api


def _mtls_to_api(mtls: Props) -> Props:
    api = _copy(mtls, {"mode": "Mode"})
    store = mtls.get("trustStoreConfig")
    if store:
        api["TrustStoreConfig"] = _copy(
            store,
            {
                "trustStoreId": "TrustStoreId",
                "advertiseTrustStoreCaNames": "AdvertiseTrustStoreCaNames",
                "ignoreCertificateExpiry": "IgnoreCertificateExpiry",
            },
        )
    return api


# ---- API -> wire ---------------------------------------------------------------------------


def from_api(config: Props) -> Props:
    """The inputs a DistributionConfig stands for, as Terraform's Read sets them."""
    props: Props = {
        "enabled": bool(config.get("Enabled")),
        "isIpv6Enabled": bool(config.get("IsIPV6Enabled")),
        "priceClass": config.get("PriceClass"),
        "httpVersion": config.get("HttpVersion"),
        "staging": bool(config.get("Staging")),
        "defaultRootObject": config.get("DefaultRootObject") or "",
        "webAclId": config.get("WebACLId") or "",
        "continuousDeploymentPolicyId": config.get("ContinuousDeploymentPolicyId") or "",
        "aliases": _listed(config.get("Aliases")),
        "origins": [_origin_from_api(o) for o in _listed(config.get("Origins"))],
        "originGroups": [_origin_group_from_api(g) for g in _listed(config.get("OriginGroups"))],
        "defaultCacheBehavior": _behavior_from_api(config["DefaultCacheBehavior"]),
        "orderedCacheBehaviors": [
            _behavior_from_api(b) for b in _listed(config.get("CacheBehaviors"))
        ],
        "customErrorResponses": [
            _error_response_from_api(e) for e in _listed(config.get("CustomErrorResponses"))
        ],
        "viewerCertificate": _viewer_certificate_from_api(config.get("ViewerCertificate") or {}),
    }
    # Terraform sets comment only when it isn't empty.
    if config.get("Comment"):
        props["comment"] = config["Comment"]
    logging = config.get("Logging") or {}
    # Terraform's Read keeps logging_config when V1 logging is enabled or
    # cookies are included, and sets no block otherwise: disabled logging
    # without cookies reads back as no logging_config at all.
    if logging.get("Enabled") or logging.get("IncludeCookies"):
        props["loggingConfig"] = {
            "bucket": logging.get("Bucket") or "",
            "includeCookies": bool(logging.get("IncludeCookies")),
            "prefix": logging.get("Prefix") or "",
        }
    geo = (config.get("Restrictions") or {}).get("GeoRestriction")
    if geo:
        props["restrictions"] = {
            "geoRestriction": {
                "restrictionType": geo.get("RestrictionType"),
                "locations": _listed(geo),
            }
        }
    if config.get("AnycastIpListId"):
        props["anycastIpListId"] = config["AnycastIpListId"]
    if config.get("ConnectionFunctionAssociation"):
        props["connectionFunctionAssociation"] = {
            "id": config["ConnectionFunctionAssociation"]["Id"]
        }
    if config.get("CacheTagConfig"):
        props["cacheTagConfig"] = {"headerName": config["CacheTagConfig"]["HeaderName"]}
    if config.get("ViewerMtlsConfig"):
        props["viewerMtlsConfig"] = _mtls_from_api(config["ViewerMtlsConfig"])
    return props


def _origin_from_api(api: Props) -> Props:
    origin: Props = {
        "originId": api["Id"],
        "domainName": api["DomainName"],
        "originPath": api.get("OriginPath") or "",
        "customHeaders": [
            {"name": h["HeaderName"], "value": h["HeaderValue"]}
            for h in _listed(api.get("CustomHeaders"))
        ],
        **_copy(
            api,
            {
                "ConnectionAttempts": "connectionAttempts",
                "ConnectionTimeout": "connectionTimeout",
                "ResponseCompletionTimeout": "responseCompletionTimeout",
                "OriginAccessControlId": "originAccessControlId",
            },
        ),
    }
    custom = api.get("CustomOriginConfig")
    if custom:
        origin["customOriginConfig"] = {
            "httpPort": custom["HTTPPort"],
            "httpsPort": custom["HTTPSPort"],
            "originProtocolPolicy": custom["OriginProtocolPolicy"],
            "originSslProtocols": _listed(custom.get("OriginSslProtocols")),
            **_copy(
                custom,
                {
                    "OriginReadTimeout": "originReadTimeout",
                    "OriginKeepaliveTimeout": "originKeepaliveTimeout",
                    "IpAddressType": "ipAddressType",
                },
            ),
        }
        if custom.get("OriginMtlsConfig"):
            origin["customOriginConfig"]["originMtlsConfig"] = {
                "clientCertificateArn": custom["OriginMtlsConfig"]["ClientCertificateArn"]
            }
    if api.get("VpcOriginConfig"):
        origin["vpcOriginConfig"] = _copy(
            api["VpcOriginConfig"],
            {
                "VpcOriginId": "vpcOriginId",
                "OwnerAccountId": "ownerAccountId",
                "OriginReadTimeout": "originReadTimeout",
                "OriginKeepaliveTimeout": "originKeepaliveTimeout",
            },
        )
    # Terraform's flattenOrigin sets origin_shield only when the shield is
    # enabled: a disabled one reads back as no origin_shield block.
    shield = api.get("OriginShield")
    if shield and shield.get("Enabled"):
        origin["originShield"] = _copy(
            shield, {"Enabled": "enabled", "OriginShieldRegion": "originShieldRegion"}
        )
    # ... and s3_origin_config only when its origin access identity isn't
    # empty: the empty config of an S3 origin using origin access control (or
    # of a bare origin) reads back as no s3_origin_config block.
    s3 = api.get("S3OriginConfig")
    if s3 and s3.get("OriginAccessIdentity"):
        origin["s3OriginConfig"] = {"originAccessIdentity": s3["OriginAccessIdentity"]}
    return origin


def _origin_group_from_api(api: Props) -> Props:
    return {
        "originId": api["Id"],
        "failoverCriteria": {"statusCodes": _listed(api["FailoverCriteria"]["StatusCodes"])},
        "members": [{"originId": m["OriginId"]} for m in _listed(api["Members"])],
    }


def _behavior_from_api(api: Props) -> Props:
    behavior: Props = {
        "targetOriginId": api["TargetOriginId"],
        "viewerProtocolPolicy": api["ViewerProtocolPolicy"],
        "compress": bool(api.get("Compress")),
        "smoothStreaming": bool(api.get("SmoothStreaming")),
        "minTtl": api.get("MinTTL") or 0,
        "cachePolicyId": api.get("CachePolicyId") or "",
        "originRequestPolicyId": api.get("OriginRequestPolicyId") or "",
        "responseHeadersPolicyId": api.get("ResponseHeadersPolicyId") or "",
        "fieldLevelEncryptionId": api.get("FieldLevelEncryptionId") or "",
        "realtimeLogConfigArn": api.get("RealtimeLogConfigArn") or "",
        "trustedKeyGroups": _listed(api.get("TrustedKeyGroups")),
        "trustedSigners": _listed(api.get("TrustedSigners")),
        "allowedMethods": _listed(api.get("AllowedMethods")),
        "cachedMethods": _listed((api.get("AllowedMethods") or {}).get("CachedMethods")),
        "lambdaFunctionAssociations": [
            {
                "eventType": a["EventType"],
                "lambdaArn": a["LambdaFunctionARN"],
                "includeBody": bool(a.get("IncludeBody")),
            }
            for a in _listed(api.get("LambdaFunctionAssociations"))
        ],
        "functionAssociations": [
            {"eventType": a["EventType"], "functionArn": a["FunctionARN"]}
            for a in _listed(api.get("FunctionAssociations"))
        ],
        **_copy(
            api, {"PathPattern": "pathPattern", "DefaultTTL": "defaultTtl", "MaxTTL": "maxTtl"}
        ),
    }
    if api.get("GrpcConfig"):
        behavior["grpcConfig"] = {"enabled": bool(api["GrpcConfig"].get("Enabled"))}
    # CloudFront refuses forwarded values next to a cache policy; moto makes
    # some up, so they are only believed without one.
    if api.get("ForwardedValues") and not api.get("CachePolicyId"):
        behavior["forwardedValues"] = _forwarded_values_from_api(api["ForwardedValues"])
    return behavior


def _forwarded_values_from_api(api: Props) -> Props:
    cookies = api.get("Cookies") or {}
    values: Props = {
        "queryString": bool(api.get("QueryString")),
        "cookies": {
            "forward": cookies.get("Forward"),
            "whitelistedNames": _listed(cookies.get("WhitelistedNames")),
        },
        "headers": _listed(api.get("Headers")),
        "queryStringCacheKeys": _listed(api.get("QueryStringCacheKeys")),
    }
    return values


def _error_response_from_api(api: Props) -> Props:
    response: Props = {"errorCode": api["ErrorCode"]}
    if api.get("ErrorCachingMinTTL") is not None:
        response["errorCachingMinTtl"] = api["ErrorCachingMinTTL"]
    if api.get("ResponseCode"):
        response["responseCode"] = int(api["ResponseCode"])
    if api.get("ResponsePagePath") is not None:
        response["responsePagePath"] = api["ResponsePagePath"]
    return response


def _viewer_certificate_from_api(api: Props) -> Props:
    cert: Props = {}
    if api.get("IAMCertificateId"):
        cert["iamCertificateId"] = api["IAMCertificateId"]
        cert["sslSupportMethod"] = api.get("SSLSupportMethod") or ""
    if api.get("ACMCertificateArn"):
        cert["acmCertificateArn"] = api["ACMCertificateArn"]
        cert["sslSupportMethod"] = api.get("SSLSupportMethod") or ""
    # AWS never reports the default certificate next to a custom one; moto does.
    if api.get("CloudFrontDefaultCertificate") is not None and not cert:
        cert["cloudfrontDefaultCertificate"] = bool(api["CloudFrontDefaultCertificate"])
    if api.get("MinimumProtocolVersion"):
        cert["minimumProtocolVersion"] = api["MinimumProtocolVersion"]
    return cert


def _mtls_from_api(api: Props) -> Props:
    mtls = _copy(api, {"Mode": "mode"})
    if api.get("TrustStoreConfig"):
        mtls["trustStoreConfig"] = _copy(
            api["TrustStoreConfig"],
            {
                "TrustStoreId": "trustStoreId",
                "AdvertiseTrustStoreCaNames": "advertiseTrustStoreCaNames",
                "IgnoreCertificateExpiry": "ignoreCertificateExpiry",
            },
        )
    return mtls


def computed(distribution: Props, etag: str, tags: dict[str, str]) -> Props:
    """The outputs pulumi-aws computes, from a GetDistribution response."""
    config = distribution["DistributionConfig"]
    return {
        "id": distribution["Id"],
        "arn": distribution["ARN"],
        "callerReference": config["CallerReference"],
        "domainName": distribution["DomainName"],
        "etag": etag,
        "hostedZoneId": HOSTED_ZONE_ID,
        "lastModifiedTime": go_time(distribution["LastModifiedTime"]),
        "status": distribution["Status"],
        "inProgressValidationBatches": distribution.get("InProgressInvalidationBatches", 0),
        "loggingV1Enabled": bool((config.get("Logging") or {}).get("Enabled")),
        "trustedKeyGroups": [
            _active(distribution.get("ActiveTrustedKeyGroups"), "KeyGroupId", "keyGroupId")
        ],
        "trustedSigners": [
            _active(
                distribution.get("ActiveTrustedSigners"), "AwsAccountNumber", "awsAccountNumber"
            )
        ],
        "tagsAll": tags,
    }


def go_time(value: datetime) -> str:
    """Terraform stores this with Go's time.String(), e.g.
    "2021-11-27 10:34:26.802 +0000 UTC"."""
    value = value.astimezone(UTC)
    fraction = f"{value.microsecond:06d}".rstrip("0")
    return value.strftime("%Y-%m-%d %H:%M:%S") + (f".{fraction}" if fraction else "") + " +0000 UTC"


def _active(api: Props | None, id_key: str, wire_key: str) -> Props:
    api = api or {}
    return {
        "enabled": bool(api.get("Enabled")),
        "items": [
            {wire_key: item.get(id_key), "keyPairIds": _listed(item.get("KeyPairIds"))}
            for item in _listed(api)
        ],
    }
