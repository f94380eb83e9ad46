"""Resources an interrupted step made but its stack never recorded.

The engine runs without intermediate checkpoints (``PULUMI_SKIP_CHECKPOINTS``,
set in ``Settings.engine_env``): rewriting the whole checkpoint after every
resource made a job's cost grow with the square of its items. The stack's
state is therefore written once, when an update ends, and a step killed
before that leaves whatever AWS made in AWS only. Every resource carries its
job's and its item's tags, so the next step finds them in one Resource
Groups Tagging API call and imports the ones its stack lacks (``pulumi
import``) before its update: nothing is left behind, nothing is made twice.

An import of its own (rather than the ``import`` resource option) because
the option demands that the program's inputs equal what AWS reads back, and
an imported certificate's private key never reads back. Imported this way
the resource keeps what AWS reports; the update that follows brings it in
line with the program in place (an imported certificate is re-imported with
the same material under the same ARN).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from pulumi import automation as auto
from pulumi.automation._stack import ImportResource

from provisioning.aws_clients import AwsClients
from provisioning.jobs.states import CertificateStatus
from provisioning.program.resources import CERTIFICATE_TYPE, DISTRIBUTION_TYPE, ITEM_TAG, JOB_TAG
from provisioning.settings import CERTIFICATE_REGION

log = logging.getLogger("provisioning.engine.adoption")

# Tagging API resource type -> the program's resource name prefix and type.
KINDS = {
    "acm:certificate": ("certificate", CERTIFICATE_TYPE),
    "cloudfront:distribution": ("distribution", DISTRIBUTION_TYPE),
}


def list_tagged(aws: AwsClients, job_id: str) -> list[ImportResource]:
    """Every resource tagged with the job, as the program names it.
    CloudFront's resources are listed from us-east-1, like its certificates."""
    client = aws.client("resourcegroupstaggingapi", CERTIFICATE_REGION)
    pages = client.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": JOB_TAG, "Values": [job_id]}],
        ResourceTypeFilters=list(KINDS),
    )
    found = []
    for page in pages:
        for resource in page["ResourceTagMappingList"]:
            arn = resource["ResourceARN"]
            tags = {t["Key"]: t["Value"] for t in resource.get("Tags", [])}
            service, resource_type = arn.split(":")[2], arn.split(":")[5].split("/")[0]
            kind = f"{service}:{resource_type}"
            if kind in KINDS and ITEM_TAG in tags:
                prefix, type_token = KINDS[kind]
                # ACM's id is its ARN, read in its region whatever the
                # provider's (pulumi-aws's "ID@region"); CloudFront's is the
                # distribution id, global.
                import_id = (
                    f"{arn}@{CERTIFICATE_REGION}" if service == "acm" else arn.rsplit("/", 1)[-1]
                )
                found.append(
                    ImportResource(type=type_token, name=f"{prefix}-{tags[ITEM_TAG]}", id=import_id)
                )
    return found


def find_strays_deleting_timed_out(
    aws: AwsClients, job_id: str, recorded: Iterable[str]
) -> list[ImportResource]:
    """The job's resources in AWS that its stack (whose resource ids are
    ``recorded``) doesn't hold, to import. The Tagging API may still list a
    resource just deleted: each is looked up first, and one that is gone is
    skipped. A certificate whose validation timed out is deleted instead:
    pulumi-aws reads one as gone (a refresh drops it from the stack), so it
    could only be left behind."""
    held = set(recorded)
    found = []
    acm, cloudfront = aws.acm(), aws.cloudfront()
    for stray in list_tagged(aws, job_id):
        resource_id = stray["id"].split("@", 1)[0]
        if resource_id in held:
            continue
        if stray["type"] == CERTIFICATE_TYPE:
            status = describe_certificate_status(acm, resource_id)
            if status == CertificateStatus.VALIDATION_TIMED_OUT:
                log.info("job %s: deleting %s, timed out in validation", job_id, resource_id)
                acm.delete_certificate(CertificateArn=resource_id)
            if status in (None, CertificateStatus.VALIDATION_TIMED_OUT):
                continue
        elif not describe_distribution_exists(cloudfront, resource_id):
            continue
        found.append(stray)
    return found


def describe_certificate_status(acm: Any, arn: str) -> str | None:
    """None once the certificate is gone."""
    try:
        return str(acm.describe_certificate(CertificateArn=arn)["Certificate"]["Status"])
    except acm.exceptions.ResourceNotFoundException:
        return None


def describe_distribution_exists(cloudfront: Any, distribution_id: str) -> bool:
    try:
        cloudfront.get_distribution(Id=distribution_id)
    except cloudfront.exceptions.NoSuchDistribution:
        return False
    return True


def adopt(stack: auto.Stack, found: list[ImportResource]) -> None:
    log.info("job %s: adopting what an interrupted step made: %s", stack.name, found)
    stack.import_resources(resources=found, protect=False, generate_code=False, show_secrets=False)
