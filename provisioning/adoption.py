"""Resources an interrupted step made but its stack never recorded.

The engine writes a "pending create" into the stack's checkpoint before it
asks AWS for a resource and replaces it with the resource once AWS answers.
A step killed in between leaves the pending create, and the resource (if AWS
got as far as making it) in AWS only. Every resource carries its job's and
its item's tags, so the next step finds them in one Resource Groups Tagging
API call and completes the pending creates with their ids.
Nothing is left behind, nothing is made twice.

The ``import`` resource option was tried first and set aside: it compares
the program's inputs with what AWS reads back, and an imported certificate's
private key is never read back, so on real AWS such an import always fails.
"""

from __future__ import annotations

import logging
from typing import Any

from pulumi import automation as auto

from provisioning import aws_clients
from provisioning.aws_clients import CERTIFICATE_REGION
from provisioning.program import ITEM_TAG, JOB_TAG

log = logging.getLogger("provisioning.adoption")

# Tagging API resource type -> the program's resource name prefix.
KINDS = {"acm:certificate": "certificate", "cloudfront:distribution": "distribution"}


def tagged(job_id: str) -> dict[str, str]:
    """Program resource name -> id of every resource tagged with the job.
    CloudFront's resources are listed from us-east-1, like its certificates."""
    client = aws_clients.client("resourcegroupstaggingapi", CERTIFICATE_REGION)
    pages = client.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": JOB_TAG, "Values": [job_id]}],
        ResourceTypeFilters=list(KINDS),
    )
    found = {}
    for page in pages:
        for resource in page["ResourceTagMappingList"]:
            arn = resource["ResourceARN"]
            tags = {t["Key"]: t["Value"] for t in resource.get("Tags", [])}
            service, resource_type = arn.split(":")[2], arn.split(":")[5].split("/")[0]
            kind = f"{service}:{resource_type}"
            if kind in KINDS and ITEM_TAG in tags:
                # ACM's id in Pulumi is its ARN; CloudFront's is the distribution id.
                found[f"{KINDS[kind]}-{tags[ITEM_TAG]}"] = (
                    arn if service == "acm" else arn.rsplit("/", 1)[-1]
                )
    return found


def pending_creates(checkpoint: dict[str, Any]) -> list[str]:
    """URNs of the creates an interrupted update left pending."""
    latest = checkpoint.get("checkpoint", {}).get("latest") or {}
    return [
        op["resource"]["urn"]
        for op in latest.get("pending_operations") or []
        if op.get("type") == "creating"
    ]


def orphans(job_id: str, checkpoint: dict[str, Any]) -> dict[str, str]:
    """URN -> id of each pending create that AWS did make."""
    pending = pending_creates(checkpoint)
    if not pending:
        return {}
    made = tagged(job_id)
    return {
        urn: made[urn.rsplit("::", 1)[-1]] for urn in pending if urn.rsplit("::", 1)[-1] in made
    }


def adopt(stack: auto.Stack, found: dict[str, str]) -> None:
    """Completes each pending create in the stack's state with the id AWS
    gave it, as ``pulumi refresh --import-pending-creates`` is meant to (with
    the DIY backends of this CLI version, that flag drops the create
    instead). The state keeps the inputs the interrupted update sent; the
    refreshing update that follows reads the rest from AWS and brings the
    resource in line with the program in place."""
    log.info("job %s: adopting what an interrupted step made: %s", stack.name, found)
    exported = stack.export_stack()
    state = exported.deployment
    kept = []
    for op in state.get("pending_operations") or []:
        urn = op["resource"]["urn"]
        if op.get("type") == "creating" and urn in found:
            state["resources"].append({**op["resource"], "id": found[urn]})
        else:
            kept.append(op)
    state["pending_operations"] = kept
    stack.import_stack(exported)
