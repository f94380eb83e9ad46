"""The Pulumi program and the data it is a function of: a job's inputs
(stored once), the spec one run reads, the item outputs it exports, the
translation of a template's configuration into a clone's arguments, and
the resources themselves. Pure: no I/O, nothing that reaches AWS, a store
or the Pulumi state; imports only ``request``, ``errors`` and ``settings``."""
