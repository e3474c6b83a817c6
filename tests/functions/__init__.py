"""Tests through the real function handlers (a package, so basenames may repeat those of tests/unit)."""
