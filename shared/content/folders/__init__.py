"""Folders: one tree per owner and repository (wods, blocks, content)."""
