"""CloudFront distributions as pulumi-aws's ``aws.cloudfront.Distribution``;
the translation of their properties is distribution_wire.py."""

from __future__ import annotations

import copy
import functools
import time
import uuid
from typing import Any

import grpc
from botocore.exceptions import ClientError
from pulumi.runtime.proto import provider_pb2

from provisioning.sandbox.provider import distribution_wire as wire
from provisioning.sandbox.provider.aws import (
    Settings,
    all_tags,
    client,
    error_code,
    own_tags,
    retrying,
)
from provisioning.sandbox.provider.diffing import Change, compare, inherit_all, overlay
from provisioning.sandbox.provider.properties import Props
from provisioning.sandbox.provider.resource import ProviderError, ResourceType

_CLOUDFRONT_REGION = "us-east-1"

_DISTRIBUTION_REQUIRED = (
    "defaultCacheBehavior",
    "enabled",
    "origins",
    "restrictions",
    "viewerCertificate",
)


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


class Distribution(ResourceType):
    token = "aws:cloudfront/distribution:Distribution"
    computed_inputs = wire.COMPUTED_INPUTS
    computed_outputs = (
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

    def check(self, props: Props) -> tuple[Props, list[provider_pb2.CheckFailure]]:
        failures = [
            provider_pb2.CheckFailure(property=key, reason=f"missing required property {key}")
            for key in _DISTRIBUTION_REQUIRED
            if props.get(key) is None
        ]
        return wire.with_defaults(props), failures

    def diff(
        self,
        old_inputs: Props,
        olds: Props,
        news: Props,
        settings: Settings,
        ignore: frozenset[str],
    ) -> Change:
        return diff_distribution(old_inputs, news, ignore)

    def create(self, props: Props, settings: Settings, timeout: float) -> Props:
        config = wire.to_api(props, caller_reference="pulumi-" + uuid.uuid4().hex)
        tags = all_tags(props, settings)
        cloudfront = _cloudfront()
        if tags:
            items = [{"Key": k, "Value": v} for k, v in tags.items()]
            request = {
                "DistributionConfigWithTags": {
                    "DistributionConfig": config,
                    "Tags": {"Items": items},
                }
            }
            create = functools.partial(cloudfront.create_distribution_with_tags, **request)
        else:
            create = functools.partial(cloudfront.create_distribution, DistributionConfig=config)
        # ACM certificates take a moment to become visible to CloudFront.
        distribution_id = retrying({"InvalidViewerCertificate"}, 60, create)["Distribution"]["Id"]
        if props.get("waitForDeployment", True):
            _wait_deployed(distribution_id, timeout)
        return distribution_outputs(distribution_id, props, settings)

    def read(
        self, resource_id: str, state: Props, old_inputs: Props, settings: Settings
    ) -> tuple[Props, Props] | None:
        found = fetch_distribution(resource_id, settings, last_written(old_inputs, state))
        if found is None:
            return None
        live, computed = found
        inputs = refreshed_inputs(live, old_inputs)
        return {**overlay(live, inputs, wire.ORDERED_LISTS), **computed}, inputs

    def update(
        self,
        resource_id: str,
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
                        Id=resource_id,
                        IfMatch=etag,
                        DistributionConfig=config,
                    ),
                )

            try:
                update(olds["etag"])
            except ClientError as error:
                if error_code(error) not in {"PreconditionFailed", "InvalidIfMatchVersion"}:
                    raise
                update(cloudfront.get_distribution(Id=resource_id)["ETag"])
            if news.get("waitForDeployment", True):
                _wait_deployed(resource_id, timeout)
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
        return distribution_outputs(resource_id, news, settings)

    def delete(self, resource_id: str, olds: Props, settings: Settings, timeout: float) -> None:
        """Disables the distribution, waits for that to deploy, then deletes it;
        with retainOnDelete it is only disabled, as pulumi-aws does."""
        cloudfront = _cloudfront()
        try:
            response = cloudfront.get_distribution(Id=resource_id)
        except ClientError as error:
            if error_code(error) == "NoSuchDistribution":
                return
            raise
        config = response["Distribution"]["DistributionConfig"]
        if config.get("Enabled"):
            cloudfront.update_distribution(
                Id=resource_id,
                IfMatch=response["ETag"],
                DistributionConfig={**config, "Enabled": False},
            )
            if not olds.get("retainOnDelete"):
                _wait_deployed(resource_id, timeout)
        if olds.get("retainOnDelete"):
            return

        def delete() -> None:
            """With the current ETag each time: disabling changed it."""
            try:
                etag = cloudfront.get_distribution(Id=resource_id)["ETag"]
                cloudfront.delete_distribution(Id=resource_id, IfMatch=etag)
            except ClientError as error:
                if error_code(error) != "NoSuchDistribution":
                    raise

        retrying({"DistributionNotDisabled", "PreconditionFailed"}, 120, delete)
