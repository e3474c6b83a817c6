"""`python -m scripts.local.scaffold`: see cli.py."""

from __future__ import annotations

import sys

from scripts.local.scaffold.cli import main

sys.exit(main())
