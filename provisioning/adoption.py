"""Resources an interrupted step made but its stack never recorded.

A step killed while AWS was creating a certificate or a distribution leaves
that resource in AWS and not in the stack. Every resource carries its job's
and its item's tags, so the next step finds them in one Resource Groups
Tagging API call and the program imports them (Pulumi's ``import`` resource
option) instead of creating a second one: nothing is left behind, nothing
is duplicated.
"""

from __future__ import annotations

import logging
from typing import Any

from provisioning import aws_clients
from provisioning.aws_clients import CERTIFICATE_REGION
from provisioning.program import ITEM_TAG, JOB_TAG

log = logging.getLogger("provisioning.adoption")

# Tagging API resource type -> the program's resource name prefix.
KINDS = {"acm:certificate": "certificate", "cloudfront:distribution": "distribution"}


def tagged(job_id: str) -> list[tuple[str, str, str]]:
    """(resource type, item tag, id) of every resource tagged with the job.
    CloudFront's resources are listed from us-east-1, like its certificates."""
    client = aws_clients.client("resourcegroupstaggingapi", CERTIFICATE_REGION)
    pages = client.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": JOB_TAG, "Values": [job_id]}],
        ResourceTypeFilters=list(KINDS),
    )
    found = []
    for page in pages:
        for resource in page["ResourceTagMappingList"]:
            arn = resource["ResourceARN"]
            tags = {t["Key"]: t["Value"] for t in resource.get("Tags", [])}
            service = arn.split(":")[2]
            kind = f"{service}:{arn.split(':')[5].split('/')[0]}"
            if kind in KINDS and ITEM_TAG in tags:
                # ACM's id in Pulumi is its ARN; CloudFront's is the distribution id.
                resource_id = arn if service == "acm" else arn.rsplit("/", 1)[-1]
                found.append((kind, tags[ITEM_TAG], resource_id))
    return found


def orphans(job_id: str, resources: list[dict[str, Any]]) -> dict[str, str]:
    """Resource name -> id for each tagged resource the stack's state (its
    checkpoint's ``resources``) doesn't hold."""
    known = {r.get("id") for r in resources if r.get("id")}
    named = {r["urn"].rsplit("::", 1)[-1] for r in resources if "urn" in r}
    adopt: dict[str, str] = {}
    for kind, item_tag, resource_id in tagged(job_id):
        if resource_id in known:
            continue
        name = f"{KINDS[kind]}-{item_tag}"
        if name in named or name in adopt:
            log.error("job %s: %s %s duplicates %s", job_id, kind, resource_id, name)
            continue
        adopt[name] = resource_id
    return adopt
