"""What callers do, the same from HTTP, the command line and `pulumi up`:
admit a request (validation, templates, pre-flight against the account),
submit, preview, read, list, destroy, retry and renew. Each hands work to
a ``launch`` callable and never runs the engine itself. Imports
everything below the fronts and the worker."""
