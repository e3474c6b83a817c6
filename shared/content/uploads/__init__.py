"""Uploads: signed URLs for images and PDFs, and the check of what was stored."""
