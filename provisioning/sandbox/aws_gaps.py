"""AWS APIs the service calls that moto lacks, answered from moto's own data
in front of moto's server, so the sandbox refuses what AWS would:

- CloudFront ListConflictingAliases: the distributions of moto's account
  whose aliases are the alias asked about or overlap it (a wildcard and a
  name it covers), with ids partly hidden as CloudFront hides them. As on
  AWS, the distribution asked with must exist and carry an ACM certificate
  that includes the alias (InvalidArgument otherwise).
- Service Quotas for ACM and CloudFront: AWS's documented defaults
  (GetAWSDefaultServiceQuota), and an applied value (GetServiceQuota) only
  where ``APPLIED`` sets one, as for an account that asked for another.
"""

from __future__ import annotations

import fnmatch
import io
import json
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from moto.acm.models import acm_backends
from moto.cloudfront.models import cloudfront_backends

ACCOUNT = "123456789012"  # moto's default account
QUOTAS_TARGET = "ServiceQuotasV20190624."
DEFAULTS = {
    ("acm", "L-F141DD1D"): ("ACM certificates", 2500.0),
    ("cloudfront", "L-24B04930"): ("Web distributions per AWS account", 500.0),
}
APPLIED: dict[tuple[str, str], float] = {}  # (service, quota code) -> applied value
Answer = tuple[str, list[tuple[str, str]], bytes]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def wsgi(app: WSGIApp) -> WSGIApp:
    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        answer = answered(environ)
        if answer is None:
            return app(environ, start_response)
        status, headers, content = answer
        start_response(status, [*headers, ("Content-Length", str(len(content)))])
        return [content]

    return middleware


def answered(environ: dict[str, Any]) -> Answer | None:
    """Only the requests answered here are read; every other reaches moto
    untouched."""
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith(QUOTAS_TARGET):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)  # moto reads it again
        return quota(target.removeprefix(QUOTAS_TARGET), json.loads(body or b"{}"))
    if environ.get("PATH_INFO") == "/2020-05-31/conflicting-alias":
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        return conflicting_aliases(
            query.get("DistributionId", [""])[0], query.get("Alias", [""])[0].lower()
        )
    return None


def quota(operation: str, request: dict[str, Any]) -> Answer | None:
    wanted = (request.get("ServiceCode", ""), request.get("QuotaCode", ""))
    if wanted not in DEFAULTS or operation not in {
        "GetServiceQuota",
        "GetAWSDefaultServiceQuota",
    }:
        return None  # moto's own answer
    name, value = DEFAULTS[wanted]
    if operation == "GetServiceQuota":
        if wanted not in APPLIED:
            return json_answer(
                "400 Bad Request",
                {"__type": "NoSuchResourceException", "message": "no applied quota"},
            )
        value = APPLIED[wanted]
    found = {
        "ServiceCode": wanted[0],
        "QuotaCode": wanted[1],
        "QuotaName": name,
        "Value": value,
        "Adjustable": True,
        "GlobalQuota": False,
    }
    return json_answer("200 OK", {"Quota": found})


def json_answer(status: str, content: dict[str, Any]) -> Answer:
    return status, [("Content-Type", "application/x-amz-json-1.1")], json.dumps(content).encode()


def conflicting_aliases(distribution_id: str, alias: str) -> Answer:
    distributions = cloudfront_backends[ACCOUNT]["global"].distributions
    asked = distributions.get(distribution_id)
    if asked is None:
        return cloudfront_error("404 Not Found", "NoSuchDistribution", "no such distribution")
    names = certificate_names(asked)
    if not alias or not (alias in names or any(covered(alias, n) for n in names)):
        return cloudfront_error(
            "400 Bad Request",
            "InvalidArgument",
            "the distribution's certificate must include the alias",
        )
    items = "".join(
        "<ConflictingAlias>"
        f"<Alias>{escape(other)}</Alias>"
        f"<DistributionId>{hidden(found.distribution_id, 6)}</DistributionId>"
        f"<AccountId>{hidden(ACCOUNT, 4)}</AccountId>"
        "</ConflictingAlias>"
        for found in list(distributions.values())
        for other in aliases(found)
        if overlaps(alias, other)
    )
    count = items.count("<ConflictingAlias>")
    return (
        "200 OK",
        [("Content-Type", "text/xml")],
        (
            '<?xml version="1.0"?>'
            '<ConflictingAliasesList xmlns="http://cloudfront.amazonaws.com/doc/2020-05-31/">'
            f"<MaxItems>100</MaxItems><Quantity>{count}</Quantity><Items>{items}</Items>"
            "</ConflictingAliasesList>"
        ).encode(),
    )


def certificate_names(distribution: Any) -> set[str]:
    arn = distribution.distribution_config.ViewerCertificate.acm_certificate_arn
    found = acm_backends[ACCOUNT]["us-east-1"]._certificates.get(arn)
    if found is None:
        return set()
    names = {found.common_name, *(found.sans or [])}
    return {n.lower() for n in names if n}


def aliases(distribution: Any) -> list[str]:
    return [a.lower() for a in distribution.distribution_config.Aliases.get("Items") or []]


def overlaps(alias: str, other: str) -> bool:
    """The same name, or a wildcard and a name one label under it."""
    return alias == other or covered(alias, other) or covered(other, alias)


def covered(name: str, wildcard: str) -> bool:
    return (
        wildcard.startswith("*.")
        and name.count(".") == wildcard.count(".")
        and fnmatch.fnmatchcase(name, wildcard)
    )


def hidden(value: str, shown: int) -> str:
    return "*" * (len(value) - shown) + value[-shown:]


def cloudfront_error(status: str, code: str, message: str) -> Answer:
    body = (
        '<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type>'
        f"<Code>{code}</Code><Message>{escape(message)}</Message></Error></ErrorResponse>"
    )
    return status, [("Content-Type", "text/xml")], body.encode()
