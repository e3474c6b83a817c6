"""Generated contract files (openapi.json), shipped with every bundle."""
