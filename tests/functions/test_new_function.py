"""scripts/new-function: a scaffolded function type-checks, lints, serves through the gateway and passes
the tests it was generated with, against its own migration (row level security included).

The scaffold runs into a temporary copy of the checkout; the generated tests run there in a pytest of
their own, which starts its own embedded Postgres and applies every migration, the new one too.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.local.scaffold.cli import main
from scripts.local.scaffold.scaffold import ROOT
from scripts.local.stack import local_env

BIN = Path(sys.executable).parent
COPIED = ("shared", "functions", "tests", "supabase", "scripts", "pyproject.toml", "README.md")


def _copy_checkout(to: Path) -> Path:
    ignore = shutil.ignore_patterns("__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache")
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, to / name, ignore=ignore)
        else:
            shutil.copy2(source, to / name)
    return to


def _env(checkout: Path) -> dict[str, str]:
    """This process's environment without the test session's settings, the copy first on the path."""
    ours = {*local_env("", ""), "DATABASE_URL", "AIGYM_TEST_DATABASE_URL", "PYTEST_ADDOPTS", "PYTHONPATH"}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env["PYTHONPATH"] = str(checkout)
    return env


def _run(argv: list[str], checkout: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=checkout, env=_env(checkout), capture_output=True, text=True, timeout=300, check=False
    )


def test_scaffolded_function_passes_its_own_tests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkout = _copy_checkout(tmp_path / "checkout")
    readme_before = (checkout / "README.md").read_text()

    assert main(["learning-paths", "--context", "identity"], root=checkout) == 0

    printed = capsys.readouterr().out
    generated = [
        "functions/learning-paths/main.py",
        "shared/identity/learning_paths/service.py",
        "shared/identity/learning_paths/schemas.py",
        "shared/identity/learning_paths/repository.py",
        "tests/functions/test_learning_paths.py",
    ]
    assert all((checkout / path).is_file() and path in printed for path in generated)
    assert len(list((checkout / "supabase" / "migrations").glob("*_learning_paths.sql"))) == 1
    readme = (checkout / "README.md").read_text()
    assert readme.count("\n") == readme_before.count("\n") + 1 and "| `learning-paths` |" in readme
    main_py = (checkout / "functions/learning-paths/main.py").read_text()
    assert "learning-paths/" not in main_py and '"/{learning_path_id:uuid}"' in main_py  # the route scheme

    lint = _run([str(BIN / "ruff"), "check", "functions", "shared", "tests"], checkout)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    types = _run(
        [str(BIN / "mypy"), "--no-error-summary", "functions/learning-paths/main.py", "shared/identity"], checkout
    )
    assert types.returncode == 0, types.stdout + types.stderr
    tests = _run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
         "tests/functions/test_learning_paths.py"],
        checkout,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert "3 passed" in tests.stdout


def test_scaffold_refuses_an_existing_function_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkout = _copy_checkout(tmp_path / "checkout")
    before = {p: p.read_bytes() for p in checkout.rglob("*") if p.is_file()}

    assert main(["tags", "--context", "identity"], root=checkout) == 2
    assert main(["Not A Name", "--context", "identity"], root=checkout) == 2
    assert main(["badges", "--context", "platform"], root=checkout) == 2

    assert "functions/tags already exists" in capsys.readouterr().err
    assert {p: p.read_bytes() for p in checkout.rglob("*") if p.is_file()} == before
