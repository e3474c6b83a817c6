"""Cold start is a budget: importing a function must not import the heavy, lazily-used libraries.

Each function's main.py is imported in a fresh interpreter (as functions-framework would, under a module
name of its own) and the modules that import left behind are checked. New functions are covered by
discovery. Timing lives in scripts/bench, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.local.bundle import LOCAL_ONLY_MODULES
from scripts.local.functions import discover

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = discover()

HEAVY = ("supabase", "sentry_sdk", "boto3", "botocore", "openai", "anthropic", "google.genai", "moto")
"""Imported lazily, inside the code paths that use them, never by importing a function."""
LOCAL_ONLY = tuple(sorted(LOCAL_ONLY_MODULES))
"""Local tooling, tests and the local stack's packages (the `local` extra), absent where functions are deployed."""
NOT_FOR_LIVENESS = ("psycopg", "psycopg_pool", "jwt", "cryptography")
"""health/live answers without the database and without a token, so health imports none of these."""

_PROBE = """
import importlib.util, json, sys
root, name, path, watched = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
sys.path.insert(0, root)
module_name = "aigym_budget_" + name.replace("-", "_")
spec = importlib.util.spec_from_file_location(module_name, path)
module = importlib.util.module_from_spec(spec)
sys.modules[module_name] = module
spec.loader.exec_module(module)
sys.stdout.write(json.dumps(sorted(m for m in watched if m in sys.modules)))
"""


def _imported_after_loading(name: str, watched: tuple[str, ...]) -> list[str]:
    """Which of `watched` are in sys.modules after importing function `name` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT), name, str(FUNCTIONS[name]), json.dumps(watched)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"importing {name} failed:\n{result.stderr}"
    loaded: list[str] = json.loads(result.stdout)
    return loaded


def test_functions_are_discovered() -> None:
    assert "health" in FUNCTIONS and "me" in FUNCTIONS


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_importing_a_function_leaves_heavy_libraries_alone(name: str) -> None:
    assert _imported_after_loading(name, HEAVY) == []


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_importing_a_function_needs_nothing_of_the_local_stack(name: str) -> None:
    assert _imported_after_loading(name, LOCAL_ONLY) == []


def test_no_platform_module_imports_a_local_only_package() -> None:
    platform = ROOT / "shared" / "platform"
    modules = sorted(
        f"shared.platform.{path.stem}" for path in platform.glob("*.py") if path.stem != "__init__"
    )
    probe = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        f"sys.stdout.write(json.dumps(sorted(m for m in {list(LOCAL_ONLY)!r} if m in sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_health_imports_neither_database_driver_nor_jwt() -> None:
    assert _imported_after_loading("health", HEAVY + NOT_FOR_LIVENESS) == []


@pytest.mark.parametrize("name", ["health", "tags", "members"])
def test_a_function_declaring_no_union_body_or_url_loads_neither_machinery(name: str) -> None:
    # validation.Root and validation.WebUrl load on first use (shared/platform/unions.py, urls.py)
    watched = ("pydantic.root_model", "pydantic.networks", "shared.platform.unions", "shared.platform.urls")
    assert _imported_after_loading(name, watched) == []


def test_validation_still_names_root_and_weburl() -> None:
    from shared.platform import unions, urls, validation

    assert validation.Root is unions.Root and validation.WebUrl is urls.WebUrl
    with pytest.raises(AttributeError):
        _ = validation.NoSuchName  # type: ignore[attr-defined]
