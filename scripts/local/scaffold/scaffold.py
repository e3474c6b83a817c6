"""Write a scaffolded function into a checkout: new files, a README row, and the context's rules and errors.

Everything is computed first and checked against what exists, then written, so a refused scaffold leaves
the checkout as it was. The context's policy and errors modules are the only files changed rather than
created: the rules the templates call are appended where the module lacks them (one policy module and one
errors module per context), and the function's not-found error is added to its errors.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template

from scripts.local.scaffold import templates
from scripts.local.scaffold.names import Names

ROOT = Path(__file__).resolve().parents[3]
_MIGRATION_STAMP = re.compile(r"^(\d{14})_")


class ScaffoldError(RuntimeError):
    """The function cannot be scaffolded here (it exists, its table exists, the README has no table)."""


@dataclass(slots=True)
class Plan:
    """What a scaffold writes: path → full new text, for files created and for files changed."""

    created: dict[Path, str] = field(default_factory=dict)
    changed: dict[Path, str] = field(default_factory=dict)


def _render(template: str, names: Names) -> str:
    return Template(template).substitute(names.substitutions())


def migration_path(root: Path, table: str, now: datetime | None = None) -> Path:
    """supabase/migrations/<stamp>_<table>.sql, its stamp now (UTC) or just after the newest migration."""
    folder = root / "supabase" / "migrations"
    stamps = [int(m.group(1)) for p in folder.glob("*.sql") if (m := _MIGRATION_STAMP.match(p.name))]
    stamp = int((now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S"))
    stamp = max([stamp, *(s + 1 for s in stamps)])
    return folder / f"{stamp}_{table}.sql"


def defined_names(source: str) -> set[str]:
    """The top-level functions and classes a module defines."""
    tree = ast.parse(source)
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)}


def with_imports(source: str, wanted: list[tuple[str, str]]) -> str:
    """`source` with a `from module import name` line for each of `wanted` it does not import yet."""
    tree = ast.parse(source)
    have = {
        (node.module, alias.asname or alias.name)
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    missing = [f"from {module} import {name}\n" for module, name in dict.fromkeys(wanted) if (module, name) not in have]
    if not missing:
        return source
    imports = [n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
    if imports:
        after = max(n.end_lineno or n.lineno for n in imports)
    else:
        docstring = tree.body[0] if tree.body and isinstance(tree.body[0], ast.Expr) else None
        after = docstring.end_lineno or 0 if docstring else 0
    lines = source.splitlines(keepends=True)
    return "".join(lines[:after] + missing + lines[after:])


def _append(source: str, blocks: list[str]) -> str:
    return source.rstrip("\n") + "\n" + "".join(blocks)


def _policy(root: Path, names: Names) -> tuple[Path, str]:
    path = root / "shared" / names.context / "policy.py"
    source = path.read_text() if path.exists() else _render(templates.POLICY_MODULE, names)
    missing = [rule for rule in templates.POLICY_RULES if rule not in defined_names(source)]
    if not missing:
        return path, source
    imports = [item for rule in missing for item in templates.POLICY_IMPORTS[rule]]
    return path, _append(with_imports(source, imports), [templates.POLICY_RULES[r] for r in missing])


def _errors(root: Path, names: Names) -> tuple[Path, str]:
    path = root / "shared" / names.context / "errors.py"
    source = path.read_text() if path.exists() else _render(templates.ERRORS_MODULE, names)
    if f"{names.cls}NotFoundError" in defined_names(source):
        raise ScaffoldError(f"{path.relative_to(root)} already defines {names.cls}NotFoundError")
    source = with_imports(source, list(templates.ERRORS_IMPORTS))
    return path, _append(source, [_render(templates.NOT_FOUND_ERROR, names)])


def readme_with_row(readme: str, row: str) -> str:
    """The README with `row` appended to its functions table (the table whose header starts `| function |`)."""
    lines = readme.splitlines(keepends=True)
    header = next((i for i, line in enumerate(lines) if line.startswith("| function |")), None)
    if header is None:
        raise ScaffoldError("README.md has no functions table (a line starting '| function |')")
    end = header
    while end + 1 < len(lines) and lines[end + 1].startswith("|"):
        end += 1
    return "".join([*lines[: end + 1], row + "\n", *lines[end + 1 :]])


def plan(names: Names, root: Path = ROOT) -> Plan:
    """Every file the scaffold creates or changes, refusing when the function or its table already exists."""
    function_dir = root / "functions" / names.function
    package = root / "shared" / names.context / names.module
    for taken in (function_dir, package):
        if taken.exists():
            raise ScaffoldError(f"{taken.relative_to(root)} already exists")
    create_table = f"create table public.{names.table} "
    for migration in (root / "supabase" / "migrations").glob("*.sql"):
        if create_table in migration.read_text():
            raise ScaffoldError(f"{migration.relative_to(root)} already creates public.{names.table}")
    result = Plan()
    context_init = root / "shared" / names.context / "__init__.py"
    if not context_init.exists():
        result.created[context_init] = f'"""The {names.context} context."""\n'
    result.created[function_dir / "main.py"] = _render(templates.MAIN, names)
    result.created[package / "__init__.py"] = _render(templates.PACKAGE, names)
    result.created[package / "schemas.py"] = _render(templates.SCHEMAS, names)
    result.created[package / "repository.py"] = _render(templates.REPOSITORY, names)
    result.created[package / "service.py"] = _render(templates.SERVICE, names)
    result.created[migration_path(root, names.table)] = _render(templates.MIGRATION, names)
    test = root / "tests" / "functions" / f"test_{names.module}.py"
    if test.exists():
        raise ScaffoldError(f"{test.relative_to(root)} already exists")
    result.created[test] = _render(templates.TEST, names)
    for path, text in (_policy(root, names), _errors(root, names)):
        (result.changed if path.exists() else result.created)[path] = text
    readme = root / "README.md"
    result.changed[readme] = readme_with_row(readme.read_text(), _render(templates.README_ROW, names))
    return result


def write(result: Plan) -> None:
    """Write the plan, then let ruff sort the imports of the Python files it touched (when ruff is there)."""
    for path, text in {**result.created, **result.changed}.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    python = [str(p) for p in {**result.created, **result.changed} if p.suffix == ".py"]
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff and python:
        subprocess.run([ruff, "check", "--quiet", "--fix", "--select", "I", *python], check=False)
        created = [str(p) for p in result.created if p.suffix == ".py"]
        subprocess.run([ruff, "format", "--quiet", *created], check=False)


def scaffold(names: Names, root: Path = ROOT) -> Plan:
    """Plan and write a new function; what was created and changed."""
    result = plan(names, root)
    write(result)
    return result
