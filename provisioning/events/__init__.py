"""What happened to a job, for its operator: the catalog of events read off
the published record, the outbox in the job store, and their delivery to
webhooks and SNS. Imports ``service``, ``engine`` (outputs), ``jobs``,
``program`` (item outputs) and the modules below them."""
