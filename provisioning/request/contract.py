"""The request contract of the published ``POST /ssl_for_saas`` API.

Field names are the published ones (camelCase and snake_case mixed as they
are), so existing clients work unchanged. Unknown keys are refused: a typo
such as ``cnamelist`` would otherwise silently create nothing.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_serializer,
    field_validator,
)

from provisioning.errors import MAX_EXCERPT, MAX_PROBLEMS, Problem, excerpt

DISTRIBUTION_ID_PATTERN = r"^[A-Z][A-Z0-9]{11,15}$"


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExistingCfInfo(Contract):
    distribution_id: str = Field(pattern=DISTRIBUTION_ID_PATTERN)
    config_version_id: int | None = Field(default=None, gt=0)

    @field_validator("config_version_id", mode="before")
    @classmethod
    def _number_or_digits(cls, value: Any) -> Any:
        """The published examples send the version as a string ("1")."""
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            return int(value)
        if isinstance(value, bool):
            raise ValueError("must be a positive integer, not a boolean")
        return value


class CnameItem(Contract):
    domainName: str
    sanList: list[str] = Field(default_factory=list)  # a [] default is deep-copied per item
    existing_cf_info: ExistingCfInfo | None = None


class CertificateFiles(Contract):
    """An imported certificate: a pemList item's files, and a renewal's."""

    CertPem: str
    PrivateKeyPem: SecretStr
    ChainPem: str

    @field_serializer("CertPem", "ChainPem")
    def _redact_certificates(self, value: str) -> str:
        """Certificates are public, but the bodies drown every listing."""
        count = value.count("-----BEGIN CERTIFICATE-----")
        return f"<redacted: {count} PEM certificate{'s' if count != 1 else ''}>"

    @field_serializer("PrivateKeyPem")
    def _redact_key(self, value: SecretStr) -> str:
        return "<redacted private key>"


class PemItem(CertificateFiles):
    existing_cf_info: ExistingCfInfo | None = None


class Options(Contract):
    """The request's top-level switches, checked apart from its items so a
    bad switch doesn't hide the items' own problems."""

    acm_op: Literal["create", "import"]
    auto_creation: bool
    dist_aggregate: bool = False
    enable_cname_check: bool = False

    @field_validator("auto_creation", "dist_aggregate", "enable_cname_check", mode="before")
    @classmethod
    def _documented_booleans(cls, value: Any) -> Any:
        """The API documents the strings "true"/"false"; JSON booleans are
        accepted too, and nothing else (no "yes", no 1)."""
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        got = f", got {quote(value)}" if quote(value) else ""
        raise ValueError(f'must be "true" or "false" (a string or a JSON boolean){got}')


class SslRequest(Options):
    cnameList: list[CnameItem] = []
    pemList: list[PemItem] = []


def location(loc: tuple[int | str, ...]) -> str:
    """``('cnameList', 1, 'sanList', 2)`` -> ``cnameList[1].sanList[2]``; a
    caller's unknown key is shown as any other value they sent would be."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            continue
        key = excerpt(part, quoted=False)
        text += f".{key}" if text else key
    return text


NESTED: dict[str, type[BaseModel]] = {
    "cnameList": CnameItem,
    "pemList": PemItem,
    "existing_cf_info": ExistingCfInfo,
    "certificate": CertificateFiles,  # a renewal's body
}


def model_for(loc: tuple[int | str, ...]) -> type[BaseModel]:
    """The model whose fields an error location's last key belongs to."""
    model: type[BaseModel] = SslRequest
    for part in loc[:-1]:
        model = NESTED.get(str(part), model)
    return model


def unknown_key_message(loc: tuple[int | str, ...]) -> str:
    allowed = list(model_for(loc).model_fields)
    key = str(loc[-1])
    by_case = [name for name in allowed if name.lower() == key.lower()]
    # difflib's cost grows with the key, and a long key is no typo of a short one.
    close = by_case or (
        difflib.get_close_matches(key, allowed, n=1, cutoff=0.6) if len(key) <= MAX_EXCERPT else []
    )
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown field; {hint}allowed here: {', '.join(allowed)}"


def describe(error: Any) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return Problem(location(loc), unknown_key_message(loc))
    if kind == "missing":
        return Problem(location(loc), "is required")
    if kind == "string_pattern_mismatch":
        return Problem(
            location(loc),
            "must be a CloudFront distribution id: 12 to 16 upper-case letters and digits "
            "starting with a letter, such as E195R1W5GIVPF5",
        )
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    shown = f" (got {quote(value)})" if kind != "value_error" and quote(value) else ""
    return Problem(location(loc), f"{message}{shown}")


def quote(value: Any) -> str:
    """A short rendering of a wrong scalar (see ``excerpt``), whatever field
    it landed in; "" for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return ""
    if isinstance(value, str):
        return excerpt(value)
    if abs(value) < 10**MAX_EXCERPT:
        return repr(value)
    return f"<a number of over {MAX_EXCERPT} digits>"


JSON_KINDS: dict[type, str] = {
    list: "a list",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}

ITEM_MODELS: dict[str, type[CnameItem] | type[PemItem]] = {
    "cnameList": CnameItem,
    "pemList": PemItem,
}


@dataclass
class Parsed:
    """What could be read of a request: the well-formed parts, with each
    item's position in its list, and the problems of the rest."""

    options: Options | None
    items: dict[str, list[tuple[int, CnameItem | PemItem]]]
    sizes: dict[str, int]  # items given per list, well formed or not
    problems: list[Problem]

    def request(self) -> SslRequest:
        assert self.options is not None and not self.problems
        lists = {key: [item for _, item in entries] for key, entries in self.items.items()}
        return SslRequest(**dict(self.options), **lists)


# What stands for a problem a refusal will only count (RequestRejected shows
# the first MAX_PROBLEMS), so a body with a million faults isn't described a
# million times.
UNSHOWN = Problem("", "not shown")


def validated(
    model: type[BaseModel], data: Any, prefix: tuple[int | str, ...], problems: list[Problem]
) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        errors = error.errors(include_url=False, include_input=True)
        room = max(MAX_PROBLEMS - len(problems), 0)
        problems.extend(describe({**e, "loc": (*prefix, *e["loc"])}) for e in errors[:room])
        problems.extend([UNSHOWN] * len(errors[room:]))
        return None


def parse_request(data: Any, max_items: int) -> Parsed:
    """Reads the request part by part, turning pydantic's errors into located
    problems that never echo a private key; name and certificate checks then
    run on every well-formed item, so one answer carries every problem.

    Items past ``max_items`` are counted, not read: the request is refused
    for its size and must be split anyway, and reading them would let one
    body cost work without bound."""
    if not isinstance(data, dict):
        kind = JSON_KINDS.get(type(data), type(data).__name__)
        problem = Problem("", f"the body must be a JSON object holding a request, not {kind}")
        empty: dict[str, list[tuple[int, CnameItem | PemItem]]] = {key: [] for key in ITEM_MODELS}
        return Parsed(None, empty, dict.fromkeys(ITEM_MODELS, 0), [problem])
    problems: list[Problem] = []
    head = {key: value for key, value in data.items() if key not in ITEM_MODELS}
    options = validated(Options, head, (), problems)
    items: dict[str, list[tuple[int, CnameItem | PemItem]]] = {}
    sizes: dict[str, int] = {}
    for key, model in ITEM_MODELS.items():
        entries = data.get(key, [])
        if not isinstance(entries, list):
            problems.append(Problem(key, "must be a list"))
            entries = []
        sizes[key] = len(entries)
        found = (
            (i, validated(model, entry, (key, i), problems))
            for i, entry in enumerate(entries[:max_items])
        )
        items[key] = [(i, item) for i, item in found if item is not None]
    return Parsed(options, items, sizes, problems)
