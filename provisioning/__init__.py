"""Custom domains on CloudFront, one Pulumi stack per job.

Data flows one way, and each package imports only those listed after it:

- ``cli`` / ``api``: the fronts (command line; HTTP routes and console).
- ``worker``: the supervisor that watches open jobs and the step process
  that runs one job's next update under a lease.
- ``actions``: what a caller does, shared by every front: admission,
  submit, preview, status, list, destroy, retry, renewal, pre-flight.
- ``events``: what happened to a job, its outbox and the delivery of it.
- ``engine``: the Automation API (workspaces, stacks), the Pulumi state
  read directly, and adoption of what an interrupted step made.
- ``jobs``: the job record and its states, the published record, the job
  store (local directory or DynamoDB) and sealed keys.
- ``templates``: template distributions' configurations, fetched, saved as
  numbered versions and pinned.
- ``program``: the Pulumi program and the pure data it is a function of.
- ``request``: a request body read and validated, nothing stored.
- ``service``, ``aws_clients``, ``settings``, ``errors``: the per-process
  context, AWS clients, configuration and the one exception tree.
- ``sandbox``: moto, the stand-in provider and the Pulumi CLI installer for
  machines without AWS.
"""
