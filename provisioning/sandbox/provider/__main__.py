"""`python -m provisioning.sandbox.provider [--watch-stdin]`: prints its port, then serves."""

import sys

from provisioning.sandbox.provider.server import main

sys.exit(main(sys.argv[1:]))
