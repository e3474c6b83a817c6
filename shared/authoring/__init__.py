"""Authoring: WODs, BLOCKs and programs, built of pages of typed blocks."""
