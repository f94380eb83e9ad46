"""A job's lifecycle record, and every way it changes, as named transitions.

Each transition returns the changed record and does nothing else (no I/O):
the callers decide whether a transition applies and write the result with
``change``, which decides again on a newer record when another write won.
What a transition sets and what it leaves is said here once, not in each
caller.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import BaseModel

from provisioning.jobs.states import OPEN_PHASES, Phase, retry_delay


class Lease(BaseModel):
    """A step's claim on a job: who holds it and until when (epoch seconds).
    Its holder renews it while the step runs; once it lapses, any instance
    may take the job over."""

    owner: str
    expires: float

    def held(self, now: float | None = None) -> bool:
        return self.expires > (time.time() if now is None else now)


class JobRecord(BaseModel):
    jobId: str
    jobType: str
    creationDate: str
    job_input: dict[str, Any]
    items: int  # certificates the job makes (one per request item)
    auto_creation: bool
    phase: Phase = Phase.QUEUED
    error: str | None = None  # why the job failed, in words a caller can act on
    item_errors: dict[str, str] = {}  # item key -> why that item failed
    lease: Lease | None = None
    # A step began and has not ended cleanly: the next one looks for
    # resources the interrupted one may have made.
    interrupted: bool = False
    # News from AWS: the next update re-reads certificates and distributions.
    refresh: bool = False
    # Item key -> the blob of its renewed certificate, for the next step.
    renewals: dict[str, str] = {}
    # Why the last look at AWS for news failed (None once one succeeds), how
    # many failed in a row, and when (epoch seconds) to look again.
    check_error: str | None = None
    check_failures: int = 0
    next_check: float = 0.0
    version: int = 0
    updated: str = ""

    @property
    def open(self) -> bool:
        return self.phase in OPEN_PHASES

    def leased(self) -> bool:
        return self.lease is not None and self.lease.held()

    def stamped(self, at: str) -> JobRecord:
        """As the store writes it: the next version, written ``at``."""
        return self.model_copy(update={"version": self.version + 1, "updated": at})

    # A step's lease.

    def claimed(self, owner: str, expires: float) -> JobRecord:
        """Taken by a step. A job being deleted stays so; any other runs. A
        lease found (lapsed) or a job left running means the last step died:
        ``interrupted`` says so until a step ends cleanly."""
        return self.model_copy(
            update={
                "lease": Lease(owner=owner, expires=expires),
                "interrupted": self.interrupted
                or self.phase == Phase.RUNNING
                or self.lease is not None,
                "phase": Phase.DESTROYING if self.phase == Phase.DESTROYING else Phase.RUNNING,
            }
        )

    def lease_renewed(self, expires: float) -> JobRecord:
        """The holder's lease, until ``expires``; only a held lease is renewed."""
        if self.lease is None:
            raise ValueError(f"job {self.jobId} has no lease to renew")
        return self.model_copy(update={"lease": Lease(owner=self.lease.owner, expires=expires)})

    def released(self, applied: Mapping[str, str]) -> JobRecord:
        """A step's end, after its outcome: the lease given up, the step
        ended cleanly, the renewals it ``applied`` (item key -> blob) done
        with. A renewal that came meanwhile sends the job to another step."""
        renewals = {k: v for k, v in self.renewals.items() if applied.get(k) != v}
        phase = self.phase
        if renewals and phase in (Phase.DONE, Phase.WAITING):
            phase = Phase.QUEUED
        return self.model_copy(
            update={"lease": None, "interrupted": False, "renewals": renewals, "phase": phase}
        )

    # A step's outcomes, each followed by ``released``.

    def update_succeeded(self, ended: bool, item_errors: Mapping[str, str]) -> JobRecord:
        """The update ran: done once every item ended, else waiting for news;
        ``item_errors`` are the items' failures; whatever failed before,
        AWS answered, so the news it had is read and the backoff starts over."""
        return self.checks_cleared().model_copy(
            update={
                "phase": self.after_step(Phase.DONE if ended else Phase.WAITING),
                "error": None,
                "item_errors": dict(item_errors),
                "refresh": False,
            }
        )

    def deferred(self, reason: str, now: float, poll_seconds: float) -> JobRecord:
        """AWS out of reach is no failure of the job: it waits, saying why,
        to be refreshed by a step after the backoff's longer wait."""
        return self.check_failed(reason, now, poll_seconds).model_copy(
            update={"phase": self.after_step(Phase.WAITING), "refresh": True}
        )

    def failed(self, error: str) -> JobRecord:
        """The job failed as a whole; ``error`` says why, for the caller."""
        return self.model_copy(update={"phase": self.after_step(Phase.FAILED), "error": error})

    def after_step(self, phase: Phase) -> Phase:
        """A deletion asked for while a step ran is never undone by its
        outcome: the next step carries it out."""
        return Phase.DESTROYING if self.phase == Phase.DESTROYING else phase

    # Looks at AWS for news, by the watcher or a step.

    def checks_cleared(self) -> JobRecord:
        """AWS answered: no failure to report, no backoff to wait out."""
        return self.model_copy(update={"check_error": None, "check_failures": 0, "next_check": 0.0})

    def check_failed(self, reason: str, now: float, poll_seconds: float) -> JobRecord:
        """A look failed: ``reason`` is shown on the job, and the next look
        waits twice as long as the last (``retry_delay``)."""
        failures = self.check_failures + 1
        return self.model_copy(
            update={
                "check_error": reason,
                "check_failures": failures,
                "next_check": now + retry_delay(poll_seconds, failures),
            }
        )

    def news_found(self, news: bool, failures: Mapping[str, str]) -> JobRecord:
        """The watcher's look succeeded: with ``news`` the next step
        refreshes; items AWS reports failed (key -> reason) are recorded."""
        return self.checks_cleared().model_copy(
            update={
                "refresh": self.refresh or news,
                "item_errors": {**self.item_errors, **failures},
            }
        )

    # What a caller asks for.

    def retried(self, keys: Collection[str]) -> JobRecord:
        """The items ``keys`` (and a job failed as a whole) run again: their
        failures cleared, the job queued for a refreshing step."""
        return self.checks_cleared().model_copy(
            update={
                "phase": Phase.QUEUED,
                "error": None,
                "item_errors": {k: v for k, v in self.item_errors.items() if k not in keys},
                "refresh": True,
            }
        )

    def renewal_queued(self, key: str, blob: str) -> JobRecord:
        """Item ``key``'s renewed certificate, in ``blob``, for the next step.
        A running step's release, decided on an older version, is decided
        again and sees it: the job then goes to another step; a job no step
        holds is queued."""
        renewals = {**self.renewals, key: blob}
        if self.leased():
            return self.model_copy(update={"renewals": renewals})
        return self.model_copy(update={"renewals": renewals, "phase": Phase.QUEUED, "error": None})

    def destroy_requested(self) -> JobRecord:
        """Whatever the job does: a step running sees it when its update ends
        and destroys the job itself; otherwise a new step does."""
        return self.model_copy(update={"phase": Phase.DESTROYING})
