"""Chat turns with AI agents: the context a turn sends, the turn itself, and its server-sent events."""
