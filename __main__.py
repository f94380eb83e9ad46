"""`pulumi up` on this project: runs the request file named in stack config.

pulumi config set requestFile requests/create-one.json
pulumi up
"""

from pathlib import Path

import pulumi

from provisioning import program, stacks
from provisioning.errors import RequestRejected

config = pulumi.Config()
try:
    spec = stacks.project_spec(
        job_id=pulumi.get_stack(),
        request_file=Path(config.require("requestFile")),
        minimum_protocol_version=config.get("minimumProtocolVersion"),
    )
except RequestRejected as rejected:
    raise pulumi.RunError(
        "the request was refused:\n" + "\n".join(f"  {p}" for p in rejected.problems)
    ) from None
program.run(spec)
