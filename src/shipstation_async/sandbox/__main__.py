"""``python -m shipstation_async.sandbox --port 8080 --orders 1000``."""

from __future__ import annotations

import sys

from .standalone import main

if __name__ == "__main__":
    sys.exit(main())
