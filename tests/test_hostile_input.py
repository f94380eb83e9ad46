"""Hostile request bodies: whatever the bytes, reading and validation answer
with a ValidRequest or a bounded RequestRejected that quotes no key
material, never another exception and never after quadratic work.

The property tests run a fixed, derandomised number of examples without a
database, so CI time is bounded and every run tries the same inputs.
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from provisioning.errors import MAX_EXCERPT, MAX_PROBLEMS, Problem, RequestRejected
from provisioning.request.pem import check_pem_item
from provisioning.request.reading import read_request_json
from provisioning.request.validation import ValidRequest, validate, validate_text
from tests.material import Issued, issue

# Long enough for any message the product writes; a quoted value can't stretch one.
MAX_MESSAGE = 400
MAX_LOCATION = 200
TEMPLATE = "E195R1W5GIVPF5"
REQUESTS = Path(__file__).parent.parent / "requests"
NOW = datetime.now(UTC)


def fixed(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@functools.cache
def material() -> Issued:
    """A real certificate, key and chain, made once: key generation is slow."""
    return issue(["shop.example.com", "www.shop.example.com"])


def create_request() -> dict[str, Any]:
    return {
        "acm_op": "create",
        "auto_creation": "true",
        "dist_aggregate": "false",
        "enable_cname_check": "false",
        "cnameList": [
            {
                "domainName": "shop.example.com",
                "sanList": ["www.shop.example.com"],
                "existing_cf_info": {"distribution_id": TEMPLATE, "config_version_id": "1"},
            }
        ],
    }


def import_request() -> dict[str, Any]:
    issued = material()
    return {
        "acm_op": "import",
        "auto_creation": "true",
        "cnameList": [],
        "pemList": [
            {
                "CertPem": issued.cert_pem,
                "PrivateKeyPem": issued.key_pem,
                "ChainPem": issued.chain_pem,
                "existing_cf_info": {"distribution_id": TEMPLATE, "config_version_id": 1},
            }
        ],
    }


def answer(body: str | bytes) -> ValidRequest | list[Problem]:
    """The outcome of validating ``body``, after checking that a refusal is
    bounded and printable; any other exception fails the test."""
    try:
        return validate_text(body)
    except RequestRejected as rejected:
        assert_bounded(rejected)
        return rejected.problems


def assert_bounded(rejected: RequestRejected) -> None:
    problems = rejected.problems
    assert 0 < len(problems) <= MAX_PROBLEMS + 1
    for problem in problems:
        assert len(problem.message) <= MAX_MESSAGE, problem
        assert len(problem.location) <= MAX_LOCATION, problem
        str(problem).encode("utf-8")  # printable on any terminal: no lone surrogates
    assert len(str(rejected)) <= (MAX_PROBLEMS + 1) * (MAX_MESSAGE + MAX_LOCATION + 4)


# Strategies ----------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
names = st.one_of(
    st.text(max_size=30),
    st.from_regex(r"(\*\.)?[A-Za-z0-9_ü-]{0,12}(\.[a-zA-Z0-9ß-]{0,10}){0,3}\.?", fullmatch=True),
    st.sampled_from(["", ".", "a..b", "1.2.3.4", "::1", "xn--bcher-kva.example", "x" * 300]),
)
pem_pieces = st.sampled_from(
    [
        "-----BEGIN CERTIFICATE-----",
        "-----END CERTIFICATE-----",
        "-----BEGIN PRIVATE KEY-----",
        "-----END PRIVATE KEY-----",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----END RSA PRIVATE KEY-----",
        "-----",
        "\n",
        "\\n",
        "Proc-Type: 4,ENCRYPTED\n",
        "MIIB",
        "MA==",
        "é",
        "AAAA",
    ]
)
pem_texts = st.one_of(
    st.lists(pem_pieces, max_size=12).map("".join),
    st.sampled_from(["cert", "key", "chain"]).map(lambda which: pem_of(material(), which)),
    st.text(max_size=40),
)


def pem_of(issued: Issued, which: str) -> str:
    return {"cert": issued.cert_pem, "key": issued.key_pem, "chain": issued.chain_pem}[which]


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A field's value: usually of the right kind, sometimes any JSON."""
    return st.one_of(strategy, strategy, json_values)


source_infos = st.fixed_dictionaries(
    {},
    optional={
        "distribution_id": maybe(st.sampled_from([TEMPLATE, "e195", ""])),
        "config_version_id": maybe(st.sampled_from([1, "2", 0, -1, "x", True, 1.5, "\u0661"])),
        "config_version": json_values,
    },
)
cname_items = st.fixed_dictionaries(
    {},
    optional={
        "domainName": maybe(names),
        "sanList": maybe(st.lists(maybe(names), max_size=5)),
        "existing_cf_info": maybe(source_infos),
        "domainname": json_values,
    },
)
pem_items = st.fixed_dictionaries(
    {},
    optional={
        "CertPem": maybe(pem_texts),
        "PrivateKeyPem": maybe(pem_texts),
        "ChainPem": maybe(pem_texts),
        "existing_cf_info": maybe(source_infos),
    },
)
requests = st.fixed_dictionaries(
    {},
    optional={
        "acm_op": maybe(st.sampled_from(["create", "import"])),
        "auto_creation": maybe(st.sampled_from(["true", "false", True, False, "TRUE"])),
        "dist_aggregate": maybe(st.sampled_from(["true", "false"])),
        "cnameList": maybe(st.lists(maybe(cname_items), max_size=4)),
        "pemList": maybe(st.lists(maybe(pem_items), max_size=2)),
        "cnamelist": json_values,
    },
)


# Any bytes -----------------------------------------------------------------


@fixed(300)
@given(st.binary(max_size=200))
def test_any_bytes_are_read_or_refused(body: bytes) -> None:
    answer(body)


@fixed(200)
@given(st.text(max_size=200))
def test_any_text_is_read_or_refused(body: str) -> None:
    answer(body)


@fixed(200)
@given(st.sampled_from(["create-one.json", "import-one-working.json"]), st.data())
def test_damaged_published_examples_are_read_or_refused(name: str, data: st.DataObject) -> None:
    """Valid bodies with bytes inserted, deleted or replaced: the faults
    arbitrary bytes rarely reach, deep inside a real request."""
    body = bytearray((REQUESTS / name).read_bytes())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(body)))
        cut = data.draw(st.integers(0, 3))
        body[at : at + cut] = data.draw(st.binary(max_size=3))
    answer(bytes(body))


# Any JSON ------------------------------------------------------------------


@fixed(300)
@given(json_values)
def test_json_of_any_shape_is_read_back_and_refused(value: Any) -> None:
    text = json.dumps(value)
    assert read_request_json(text) == value
    found = answer(text)
    assert isinstance(found, list)  # no JSON this strategy makes is a valid request
    if not isinstance(value, dict):
        assert found == [Problem("", found[0].message)]
        assert "must be a JSON object" in found[0].message


@fixed(300)
@given(requests)
def test_request_shaped_json_is_accepted_or_refused(request: dict[str, Any]) -> None:
    answer(json.dumps(request))


@pytest.mark.parametrize("body", ["[]", '"x"', "1", "-0.5", "null", "true", '""', "[{}]"])
def test_json_that_is_not_an_object_is_refused(body: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        validate_text(body)
    assert len(caught.value.problems) == 1
    assert "the body must be a JSON object holding a request, not " in str(caught.value)


@pytest.mark.parametrize(
    "value", [5, "cnameList", {"domainName": "a.example.com"}, None, [[]], [5], [None]]
)
def test_item_lists_of_the_wrong_shape_are_refused(value: Any) -> None:
    found = answer(json.dumps({"acm_op": "create", "auto_creation": "true", "cnameList": value}))
    assert isinstance(found, list)
    assert any(p.location.startswith("cnameList") for p in found)


# Depth and numbers -----------------------------------------------------------

DEEP = 100_000


@pytest.mark.parametrize(
    "body",
    [
        "[" * DEEP,
        "[" * DEEP + "]" * DEEP,
        '{"a":' * DEEP + "1" + "}" * DEEP,
        "[" * DEEP + ",]",  # takes the trailing-comma path too
        '{"acm_op": "create", "auto_creation": "true", "cnameList": ' + "[" * DEEP + "]" * DEEP,
    ],
    ids=["open", "closed", "objects", "trailing-comma", "in-a-field"],
)
def test_deep_nesting_is_refused(body: str) -> None:
    found = answer(body)
    assert isinstance(found, list)
    assert "nested too deeply" in found[0].message


@pytest.mark.parametrize("depth", [10, 100, 500])
def test_moderate_nesting_is_read_and_refused_by_field(depth: int) -> None:
    nested = "[" * depth + "]" * depth
    found = answer(json.dumps(create_request())[:-1] + f', "unknown": {nested}}}')
    assert isinstance(found, list)
    assert [p.location for p in found] == ["unknown"]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("1e999999", "the body holds the number '1e999999', too large for any request value"),
        ("-1e999999", "too large for any request value"),
        ("9" * 100_000, "the body holds a number of 100,000 characters; numbers have at most 100"),
        ("-" + "9" * 100_000, "a number of 100,001 characters"),
        ("1." + "5" * 100_000, "a number of 100,002 characters"),
        ("NaN", "the body holds NaN, which is not JSON"),
        ("Infinity", "the body holds Infinity, which is not JSON"),
        ("-Infinity", "the body holds -Infinity, which is not JSON"),
    ],
)
@pytest.mark.parametrize("where", ["body", "config_version_id", "domainName"])
def test_absurd_numbers_are_refused(number: str, message: str, where: str) -> None:
    request = create_request()
    if where == "config_version_id":
        request["cnameList"][0]["existing_cf_info"]["config_version_id"] = "NUMBER"
    elif where == "domainName":
        request["cnameList"][0]["domainName"] = "NUMBER"
    body = number if where == "body" else json.dumps(request).replace('"NUMBER"', number)
    found = answer(body)
    assert isinstance(found, list)
    assert len(found) == 1
    assert message in found[0].message
    assert len(found[0].message) < 200


def test_large_but_finite_numbers_are_ordinary_wrong_values() -> None:
    request = create_request()
    request["cnameList"][0]["domainName"] = 10**99
    found = answer(json.dumps(request))
    assert isinstance(found, list)
    assert [p.location for p in found] == ["cnameList[0].domainName"]
    assert "<a number of over 40 digits>" in found[0].message


# Long values and many of them ----------------------------------------------

MEGABYTE = 1_000_000


@pytest.mark.parametrize(
    "path",
    [
        ("acm_op",),
        ("auto_creation",),
        ("cnameList", 0, "domainName"),
        ("cnameList", 0, "sanList", 0),
        ("cnameList", 0, "existing_cf_info", "distribution_id"),
        ("cnameList", 0, "existing_cf_info", "config_version_id"),
    ],
)
@pytest.mark.parametrize("char", ["x", "ü", "\ud800"], ids=["ascii", "unicode", "surrogate"])
def test_long_values_are_quoted_as_short_excerpts(path: tuple[str | int, ...], char: str) -> None:
    request = create_request()
    set_at(request, path, "a" + char * MEGABYTE)
    found = answer(json.dumps(request))
    assert isinstance(found, list)
    assert found
    for problem in found:
        assert char * (MAX_EXCERPT + 1) not in str(problem)


def test_long_unknown_key_is_shown_as_an_excerpt() -> None:
    request = create_request()
    request["cnameList"][0]["k" * MEGABYTE] = 1
    found = answer(json.dumps(request))
    assert isinstance(found, list)
    assert [p.location for p in found] == ["cnameList[0]." + repr("k" * MAX_EXCERPT + "…")]


def test_many_unknown_keys_give_a_bounded_answer() -> None:
    request = create_request() | {f"unknown{n}": n for n in range(100_000)}
    found = answer(json.dumps(request))
    assert isinstance(found, list)
    assert len(found) == MAX_PROBLEMS + 1
    assert found[0].location == "unknown0"
    assert found[-1] == Problem("", f"{100_000 - MAX_PROBLEMS:,} more problems found, not shown")


def test_many_bad_names_give_the_first_problems_and_a_count() -> None:
    request = create_request()
    request["cnameList"][0]["sanList"] = [f"bad_{n}.example.com" for n in range(80)]
    found = answer(json.dumps(request))
    assert isinstance(found, list)
    assert [p.location for p in found[:MAX_PROBLEMS]] == [
        f"cnameList[0].sanList[{n}]" for n in range(MAX_PROBLEMS)
    ]
    assert found[-1] == Problem("", "30 more problems found, not shown")


def test_refusal_lists_every_problem_up_to_the_limit() -> None:
    problems = [Problem(f"p{n}", "bad") for n in range(MAX_PROBLEMS)]
    assert RequestRejected(problems).problems == problems
    one_more = RequestRejected([*problems, Problem("last", "bad")]).problems
    assert one_more == [*problems, Problem("", "1 more problem found, not shown")]


SIXTY_THOUSAND = 60_000


def test_sixty_thousand_names_in_one_item_are_refused() -> None:
    sans = [f"name{n}.example.com" for n in range(SIXTY_THOUSAND - 1)]
    request = create_request()
    request["cnameList"][0]["sanList"] = sans
    with pytest.raises(RequestRejected) as caught:
        validate_text(json.dumps(request))
    assert caught.value.problems == [
        Problem(
            "cnameList[0].sanList",
            "60,000 distinct names; one certificate holds at most 100 (ACM's limit); "
            "split them over several items",
        )
    ]


def test_sixty_thousand_names_in_as_many_items_are_refused() -> None:
    item = create_request()["cnameList"][0]
    items = [item | {"domainName": f"n{n}.example.com", "sanList": []} for n in range(60_000)]
    with pytest.raises(RequestRejected) as caught:
        validate_text(json.dumps(create_request() | {"cnameList": items}))
    assert caught.value.problems == [
        Problem(
            "cnameList",
            "60,000 items; at most 100 per request, so ACM and CloudFront don't throttle the "
            "job; split the request",
        )
    ]


def test_repeated_names_are_kept_once_in_request_order() -> None:
    request = create_request()
    request["cnameList"][0]["sanList"] = ["b.example.com", "shop.example.com"] * 5_000
    valid = validate(request)
    assert valid.items[0].names == ("shop.example.com", "b.example.com")


# Key material ----------------------------------------------------------------


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    """Every place in a request a value can be put: each field and item,
    containers included."""
    if isinstance(value, dict | list):
        children = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in children:
            yield (*prefix, key)
            yield from paths(child, (*prefix, key))


def set_at(request: Any, path: tuple[str | int, ...], value: Any) -> None:
    for part in path[:-1]:
        request = request[part]
    request[path[-1]] = value


@functools.cache
def pasted_key() -> tuple[str, list[str]]:
    """A real private key, not the one in the request, and the lines of its
    body: none of which may appear in any answer."""
    key = issue(["pasted.example.com"], key="rsa2048").key_pem
    return key, [line for line in key.splitlines() if line and not line.startswith("-----")]


def pasted_forms() -> dict[str, str]:
    key, body = pasted_key()
    return {
        "pem": key,
        "escaped": key.replace("\n", "\\n"),  # as pasted through a JSON-escaping tool
        "one-line": key.replace("\n", " "),
        "bare-base64": "".join(body),
        "body-line": body[0],
    }


def paste_cases() -> Iterator[Any]:
    for kind, request in (("create", create_request()), ("import", import_request())):
        wrong_list = ("pemList" if kind == "create" else "cnameList",)
        for path in [*paths(request), wrong_list]:
            for form in pasted_forms():
                where = ".".join(map(str, path))
                yield pytest.param(kind, path, form, id=f"{kind}:{where}:{form}")


@pytest.mark.parametrize(("kind", "path", "form"), list(paste_cases()))
def test_a_pasted_private_key_is_never_echoed(
    kind: str, path: tuple[str | int, ...], form: str
) -> None:
    request = create_request() if kind == "create" else import_request()
    set_at(request, path, pasted_forms()[form])
    assert_no_key_lines(request)


@pytest.mark.parametrize("kind", ["create", "import"])
def test_a_private_key_as_a_field_name_is_never_echoed(kind: str) -> None:
    request = create_request() if kind == "create" else import_request()
    items = request["cnameList" if kind == "create" else "pemList"]
    items[0][pasted_key()[0]] = "x"
    request[pasted_key()[0]] = "y"
    assert_no_key_lines(request)


def assert_no_key_lines(request: dict[str, Any]) -> None:
    _, lines = pasted_key()
    with pytest.raises(RequestRejected) as caught:
        validate_text(json.dumps(request))
    told = (str(caught.value) + repr(caught.value.problems)).lower()
    for line in lines:
        assert line.lower() not in told
        assert line[:MAX_EXCERPT].lower() not in told


# PEM parsing -----------------------------------------------------------------

LAZY_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)


@fixed(500)
@given(
    st.lists(
        st.sampled_from(
            [
                "-----BEGIN A-----",
                "-----END A-----",
                "-----BEGIN B-----",
                "-----END B-----",
                "-",
                "-----",
                "BEGIN ",
                "END ",
                "A",
                " ",
                "x",
            ]
        ),
        max_size=16,
    ).map("".join)
)
def test_pem_blocks_are_those_the_lazy_pattern_finds(text: str) -> None:
    """The linear scan finds exactly the blocks the quadratic regex it
    replaced did: the chain's check names each one, in order, as being no
    certificate."""
    labels = [m.group(1) for m in LAZY_BLOCK.finditer(text)]
    item = material()
    _, problems = check_pem_item(
        "p", item.cert_pem, item.key_pem, text, for_cloudfront=True, now=NOW
    )
    told = [problem.message for problem in problems if problem.location == "p.ChainPem"]
    if not labels:
        assert len(told) == 1
        assert told[0].startswith(("is empty", "holds no PEM block"))
    elif len(labels) == 1:
        assert told == [f"is a {labels[0]} block, not a CERTIFICATE"]
    else:
        assert told == [
            f"certificate {n} is a {label} block, not a CERTIFICATE"
            for n, label in enumerate(labels, 1)
        ]


def reencoded(pem_text: str, der: bytes) -> str:
    label = pem_text.split("-----")[1].removeprefix("BEGIN ")
    body = base64.encodebytes(der).decode()
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n"


def der_of(pem_text: str) -> bytes:
    return base64.b64decode("".join(pem_text.strip().splitlines()[1:-1]))


@fixed(400)
@given(
    st.sampled_from(["cert", "key", "chain"]),
    st.lists(
        st.tuples(st.integers(0, 2_000), st.integers(0, 2), st.binary(max_size=3)), max_size=4
    ),
    st.booleans(),
)
def test_damaged_der_is_refused_not_raised(
    which: str, edits: list[tuple[int, int, bytes]], for_cloudfront: bool
) -> None:
    """Real DER with bytes replaced, cut or added: cryptography reads some
    of it lazily, so faults can surface long after loading succeeded."""
    issued = material()
    texts = {"cert": issued.cert_pem, "key": issued.key_pem, "chain": issued.chain_pem}
    der = bytearray(der_of(texts[which]))
    for at, cut, replacement in edits:
        at %= len(der)
        der[at : at + cut] = replacement
    texts[which] = reencoded(texts[which], bytes(der))
    facts, problems = check_pem_item(
        "pemList[0]",
        texts["cert"],
        texts["key"],
        texts["chain"],
        for_cloudfront=for_cloudfront,
        now=NOW,
    )
    assert facts is not None or problems
