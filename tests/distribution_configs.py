"""Distribution configurations shared by the translation tests and the
engine round trip, so both check the same hand-written template.

FULL uses every translatable field of the CloudFront API (the coverage test
in test_translation.py fails when a field is added to the API
and no configuration here sets it); the variants swap the parts FULL can
only show one way, such as legacy caching and the certificate kind. The
edge cases hold what CloudFront reports but pulumi-aws reads back
differently or a clone can't keep (a disabled shield, an S3 origin without
an identity, cookie-only logging, dedicated-IP serving); TEMPLATES is all of
them, for the tests that must hold for every template.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

MTLS_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/mtls"
AUTH_LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:auth:7"
HEADER_LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:hdr:2"

FULL: dict[str, Any] = {
    "CallerReference": "template-2024",
    "Aliases": {"Quantity": 2, "Items": ["www.example.com", "example.com"]},
    "DefaultRootObject": "index.html",
    "Origins": {
        "Quantity": 3,
        "Items": [
            {
                "Id": "app",
                "DomainName": "app.example.net",
                "OriginPath": "/v1",
                "CustomHeaders": {
                    "Quantity": 1,
                    "Items": [{"HeaderName": "X-Origin-Secret", "HeaderValue": "s3cr3t"}],
                },
                "CustomOriginConfig": {
                    "HTTPPort": 8080,
                    "HTTPSPort": 8443,
                    "OriginProtocolPolicy": "https-only",
                    "OriginSslProtocols": {"Quantity": 2, "Items": ["TLSv1.1", "TLSv1.2"]},
                    "OriginReadTimeout": 45,
                    "OriginKeepaliveTimeout": 10,
                    "IpAddressType": "dualstack",
                    "OriginMtlsConfig": {"ClientCertificateArn": MTLS_CERT},
                },
                "ConnectionAttempts": 2,
                "ConnectionTimeout": 7,
                "ResponseCompletionTimeout": 60,
                "OriginShield": {"Enabled": True, "OriginShieldRegion": "eu-west-1"},
            },
            {
                "Id": "assets",
                "DomainName": "assets.s3.us-east-1.amazonaws.com",
                "S3OriginConfig": {
                    "OriginAccessIdentity": "origin-access-identity/cloudfront/E2QWRUHAPOMQZL"
                },
                "OriginAccessControlId": "E3OAC",
            },
            {
                "Id": "private",
                "DomainName": "internal.example.net",
                "VpcOriginConfig": {
                    "VpcOriginId": "vo_123",
                    "OwnerAccountId": "123456789012",
                    "OriginReadTimeout": 20,
                    "OriginKeepaliveTimeout": 6,
                },
            },
        ],
    },
    "OriginGroups": {
        "Quantity": 1,
        "Items": [
            {
                "Id": "app-with-fallback",
                "FailoverCriteria": {"StatusCodes": {"Quantity": 2, "Items": [500, 503]}},
                "Members": {"Quantity": 2, "Items": [{"OriginId": "app"}, {"OriginId": "private"}]},
                "SelectionCriteria": "default",
            }
        ],
    },
    "DefaultCacheBehavior": {
        "TargetOriginId": "app",
        "TrustedSigners": {"Enabled": True, "Quantity": 1, "Items": ["self"]},
        "TrustedKeyGroups": {"Enabled": True, "Quantity": 1, "Items": ["KG1"]},
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {
            "Quantity": 3,
            "Items": ["GET", "HEAD", "OPTIONS"],
            "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
        },
        "SmoothStreaming": False,
        "Compress": True,
        "LambdaFunctionAssociations": {
            "Quantity": 1,
            "Items": [
                {
                    "LambdaFunctionARN": "arn:aws:lambda:us-east-1:123456789012:function:edge:3",
                    "EventType": "origin-request",
                    "IncludeBody": True,
                }
            ],
        },
        "FunctionAssociations": {
            "Quantity": 1,
            "Items": [
                {
                    "FunctionARN": "arn:aws:cloudfront::123456789012:function/rewrite",
                    "EventType": "viewer-request",
                }
            ],
        },
        "FieldLevelEncryptionId": "FLE1",
        "RealtimeLogConfigArn": "arn:aws:cloudfront::123456789012:realtime-log-config/rt",
        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        "OriginRequestPolicyId": "216adef6-5c7f-47e4-b989-5492eafa07d3",
        "ResponseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03",
        "GrpcConfig": {"Enabled": True},
    },
    "CacheBehaviors": {
        "Quantity": 2,
        "Items": [
            {
                "PathPattern": "/static/*",
                "TargetOriginId": "assets",
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
                "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
                "ViewerProtocolPolicy": "https-only",
                "AllowedMethods": {
                    "Quantity": 2,
                    "Items": ["GET", "HEAD"],
                    "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
                },
                "SmoothStreaming": True,
                "Compress": False,
                "ForwardedValues": {
                    "QueryString": True,
                    "Cookies": {
                        "Forward": "whitelist",
                        "WhitelistedNames": {"Quantity": 1, "Items": ["session"]},
                    },
                    "Headers": {"Quantity": 1, "Items": ["Origin"]},
                    "QueryStringCacheKeys": {"Quantity": 1, "Items": ["v"]},
                },
                "MinTTL": 1,
                "DefaultTTL": 3600,
                "MaxTTL": 86400,
            },
            {
                "PathPattern": "/api/*",
                "TargetOriginId": "app-with-fallback",
                "TrustedSigners": {"Enabled": True, "Quantity": 1, "Items": ["111122223333"]},
                "TrustedKeyGroups": {"Enabled": True, "Quantity": 2, "Items": ["KG2", "KG3"]},
                "ViewerProtocolPolicy": "allow-all",
                "AllowedMethods": {
                    "Quantity": 7,
                    "Items": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                    "CachedMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"]},
                },
                "LambdaFunctionAssociations": {
                    "Quantity": 2,
                    "Items": [
                        {
                            "LambdaFunctionARN": AUTH_LAMBDA,
                            "EventType": "viewer-request",
                            "IncludeBody": False,
                        },
                        {
                            "LambdaFunctionARN": HEADER_LAMBDA,
                            "EventType": "origin-response",
                        },
                    ],
                },
                "FunctionAssociations": {
                    "Quantity": 1,
                    "Items": [
                        {
                            "FunctionARN": "arn:aws:cloudfront::123456789012:function/headers",
                            "EventType": "viewer-response",
                        }
                    ],
                },
                "FieldLevelEncryptionId": "FLE2",
                "RealtimeLogConfigArn": "arn:aws:cloudfront::123456789012:realtime-log-config/api",
                "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                "OriginRequestPolicyId": "b689b0a8-53d0-40ab-baf2-68738e2966ac",
                "ResponseHeadersPolicyId": "5cc3b908-e619-4b99-88e5-2cf7f45965bd",
                "GrpcConfig": {"Enabled": False},
            },
        ],
    },
    "CustomErrorResponses": {
        "Quantity": 1,
        "Items": [
            {
                "ErrorCode": 404,
                "ResponsePagePath": "/404.html",
                "ResponseCode": "404",
                "ErrorCachingMinTTL": 30,
            }
        ],
    },
    "Comment": "template distribution",
    "Logging": {
        "Enabled": True,
        "IncludeCookies": True,
        "Bucket": "logs.s3.amazonaws.com",
        "Prefix": "cf/",
    },
    "PriceClass": "PriceClass_200",
    "Enabled": True,
    "ViewerCertificate": {
        "ACMCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        "SSLSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2021",
    },
    "Restrictions": {
        "GeoRestriction": {"RestrictionType": "whitelist", "Quantity": 2, "Items": ["DE", "FR"]}
    },
    "WebACLId": "arn:aws:wafv2:us-east-1:123456789012:global/webacl/acl/1",
    "HttpVersion": "http2and3",
    "IsIPV6Enabled": True,
    "ContinuousDeploymentPolicyId": "cdp-1",
    "Staging": False,
    "AnycastIpListId": "aip-1",
    "ConnectionMode": "direct",
    "ViewerMtlsConfig": {
        "Mode": "optional",
        "TrustStoreConfig": {
            "TrustStoreId": "ts-1",
            "AdvertiseTrustStoreCaNames": True,
            "IgnoreCertificateExpiry": False,
        },
    },
    "ConnectionFunctionAssociation": {"Id": "cfa-1"},
    "CacheTagConfig": {"HeaderName": "Cache-Tag"},
}


def legacy_caching() -> dict[str, Any]:
    """FULL whose default behaviour uses legacy caching settings instead of
    policies, served with an IAM certificate."""
    config = copy.deepcopy(FULL)
    behavior = config["DefaultCacheBehavior"]
    for policy in ("CachePolicyId", "OriginRequestPolicyId"):
        del behavior[policy]
    behavior["ForwardedValues"] = {
        "QueryString": True,
        "Cookies": {"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["id"]}},
        "Headers": {"Quantity": 2, "Items": ["Host", "Accept"]},
        "QueryStringCacheKeys": {"Quantity": 1, "Items": ["page"]},
    }
    behavior.update(MinTTL=5, DefaultTTL=60, MaxTTL=600)
    config["ViewerCertificate"] = {
        "IAMCertificateId": "ASCAEXAMPLE",
        "SSLSupportMethod": "sni-only",
        "MinimumProtocolVersion": "TLSv1.2_2019",
    }
    return config


def default_certificate() -> dict[str, Any]:
    """FULL served with CloudFront's own certificate, which takes no aliases:
    the third way a template can be served, translated like the other two."""
    config = copy.deepcopy(FULL)
    config["Aliases"] = {"Quantity": 0}
    config["ViewerCertificate"] = {
        "CloudFrontDefaultCertificate": True,
        "MinimumProtocolVersion": "TLSv1",
    }
    return config


def _origin(config: dict[str, Any], origin_id: str) -> dict[str, Any]:
    return next(o for o in config["Origins"]["Items"] if o["Id"] == origin_id)


def disabled_origin_shield() -> dict[str, Any]:
    """FULL whose custom origin has its shield turned off, as CloudFront
    reports it for an origin whose shield was disabled."""
    config = copy.deepcopy(FULL)
    _origin(config, "app")["OriginShield"] = {"Enabled": False}
    return config


def origin_access_control_only() -> dict[str, Any]:
    """FULL whose S3 origin is reached through origin access control alone,
    which CloudFront reports as an S3OriginConfig with an empty identity."""
    config = copy.deepcopy(FULL)
    _origin(config, "assets")["S3OriginConfig"] = {"OriginAccessIdentity": ""}
    return config


def cookie_only_logging() -> dict[str, Any]:
    """FULL without (V1) logging but with cookies included, which CloudFront
    applies to V2 logging: the console's way of turning on cookie logging."""
    config = copy.deepcopy(FULL)
    config["Logging"] = {"Enabled": False, "IncludeCookies": True, "Bucket": "", "Prefix": ""}
    return config


def dedicated_ip_certificate() -> dict[str, Any]:
    """FULL served with an IAM certificate on dedicated IP addresses, which
    allow no minimum protocol newer than TLSv1."""
    config = copy.deepcopy(FULL)
    config["ViewerCertificate"] = {
        "IAMCertificateId": "ASCAEXAMPLE",
        "SSLSupportMethod": "vip",
        "MinimumProtocolVersion": "TLSv1",
    }
    return config


VARIANTS: dict[str, Callable[[], dict[str, Any]]] = {
    "full": lambda: copy.deepcopy(FULL),
    "legacy-caching": legacy_caching,
    "default-certificate": default_certificate,
}
EDGE_CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "disabled-shield": disabled_origin_shield,
    "oac-only-s3": origin_access_control_only,
    "cookie-only-logging": cookie_only_logging,
    "vip": dedicated_ip_certificate,
}
TEMPLATES: dict[str, Callable[[], dict[str, Any]]] = {**VARIANTS, **EDGE_CASES}
