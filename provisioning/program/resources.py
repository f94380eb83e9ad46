"""The Pulumi program: a job's certificates and the distributions that serve
them. A plain function of a JobSpec, so `pulumi up` on the project and the
Automation API run exactly the same code.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from provisioning.program.inputs import JobItem
from provisioning.program.outputs import ItemOutputs
from provisioning.program.spec import JobSpec, Template
from provisioning.program.translation import translate
from provisioning.settings import CERTIFICATE_REGION, TLS_POLICIES

CERTIFICATE_TYPE = "aws:acm/certificate:Certificate"
DISTRIBUTION_TYPE = "aws:cloudfront/distribution:Distribution"
JOB_TAG = "ssl-saas:job"
ITEM_TAG = "ssl-saas:item"
MAX_COMMENT = 128  # CloudFront's limit


def resource_name(item: JobItem) -> str:
    """Named by the primary name, unique in a request, so reordering items
    never replaces resources."""
    return item.names[0].replace("*", "wildcard")


def tags(spec: JobSpec, item: JobItem) -> dict[str, str]:
    """ACM and CloudFront refuse '*' in tag values, hence the resource name."""
    return {JOB_TAG: spec.job_id, ITEM_TAG: resource_name(item)}


def certificate(spec: JobSpec, item: JobItem) -> aws.acm.Certificate:
    common: dict[str, Any] = {"region": CERTIFICATE_REGION, "tags": tags(spec, item)}
    name = f"certificate-{resource_name(item)}"
    if not item.imported:
        return aws.acm.Certificate(
            name,
            domain_name=item.names[0],
            subject_alternative_names=list(item.names),
            validation_method="DNS",
            **common,
        )
    return aws.acm.Certificate(
        name,
        certificate_body=item.certificate_pem,
        certificate_chain=item.chain_pem,
        private_key=pulumi.Output.secret(spec.keys[item.key].get_secret_value()),
        **common,
    )


def distribution(
    spec: JobSpec, item: JobItem, cert: aws.acm.Certificate, template: Template
) -> tuple[aws.cloudfront.Distribution, tuple[str, ...]]:
    """A faithful clone of the template but for what makes it this item's:
    its names, its certificate and a comment naming the job."""
    translation = translate(template.config)
    warnings = list(translation.warnings)
    template_args = dict(translation.args)
    if template_args.pop("continuous_deployment_policy_id", None):
        warnings.append(
            "ContinuousDeploymentPolicyId not copied: a continuous deployment policy belongs "
            "to the template's distribution alone"
        )
    template_minimum = template_args["viewer_certificate"].get("minimum_protocol_version")
    args = {
        **template_args,
        "aliases": list(item.names),
        "viewer_certificate": {
            "acm_certificate_arn": cert.arn,
            "ssl_support_method": "sni-only",
            "minimum_protocol_version": stronger(
                spec.inputs.minimum_protocol_version, template_minimum
            ),
        },
        "comment": f"ssl-saas job {spec.job_id}: {item.names[0]}"[:MAX_COMMENT],
        # Deployment takes minutes; status reads it live instead of an update waiting.
        "wait_for_deployment": False,
        "tags": tags(spec, item),
    }
    name = f"distribution-{resource_name(item)}"
    return aws.cloudfront.Distribution(name, **args), tuple(warnings)


def stronger(configured: str, template: str | None) -> str:
    """The configured minimum TLS version, unless the template already
    demands a newer one: a clone never serves weaker TLS than its template."""
    if template in TLS_POLICIES and TLS_POLICIES.index(template) > TLS_POLICIES.index(configured):
        return template
    return configured


def validation_records(
    options: list[aws.acm.outputs.CertificateDomainValidationOption],
) -> list[dict[str, str]]:
    """One record per distinct name: a wildcard and its apex share one."""
    records = {
        option.resource_record_name: {
            "name": option.resource_record_name,
            "type": option.resource_record_type,
            "value": option.resource_record_value,
        }
        for option in options
        if option.resource_record_name
    }
    return list(records.values())


def item_outputs(spec: JobSpec, item: JobItem, cert: aws.acm.Certificate) -> dict[str, Any]:
    """Every item shows the certificate it is served with, its own or the
    one it reuses (then ``certificate_from`` names that certificate's item)."""
    fields: dict[str, Any] = {
        "key": item.key,
        "names": list(item.names),
        "certificate_arn": cert.arn,
        "certificate_status": cert.status,
        "validation_records": cert.domain_validation_options.apply(validation_records),
    }
    if item.certificate_from is not None:
        fields["certificate_from"] = item.certificate_from
    template = spec.templates.get(item.key)
    if template is not None:
        fields["template_distribution_id"] = template.distribution_id
        fields["template_version"] = template.version
    if template is not None and spec.makes_distribution(item):
        dist, warnings = distribution(spec, item, cert, template)
        fields |= {
            "distribution_id": dist.id,
            "distribution_arn": dist.arn,
            "distribution_domain_name": dist.domain_name,
            "distribution_status": dist.status,
            "warnings": list(warnings),
        }
    return ItemOutputs.exported(**fields)


def held_outputs(item: JobItem) -> dict[str, Any]:
    """A failed item holds nothing: its outputs name it and, when it reuses
    another's certificate, that item."""
    reused = {} if item.certificate_from is None else {"certificate_from": item.certificate_from}
    return ItemOutputs.exported(key=item.key, names=list(item.names), **reused)


def run(spec: JobSpec) -> None:
    """Certificates only for items that don't reuse an earlier item's; none
    for failed items, which hold nothing until they are retried."""
    certificates: dict[str, aws.acm.Certificate] = {}
    items: list[dict[str, Any]] = []
    for item in spec.inputs.items:
        if {item.key, item.certificate_from} & spec.failed:
            items.append(held_outputs(item))
            continue
        if item.certificate_from is None:
            certificates[item.key] = certificate(spec, item)
        items.append(item_outputs(spec, item, certificates[item.certificate_from or item.key]))
    pulumi.export("jobId", spec.job_id)
    pulumi.export("jobType", spec.inputs.job_type)
    pulumi.export("items", items)
