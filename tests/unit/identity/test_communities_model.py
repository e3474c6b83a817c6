"""Community rules and request models: pure, no I/O."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from shared.identity.communities import model
from shared.identity.communities.schemas import CreateCommunity, UpdateAiSettings, UpdateCommunity

# --- versions -----------------------------------------------------------------------------------------


def test_version_is_exact_epoch_microseconds_in_any_time_zone() -> None:
    moment = datetime(2026, 11, 28, 12, 0, 0, 123457, tzinfo=UTC)
    assert model.version_of(moment) == 1795867200123457
    assert model.version_of(moment.astimezone(timezone(timedelta(hours=5)))) == 1795867200123457
    assert model.version_of(moment + timedelta(microseconds=1)) == 1795867200123458


def test_etag_is_weak_and_carries_the_version() -> None:
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    assert model.etag_of(moment) == f'W/"{model.version_of(moment)}"'


@pytest.mark.parametrize(
    ("header", "holds"),
    [
        (None, True),
        ("*", True),
        ('W/"42"', True),
        ('"42"', True),
        ('"1", W/"42"', True),
        ('W/"41"', False),
        ("42", False),
        ("", False),
        ("garbage", False),
    ],
)
def test_if_match_compares_weakly_and_refuses_anything_else(header: str | None, holds: bool) -> None:
    assert model.if_match_holds(header, 'W/"42"') is holds


# --- values -------------------------------------------------------------------------------------------


def test_changed_values_keeps_only_real_changes() -> None:
    current = {"name": "Acme", "project_name": None, "forum_enabled": False}
    requested = {"name": "Acme", "project_name": None, "forum_enabled": True}
    assert model.changed_values(current, requested) == {"forum_enabled": True}


@pytest.mark.parametrize(
    ("text", "pattern"),
    [("acme", "%acme%"), ("100%", "%100\\%%"), ("a_b", "%a\\_b%"), ("back\\slash", "%back\\\\slash%")],
)
def test_like_pattern_takes_wildcards_literally(text: str, pattern: str) -> None:
    assert model.like_pattern(text) == pattern


def test_explicit_features_override_the_templates() -> None:
    assert model.merged_features({"forum": True, "quiz": False}, {"quiz": True}) == {
        "forum": True,
        "quiz": True,
    }
    assert model.merged_features(None, None) == {}


@pytest.mark.parametrize("slug", ["ab", "acme", "acme-corp-2", "a" * 64, "0a"])
def test_slug_pattern_accepts_lowercase_words_with_hyphens(slug: str) -> None:
    assert re.match(model.SLUG_PATTERN, slug)


@pytest.mark.parametrize("slug", ["a", "a" * 65, "-acme", "acme-", "Acme", "ac_me", "ac me", "acmé"])
def test_slug_pattern_refuses_everything_else(slug: str) -> None:
    assert not re.match(model.SLUG_PATTERN, slug)


# --- request models -----------------------------------------------------------------------------------


def _errors(model_type: Any, raw: str) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        model_type.model_validate_json(raw)
    return {".".join(str(p) for p in e["loc"]) for e in caught.value.errors()}


def test_create_normalises_colour_and_trims_name() -> None:
    cmd = CreateCommunity.model_validate_json(
        '{"name": "  Initech ", "slug": "initech", "brand_color": "#ABCDEF"}'
    )
    assert (cmd.name, cmd.brand_color, cmd.features) == ("Initech", "#abcdef", {})


def test_create_refuses_bad_feature_names_values_and_unknown_fields() -> None:
    raw = '{"name": "X", "slug": "xx", "features": {"Bad-Name": true, "ok": 1}, "status": "active"}'
    assert _errors(CreateCommunity, raw) == {"features.Bad-Name.[key]", "features.ok", "status"}


def test_update_refuses_null_for_required_fields_but_clears_optional_ones() -> None:
    assert _errors(UpdateCommunity, '{"name": null, "slug": null}') == {"name", "slug"}
    assert UpdateCommunity.model_validate_json('{"logo_url": null}').requested() == {"logo_url": None}


def test_api_key_error_never_echoes_the_key() -> None:
    with pytest.raises(ValidationError) as caught:
        UpdateAiSettings.model_validate_json('{"api_key": "tiny-secret"}')
    assert "tiny-secret" not in str(caught.value.errors(include_input=False))


def test_api_key_is_hidden_in_reprs_and_key_provider_needs_a_key() -> None:
    cmd = UpdateAiSettings.model_validate_json(
        '{"api_key": "sk-0123456789abcdefghij", "api_key_provider": "openai"}'
    )
    assert "sk-0123456789" not in repr(cmd) and cmd.touches_key
    assert _errors(UpdateAiSettings, '{"api_key_provider": "openai"}') == {"api_key_provider"}
    assert not UpdateAiSettings.model_validate_json('{"default_model": "m"}').touches_key
