"""Local only: embedded Postgres, serve, tokens, webhooks, bundles, benchmarks, the scaffolder.

Never deployed and never imported by `shared` or `functions`: a bundle carries only `shared` (see
scripts/local/bundle.py), and tests/test_local_only.py fails when deployable code imports this package.
"""
