"""One shape for every refusal, so the command line, the HTTP shim and the
job runner report bad input the same way: where it is and what is allowed."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """A single thing wrong with a request.

    ``location`` points into the request as a caller wrote it, for example
    ``cnameList[1].sanList[2]`` or ``pemList[0].ChainPem``; ``message`` says
    what is wrong and what is allowed, and never quotes key material.
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class RequestRejected(Exception):
    """Raised with every problem found, never just the first, so a caller can
    fix a request in one round trip."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems
