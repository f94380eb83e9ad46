"""Which requested certificates ACM has issued: what decides whether an
item's distribution can be made in the next update."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from provisioning.jobs.states import CertificateStatus
from provisioning.program.outputs import items_of


def describe_issued_items(acm: Any, outputs: Mapping[str, Any] | None) -> frozenset[str]:
    """Item keys whose requested certificate ACM now reports ISSUED, found
    from the job's previous outputs; items that already have a distribution
    are not asked about again, nor is a certificate items share. ``acm``:
    the client in the certificates' region (``AwsClients.acm``)."""
    statuses: dict[str, str] = {}  # by ARN
    issued = set()
    for item in items_of(outputs):
        arn = item.certificate_arn
        if item.distribution_id:
            issued.add(item.key)
        elif arn:
            if arn not in statuses:
                found = acm.describe_certificate(CertificateArn=arn)["Certificate"]
                statuses[arn] = found["Status"]
            if statuses[arn] == CertificateStatus.ISSUED:
                issued.add(item.key)
    return frozenset(issued)
