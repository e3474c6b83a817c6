"""The content repository: typed items, their lifecycle and versions."""
