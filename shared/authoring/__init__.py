"""Authoring: WODs, BLOCKs and programs built on content items, and bulk operations on them."""
