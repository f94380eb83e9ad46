"""ACM certificates, requested (DNS or email validation, or a private CA)
or imported from PEM, as pulumi-aws's ``aws.acm.Certificate``."""

from __future__ import annotations

import time
import uuid

import grpc
from botocore.exceptions import ClientError
from pulumi.runtime.proto import provider_pb2

from provisioning.sandbox.provider.aws import (
    Settings,
    all_tags,
    client,
    error_code,
    own_tags,
    retrying,
    rfc3339,
)
from provisioning.sandbox.provider.diffing import Change, compare, inherit_all
from provisioning.sandbox.provider.properties import Props, has_unknown
from provisioning.sandbox.provider.resource import ProviderError, ResourceType

_IMPORT_KEYS = ("certificateBody", "certificateChain", "privateKey")

CERTIFICATE_REPLACES = frozenset(
    {
        "domainName",
        "subjectAlternativeNames",
        "validationMethod",
        "keyAlgorithm",
        "certificateAuthorityArn",
        "region",
        "validationOptions",
    }
)

CERTIFICATE_COMPUTED = (
    ("domainName",),
    ("subjectAlternativeNames",),
    ("keyAlgorithm",),
    ("validationMethod",),
    ("options",),
    ("options", "export"),
)

# The Terraform schema's ConflictsWith, keyed by the property that conflicts.
_CERTIFICATE_CONFLICTS = {
    "certificateAuthorityArn": ("certificateBody", "privateKey", "validationMethod"),
    "certificateBody": ("certificateAuthorityArn", "domainName", "validationMethod"),
    "certificateChain": ("certificateAuthorityArn", "domainName", "validationMethod"),
    "domainName": _IMPORT_KEYS,
    "earlyRenewalDuration": (*_IMPORT_KEYS, "validationMethod"),
    "keyAlgorithm": _IMPORT_KEYS,
    "subjectAlternativeNames": _IMPORT_KEYS,
    "validationMethod": ("certificateAuthorityArn", *_IMPORT_KEYS),
    "validationOptions": _IMPORT_KEYS,
}

_UNSUPPORTED = ("privateKeyWo", "privateKeyWoVersion")


def _certificate_view(props: Props) -> Props:
    """ACM adds the domain name to the SANs; Terraform's plan does the same,
    so listing it or not is no change."""
    domain, sans = props.get("domainName"), props.get("subjectAlternativeNames")
    if isinstance(domain, str) and isinstance(sans, list) and not has_unknown(sans):
        return {**props, "subjectAlternativeNames": sorted({*sans, domain})}
    return props


def certificate_region(props: Props, settings: Settings) -> str:
    return props.get("region") or settings.region


def _validation_records_ready(detail: Props) -> bool:
    if detail.get("Type") == "AMAZON_ISSUED":
        return any(
            d.get("ResourceRecord")
            or d.get("ValidationEmails")
            or d.get("ValidationStatus") == "SUCCESS"
            for d in detail.get("DomainValidationOptions") or []
        )
    if detail.get("Type") == "PRIVATE":
        return detail.get("Status") != "PENDING_VALIDATION"
    return True


def _certificate_request(props: Props, tags: list[dict[str, str]]) -> Props:
    request: Props = {
        "DomainName": props["domainName"],
        # ACM's limit is 32 characters of \w; Terraform uses a prefixed unique id too.
        "IdempotencyToken": "pulumi" + uuid.uuid4().hex[:26],
    }
    optional = {
        "validationMethod": "ValidationMethod",
        "keyAlgorithm": "KeyAlgorithm",
        "certificateAuthorityArn": "CertificateAuthorityArn",
    }
    request.update({api: props[key] for key, api in optional.items() if props.get(key)})
    if props.get("subjectAlternativeNames"):
        request["SubjectAlternativeNames"] = list(props["subjectAlternativeNames"])
    if props.get("options"):
        request["Options"] = _certificate_options(props["options"])
    if props.get("validationOptions"):
        request["DomainValidationOptions"] = [
            {"DomainName": o["domainName"], "ValidationDomain": o["validationDomain"]}
            for o in props["validationOptions"]
        ]
    if tags:
        request["Tags"] = tags
    return request


def _certificate_options(options: Props) -> Props:
    api: Props = {}
    if options.get("certificateTransparencyLoggingPreference"):
        api["CertificateTransparencyLoggingPreference"] = options[
            "certificateTransparencyLoggingPreference"
        ]
    if options.get("export"):
        api["Export"] = options["export"]
    return api


def read_certificate(arn: str, props: Props, settings: Settings) -> Props | None:
    """Outputs as pulumi-aws has them; None once the certificate is gone."""
    region = certificate_region(props, settings)
    acm = client("acm", region)
    try:
        detail = acm.describe_certificate(CertificateArn=arn)["Certificate"]
        listed = acm.list_tags_for_certificate(CertificateArn=arn).get("Tags") or []
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return None
        raise
    if detail.get("Status") == "VALIDATION_TIMED_OUT":
        return None
    live_tags = {t["Key"]: t.get("Value", "") for t in listed}
    validations = detail.get("DomainValidationOptions") or []
    method = "NONE"
    if detail.get("Type") == "AMAZON_ISSUED" and validations:
        method = validations[0].get("ValidationMethod", "NONE")
    options = detail.get("Options") or {}
    outputs: Props = {
        **{
            k: props[k]
            for k in (*_IMPORT_KEYS, "earlyRenewalDuration", "validationOptions")
            if props.get(k) is not None
        },
        "id": arn,
        "arn": arn,
        "domainName": detail.get("DomainName"),
        "subjectAlternativeNames": detail.get("SubjectAlternativeNames") or [],
        "status": detail.get("Status"),
        "type": detail.get("Type"),
        "keyAlgorithm": str(detail.get("KeyAlgorithm", "")).replace("-", "_"),
        "notBefore": rfc3339(detail.get("NotBefore")),
        "notAfter": rfc3339(detail.get("NotAfter")),
        "renewalEligibility": detail.get("RenewalEligibility"),
        "renewalSummaries": _renewal_summaries(detail.get("RenewalSummary")),
        "domainValidationOptions": [
            {
                "domainName": d.get("DomainName"),
                "resourceRecordName": d["ResourceRecord"].get("Name"),
                "resourceRecordType": d["ResourceRecord"].get("Type"),
                "resourceRecordValue": d["ResourceRecord"].get("Value"),
            }
            for d in validations
            if d.get("ResourceRecord")
        ],
        "validationEmails": [e for d in validations for e in d.get("ValidationEmails") or []],
        "validationMethod": method,
        "options": {
            "certificateTransparencyLoggingPreference": options.get(
                "CertificateTransparencyLoggingPreference"
            ),
            "export": options.get("Export"),
        },
        "pendingRenewal": False,
        "tags": own_tags(live_tags, settings),
        "tagsAll": live_tags,
        "region": region,
    }
    if detail.get("CertificateAuthorityArn"):
        outputs["certificateAuthorityArn"] = detail["CertificateAuthorityArn"]
    return outputs


def _renewal_summaries(summary: Props | None) -> list[Props]:
    if not summary:
        return []
    return [
        {
            "renewalStatus": summary.get("RenewalStatus"),
            "renewalStatusReason": summary.get("RenewalStatusReason"),
            "updatedAt": rfc3339(summary.get("UpdatedAt")),
        }
    ]


def certificate_inputs_from(outputs: Props, old_inputs: Props) -> Props:
    """What refresh stores as inputs: the old inputs, with what AWS reports for
    the ones it reports, so drift shows up as a diff on the next update."""
    readable = (
        "domainName",
        "subjectAlternativeNames",
        "keyAlgorithm",
        "validationMethod",
        "options",
        "certificateAuthorityArn",
        "tags",
    )
    keys = old_inputs.keys() if old_inputs else [k for k in readable if outputs.get(k)]
    return {k: outputs[k] if k in readable and k in outputs else old_inputs.get(k) for k in keys}


class Certificate(ResourceType):
    token = "aws:acm/certificate:Certificate"
    secrets = frozenset({"privateKey"})
    computed_inputs = CERTIFICATE_COMPUTED
    computed_outputs = (
        "id",
        "arn",
        "status",
        "type",
        "notBefore",
        "notAfter",
        "renewalEligibility",
        "renewalSummaries",
        "domainValidationOptions",
        "validationEmails",
        "pendingRenewal",
        "domainName",
        "subjectAlternativeNames",
        "keyAlgorithm",
        "validationMethod",
        "options",
    )

    def check(self, props: Props) -> tuple[Props, list[provider_pb2.CheckFailure]]:
        failures = [
            provider_pb2.CheckFailure(
                property=key,
                reason=f"{key} is not supported by the sandbox provider; use privateKey",
            )
            for key in _UNSUPPORTED
            if props.get(key) is not None
        ]
        given = {k for k, v in props.items() if v is not None and v != ""}
        if len(given & {"domainName", "privateKey"}) != 1:
            failures.append(
                provider_pb2.CheckFailure(
                    property="domainName",
                    reason="exactly one of domainName or privateKey must be set",
                )
            )
        if "certificateBody" in given and "privateKey" not in given:
            failures.append(
                provider_pb2.CheckFailure(
                    property="certificateBody", reason="certificateBody requires privateKey"
                )
            )
        if "privateKey" in given and "certificateBody" not in given:
            failures.append(
                provider_pb2.CheckFailure(
                    property="privateKey", reason="privateKey requires certificateBody"
                )
            )
        for key, others in _CERTIFICATE_CONFLICTS.items():
            clashes = sorted(given & set(others)) if key in given else []
            if clashes:
                failures.append(
                    provider_pb2.CheckFailure(
                        property=key, reason=f"{key} conflicts with {', '.join(clashes)}"
                    )
                )
        options = props.get("options")
        preference = "certificateTransparencyLoggingPreference"
        if isinstance(options, dict) and options.get(preference) is None:
            props = {**props, "options": {**options, preference: "ENABLED"}}
        return props, failures

    def diff(
        self,
        old_inputs: Props,
        olds: Props,
        news: Props,
        settings: Settings,
        ignore: frozenset[str],
    ) -> Change:
        news = inherit_all(news, old_inputs, CERTIFICATE_COMPUTED)
        change = compare(
            _certificate_view(old_inputs),
            _certificate_view(news),
            replace_keys=CERTIFICATE_REPLACES,
            ordered=frozenset(),
            ignore=ignore | {"region"},
        )
        region = news.get("region") or settings.region
        if "region" not in ignore and olds.get("region") and region != olds["region"]:
            change.diffs.append("region")
            change.replaces.append("region")
            change.add("region", olds["region"], region, replace=True)
        return change

    def create(self, props: Props, settings: Settings, timeout: float) -> Props:
        region = certificate_region(props, settings)
        acm = client("acm", region)
        tags = [{"Key": k, "Value": v} for k, v in all_tags(props, settings).items()]
        if props.get("privateKey"):
            request: Props = {
                "Certificate": props["certificateBody"].encode(),
                "PrivateKey": props["privateKey"].encode(),
            }
            if props.get("certificateChain"):
                request["CertificateChain"] = props["certificateChain"].encode()
            if tags:
                request["Tags"] = tags
            arn = acm.import_certificate(**request)["CertificateArn"]
        else:
            if not props.get("validationMethod") and not props.get("certificateAuthorityArn"):
                raise ProviderError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "certificateAuthorityArn or validationMethod must be set when "
                    "creating an ACM certificate",
                )
            arn = acm.request_certificate(**_certificate_request(props, tags))["CertificateArn"]
        deadline = time.monotonic() + 300
        while not _validation_records_ready(
            acm.describe_certificate(CertificateArn=arn)["Certificate"]
        ):
            if time.monotonic() > deadline:
                raise ProviderError(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"ACM certificate {arn} got no DNS validation records in 5 minutes",
                )
            time.sleep(2)
        outputs = read_certificate(arn, props, settings)
        assert outputs is not None, "a certificate just created must be readable"
        return outputs

    def read(
        self, resource_id: str, state: Props, old_inputs: Props, settings: Settings
    ) -> tuple[Props, Props] | None:
        outputs = read_certificate(resource_id, {**state, **old_inputs}, settings)
        if outputs is None:
            return None
        return outputs, certificate_inputs_from(outputs, old_inputs)

    def update(
        self,
        resource_id: str,
        olds: Props,
        old_inputs: Props,
        news: Props,
        settings: Settings,
        timeout: float,
    ) -> Props:
        acm = client("acm", certificate_region(news, settings))
        news = inherit_all(news, old_inputs, CERTIFICATE_COMPUTED)
        changed = set(
            compare(old_inputs, news, replace_keys=frozenset(), ordered=frozenset()).diffs
        )
        if changed & set(_IMPORT_KEYS):
            request: Props = {
                "CertificateArn": resource_id,
                "Certificate": news["certificateBody"].encode(),
                "PrivateKey": news["privateKey"].encode(),
            }
            if news.get("certificateChain"):
                request["CertificateChain"] = news["certificateChain"].encode()
            acm.import_certificate(**request)
        if "options" in changed:
            acm.update_certificate_options(
                CertificateArn=resource_id, Options=_certificate_options(news["options"])
            )
        listed = acm.list_tags_for_certificate(CertificateArn=resource_id).get("Tags") or []
        live = {t["Key"]: t.get("Value", "") for t in listed}
        wanted = all_tags(news, settings)
        stale = [{"Key": k, "Value": v} for k, v in live.items() if k not in wanted]
        fresh = [{"Key": k, "Value": v} for k, v in wanted.items() if live.get(k) != v]
        if stale:
            acm.remove_tags_from_certificate(CertificateArn=resource_id, Tags=stale)
        if fresh:
            acm.add_tags_to_certificate(CertificateArn=resource_id, Tags=fresh)
        outputs = read_certificate(resource_id, news, settings)
        if outputs is None:
            raise ProviderError(
                grpc.StatusCode.NOT_FOUND, f"ACM certificate {resource_id} disappeared"
            )
        return outputs

    def delete(self, resource_id: str, olds: Props, settings: Settings, timeout: float) -> None:
        """Deleting waits out ResourceInUse, as CloudFront lets go of a certificate
        some minutes after the distribution using it is gone."""
        acm = client("acm", certificate_region(olds, settings))
        try:
            retrying(
                {"ResourceInUseException"},
                timeout or 1200,
                lambda: acm.delete_certificate(CertificateArn=resource_id),
            )
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise

    def preview_create(self, props: Props, settings: Settings) -> Props:
        return {
            **super().preview_create(props, settings),
            "region": certificate_region(props, settings),
        }
