"""``python -m cogattn`` runs the command line."""

import sys

from cogattn.cli import main

sys.exit(main())
