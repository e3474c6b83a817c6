"""A user's conversations with agents: list, read with messages, rename, delete; staff audit reads."""
