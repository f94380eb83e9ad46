"""Running a job's failed items again, and only those. A failed item holds
nothing (the program leaves out the resources of items the job records as
failed, so its failed certificate is deleted); cleared of its failure, the
job's next step makes it anew, and every other item is left as it is. A job
that failed as a whole (an update AWS refused) is run again.
"""

from __future__ import annotations

from collections.abc import Callable

from provisioning.engine.state import stack_outputs
from provisioning.errors import JobConflict, UnknownJob
from provisioning.jobs.ids import valid_id
from provisioning.jobs.record import JobRecord
from provisioning.jobs.states import Phase, item_failed
from provisioning.jobs.store import change
from provisioning.program.outputs import items_of
from provisioning.service import Service


def retry(service: Service, job_id: str, launch: Callable[[str], None]) -> list[str]:
    """The keys of the items to be run again; the job goes to a step."""
    if not valid_id(job_id):
        raise UnknownJob(job_id)
    items = items_of(stack_outputs(service.backend, job_id))
    retried: list[str] = []

    def again(record: JobRecord) -> JobRecord:
        if record.phase == Phase.DESTROYING:
            raise JobConflict("the job is being deleted")
        if record.leased():
            raise JobConflict("a step of the job is running; retry once it ends")
        failed = [i.key for i in items if item_failed(i, record.item_errors)]
        failed += [key for key in record.item_errors if key not in failed]
        if not failed and record.phase != Phase.FAILED:
            raise JobConflict("nothing of the job has failed")
        retried[:] = failed
        return record.retried(failed)

    if change(service.store, job_id, again) is None:
        raise UnknownJob(job_id)
    launch(job_id)
    return retried
