"""`pulumi up` on this project: runs the request file named in stack config.

pulumi config set requestFile requests/create-one.json
pulumi up
"""

from pathlib import Path

import pulumi

from provisioning.actions.admission import request_file_spec
from provisioning.errors import RequestRejected
from provisioning.program import resources
from provisioning.service import Service
from provisioning.settings import ConfigurationError, load

config = pulumi.Config()
minimum = config.get("minimumProtocolVersion")
try:
    settings = load(**({"minimum_protocol_version": minimum} if minimum else {}))
    spec = request_file_spec(
        pulumi.get_stack(), Path(config.require("requestFile")), Service.start(settings)
    )
except ConfigurationError as error:
    raise pulumi.RunError(str(error)) from None
except RequestRejected as rejected:
    raise pulumi.RunError(
        "the request was refused:\n" + "\n".join(f"  {p}" for p in rejected.problems)
    ) from None
resources.run(spec)
