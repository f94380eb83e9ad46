"""A stand-in for the pulumi-aws provider plugin on machines that can't download it.

The engine attaches to it through ``PULUMI_DEBUG_PROVIDERS=aws:<port>``. It
serves the two resource types the product uses, ACM certificates and
CloudFront distributions, with boto3 (against moto in the sandbox), and
decides replace versus update, fills defaults, keeps secrets and reads
resources back on refresh the way pulumi-aws (the bridged Terraform AWS
provider) does, so a program that behaves here behaves the same with the
real plugin against AWS.

One process serves every engine and every provider instance that attaches, so
provider configuration is kept per gRPC connection: each provider instance the
engine loads dials its own connection, and a resource operation arrives on the
connection of the provider that owns the resource.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import boto3
import grpc
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from provisioning.sandbox import distribution_wire as wire

Props = dict[str, Any]
T = TypeVar("T")

VERSION = "7.51.1"
CERTIFICATE = "aws:acm/certificate:Certificate"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"

# Pulumi's wire encoding of special values inside a Struct.
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_KIND = provider_pb2.PropertyDiff
_PEM_BLOCK = re.compile(r"-----BEGIN [^-]+-----.*?-----END [^-]+-----", re.DOTALL)
_PEM_TAIL = re.compile(r"-----BEGIN.*", re.DOTALL)


class ProviderError(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# ---- wire values ---------------------------------------------------------------------------


def _numbers(value: Any) -> Any:
    """Struct numbers are doubles; integral ones become ints again so boto3
    accepts them where the API wants integers."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


def from_struct(struct: struct_pb2.Struct) -> Props:
    return _numbers(json_format.MessageToDict(struct))


def to_struct(props: Props) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(props)
    return struct


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIGNATURE_KEY) == SECRET_SIGNATURE


def secret(value: Any) -> Props:
    return {SIGNATURE_KEY: SECRET_SIGNATURE, "value": value}


def reveal(value: Any) -> Any:
    if is_secret(value):
        return reveal(value.get("value"))
    if isinstance(value, dict):
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def _has(value: Any, test: Callable[[Any], bool]) -> bool:
    if test(value):
        return True
    if isinstance(value, dict):
        return any(_has(v, test) for v in value.values())
    if isinstance(value, list):
        return any(_has(v, test) for v in value)
    return False


def has_unknown(value: Any) -> bool:
    return _has(value, lambda v: v == UNKNOWN)


def split_secrets(props: Props) -> tuple[Props, frozenset[str]]:
    """Plain values to work with, and the top-level properties that held a
    secret anywhere inside; those come back wrapped whole, which can only make
    more of the state secret, never less."""
    return reveal(props), frozenset(k for k, v in props.items() if _has(v, is_secret))


def seal(props: Props, keys: frozenset[str]) -> Props:
    return {k: secret(v) if k in keys and v is not None else v for k, v in props.items()}


def scrub(text: str) -> str:
    """Error text goes to the engine's log and console; key material must not."""
    return _PEM_TAIL.sub("<PEM redacted>", _PEM_BLOCK.sub("<PEM redacted>", text))


# ---- diffing -------------------------------------------------------------------------------


def canonical(
    value: Any, ordered: frozenset[str], key: str = "", maps: frozenset[str] | None = None
) -> Any:
    """The value as Terraform's SDK compares it; equal canonical forms mean
    "unchanged".

    - The SDK reads an unset string, number or bool as "", 0 or false, and an
      unset list, set or map as empty, so zero values and empty collections
      are the same as leaving the property out.
    - Every list not named in ``ordered`` is a set: its order doesn't count.
    - With ``maps`` given, objects are nested blocks, except the map
      properties ``maps`` names: Terraform counts blocks, so a block whose
      fields all hold zero values still differs from no block (a disabled
      origin shield is not the absent one Terraform reads back). Without
      ``maps``, an object of zero values counts as unset too.
    """
    if isinstance(value, dict):
        out = {k: c for k, v in value.items() if (c := canonical(v, ordered, k, maps)) is not None}
        return out if out or (maps is not None and key not in maps) else None
    if isinstance(value, list):
        items = [c for v in value if (c := canonical(v, ordered, "", maps)) is not None]
        if not items:
            return None
        if key in ordered:
            return items
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    zero = value is False or (type(value) in (int, float) and value == 0)
    return None if value is None or value == "" or zero else value


def inherit(new: Any, old: Any, path: tuple[str, ...]) -> Any:
    """Keeps an Optional+Computed value the program left out at its previous
    value, as Terraform's planner does; ``name[]`` steps into list elements."""
    if not isinstance(new, dict) or not isinstance(old, dict):
        return new
    head, rest = path[0], path[1:]
    name = head.removesuffix("[]")
    if name not in old:
        return new
    if not rest:
        return new if new.get(name) is not None else {**new, name: old[name]}
    if name not in new:
        return new
    if head.endswith("[]"):
        if not isinstance(new[name], list) or not isinstance(old[name], list):
            return new
        pairs = [inherit(n, o, rest) for n, o in zip(new[name], old[name], strict=False)]
        return {**new, name: pairs + new[name][len(old[name]) :]}
    return {**new, name: inherit(new[name], old[name], rest)}


def inherit_all(new: Props, old: Props, paths: tuple[tuple[str, ...], ...]) -> Props:
    for path in paths:
        new = inherit(new, old, path)
    return new


def overlay(base: Any, top: Any, ordered: frozenset[str], key: str = "") -> Any:
    """``top`` (the inputs) wins; ``base`` (what AWS reports) fills in what the
    inputs leave out, such as computed defaults."""
    if isinstance(base, dict) and isinstance(top, dict):
        return {**base, **{k: overlay(base.get(k), v, ordered, k) for k, v in top.items()}}
    aligned = isinstance(base, list) and isinstance(top, list) and len(base) == len(top)
    if key in ordered and aligned:
        return [overlay(b, t, ordered) for b, t in zip(base, top, strict=True)]
    return base if top is None else top


@dataclass(frozen=True)
class Change:
    diffs: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    detailed: dict[str, provider_pb2.PropertyDiff] = field(default_factory=dict)

    def add(self, path: str, before: Any, after: Any, replace: bool) -> None:
        if isinstance(before, dict) and isinstance(after, dict):
            for key in sorted(set(before) | set(after)):
                if before.get(key) != after.get(key):
                    self.add(f"{path}.{key}", before.get(key), after.get(key), replace)
            return
        kind = _KIND.ADD if before is None else _KIND.DELETE if after is None else _KIND.UPDATE
        if replace:
            kind = {
                _KIND.ADD: _KIND.ADD_REPLACE,
                _KIND.DELETE: _KIND.DELETE_REPLACE,
                _KIND.UPDATE: _KIND.UPDATE_REPLACE,
            }[kind]
        self.detailed[path] = provider_pb2.PropertyDiff(kind=kind, inputDiff=True)


def compare(
    old: Props,
    new: Props,
    *,
    replace_keys: frozenset[str],
    ordered: frozenset[str],
    ignore: frozenset[str] = frozenset(),
    maps: frozenset[str] | None = None,
) -> Change:
    """``maps`` as for ``canonical``: given, objects are compared as blocks."""
    change = Change()
    for key in sorted((set(old) | set(new)) - ignore):
        before = canonical(old.get(key), ordered, key, maps)
        after = canonical(new.get(key), ordered, key, maps)
        if before == after:
            continue
        change.diffs.append(key)
        if key in replace_keys:
            change.replaces.append(key)
        change.add(key, before, after, key in replace_keys)
    return change


def diff_response(change: Change) -> provider_pb2.DiffResponse:
    if not change.diffs:
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_NONE, hasDetailedDiff=True
        )
    return provider_pb2.DiffResponse(
        changes=provider_pb2.DiffResponse.DIFF_SOME,
        diffs=change.diffs,
        replaces=change.replaces,
        detailedDiff=change.detailed,
        hasDetailedDiff=True,
        deleteBeforeReplace=False,
    )


# ---- provider configuration and AWS clients ------------------------------------------------


@dataclass(frozen=True)
class Settings:
    region: str
    default_tags: dict[str, str]


def settings_from(config: Props) -> Settings:
    """pulumi-aws falls back to the standard environment variables for the region."""
    region = (
        config.get("region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )
    default_tags = config.get("defaultTags") or {}
    if isinstance(default_tags, str):
        default_tags = json.loads(default_tags)
    return Settings(region=region, default_tags=dict(default_tags.get("tags") or {}))


_clients = threading.local()


def client(service: str, region: str) -> Any:
    """One client per thread and region: boto3 sessions aren't thread-safe.
    The endpoint comes from AWS_ENDPOINT_URL, which boto3 reads itself."""
    cache: dict[tuple[str, str], Any] = _clients.__dict__.setdefault("cache", {})
    if (service, region) not in cache:
        cache[service, region] = boto3.session.Session().client(
            service, region_name=region, config=Config(retries={"mode": "standard"})
        )
    return cache[service, region]


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def retrying(codes: set[str], timeout: float, call: Callable[[], T], pause: float = 5.0) -> T:
    """Retries the AWS errors Terraform treats as eventual consistency."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except ClientError as error:
            if error_code(error) not in codes or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)


def _tags(value: Any) -> dict[str, str]:
    return dict(value) if isinstance(value, dict) else {}


def all_tags(inputs: Props, settings: Settings) -> dict[str, str] | str:
    """tags_all as Terraform's plan computes it; unknown while tags are."""
    if has_unknown(inputs.get("tags")):
        return UNKNOWN
    return {**settings.default_tags, **_tags(inputs.get("tags"))}


def own_tags(live: dict[str, str], settings: Settings) -> dict[str, str]:
    return {k: v for k, v in live.items() if settings.default_tags.get(k) != v}


def rfc3339(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# ---- ACM certificates ----------------------------------------------------------------------

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
_CERTIFICATE_SECRETS = frozenset({"privateKey"})
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


def check_certificate(props: Props) -> tuple[Props, list[provider_pb2.CheckFailure]]:
    failures = [
        provider_pb2.CheckFailure(
            property=key, reason=f"{key} is not supported by the sandbox provider; use privateKey"
        )
        for key in _UNSUPPORTED
        if props.get(key) is not None
    ]
    given = {k for k, v in props.items() if v is not None and v != ""}
    if len(given & {"domainName", "privateKey"}) != 1:
        failures.append(
            provider_pb2.CheckFailure(
                property="domainName", reason="exactly one of domainName or privateKey must be set"
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


def _certificate_view(props: Props) -> Props:
    """ACM adds the domain name to the SANs; Terraform's plan does the same,
    so listing it or not is no change."""
    domain, sans = props.get("domainName"), props.get("subjectAlternativeNames")
    if isinstance(domain, str) and isinstance(sans, list) and not has_unknown(sans):
        return {**props, "subjectAlternativeNames": sorted({*sans, domain})}
    return props


def diff_certificate(
    old_inputs: Props, olds: Props, news: Props, settings: Settings, ignore: frozenset[str]
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


def create_certificate(props: Props, settings: Settings) -> Props:
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


def update_certificate(arn: str, old_inputs: Props, news: Props, settings: Settings) -> Props:
    acm = client("acm", certificate_region(news, settings))
    news = inherit_all(news, old_inputs, CERTIFICATE_COMPUTED)
    changed = set(compare(old_inputs, news, replace_keys=frozenset(), ordered=frozenset()).diffs)
    if changed & set(_IMPORT_KEYS):
        request: Props = {
            "CertificateArn": arn,
            "Certificate": news["certificateBody"].encode(),
            "PrivateKey": news["privateKey"].encode(),
        }
        if news.get("certificateChain"):
            request["CertificateChain"] = news["certificateChain"].encode()
        acm.import_certificate(**request)
    if "options" in changed:
        acm.update_certificate_options(
            CertificateArn=arn, Options=_certificate_options(news["options"])
        )
    listed = acm.list_tags_for_certificate(CertificateArn=arn).get("Tags") or []
    live = {t["Key"]: t.get("Value", "") for t in listed}
    wanted = all_tags(news, settings)
    stale = [{"Key": k, "Value": v} for k, v in live.items() if k not in wanted]
    fresh = [{"Key": k, "Value": v} for k, v in wanted.items() if live.get(k) != v]
    if stale:
        acm.remove_tags_from_certificate(CertificateArn=arn, Tags=stale)
    if fresh:
        acm.add_tags_to_certificate(CertificateArn=arn, Tags=fresh)
    outputs = read_certificate(arn, news, settings)
    if outputs is None:
        raise ProviderError(grpc.StatusCode.NOT_FOUND, f"ACM certificate {arn} disappeared")
    return outputs


def delete_certificate(arn: str, props: Props, settings: Settings, timeout: float) -> None:
    """Deleting waits out ResourceInUse, as CloudFront lets go of a certificate
    some minutes after the distribution using it is gone."""
    acm = client("acm", certificate_region(props, settings))
    try:
        retrying(
            {"ResourceInUseException"},
            timeout or 1200,
            lambda: acm.delete_certificate(CertificateArn=arn),
        )
    except ClientError as error:
        if error_code(error) != "ResourceNotFoundException":
            raise


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


# ---- CloudFront distributions --------------------------------------------------------------

_CLOUDFRONT_REGION = "us-east-1"
_DISTRIBUTION_REQUIRED = (
    "defaultCacheBehavior",
    "enabled",
    "origins",
    "restrictions",
    "viewerCertificate",
)
_DISTRIBUTION_COMPUTED_OUTPUTS = (
    "id",
    "arn",
    "callerReference",
    "domainName",
    "etag",
    "hostedZoneId",
    "lastModifiedTime",
    "status",
    "inProgressValidationBatches",
    "loggingV1Enabled",
    "trustedKeyGroups",
    "trustedSigners",
)


def check_distribution(props: Props) -> tuple[Props, list[provider_pb2.CheckFailure]]:
    failures = [
        provider_pb2.CheckFailure(property=key, reason=f"missing required property {key}")
        for key in _DISTRIBUTION_REQUIRED
        if props.get(key) is None
    ]
    return wire.with_defaults(props), failures


def diff_distribution(old_inputs: Props, news: Props, ignore: frozenset[str]) -> Change:
    news = inherit_all(news, old_inputs, wire.COMPUTED_INPUTS)
    return compare(
        old_inputs,
        news,
        replace_keys=frozenset(),
        ordered=wire.ORDERED_LISTS,
        ignore=ignore,
        maps=wire.MAPS,
    )


def _cloudfront() -> Any:
    return client("cloudfront", _CLOUDFRONT_REGION)


def _wait_deployed(distribution_id: str, timeout: float) -> None:
    """Polls like Terraform's waiter; moto reports Deployed on the first look."""
    deadline = time.monotonic() + (timeout or 90 * 60)
    while True:
        response = _cloudfront().get_distribution(Id=distribution_id)
        if response["Distribution"]["Status"] == "Deployed":
            return
        if time.monotonic() > deadline:
            raise ProviderError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"CloudFront distribution {distribution_id} did not deploy",
            )
        time.sleep(15)


def create_distribution(props: Props, settings: Settings, timeout: float) -> Props:
    config = wire.to_api(props, caller_reference="pulumi-" + uuid.uuid4().hex)
    tags = all_tags(props, settings)
    cloudfront = _cloudfront()
    if tags:
        items = [{"Key": k, "Value": v} for k, v in tags.items()]
        request = {
            "DistributionConfigWithTags": {"DistributionConfig": config, "Tags": {"Items": items}}
        }
        create = functools.partial(cloudfront.create_distribution_with_tags, **request)
    else:
        create = functools.partial(cloudfront.create_distribution, DistributionConfig=config)
    # ACM certificates take a moment to become visible to CloudFront.
    distribution_id = retrying({"InvalidViewerCertificate"}, 60, create)["Distribution"]["Id"]
    if props.get("waitForDeployment", True):
        _wait_deployed(distribution_id, timeout)
    return distribution_outputs(distribution_id, props, settings)


def fetch_distribution(
    distribution_id: str, settings: Settings, written: Props | None = None
) -> tuple[Props, Props] | None:
    """What AWS reports: the inputs the distribution stands for, and the
    computed outputs; None once the distribution is gone. ``written`` is the
    configuration last sent, for what moto drops (see ``as_aws_holds``)."""
    cloudfront = _cloudfront()
    try:
        response = cloudfront.get_distribution(Id=distribution_id)
    except ClientError as error:
        if error_code(error) == "NoSuchDistribution":
            return None
        raise
    distribution = response["Distribution"]
    config = distribution["DistributionConfig"]
    if written is not None:
        config = as_aws_holds(config, written)
    listed = cloudfront.list_tags_for_resource(Resource=distribution["ARN"])["Tags"]
    live_tags = {t["Key"]: t.get("Value", "") for t in listed.get("Items") or []}
    live = {**wire.from_api(config), "tags": own_tags(live_tags, settings)}
    return live, wire.computed(distribution, str(response["ETag"]), live_tags)


# The stand-in only ever talks to moto, whose model (5.2) drops these fields of
# a DistributionConfig and reports empty associations for every behaviour.
# AWS returns them as written, so Read takes them from the configuration last
# written, and then reads the whole back as Terraform does: what Terraform's
# Read drops (an empty S3 origin config, say) is dropped from them too.
_MOTO_DROPS_FROM_ORIGINS = (
    "S3OriginConfig",
    "OriginAccessControlId",
    "VpcOriginConfig",
    "ResponseCompletionTimeout",
)
_MOTO_DROPS_FROM_CUSTOM_ORIGINS = ("IpAddressType", "OriginMtlsConfig")
_MOTO_DROPS_FROM_BEHAVIORS = ("LambdaFunctionAssociations", "FunctionAssociations", "GrpcConfig")


def _items_of(container: Props | None) -> list[Props]:
    return list((container or {}).get("Items") or [])


def _restore(live: Props, written: Props, names: tuple[str, ...]) -> None:
    for name in names:
        if name in written:
            live[name] = written[name]
        else:
            live.pop(name, None)


def as_aws_holds(live: Props, written: Props) -> Props:
    """moto's report of a distribution with what moto drops put back as it
    was written, matching origins by id and cache behaviours by path; what
    moto does keep (every other field, and drift in it) comes from moto."""
    config = copy.deepcopy(live)
    sent_origins = {o["Id"]: o for o in _items_of(written.get("Origins"))}
    for origin in _items_of(config.get("Origins")):
        sent = sent_origins.get(origin["Id"])
        if sent is None:
            continue
        _restore(origin, sent, _MOTO_DROPS_FROM_ORIGINS)
        if origin.get("CustomOriginConfig") and sent.get("CustomOriginConfig"):
            _restore(
                origin["CustomOriginConfig"],
                sent["CustomOriginConfig"],
                _MOTO_DROPS_FROM_CUSTOM_ORIGINS,
            )
    if config.get("DefaultCacheBehavior") and written.get("DefaultCacheBehavior"):
        _restore(
            config["DefaultCacheBehavior"],
            written["DefaultCacheBehavior"],
            _MOTO_DROPS_FROM_BEHAVIORS,
        )
    sent_behaviors = {b.get("PathPattern"): b for b in _items_of(written.get("CacheBehaviors"))}
    for behavior in _items_of(config.get("CacheBehaviors")):
        sent = sent_behaviors.get(behavior.get("PathPattern"))
        if sent is not None:
            _restore(behavior, sent, _MOTO_DROPS_FROM_BEHAVIORS)
    return config


def last_written(old_inputs: Props, state: Props) -> Props | None:
    """The DistributionConfig the stand-in sent for these inputs; None for a
    distribution it holds no inputs of (one being imported)."""
    if not old_inputs.get("defaultCacheBehavior"):
        return None
    return wire.to_api(
        wire.with_defaults(old_inputs), caller_reference=str(state.get("callerReference", ""))
    )


def distribution_outputs(distribution_id: str, inputs: Props, settings: Settings) -> Props:
    """After a write the inputs are what AWS holds, so they win over what AWS
    reports (moto drops some fields); AWS fills in what they leave out."""
    found = fetch_distribution(distribution_id, settings)
    if found is None:
        raise ProviderError(
            grpc.StatusCode.NOT_FOUND, f"CloudFront distribution {distribution_id} disappeared"
        )
    live, computed = found
    return {**overlay(live, inputs, wire.ORDERED_LISTS), **computed}


def refreshed_inputs(live: Props, old_inputs: Props) -> Props:
    """What refresh stores as inputs: the old ones, with what AWS reports for
    every property AWS knows about, so drift shows up as a diff on the next
    update; a resource being imported gets everything AWS reports."""
    if not old_inputs:
        return wire.with_defaults(live)
    keep = wire.PROVIDER_ONLY - {"tags"}
    return {k: v if k in keep else live.get(k) for k, v in old_inputs.items()}


def update_distribution(
    distribution_id: str,
    olds: Props,
    old_inputs: Props,
    news: Props,
    settings: Settings,
    timeout: float,
) -> Props:
    news = inherit_all(news, old_inputs, wire.COMPUTED_INPUTS)
    changed = set(diff_distribution(old_inputs, news, frozenset()).diffs)
    cloudfront = _cloudfront()
    if changed - wire.PROVIDER_ONLY:
        config = wire.to_api(news, caller_reference=olds["callerReference"])

        def update(etag: str) -> Any:
            return retrying(
                {"InvalidViewerCertificate"},
                60,
                functools.partial(
                    cloudfront.update_distribution,
                    Id=distribution_id,
                    IfMatch=etag,
                    DistributionConfig=config,
                ),
            )

        try:
            update(olds["etag"])
        except ClientError as error:
            if error_code(error) not in {"PreconditionFailed", "InvalidIfMatchVersion"}:
                raise
            update(cloudfront.get_distribution(Id=distribution_id)["ETag"])
        if news.get("waitForDeployment", True):
            _wait_deployed(distribution_id, timeout)
    arn = olds["arn"]
    listed = cloudfront.list_tags_for_resource(Resource=arn)["Tags"].get("Items") or []
    live = {t["Key"]: t.get("Value", "") for t in listed}
    wanted = all_tags(news, settings)
    stale = [k for k in live if k not in wanted]
    fresh = [{"Key": k, "Value": v} for k, v in wanted.items() if live.get(k) != v]
    if stale:
        cloudfront.untag_resource(Resource=arn, TagKeys={"Items": stale})
    if fresh:
        cloudfront.tag_resource(Resource=arn, Tags={"Items": fresh})
    return distribution_outputs(distribution_id, news, settings)


def delete_distribution(distribution_id: str, olds: Props, timeout: float) -> None:
    """Disables the distribution, waits for that to deploy, then deletes it;
    with retainOnDelete it is only disabled, as pulumi-aws does."""
    cloudfront = _cloudfront()
    try:
        response = cloudfront.get_distribution(Id=distribution_id)
    except ClientError as error:
        if error_code(error) == "NoSuchDistribution":
            return
        raise
    config = response["Distribution"]["DistributionConfig"]
    if config.get("Enabled"):
        cloudfront.update_distribution(
            Id=distribution_id,
            IfMatch=response["ETag"],
            DistributionConfig={**config, "Enabled": False},
        )
        if not olds.get("retainOnDelete"):
            _wait_deployed(distribution_id, timeout)
    if olds.get("retainOnDelete"):
        return

    def delete() -> None:
        """With the current ETag each time: disabling changed it."""
        try:
            etag = cloudfront.get_distribution(Id=distribution_id)["ETag"]
            cloudfront.delete_distribution(Id=distribution_id, IfMatch=etag)
        except ClientError as error:
            if error_code(error) != "NoSuchDistribution":
                raise

    retrying({"DistributionNotDisabled", "PreconditionFailed"}, 120, delete)


# ---- previews ------------------------------------------------------------------------------

_CERTIFICATE_COMPUTED_OUTPUTS = (
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


def preview_create(kind: str, props: Props, settings: Settings) -> Props:
    """Outputs of a create that hasn't happened: inputs known, the rest unknown."""
    names = _CERTIFICATE_COMPUTED_OUTPUTS if kind == CERTIFICATE else _DISTRIBUTION_COMPUTED_OUTPUTS
    outputs = {**{k: UNKNOWN for k in names}, **props, "tagsAll": all_tags(props, settings)}
    if kind == CERTIFICATE:
        outputs["region"] = certificate_region(props, settings)
    return outputs


def preview_update(
    kind: str, olds: Props, old_inputs: Props, news: Props, settings: Settings
) -> Props:
    """Terraform's plan keeps computed attributes at their prior values (only
    tags_all is recomputed), so pulumi-aws previews show them known."""
    computed = CERTIFICATE_COMPUTED if kind == CERTIFICATE else wire.COMPUTED_INPUTS
    return {
        **olds,
        **inherit_all(news, old_inputs, computed),
        "tagsAll": all_tags(news, settings),
    }


# ---- the gRPC service ----------------------------------------------------------------------


def resource_type(request: Any) -> str:
    """Older engines send only the URN, whose third part ends with the type."""
    kind = request.type or request.urn.split("::")[2].split("$")[-1]
    if kind not in (CERTIFICATE, DISTRIBUTION):
        raise ProviderError(
            grpc.StatusCode.UNIMPLEMENTED, f"the sandbox provider does not manage {kind}"
        )
    return kind


def _struct(request: Any, name: str) -> Props:
    return from_struct(getattr(request, name)) if request.HasField(name) else {}


def rpc(method: Callable[..., T]) -> Callable[..., T]:
    """Turns failures into gRPC errors the engine shows; AWS's error code and
    message come through, PEM text never does."""

    @functools.wraps(method)
    def handler(self: Provider, request: Any, context: grpc.ServicerContext) -> T:
        try:
            return method(self, request, context)
        except ProviderError as error:
            code, message = error.code, error.message
        except ClientError as error:
            details = error.response.get("Error", {})
            code = grpc.StatusCode.UNKNOWN
            message = (
                f"{error.operation_name}: {details.get('Code', 'Error')}: "
                f"{details.get('Message', '')}"
            )
        except BotoCoreError as error:
            code, message = grpc.StatusCode.UNAVAILABLE, f"{type(error).__name__}: {error}"
        except Exception as error:  # noqa: BLE001 - a bug's message must be scrubbed too
            print(scrub(traceback.format_exc()), file=sys.stderr)
            code, message = grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}"
        context.abort(code, scrub(message))

    return handler


class Provider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self) -> None:
        self._settings: dict[str, Settings] = {}
        self._lock = threading.Lock()

    def settings(self, context: grpc.ServicerContext) -> Settings:
        """The configuration of the provider instance behind this connection;
        the Go engine dials each instance separately."""
        with self._lock:
            return self._settings.get(context.peer()) or settings_from({})

    @rpc
    def Handshake(
        self, request: provider_pb2.ProviderHandshakeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ProviderHandshakeResponse:
        return provider_pb2.ProviderHandshakeResponse(accept_secrets=True, accept_resources=True)

    @rpc
    def GetPluginInfo(
        self, request: empty_pb2.Empty, context: grpc.ServicerContext
    ) -> plugin_pb2.PluginInfo:
        return plugin_pb2.PluginInfo(version=VERSION)

    @rpc
    def GetSchema(
        self, request: provider_pb2.GetSchemaRequest, context: grpc.ServicerContext
    ) -> provider_pb2.GetSchemaResponse:
        return provider_pb2.GetSchemaResponse(
            schema=json.dumps({"name": "aws", "version": VERSION})
        )

    @rpc
    def CheckConfig(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        return provider_pb2.CheckResponse(inputs=request.news)

    @rpc
    def DiffConfig(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        """Nothing here replaces the provider: in pulumi-aws v7 a region change
        replaces the resources themselves, through their ``region``."""
        old = reveal(_struct(request, "old_inputs") or _struct(request, "olds"))
        return diff_response(
            compare(
                old, reveal(_struct(request, "news")), replace_keys=frozenset(), ordered=frozenset()
            )
        )

    @rpc
    def Configure(
        self, request: provider_pb2.ConfigureRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ConfigureResponse:
        if request.HasField("args"):
            config = reveal(from_struct(request.args))
        else:
            config = {k.rsplit(":", 1)[-1]: v for k, v in request.variables.items()}
        with self._lock:
            self._settings[context.peer()] = settings_from(config)
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=True
        )

    @rpc
    def Invoke(
        self, request: provider_pb2.InvokeRequest, context: grpc.ServicerContext
    ) -> provider_pb2.InvokeResponse:
        raise ProviderError(
            grpc.StatusCode.UNIMPLEMENTED, f"the sandbox provider does not implement {request.tok}"
        )

    @rpc
    def Check(
        self, request: provider_pb2.CheckRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CheckResponse:
        kind = resource_type(request)
        props, secrets = split_secrets(_struct(request, "news"))
        if kind == CERTIFICATE:
            checked, failures = check_certificate(props)
            secrets |= _CERTIFICATE_SECRETS
        else:
            checked, failures = check_distribution(props)
        return provider_pb2.CheckResponse(
            inputs=to_struct(seal(checked, secrets)), failures=failures
        )

    @rpc
    def Diff(
        self, request: provider_pb2.DiffRequest, context: grpc.ServicerContext
    ) -> provider_pb2.DiffResponse:
        kind = resource_type(request)
        old_inputs = reveal(_struct(request, "old_inputs"))
        news = reveal(_struct(request, "news"))
        ignore = frozenset(p.split(".")[0].split("[")[0] for p in request.ignoreChanges)
        if kind == CERTIFICATE:
            olds = reveal(_struct(request, "olds"))
            change = diff_certificate(old_inputs, olds, news, self.settings(context), ignore)
        else:
            change = diff_distribution(old_inputs, news, ignore)
        return diff_response(change)

    @rpc
    def Create(
        self, request: provider_pb2.CreateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.CreateResponse:
        kind = resource_type(request)
        props, secrets = split_secrets(_struct(request, "properties"))
        settings = self.settings(context)
        if request.preview:
            outputs = preview_create(kind, props, settings)
        elif kind == CERTIFICATE:
            outputs = create_certificate(props, settings)
        else:
            outputs = create_distribution(props, settings, request.timeout)
        secrets |= _CERTIFICATE_SECRETS if kind == CERTIFICATE else frozenset()
        return provider_pb2.CreateResponse(
            id="" if request.preview else outputs["id"],
            properties=to_struct(seal(outputs, secrets)),
        )

    @rpc
    def Read(
        self, request: provider_pb2.ReadRequest, context: grpc.ServicerContext
    ) -> provider_pb2.ReadResponse:
        kind = resource_type(request)
        state, state_secrets = split_secrets(_struct(request, "properties"))
        old_inputs, input_secrets = split_secrets(_struct(request, "inputs"))
        settings = self.settings(context)
        if kind == CERTIFICATE:
            outputs = read_certificate(request.id, {**state, **old_inputs}, settings)
            inputs = certificate_inputs_from(outputs, old_inputs) if outputs else None
            state_secrets |= _CERTIFICATE_SECRETS
            input_secrets |= _CERTIFICATE_SECRETS
        else:
            found = fetch_distribution(request.id, settings, last_written(old_inputs, state))
            outputs = inputs = None
            if found:
                live, computed = found
                inputs = refreshed_inputs(live, old_inputs)
                outputs = {**overlay(live, inputs, wire.ORDERED_LISTS), **computed}
        if outputs is None or inputs is None:
            return provider_pb2.ReadResponse()
        return provider_pb2.ReadResponse(
            id=request.id,
            properties=to_struct(seal(outputs, state_secrets)),
            inputs=to_struct(seal(inputs, input_secrets)),
        )

    @rpc
    def Update(
        self, request: provider_pb2.UpdateRequest, context: grpc.ServicerContext
    ) -> provider_pb2.UpdateResponse:
        kind = resource_type(request)
        olds = reveal(_struct(request, "olds"))
        old_inputs = reveal(_struct(request, "old_inputs"))
        news, secrets = split_secrets(_struct(request, "news"))
        settings = self.settings(context)
        if request.preview:
            outputs = preview_update(kind, olds, old_inputs, news, settings)
        elif kind == CERTIFICATE:
            outputs = update_certificate(request.id, old_inputs, news, settings)
        else:
            outputs = update_distribution(
                request.id, olds, old_inputs, news, settings, request.timeout
            )
        secrets |= _CERTIFICATE_SECRETS if kind == CERTIFICATE else frozenset()
        return provider_pb2.UpdateResponse(properties=to_struct(seal(outputs, secrets)))

    @rpc
    def Delete(
        self, request: provider_pb2.DeleteRequest, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        kind = resource_type(request)
        olds = reveal(_struct(request, "properties"))
        if kind == CERTIFICATE:
            delete_certificate(request.id, olds, self.settings(context), request.timeout)
        else:
            delete_distribution(request.id, olds, request.timeout)
        return empty_pb2.Empty()

    @rpc
    def Cancel(self, request: empty_pb2.Empty, context: grpc.ServicerContext) -> empty_pb2.Empty:
        """Every engine sends this as it finishes; other engines may still be
        using this process, so nothing stops."""
        return empty_pb2.Empty()

    @rpc
    def Attach(
        self, request: plugin_pb2.PluginAttach, context: grpc.ServicerContext
    ) -> empty_pb2.Empty:
        """The engine's address would only be needed to log through it."""
        return empty_pb2.Empty()


def serve(port: int = 0) -> tuple[grpc.Server, int]:
    """Loopback only: the sandbox provider has no authentication."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=32),
        options=[
            ("grpc.max_receive_message_length", 256 * 1024 * 1024),
            ("grpc.max_send_message_length", 256 * 1024 * 1024),
        ],
    )
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(Provider(), server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    return server, bound


def main(argv: list[str]) -> int:
    """Prints the port, then serves until killed; with ``--watch-stdin`` it
    also stops when stdin closes, so a parent that dies can't leave it behind."""
    server, port = serve(0)
    print(port, flush=True)
    if "--watch-stdin" in argv:
        sys.stdin.read()
        server.stop(grace=1).wait()
        return 0
    server.wait_for_termination()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
