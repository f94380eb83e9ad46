"""The request contract: reading, the model, normalisation and every check
that refuses bad input before anything reaches AWS."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from provisioning.errors import RequestRejected
from provisioning.request.reading import read_request_json
from provisioning.request.validation import validate, validate_text

REQUESTS = Path(__file__).parent.parent / "requests"
PUBLISHED_CREATE = ["create-one-with-version.json", "create-one.json", "create-two.json"]
PUBLISHED_IMPORT = ["import-one.json", "import-two.json"]


def create_request(*items: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"acm_op": "create", "auto_creation": "true", "cnameList": list(items), **top}


def cname(
    domain: str, *sans: str, dist: str | None = "E195R1W5GIVPF5", **info: Any
) -> dict[str, Any]:
    item: dict[str, Any] = {"domainName": domain, "sanList": list(sans)}
    if dist is not None:
        item["existing_cf_info"] = {"distribution_id": dist, **info}
    return item


def problems(data: Any) -> dict[str, str]:
    with pytest.raises(RequestRejected) as caught:
        validate(data)
    return {p.location: p.message for p in caught.value.problems}


# Reading ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["create-one.json", "create-two.json"])
def test_published_examples_read_despite_trailing_commas(name: str) -> None:
    text = (REQUESTS / name).read_text()
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    assert read_request_json(text) == json.loads(text.replace(",\n}", "\n}"))


def test_trailing_comma_inside_a_string_is_kept() -> None:
    assert read_request_json('{"a": "x,}", "b": [1, 2,],}') == {"a": "x,}", "b": [1, 2]}


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("{\n  \"acm_op\": 'create'\n}", "line 2 column 13"),
        ('{"acm_op": "create" // comment\n}', "line 1 column 21"),
        ('{"a": [1,,]}', "line 1 column"),
        ("", "line 1 column 1"),
    ],
)
def test_other_non_json_is_refused_with_line_and_column(body: str, where: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        read_request_json(body)
    assert where in caught.value.problems[0].message


def test_non_utf8_body_is_refused() -> None:
    with pytest.raises(RequestRejected, match="not UTF-8"):
        read_request_json(b'{"acm_op": "\xff"}')


# The model -----------------------------------------------------------------


@pytest.mark.parametrize("name", PUBLISHED_CREATE)
def test_published_create_examples_validate_unchanged(name: str) -> None:
    valid = validate_text((REQUESTS / name).read_bytes())
    assert valid.acm_op == "create"
    assert valid.auto_creation is True
    assert all(
        item.template and item.template.distribution_id == "E195R1W5GIVPF5" for item in valid.items
    )


def test_config_version_id_string_becomes_number() -> None:
    valid = validate_text((REQUESTS / "create-one-with-version.json").read_bytes())
    assert valid.items[0].template is not None
    assert valid.items[0].template.config_version_id == 1


@pytest.mark.parametrize("value", ["true", "TRUE", True, "false", False])
def test_auto_creation_strings_and_booleans(value: Any) -> None:
    valid = validate(create_request(cname("a.example.com"), auto_creation=value))
    assert valid.auto_creation is (str(value).lower() == "true")


@pytest.mark.parametrize("value", ["yes", 1, None, "1"])
def test_auto_creation_other_values_refused(value: Any) -> None:
    found = problems(create_request(cname("a.example.com"), auto_creation=value))
    assert '"true" or "false"' in found["auto_creation"]


def test_optional_published_flags_accepted() -> None:
    valid = validate(
        create_request(cname("a.example.com"), dist_aggregate="false", enable_cname_check="true")
    )
    assert valid.request.enable_cname_check is True


@pytest.mark.parametrize(
    ("mutate", "where", "hint"),
    [
        (lambda r: r.update(cnamelist=r.pop("cnameList")), "cnamelist", "did you mean 'cnameList'"),
        (lambda r: r.update(acm_opp="create"), "acm_opp", "did you mean 'acm_op'"),
        (
            lambda r: r["cnameList"][0].update(domainname="x.com"),
            "cnameList[0].domainname",
            "'domainName'",
        ),
        (
            lambda r: r["cnameList"][0]["existing_cf_info"].update(config_version="1"),
            "cnameList[0].existing_cf_info.config_version",
            "'config_version_id'",
        ),
    ],
)
def test_unknown_keys_are_refused_with_a_hint(mutate: Any, where: str, hint: str) -> None:
    request = create_request(cname("a.example.com"))
    mutate(request)
    found = problems(request)
    assert where in found
    assert hint in found[where]


def test_acm_op_must_be_create_or_import() -> None:
    found = problems(create_request(cname("a.example.com"), acm_op="delete"))
    assert "'create' or 'import'" in found["acm_op"]
    assert "'delete'" in found["acm_op"]


@pytest.mark.parametrize(
    "dist", ["e195r1w5givpf5", "E195", "E195R1W5GIVPF5X99", "", "E195R1W5-IVPF5"]
)
def test_distribution_id_format(dist: str) -> None:
    found = problems(create_request(cname("a.example.com", dist=dist)))
    assert "CloudFront distribution id" in found["cnameList[0].existing_cf_info.distribution_id"]


@pytest.mark.parametrize("version", [3, "3", " 3"])
def test_config_version_id_positive_integer_accepted(version: Any) -> None:
    valid = validate(create_request(cname("a.example.com", config_version_id=version)))
    assert valid.items[0].template is not None
    assert valid.items[0].template.config_version_id == 3


@pytest.mark.parametrize("version", [0, -1, "0", "one", 1.5, True, "\u00b2", "\u0661"])
def test_config_version_id_other_values_refused(version: Any) -> None:
    found = problems(create_request(cname("a.example.com", config_version_id=version)))
    assert "cnameList[0].existing_cf_info.config_version_id" in found


def test_existing_cf_info_required_with_auto_creation() -> None:
    found = problems(create_request(cname("a.example.com"), cname("b.example.com", dist=None)))
    assert found == {"cnameList[1].existing_cf_info": "is required when auto_creation is true"}


def test_existing_cf_info_optional_without_auto_creation() -> None:
    valid = validate(create_request(cname("a.example.com", dist=None), auto_creation="false"))
    assert valid.items[0].template is None


def test_create_needs_items_and_no_pems() -> None:
    found = problems(
        {"acm_op": "create", "auto_creation": "true", "cnameList": [], "pemList": [{}]}
    )
    assert "at least one item" in found["cnameList"]
    assert "must be empty" in found["pemList"]


def test_import_needs_pems() -> None:
    found = problems({"acm_op": "import", "auto_creation": "true", "cnameList": [], "pemList": []})
    assert "at least one item in pemList" in found["pemList"]


# Names ---------------------------------------------------------------------


def test_names_are_normalised_and_deduplicated_with_domain_first() -> None:
    request = create_request(
        cname("Shop.Example.COM.", "www.shop.example.com", "SHOP.example.com", "Bücher.example.com")
    )
    valid = validate(request)
    assert valid.items[0].names == (
        "shop.example.com",
        "www.shop.example.com",
        "xn--bcher-kva.example.com",
    )
    assert valid.request.cnameList[0].sanList == list(valid.items[0].names)
    assert validate(copy.deepcopy(request)) == valid


def test_published_duplicate_alias_is_dropped() -> None:
    valid = validate_text((REQUESTS / "create-two.json").read_bytes())
    assert valid.items[1].names == ("yourdomainname2.com", "yourdomainname2alias1.com")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        ("localhost", "not fully qualified"),
        ("a..example.com", "empty label"),
        ("-a.example.com", "invalid label"),
        ("a_b.example.com", "invalid label"),
        ("a" * 64 + ".example.com", "64 characters"),
        (("a" * 60 + ".") * 4 + "example.com", "at most 253"),
        ("www.*.example.com", "wildcard"),
        ("*foo.example.com", "wildcard"),
        ("192.0.2.1", "IP address"),
        ("2001:db8::1", "IP address"),
        ("example.123", "numeric"),
        ("bü cher.example.com", "disallowed codepoint, U+0020 at position 3 of its label"),
        ("b\u00fc\u200dcher.example.com", "U+200D at position 3"),
    ],
)
def test_invalid_names_refused(name: str, reason: str) -> None:
    found = problems(create_request(cname("good.example.com", name)))
    assert reason in found["cnameList[0].sanList[0]"]


@pytest.mark.parametrize(
    "name", ["*.example.com", "a-b.example.com", "x" * 63 + ".example.com", "xn--bcher-kva.example"]
)
def test_valid_names_accepted(name: str) -> None:
    assert name in validate(create_request(cname("good.example.com", name))).items[0].names


def test_name_problems_quote_only_a_short_excerpt() -> None:
    long_label = "ü" + "x" * 300
    found = problems(create_request(cname("good.example.com", f"{long_label}.example.com")))
    assert found["cnameList[0].sanList[0]"] == (
        f"{('ü' + 'x' * 39 + '…')!r} is 313 characters long; at most 253 are allowed"
    )


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        create_request(
            cname("bad_name.example.com", "1.2.3.4"), cname("ok.example.com", dist="bad")
        )
    )
    assert set(found) == {
        "cnameList[0].domainName",
        "cnameList[0].sanList[0]",
        "cnameList[1].existing_cf_info.distribution_id",
    }


# Counts --------------------------------------------------------------------


def test_at_most_100_items_by_default() -> None:
    assert (
        len(validate(create_request(*[cname(f"n{i}.example.com") for i in range(100)])).items)
        == 100
    )
    found = problems(create_request(*[cname(f"n{i}.example.com") for i in range(101)]))
    assert "101 items; at most 100" in found["cnameList"]


def test_item_limit_is_configurable() -> None:
    with pytest.raises(RequestRejected) as caught:
        validate(create_request(*[cname(f"n{i}.example.com") for i in range(3)]), max_items=2)
    assert "3 items; at most 2" in caught.value.problems[0].message


def test_at_most_100_names_per_certificate() -> None:
    sans = [f"s{i}.example.com" for i in range(99)]
    assert len(validate(create_request(cname("a.example.com", *sans))).items[0].names) == 100
    found = problems(create_request(cname("a.example.com", *sans, "one-more.example.com")))
    assert "101 distinct names" in found["cnameList[0].sanList"]


def test_same_name_in_two_items_refused() -> None:
    found = problems(
        create_request(cname("a.example.com"), cname("b.example.com", "A.example.com."))
    )
    assert found == {
        "cnameList[1]": "'a.example.com' is also in cnameList[0]; each name may appear in one item"
    }


# Published import examples -------------------------------------------------


@pytest.mark.parametrize("name", PUBLISHED_IMPORT)
def test_published_import_examples_refused_as_placeholders(name: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        validate_text((REQUESTS / name).read_bytes())
    found = {p.location: p.message for p in caught.value.problems}
    assert "placeholder" in found["pemList[0].CertPem"]
    assert "placeholder" in found["pemList[0].PrivateKeyPem"]
    assert "placeholder" in found["pemList[0].ChainPem"]


@pytest.mark.parametrize("name", ["import-one-working.json", "import-two-working.json"])
def test_working_import_variants_validate(name: str) -> None:
    valid = validate_text((REQUESTS / name).read_bytes())
    assert valid.acm_op == "import"
    assert all(item.names and item.imported for item in valid.items)
    key = json.loads((REQUESTS / name).read_text())["pemList"][0]["PrivateKeyPem"]
    assert key not in repr(valid)
    assert key not in valid.request.model_dump_json()
