"""Grants: which communities, tags and members an item is handed to, and when."""
