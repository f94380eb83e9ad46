"""The Pulumi engine's side of a job: per-step workspaces and stacks
(Automation API), the Pulumi state read and removed directly, which
requested certificates ACM has issued, and adoption of resources an
interrupted step made. Imports ``program``, ``jobs`` and the shared
modules; never a front, an action or the worker."""
