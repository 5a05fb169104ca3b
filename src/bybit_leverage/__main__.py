"""Allow ``python -m bybit_leverage``."""

import sys

from bybit_leverage.cli import main

sys.exit(main())
