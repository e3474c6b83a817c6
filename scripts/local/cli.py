"""Command line of the local stack: `serve`, `token`, `migrate`. The scripts in scripts/ call this."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import sys
from typing import Any

from scripts.local.stack import (
    DEFAULT_PORT,
    WEBHOOK_SECRET_ENVS,
    clear_state,
    drain_at_start,
    read_state,
    running_stack,
    write_state,
)

DEMO_USERS_SQL = """
select p.id, p.email, coalesce(s.role,
         (select case when bool_or(m.role = 'admin') then 'community admin' else 'learner' end
            || ' (' || string_agg(c.slug, ', ') || ')'
            from public.memberships m join public.communities c on c.id = m.community_id
           where m.user_id = p.id), 'no role') as role
from public.profiles p left join public.platform_staff s on s.user_id = p.id
order by s.role is null, s.role, p.email
"""


def _demo_users(database_url: str) -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(DEMO_USERS_SQL).fetchall()


def _print_tokens(database_url: str, issuer: str, secret: str, ttl_s: int) -> None:
    from scripts.local.tokens import local_token

    for user in _demo_users(database_url):
        token = local_token(user["id"], user["email"], issuer=issuer, secret=secret, ttl_s=ttl_s)
        print(f"\n  {user['role']:<28} {user['email']}\n  {token}")


def _listen(wanted: int, *, is_explicit: bool, tries: int = 20) -> socket.socket:
    """A listening socket on `wanted` or, unless the port was asked for, the next free one after it.

    Bound before Postgres starts and handed to uvicorn, so two checkouts starting at the same moment
    cannot both pick the same port.
    """
    host = os.environ.get("HOST", "127.0.0.1")
    for port in range(wanted, wanted + (1 if is_explicit else tries)):
        sock = socket.socket()
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            continue
        sock.listen(2048)
        return sock
    raise SystemExit(f"port {wanted} is taken" + ("" if is_explicit else f" (and the next {tries - 1})"))


def serve(args: argparse.Namespace) -> int:
    """Serve every function under /functions/v1/<name> on this checkout's stack until Ctrl-C."""
    import uvicorn

    from scripts.local.demo_activity import roll_up_at_start
    from scripts.local.functions import LocalGateway, discover
    from scripts.local.scheduler import with_scheduler
    from shared.platform.config import get_settings

    explicit = os.environ.get("PORT") or args.port
    listener = _listen(int(explicit or DEFAULT_PORT), is_explicit=bool(explicit))
    port = int(listener.getsockname()[1])
    with listener, running_stack(port, reset=args.reset) as stack:
        secret = get_settings().jwt_secret or ""
        drain_at_start()
        roll_up_at_start(stack.database_url)
        names = list(discover())
        print(f"AI GYM backend on {stack.supabase_url}/functions/v1/<name>  (functions: {', '.join(names)})")
        print(f"database: {stack.database_url}")
        print("webhook secrets (scripts/webhook signs with these):")
        for name in WEBHOOK_SECRET_ENVS:
            print(f"  {name}={os.environ.get(name, '')}")
        print("demo tokens (HS256, 12 h; send as 'Authorization: Bearer <token>'):")
        _print_tokens(stack.database_url, f"{stack.supabase_url}/auth/v1", secret, 12 * 3600)
        # uvicorn re-raises SIGTERM after its own graceful shutdown; make that unwind through the
        # `with` block so the embedded Postgres is stopped as well.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        print(
            f"\ntry: curl -H 'Authorization: Bearer <token>' {stack.supabase_url}/functions/v1/me"
            "\n     scripts/token --new you@example.com    # a brand-new local user and their token"
            "\n     scripts/webhook stripe subscription.updated   # a signed sample delivery\n",
            flush=True,
        )
        write_state(stack, port, secret)
        try:
            uvicorn.run(
                with_scheduler(LocalGateway(names), names),
                fd=listener.fileno(),
                loop="uvloop",
                http="httptools",
                log_level="warning",
                lifespan="on",
            )
        finally:
            clear_state()
    return 0


def _create_local_user(database_url: str, email: str) -> None:
    """What sign-up does on the local stack: an auth user (the database adds the profile)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        found = conn.execute("select 1 from auth.users where lower(email) = lower(%s)", (email,)).fetchone()
        if found is None:
            conn.execute(
                "insert into auth.users (email, email_confirmed_at) values (lower(%s), now())", (email,)
            )


def token(args: argparse.Namespace) -> int:
    """Print a token for a user of the running serve (`--new` creates the user first, as sign-up would)."""
    from scripts.local.tokens import local_token

    state = read_state()
    if state is None:
        print("this checkout serves nothing right now: start scripts/serve first", file=sys.stderr)
        return 1
    if args.new:
        _create_local_user(state["database_url"], args.email)
    users = [u for u in _demo_users(state["database_url"]) if u["email"].lower() == args.email.lower()]
    if not users:
        print(f"no user with email {args.email} (scripts/token --new {args.email} creates one)", file=sys.stderr)
        return 1
    user = users[0]
    print(local_token(user["id"], user["email"], issuer=state["issuer"], secret=state["jwt_secret"], ttl_s=args.ttl))
    return 0


def webhook(args: argparse.Namespace) -> int:
    """Send a correctly signed sample delivery of a provider's event to the running serve."""
    from scripts.local.webhooks import send_sample

    state = read_state()
    if state is None:
        print("this checkout serves nothing right now: start scripts/serve first", file=sys.stderr)
        return 1
    try:
        status, body = send_sample(args.provider, args.event, state["url"], state["webhook_secrets"])
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    print(f"{status} {body}")
    return 0 if status < 400 else 1


def migrate_cmd(args: argparse.Namespace) -> int:
    """Apply bootstrap and pending migrations to DATABASE_URL (or the embedded database)."""
    from shared.platform import migrate

    url = os.environ.get("DATABASE_URL")
    if url:
        print("applied:", migrate.apply(url, seed=args.seed) or "nothing (up to date)")
        return 0
    with running_stack(DEFAULT_PORT, seed=args.seed) as stack:
        print(f"migrated {stack.database_url}")
    return 0


def openapi_cmd(args: argparse.Namespace) -> int:
    """Regenerate shared/contract/openapi.json from the functions' routes and models."""
    from scripts.local.contract import CONTRACT_PATH, render

    CONTRACT_PATH.write_text(render())
    print(f"wrote {CONTRACT_PATH}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run a command."""
    parser = argparse.ArgumentParser(prog="aigym")
    commands = parser.add_subparsers(dest="command", required=True)
    p_serve = commands.add_parser("serve", help=serve.__doc__)
    p_serve.add_argument("--port", type=int, default=None, help=f"default {DEFAULT_PORT}, or the next free one")
    p_serve.add_argument("--reset", action="store_true", help="start from a clean database")
    p_serve.set_defaults(run=serve)
    p_token = commands.add_parser("token", help=token.__doc__)
    p_token.add_argument("email")
    p_token.add_argument("--new", action="store_true", help="create the user first (local sign-up)")
    p_token.add_argument("--ttl", type=int, default=3600, help="seconds the token stays valid")
    p_token.set_defaults(run=token)
    p_webhook = commands.add_parser("webhook", help=webhook.__doc__)
    p_webhook.add_argument("provider", choices=["auth-hook", "stripe", "video"])
    p_webhook.add_argument("event", help="e.g. subscription.updated, subscription.deleted, invoice.paid, "
                           "transcript.ready, custom-access-token")
    p_webhook.set_defaults(run=webhook)
    p_migrate = commands.add_parser("migrate", help=migrate_cmd.__doc__)
    p_migrate.add_argument("--seed", action="store_true")
    p_migrate.set_defaults(run=migrate_cmd)
    p_openapi = commands.add_parser("openapi", help=openapi_cmd.__doc__)
    p_openapi.set_defaults(run=openapi_cmd)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
