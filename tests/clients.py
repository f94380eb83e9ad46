"""The AWS clients tests hand to the code under test: the test process's own
set (one, as every process has one, reaching moto through
AWS_ENDPOINT_URL), or stand-ins for the clients a test names."""

from __future__ import annotations

from typing import Any

from provisioning.aws_clients import AwsClients
from provisioning.settings import CERTIFICATE_REGION

PROCESS = AwsClients()
# (service, region) as the product asks for ACM and CloudFront.
ACM = ("acm", CERTIFICATE_REGION)
CLOUDFRONT = ("cloudfront", None)


class StandIn(AwsClients):
    """Hands out the clients it was given, by (service, region); any other
    service, or a region other than the one given, fails the test."""

    def __init__(self, clients: dict[tuple[str, str | None], Any]) -> None:
        super().__init__()
        self.clients = clients

    def client(self, service: str, region: str | None = None) -> Any:
        assert (service, region) in self.clients, (
            f"{service} in region {region} was asked for; only {list(self.clients)} were given"
        )
        return self.clients[(service, region)]
