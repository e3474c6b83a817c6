"""The scaffolder's pieces: names, imports and rules added to a context's modules, the README row."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.local.scaffold import templates
from scripts.local.scaffold.names import InvalidNameError, names_for, singular
from scripts.local.scaffold.scaffold import (
    ScaffoldError,
    defined_names,
    migration_path,
    plan,
    readme_with_row,
    with_imports,
)


@pytest.mark.parametrize(
    ("plural", "one"),
    [("badges", "badge"), ("categories", "category"), ("boxes", "box"), ("access", "access"), ("statuses", "status"), ("status", "status")],
)
def test_singular_of_a_plural(plural: str, one: str) -> None:
    assert singular(plural) == one


def test_names_derive_from_the_function_name() -> None:
    names = names_for("learning-paths", "identity")
    assert (names.module, names.item, names.cls, names.id_param) == (
        "learning_paths",
        "learning_path",
        "LearningPath",
        "learning_path_id",
    )
    assert names_for("news", "content", item="news_item").cls == "NewsItem"


@pytest.mark.parametrize(
    ("function", "context", "item"),
    [("Tags", "identity", None), ("tags_x", "identity", None), ("x", "platform", None), ("xs", "identity", "class")],
)
def test_unusable_names_are_refused(function: str, context: str, item: str | None) -> None:
    with pytest.raises(InvalidNameError):
        names_for(function, context, item)


def test_imports_are_added_once_after_the_last_import() -> None:
    source = '"""Doc."""\n\nfrom __future__ import annotations\n\nfrom uuid import UUID\n\nX = 1\n'
    added = with_imports(source, [("uuid", "UUID"), ("shared.platform.errors", "NotFoundError")])
    assert added.count("from uuid import UUID") == 1
    assert added.index("from shared.platform.errors import NotFoundError") < added.index("X = 1")
    assert with_imports('"""Doc."""\n', [("uuid", "UUID")]) == '"""Doc."""\nfrom uuid import UUID\n'


def _checkout(tmp_path: Path, policy: str | None) -> Path:
    (tmp_path / "supabase" / "migrations").mkdir(parents=True)
    (tmp_path / "supabase" / "migrations" / "20991231000000_last.sql").write_text("select 1;\n")
    (tmp_path / "shared" / "identity").mkdir(parents=True)
    (tmp_path / "shared" / "identity" / "__init__.py").write_text('"""Identity."""\n')
    if policy is not None:
        (tmp_path / "shared" / "identity" / "policy.py").write_text(policy)
    (tmp_path / "README.md").write_text("# x\n\n| function | routes | who |\n|---|---|---|\n| `me` | `GET /` | user |\n\nend\n")
    return tmp_path


def test_a_context_keeps_its_own_rules_and_gains_only_the_missing_ones(tmp_path: Path) -> None:
    own = (
        '"""Rules."""\n\nfrom __future__ import annotations\n\nfrom uuid import UUID\n\n'
        "def require_community_reader(principal: object, community_id: UUID) -> None:\n    pass\n"
    )
    root = _checkout(tmp_path, own)
    changed = plan(names_for("badges", "identity"), root).changed
    policy = changed[root / "shared" / "identity" / "policy.py"]
    assert "def require_community_reader(principal: object, community_id: UUID) -> None:\n    pass\n" in policy
    assert policy.count("def require_community_reader") == 1
    assert defined_names(policy) >= set(templates.POLICY_RULES)
    complete = plan(names_for("badges", "identity"), _checkout(tmp_path / "again", policy)).changed
    assert complete[tmp_path / "again" / "shared" / "identity" / "policy.py"] == policy


def test_migration_sorts_after_the_newest_and_the_row_ends_the_functions_table(tmp_path: Path) -> None:
    root = _checkout(tmp_path, None)
    assert migration_path(root, "badges").name == "20991231000001_badges.sql"
    readme = readme_with_row((root / "README.md").read_text(), "| `badges` | … | admin |")
    assert "| `me` | `GET /` | user |\n| `badges` | … | admin |\n\nend\n" in readme
    with pytest.raises(ScaffoldError):
        readme_with_row("# no table\n", "| x |")
