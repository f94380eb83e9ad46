"""Things in moto's account made by hand, as another tool or person would
make them: certificates and distributions the service finds already there."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import boto3

ACCOUNT_SHOWN = "********9012"  # moto's account, as ListConflictingAliases shows it
CERTIFICATES = ("acm", "L-F141DD1D")  # Service Quotas codes
DISTRIBUTIONS = ("cloudfront", "L-24B04930")


def certificate(*names: str) -> str:
    """A certificate requested in ACM (us-east-1), the first name its domain."""
    acm = boto3.client("acm", region_name="us-east-1")
    return str(
        acm.request_certificate(
            DomainName=names[0], SubjectAlternativeNames=list(names), ValidationMethod="DNS"
        )["CertificateArn"]
    )


def distribution(aliases: Iterable[str] = (), certificate_arn: str | None = None) -> str:
    """A distribution of the account; with ``certificate_arn`` its viewer
    certificate is that ACM certificate, else CloudFront's default one."""
    items = list(aliases)
    viewer = (
        {
            "ACMCertificateArn": certificate_arn,
            "SSLSupportMethod": "sni-only",
            "MinimumProtocolVersion": "TLSv1.2_2021",
        }
        if certificate_arn
        else {"CloudFrontDefaultCertificate": True}
    )
    config = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "",
        "Enabled": True,
        "Aliases": {"Quantity": len(items), "Items": items},
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "web",
                    "DomainName": "web.example.net",
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "web",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
        },
        "ViewerCertificate": viewer,
    }
    made = boto3.client("cloudfront").create_distribution(DistributionConfig=config)
    return str(made["Distribution"]["Id"])
