"""Moving jobs along: the supervisor that launches step processes and
watches open jobs, the lease a step holds, and the step itself (one job's
next update, destroy or renewal, in a process of its own). Imports
``actions`` for renewals, and everything below."""
