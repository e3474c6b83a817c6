"""Onboarding's event names, apart from their handlers so that the functions queueing them stay light."""

from __future__ import annotations

DELIVERY_REQUESTED = "invitations.delivery_requested"
"""Invitations to deliver (queued by a database trigger on pending invitations, and on a resend)."""
