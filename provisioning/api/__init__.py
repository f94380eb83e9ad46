"""The HTTP front: the app, its routes (the published ``/ssl_for_saas``
ones and ours), their typed models and dependencies, and the operator
console. Calls ``actions`` and the ``worker``'s supervisor; nothing below
imports it."""
