"""``python -m scripts.liveserver -- COMMAND ...`` (see ``scripts.liveserver.cli``)."""

import sys

from scripts.liveserver.cli import main

sys.exit(main())
