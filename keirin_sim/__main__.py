"""``python -m keirin_sim``: the same as the ``keirin-sim`` command."""

import sys

from .cli import main

sys.exit(main())
