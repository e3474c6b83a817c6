"""Cross-cutting platform pieces: one concept per module, nothing re-exported."""
