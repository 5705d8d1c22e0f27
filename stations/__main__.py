"""``python -m stations`` runs the command line, like the ``stations`` console script."""

import sys

from .cli import main

sys.exit(main())
