"""`scripts/new-function <name> [--context CONTEXT] [--item SINGULAR]`: scaffold a function, print what is next."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.local.scaffold.names import RESERVED_CONTEXTS, InvalidNameError, Names, names_for
from scripts.local.scaffold.scaffold import ROOT, ScaffoldError, scaffold

NEXT_STEPS = """
next:
  1. say what it serves: the docstring of functions/{function}/main.py, its README row, the migration
  2. list public.{table} in the tenancy matrix: tests/integration/test_tenancy_matrix.py
  3. scripts/test tests/functions/test_{module}.py    (its own tests, against the new migration)
  4. scripts/openapi                                 (the contract gains its routes)
"""


def contexts(root: Path = ROOT) -> list[str]:
    """The bounded contexts that exist: the packages of shared/ other than the platform and the contract."""
    return sorted(
        p.name for p in (root / "shared").iterdir() if (p / "__init__.py").exists() and p.name not in RESERVED_CONTEXTS
    )


def _ask_context(root: Path) -> str | None:
    """Ask for the context on a terminal; None when nobody can answer."""
    known = contexts(root)
    if not sys.stdin.isatty():
        return None
    answer = input(f"context ({', '.join(known)}, or a new one) [{known[0] if known else ''}]: ").strip()
    return answer or (known[0] if known else None)


def main(argv: list[str] | None = None, root: Path = ROOT) -> int:
    """Parse the command line, scaffold, and list the files written."""
    parser = argparse.ArgumentParser(
        prog="new-function", description="Scaffold a function the house way (main.py, service, tests, …)."
    )
    parser.add_argument("name", help="the function's name, e.g. learning-paths")
    parser.add_argument("--context", help=f"its bounded context under shared/ ({', '.join(contexts(root))}, or new)")
    parser.add_argument("--item", help="one of the things it serves, snake_case (default: the name's singular)")
    args = parser.parse_args(argv)
    context = args.context or _ask_context(root)
    if context is None:
        print(f"new-function: name the context with --context ({', '.join(contexts(root))}, or a new one)", file=sys.stderr)
        return 2
    try:
        names: Names = names_for(args.name, context, args.item)
        result = scaffold(names, root)
    except (InvalidNameError, ScaffoldError) as exc:
        print(f"new-function: {exc}", file=sys.stderr)
        return 2
    for label, paths in (("created", result.created), ("changed", result.changed)):
        for path in paths:
            print(f"{label:>8} {path.relative_to(root)}")
    print(NEXT_STEPS.format(function=names.function, table=names.table, module=names.module))
    return 0
