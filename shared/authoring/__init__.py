"""The training zone: WODs and BLOCKs of pages, programs of sections; content items of their own types."""
