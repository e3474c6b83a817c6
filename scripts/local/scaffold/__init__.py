"""`scripts/new-function <name>`: a new function the house way, as `supabase functions new` makes one.

names.py derives every name from the function's, templates.py holds the files, scaffold.py writes them
(and appends to the context's policy and errors modules), cli.py is the command line.
"""
