"""Everything that stands in for what this machine lacks: moto's server with
a layer answering what moto does not (and refusing what AWS refuses), the
stand-in pulumi-aws provider, a Python language host, the Pulumi CLI
installer, and the session that runs a command against them. Used by the
command line's ``sandbox`` and by tests; production code never imports it."""
