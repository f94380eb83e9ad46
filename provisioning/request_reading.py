"""Reading a request body.

The published API page shows its examples with trailing commas, and callers
paste them as they are, so a body that differs from JSON only by trailing
commas is accepted. Nothing else non-JSON is: no comments, no single quotes.
"""

from __future__ import annotations

import json
from typing import Any

from provisioning.errors import Problem, RequestRejected


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


def read_request_json(text: str | bytes) -> Any:
    """Parses a request body, refusing anything but JSON (plus trailing
    commas) with the line and column of the first fault."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise RequestRejected(
                [Problem("", f"the body is not UTF-8 text (byte {error.start} is invalid)")]
            ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass  # most bodies are strict JSON; only the others pay for the comma scan
    try:
        return json.loads(without_trailing_commas(text))
    except json.JSONDecodeError as error:
        raise RequestRejected(
            [
                Problem(
                    "", f"not valid JSON at line {error.lineno} column {error.colno}: {error.msg}"
                )
            ]
        ) from None
