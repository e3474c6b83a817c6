"""AI GYM backend shared library."""

__version__ = "0.1.0"
