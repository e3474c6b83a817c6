"""Milestones: a program's ordered checkpoints at a required score, validated automatically or by review."""
