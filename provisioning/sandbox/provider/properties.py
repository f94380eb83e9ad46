"""Pulumi's wire encoding of property values: Structs to plain values and
back, secrets and unknowns, and keeping key material out of error text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from google.protobuf import json_format, struct_pb2

Props = dict[str, Any]

# Pulumi's wire encoding of special values inside a Struct.
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_PEM_BLOCK = re.compile(r"-----BEGIN [^-]+-----.*?-----END [^-]+-----", re.DOTALL)
_PEM_TAIL = re.compile(r"-----BEGIN.*", re.DOTALL)


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
