"""Commands for working on the backend; the Python behind them lives in `scripts.local` (never deployed)."""
