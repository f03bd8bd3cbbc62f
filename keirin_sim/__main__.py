"""``python -m keirin_sim``: the same as the ``keirin-sim`` command."""

import sys

from keirin_sim.cli import main

sys.exit(main())
