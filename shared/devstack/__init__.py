"""Local development stack: embedded Postgres, serving, seeding. Never imported by deployed functions."""
