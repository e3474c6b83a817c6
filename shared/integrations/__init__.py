"""Integrations context: Supabase Auth hooks, the video provider's transcripts, billing subscriptions.

Provider webhooks are verified by the platform before anything here runs. Routes only validate and
enqueue; the idempotent event handlers in `handlers` (imported by the worker) write the tables.
"""
