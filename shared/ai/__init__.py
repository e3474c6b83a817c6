"""AI interactions: providers, keys, cost (and, later, agents, conversations and usage)."""
