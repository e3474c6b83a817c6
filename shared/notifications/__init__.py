"""In-app notifications: rows the worker writes from events, which their recipient lists and marks read."""
