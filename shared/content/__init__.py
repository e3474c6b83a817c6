"""Content: the repository of typed items, their versions, grants, folders and uploads."""
