"""Reading a request body.

The published API page shows its examples with trailing commas, and callers
paste them as they are, so a body that differs from JSON only by trailing
commas is accepted. Nothing else non-JSON is: no comments, no single quotes.
"""

from __future__ import annotations

import json
import math
from typing import Any

from provisioning.errors import Problem, ProvisioningError, RequestRejected, excerpt

MAX_NUMBER_LENGTH = 100  # characters; a request's only number is a small version id


def without_trailing_commas(text: str) -> str:
    """Blanks each comma that only whitespace separates from a closing bracket,
    outside strings. A blank keeps every line and column where it was, so a
    later JSON error still points at the caller's own text."""
    out = list(text)
    in_string = escaped = False
    pending: int | None = None
    for index, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string, pending = True, None
        elif char == ",":
            pending = index
        elif char in "}]":
            if pending is not None:
                out[pending] = " "
            pending = None
        elif not char.isspace():
            pending = None
    return "".join(out)


class _Unreadable(ProvisioningError, ValueError):
    """A fault json.loads can't locate for us, such as a number too big;
    only ever caught here, and turned into a refusal."""


def _short(text: str) -> str:
    if len(text) > MAX_NUMBER_LENGTH:
        raise _Unreadable(
            f"holds a number of {len(text):,} characters; numbers have at most {MAX_NUMBER_LENGTH}"
        )
    return text


def _integer(text: str) -> int:
    return int(_short(text))


def _decimal(text: str) -> float:
    value = float(_short(text))
    if not math.isfinite(value):
        raise _Unreadable(f"holds the number {excerpt(text)}, too large for any request value")
    return value


def _constant(text: str) -> float:
    raise _Unreadable(f"holds {text}, which is not JSON")


def _loads(text: str) -> Any:
    return json.loads(text, parse_int=_integer, parse_float=_decimal, parse_constant=_constant)


def read_request_json(text: str | bytes) -> Any:
    """Parses a request body, refusing anything but JSON (plus trailing
    commas) with the line and column of the first fault. Numbers are bounded
    because Python would spend quadratic time converting a long one, and
    nesting because the parser recurses."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RequestRejected(
                [Problem("", f"the body is not UTF-8 text (byte {error.start} is invalid)")]
            ) from None
    try:
        try:
            return _loads(text)
        except json.JSONDecodeError:
            pass  # most bodies are strict JSON; only the others pay for the comma scan
        return _loads(without_trailing_commas(text))
    except json.JSONDecodeError as error:
        message = f"not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"
    except _Unreadable as error:
        message = f"the body {error}"
    except RecursionError:
        message = "the body is nested too deeply to read; a request nests four levels at most"
    raise RequestRejected([Problem("", message)]) from None
