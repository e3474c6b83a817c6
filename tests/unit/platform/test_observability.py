"""Sentry is loaded and used only when SENTRY_DSN is set; Server-Timing reports database use."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shared.platform import observability
from shared.platform.config import load_settings

ROOT = Path(__file__).resolve().parents[3]
BASE_ENV = {"DATABASE_URL": "postgresql://x/y", "SUPABASE_URL": "http://127.0.0.1:54321"}


def test_without_dsn_an_error_does_not_import_sentry() -> None:
    script = (
        "import sys\n"
        "from shared.platform.config import load_settings\n"
        "from shared.platform.observability import capture_exception\n"
        f"capture_exception(RuntimeError('boom'), load_settings({BASE_ENV!r}))\n"
        "assert 'sentry_sdk' not in sys.modules, 'sentry_sdk was imported'\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_with_dsn_an_error_is_sent_to_sentry(monkeypatch: pytest.MonkeyPatch) -> None:
    import sentry_sdk
    from sentry_sdk.transport import Transport

    sent: list[Any] = []

    class Capture(Transport):
        def capture_envelope(self, envelope: Any) -> None:
            sent.append(envelope)

    real_init = sentry_sdk.init
    monkeypatch.setattr(sentry_sdk, "init", lambda **kw: real_init(transport=Capture(), **kw))
    monkeypatch.setattr(observability, "_initialised", False)
    settings = replace(load_settings(BASE_ENV), sentry_dsn="https://public@o0.ingest.example.com/1")
    try:
        observability.capture_exception(RuntimeError("boom"), settings)
        sentry_sdk.flush()
    finally:
        sentry_sdk.get_client().close()
    events = [item.payload.json for envelope in sent for item in envelope.items if item.type == "event"]
    assert len(events) == 1
    assert events[0]["exception"]["values"][0]["value"] == "boom"


def test_server_timing_names_database_time_and_round_trips() -> None:
    assert observability.server_timing(1.234, 2, 5.5) == 'db;dur=1.23;desc="2 round trips", total;dur=5.50'
