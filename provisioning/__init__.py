"""Custom domains on CloudFront, one Pulumi stack per job.

Data flows one way, and each package imports only those listed after it:

- ``cli`` / ``api``: the fronts (command line; HTTP routes and console).
- ``worker``: the supervisor that watches open jobs and the step process
  that runs one job's next update under a lease.
- ``actions``: what a caller does, shared by every front: admission,
  submit, preview, status, list, destroy, retry, renewal, pre-flight.
- ``events``: what happened to a job, its outbox and the delivery of it.
- ``service``: the per-process context (settings, job store, Pulumi
  backend, AWS clients), made once and passed down.
- ``engine``: the Automation API (workspaces, stacks), the Pulumi state
  read directly, and adoption of what an interrupted step made.
- ``jobs``: the job record and its states, the published record, the job
  store (local directory or DynamoDB) and sealed keys.
- ``templates``: template distributions' configurations, fetched, saved as
  numbered versions and pinned.
- ``program``: the Pulumi program and the pure data it is a function of.
- ``request``: a request body read and validated, nothing stored.
- ``aws_clients``, ``settings``, ``errors``: AWS clients, configuration and
  the one exception tree.

Beside them, ``sandbox`` (moto, the stand-in provider, the Pulumi CLI
installer) stands in for what a machine without AWS lacks: the command
line's ``sandbox`` command and the tests use it; it uses only ``templates``
(to save the example templates) and nothing of the service imports it.
"""
