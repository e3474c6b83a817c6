"""`scripts/bench`: every function against a bare functions-framework hello-world measured in the same run.

For the hello-world and for each function's bundle (built into a temporary folder, exactly as deployed):
  import time    imports.py: the function's main.py imported in a fresh interpreter (median of --runs),
                 and one start under PYTHONPROFILEIMPORTTIME summed by top-level package;
  cold start     cold_start.py: spawning `functions-framework --target handler --asgi --source
                 <bundle>/main.py` to the first 200 (polled every 5 ms; median of --runs, after one
                 discarded start that fills the page cache and the bytecode cache);
  throughput     throughput.py: warm req/s and p50/p99 under concurrent load (wrk when installed, else
                 loadgen.py, an asyncio load generator in its own process) for the load scenarios
                 (hello-world, health/live, GET /me, a read-heavy and a write route of the admin
                 surface), with the server's and Postgres' CPU per request (cpu.py) and the database
                 round trips the route reports in Server-Timing;
  report         report.py: ratios to the hello-world, a table, and bench-results/bench-<UTC>.json.

    scripts/bench [--runs 5] [--duration 3] [--concurrency 32] [--functions health,me] [--loadgen wrk]

The processes it starts and probes are in servers.py, the targets and their probe requests in targets.py,
the command line in cli.py. Not a test.
"""
