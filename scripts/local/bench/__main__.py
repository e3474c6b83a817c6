"""`python -m scripts.local.bench`: see cli.py."""

from __future__ import annotations

import sys

from scripts.local.bench.cli import main

sys.exit(main())
