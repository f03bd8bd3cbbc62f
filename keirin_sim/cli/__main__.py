"""``python -m keirin_sim.cli``: the same as the ``keirin-sim`` command."""

import sys

from . import main

sys.exit(main())
