"""Completion stamps and the progress derived from them: of a WOD or BLOCK, of a program, overall."""
