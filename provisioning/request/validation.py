"""Every check a request passes before anything is sent to AWS.

All problems are collected and reported together, each with its place in the
input; a request with any problem changes nothing. The result is a
normalised, deterministic model the Pulumi program can consume directly.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, SecretStr

from provisioning.errors import InvalidName, Problem, RequestRejected, excerpt
from provisioning.request import names
from provisioning.request.contract import (
    CnameItem,
    ExistingCfInfo,
    Options,
    Parsed,
    PemItem,
    SslRequest,
    parse_request,
)
from provisioning.request.pem import check_pem_item
from provisioning.request.reading import read_request_json

DEFAULT_MAX_ITEMS = 100  # the published page's advice, enforced here
MAX_NAMES_PER_CERTIFICATE = 100  # ACM's ceiling for names on one certificate
ITEM_LISTS = {"create": ("cnameList", "pemList"), "import": ("pemList", "cnameList")}


class ImportedCertificate(BaseModel):
    model_config = ConfigDict(frozen=True)

    certificate_pem: str
    chain_pem: str
    private_key_pem: SecretStr
    not_after: datetime


class Item(BaseModel):
    """One certificate and, with auto_creation, one distribution serving
    exactly its names."""

    model_config = ConfigDict(frozen=True)

    key: str  # the item's place in the request, e.g. cnameList[0]; stable resource naming
    names: tuple[str, ...]  # the primary name first, then the others in request order
    template: ExistingCfInfo | None
    imported: ImportedCertificate | None


class ValidRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    request: SslRequest  # normalised, in the published shape (for job_input and echoes)
    items: tuple[Item, ...]

    @property
    def acm_op(self) -> str:
        return self.request.acm_op

    @property
    def auto_creation(self) -> bool:
        return self.request.auto_creation


def normalised_names(raw: list[tuple[str, str]], problems: list[Problem]) -> list[str]:
    """Normalises ``(location, name)`` pairs, dropping repeats (a published
    example lists one alias twice) and recording every invalid name. Repeats
    are found in a dict, in request order, so the cost stays linear however
    many names a hostile request holds."""
    kept: dict[str, None] = {}
    for where, value in raw:
        try:
            name = names.normalise(value)
        except InvalidName as error:
            problems.append(Problem(where, f"{excerpt(value)} {error}"))
            continue
        issue = names.problem(name)
        if issue:
            problems.append(Problem(where, issue))
        else:
            kept[name] = None
    return list(kept)


def check_name_count(where: str, found: list[str], problems: list[Problem]) -> None:
    if len(found) > MAX_NAMES_PER_CERTIFICATE:
        problems.append(
            Problem(
                where,
                f"{len(found):,} distinct names; one certificate holds at most "
                f"{MAX_NAMES_PER_CERTIFICATE} (ACM's limit); split them over several items",
            )
        )


def cname_items(entries: list[tuple[int, CnameItem]], problems: list[Problem]) -> list[Item]:
    items = []
    for index, entry in entries:
        where = f"cnameList[{index}]"
        raw = [(f"{where}.domainName", entry.domainName)]
        raw += [(f"{where}.sanList[{i}]", san) for i, san in enumerate(entry.sanList)]
        found = normalised_names(raw, problems)
        check_name_count(f"{where}.sanList", found, problems)
        items.append(
            Item(key=where, names=tuple(found), template=entry.existing_cf_info, imported=None)
        )
    return items


def pem_items(
    entries: list[tuple[int, PemItem]], for_cloudfront: bool, now: datetime, problems: list[Problem]
) -> list[Item]:
    items = []
    for index, entry in entries:
        where = f"pemList[{index}]"
        facts, found_problems = check_pem_item(
            where,
            entry.CertPem,
            entry.PrivateKeyPem.get_secret_value(),
            entry.ChainPem,
            for_cloudfront=for_cloudfront,
            now=now,
        )
        problems.extend(found_problems)
        if facts is None:
            continue
        name_problems: list[Problem] = []
        found = normalised_names([(f"{where}.CertPem", n) for n in facts.dns_names], name_problems)
        if for_cloudfront:
            problems.extend(
                Problem(p.location, f"certificate DNS name: {p.message}; it would be an alias")
                for p in name_problems
            )

        if not found:
            problems.append(Problem(f"{where}.CertPem", "the certificate names no valid DNS name"))
        check_name_count(f"{where}.CertPem", found, problems)
        imported = ImportedCertificate(
            certificate_pem=entry.CertPem,
            chain_pem=entry.ChainPem,
            private_key_pem=entry.PrivateKeyPem,
            not_after=facts.not_after,
        )
        items.append(
            Item(key=where, names=tuple(found), template=entry.existing_cf_info, imported=imported)
        )
    return items


def check_shape(options: Options, parsed: Parsed, limit: int, problems: list[Problem]) -> None:
    used, unused = ITEM_LISTS[options.acm_op]
    entries = parsed.items[used]
    if not parsed.sizes[used]:
        problems.append(Problem(used, f"acm_op {options.acm_op} needs at least one item in {used}"))
    if parsed.sizes[unused]:
        problems.append(
            Problem(unused, f"must be empty with acm_op {options.acm_op}; its items use {used}")
        )
    if parsed.sizes[used] > limit:
        problems.append(
            Problem(
                used,
                f"{parsed.sizes[used]:,} items; at most {limit:,} per request, so ACM and "
                "CloudFront don't throttle the job; split the request",
            )
        )
    if options.auto_creation:
        problems.extend(
            Problem(f"{used}[{i}].existing_cf_info", "is required when auto_creation is true")
            for i, entry in entries
            if entry.existing_cf_info is None
        )


def check_duplicates(items: list[Item], problems: list[Problem]) -> None:
    """An alias can be served by only one distribution, so one name in two
    items is a conflict the caller must resolve, not something to guess at."""
    owner: dict[str, str] = {}
    for item in items:
        for name in item.names:
            if name in owner:
                message = f"is also in {owner[name]}; each name may appear in one item"
                problems.append(Problem(item.key, f"{excerpt(name)} {message}"))
            else:
                owner[name] = item.key


def normalised_request(request: SslRequest, items: list[Item]) -> SslRequest:
    """The request as it will be acted on: names normalised and de-duplicated."""
    if request.acm_op == "import":
        return request
    cnames = [
        entry.model_copy(update={"domainName": item.names[0], "sanList": list(item.names)})
        for entry, item in zip(request.cnameList, items, strict=True)
    ]
    return request.model_copy(update={"cnameList": cnames})


def validate(
    data: Any, *, max_items: int = DEFAULT_MAX_ITEMS, now: datetime | None = None
) -> ValidRequest:
    """The request as it will be acted on, or RequestRejected with every
    problem; ``max_items`` is the service's setting (Settings.max_items)."""
    parsed = parse_request(data, max_items)
    problems = parsed.problems
    options = parsed.options
    if options is not None:
        check_shape(options, parsed, max_items, problems)
    for_cloudfront = options is None or options.auto_creation
    items = cname_items(parsed.items["cnameList"], problems) + pem_items(
        parsed.items["pemList"], for_cloudfront, now or datetime.now(UTC), problems
    )
    check_duplicates(items, problems)
    if problems:
        raise RequestRejected(problems)
    return ValidRequest(request=normalised_request(parsed.request(), items), items=tuple(items))


def validate_text(
    text: str | bytes, *, max_items: int = DEFAULT_MAX_ITEMS, now: datetime | None = None
) -> ValidRequest:
    """``validate`` of a request body: any bytes give a ValidRequest or
    RequestRejected, nothing else."""
    return validate(read_request_json(text), max_items=max_items, now=now)
