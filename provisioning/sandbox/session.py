"""`python -m provisioning sandbox -- COMMAND`: the whole product offline.

Starts moto and the engine's AWS provider (see environment.py), creates the
template distributions the published examples name, and runs COMMAND with
the environment pointing everything there: endpoint, credentials, state
backend, passphrase, provider attach, API key.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import moto.settings
from moto.cloudfront.models import cloudfront_backends

from provisioning.sandbox.environment import sandbox
from provisioning.sandbox.moto_server import FAKE_CREDENTIALS
from provisioning.templates.versions import LocalStore, S3Store, TemplateStore, save_current

# The published examples clone these; moto picks its own ids, so the
# sandbox's templates are renamed to them inside moto.
EXAMPLE_TEMPLATE_IDS = ("E195R1W5GIVPF5", "E1DACGTRXKKWCH")
ACCOUNT = "123456789012"
# Seconds before moto reports a requested certificate ISSUED, as if its DNS
# validation records had been published.
VALIDATION_SECONDS = int(os.environ.get("MOTO_ACM_VALIDATION_WAIT", "5"))
SANDBOX_API_KEY = "sandbox"
REGION = "us-east-1"
SHARED_STATE_BUCKET = "ssl-saas-sandbox-state"
SHARED_TEMPLATE_BUCKET = "ssl-saas-sandbox-templates"
SHARED_TEMPLATE_PREFIX = "versions"
SHARED_JOB_TABLE = "ssl-saas-sandbox-jobs"
SHARED_KEY_ALIAS = "alias/ssl-saas-sandbox"


def template_config(name: str) -> dict[str, Any]:
    """A typical SaaS template: one custom origin, HTTPS only, a cache
    policy, a longer-cached static path and an error page."""
    origin = f"{name}.origin.example.net"
    return {
        "CallerReference": f"template-{name}",
        "Comment": f"sandbox template {name}",
        "Enabled": True,
        "Origins": {
            "Quantity": 1,
            "Items": [
                {
                    "Id": "app",
                    "DomainName": origin,
                    "CustomOriginConfig": {
                        "HTTPPort": 80,
                        "HTTPSPort": 443,
                        "OriginProtocolPolicy": "https-only",
                        "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                        "OriginReadTimeout": 30,
                        "OriginKeepaliveTimeout": 5,
                    },
                }
            ],
        },
        "DefaultCacheBehavior": {
            "TargetOriginId": "app",
            "ViewerProtocolPolicy": "redirect-to-https",
            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            "Compress": True,
        },
        "CacheBehaviors": {
            "Quantity": 1,
            "Items": [
                {
                    "PathPattern": "/static/*",
                    "TargetOriginId": "app",
                    "ViewerProtocolPolicy": "https-only",
                    "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
                    "Compress": True,
                }
            ],
        },
        "CustomErrorResponses": {
            "Quantity": 1,
            "Items": [
                {
                    "ErrorCode": 404,
                    "ResponsePagePath": "/404.html",
                    "ResponseCode": "404",
                    "ErrorCachingMinTTL": 60,
                }
            ],
        },
        "DefaultRootObject": "index.html",
        "PriceClass": "PriceClass_100",
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
    }


def rename_distribution(old: str, new: str) -> None:
    """moto keeps distributions in memory in this process; giving one the id
    an example names is how the examples run unedited."""
    backend = cloudfront_backends[ACCOUNT]["global"]
    distribution = backend.distributions.pop(old)
    distribution.distribution_id = distribution.id = new
    distribution.arn = distribution.arn.rsplit("/", 1)[0] + f"/{new}"
    backend.distributions[new] = distribution


def moto_client(service: str, endpoint: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_templates(endpoint: str, store: TemplateStore) -> None:
    """Creates the example templates and saves each as version 1, which the
    first published example names."""
    cloudfront = moto_client("cloudfront", endpoint)
    for template_id in EXAMPLE_TEMPLATE_IDS:
        made = cloudfront.create_distribution(DistributionConfig=template_config(template_id))
        rename_distribution(made["Distribution"]["Id"], template_id)
        saved = save_current(store, cloudfront, template_id)
        print(
            f"sandbox: template distribution {template_id} created in moto "
            f"(moto named it {made['Distribution']['Id']}), saved as version {saved['version']}",
            file=sys.stderr,
        )


def shared_services(endpoint: str) -> dict[str, str]:
    """Several instances' shared state, all in moto: the Pulumi backend and
    the template versions in S3, jobs in DynamoDB, secrets under a KMS key."""
    s3 = moto_client("s3", endpoint)
    for bucket in (SHARED_STATE_BUCKET, SHARED_TEMPLATE_BUCKET):
        s3.create_bucket(Bucket=bucket)
    kms = moto_client("kms", endpoint)
    key = kms.create_key(Description="ssl-saas sandbox secrets")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=SHARED_KEY_ALIAS, TargetKeyId=key)
    return {
        "PULUMI_BACKEND_URL": f"s3://{SHARED_STATE_BUCKET}?region={REGION}&use_path_style=true",
        "SSL_SAAS_CONFIG_STORE": f"s3://{SHARED_TEMPLATE_BUCKET}/{SHARED_TEMPLATE_PREFIX}",
        "SSL_SAAS_JOB_STORE": f"dynamodb://{SHARED_JOB_TABLE}",
        "SSL_SAAS_SECRETS_PROVIDER": f"awskms://{SHARED_KEY_ALIAS}?region={REGION}",
    }


def run_in_sandbox(command: list[str], state: Path, *, shared: bool = False) -> int:
    """With ``shared``, no state directory is shared: each instance's
    SSL_SAAS_STATE_DIR holds only its own throw-away step workspaces."""
    moto.settings.ACM_VALIDATION_WAIT = VALIDATION_SECONDS
    with sandbox(state) as box:
        env = {
            **os.environ,
            **box.env,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), box.env["PATH"]]),
            "SSL_SAAS_STATE_DIR": str(state.resolve()),
            "SSL_SAAS_STACK_CONFIG": json.dumps(box.stack_config),
            "SSL_SAAS_API_KEY": os.environ.get("SSL_SAAS_API_KEY", SANDBOX_API_KEY),
        }
        if shared:
            env |= shared_services(box.endpoint)
            env.pop("PULUMI_CONFIG_PASSPHRASE")
        store: TemplateStore = (
            S3Store(moto_client("s3", box.endpoint), SHARED_TEMPLATE_BUCKET, SHARED_TEMPLATE_PREFIX)
            if shared
            else LocalStore(state / "config-versions")
        )
        create_templates(box.endpoint, store)
        print(
            f"sandbox: AWS is moto at {box.endpoint}; state in "
            f"{'moto (S3, DynamoDB, KMS)' if shared else state}; requested certificates "
            f"are issued after {VALIDATION_SECONDS} s; moto's and the provider's logs in "
            f"{state / 'moto.log'} and {state / 'provider.log'}",
            file=sys.stderr,
        )
        return subprocess.run(command, env=env).returncode
