"""One local stack per checkout: its own cluster folder, and a description of the running serve."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.local.stack import Stack, checkout_data_dir, clear_state, read_state, write_state


def test_two_checkouts_get_two_cluster_folders() -> None:
    first, second = checkout_data_dir(Path("/src/one/main")), checkout_data_dir(Path("/src/two/main"))
    assert first != second
    assert first == checkout_data_dir(Path("/src/one/main"))  # and the same one every time


def test_state_describes_the_running_serve_to_this_user_only(tmp_path: Path) -> None:
    path = tmp_path / ".local" / "serve.json"
    stack = Stack("postgresql://x@127.0.0.1:5/aigym", "http://127.0.0.1:54400", None)
    write_state(stack, 54400, "s" * 40, path)
    state = read_state(path)
    assert state is not None
    assert (state["port"], state["issuer"], state["jwt_secret"]) == (54400, "http://127.0.0.1:54400/auth/v1", "s" * 40)
    assert path.stat().st_mode & 0o077 == 0
    clear_state(path)
    assert not path.exists()


def test_state_of_a_stopped_serve_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "serve.json"
    write_state(Stack("postgresql://x", "http://127.0.0.1:1", None), 1, "s" * 40, path)
    path.write_text(path.read_text().replace(f'"pid": {os.getpid()}', '"pid": 999999999'))
    assert read_state(path) is None
