"""Authoring: WODs, BLOCKs and programs built from content items."""
