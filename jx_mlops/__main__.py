"""`python -m jx_mlops`."""

from __future__ import annotations

import sys

from jx_mlops.cli.main import main

sys.exit(main())
