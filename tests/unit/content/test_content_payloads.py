"""Typed payloads and item bodies: what each content type accepts, refuses and derives. Pure, no I/O."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from shared.content import payloads
from shared.content.schemas import CreateItem, ItemQuery, UpdateItem

YOUTUBE = "dQw4w9WgXcQ"
AGENT: dict[str, Any] = {
    "name": "Coach",
    "system_prompt": "You coach people through prompt writing.",
    "model_settings": {
        "provider": "openai",
        "model": "gpt-4o-mini",
        "temperature": 0.3,
        "max_output_tokens": 800,
    },
}
VALID: dict[str, dict[str, Any]] = {
    "ai_agent": AGENT,
    "video": {"url": f"https://youtu.be/{YOUTUBE}", "platform": "youtube"},
    "document": {"html_body": "<p>Hello world</p>"},
    "prompt": {"prompt_text": "Summarise this text for a ten-year-old.", "category": "writing"},
    "automation": {"url": "https://make.com/scenario/1", "required_tools": ["Make", "Slack"]},
    "image": {"url": "https://cdn.example.com/a.png", "byte_size": 2048, "mime_type": "image/png"},
    "pdf": {"url": "https://cdn.example.com/a.pdf", "byte_size": 4096, "page_count": 3},
}


def create(body: dict[str, Any]) -> Any:
    return CreateItem.model_validate_json(json.dumps(body)).root


def errors(model: Any, body: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate_json(json.dumps(body))
    return [(".".join(str(p) for p in e["loc"]), e["type"]) for e in caught.value.errors()]


@pytest.mark.parametrize("content_type", sorted(VALID))
def test_every_type_is_created_with_its_own_payload(content_type: str) -> None:
    item = create({"type": content_type, "title": "T", "payload": VALID[content_type]})
    assert item.type == content_type
    assert isinstance(item.payload, payloads.PAYLOADS[content_type])  # type: ignore[index]


@pytest.mark.parametrize("content_type", sorted(VALID))
def test_a_payload_of_another_type_is_refused(content_type: str) -> None:
    other = "prompt" if content_type != "prompt" else "pdf"
    found = errors(CreateItem, {"type": content_type, "title": "T", "payload": VALID[other]})
    assert found and all(loc.startswith(f"{content_type}.payload") for loc, _ in found)


def test_unknown_types_and_unknown_fields_are_refused() -> None:
    assert errors(CreateItem, {"type": "podcast", "title": "T", "payload": {}}) == [("", "union_tag_invalid")]
    found = errors(
        CreateItem, {"type": "prompt", "title": "T", "owner": "me", "payload": {**VALID["prompt"], "x": 1}}
    )
    assert ("prompt.owner", "extra_forbidden") in found and ("prompt.payload.x", "extra_forbidden") in found


def test_types_are_strict() -> None:
    found = errors(
        CreateItem, {"type": "pdf", "title": "T", "payload": {**VALID["pdf"], "byte_size": "4096"}}
    )
    assert found == [("pdf.payload.byte_size", "int_type")]
    found = errors(CreateItem, {"type": "ai_agent", "title": 5, "payload": AGENT})
    assert found == [("ai_agent.title", "string_type")]


# --- video --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.youtube.com/watch?v={YOUTUBE}&t=42",
        f"https://youtu.be/{YOUTUBE}",
        f"https://www.youtube.com/embed/{YOUTUBE}",
        f"https://m.youtube.com/shorts/{YOUTUBE}",
        f"https://www.youtube-nocookie.com/embed/{YOUTUBE}",
    ],
)
def test_a_youtube_id_is_read_from_every_url_form(url: str) -> None:
    video = payloads.VideoPayload.model_validate({"url": url, "platform": "youtube"})
    assert video.platform_video_id == YOUTUBE
    assert payloads.stored(video)["platform_video_id"] == YOUTUBE


@pytest.mark.parametrize(
    ("url", "platform_video_id"),
    [
        ("https://vimeo.com/76979871", None),
        ("https://player.vimeo.com/video/76979871?h=abc", "76979871"),
        ("https://vimeo.com/76979871/8272103f6e", None),
    ],
)
def test_a_vimeo_id_is_read_and_checked(url: str, platform_video_id: str | None) -> None:
    video = payloads.VideoPayload.model_validate({"url": url, "platform": "vimeo", "platform_video_id": platform_video_id})
    assert video.platform_video_id == "76979871"


@pytest.mark.parametrize(
    ("payload", "error"),
    [
        ({"url": "https://vimeo.com/76979871", "platform": "youtube"}, "video_url_platform"),
        ({"url": f"https://youtube.com/watch?v={YOUTUBE}", "platform": "vimeo"}, "video_url_platform"),
        ({"url": "https://www.youtube.com/channel/abc", "platform": "youtube"}, "video_id_missing"),
        ({"url": "https://www.youtube.com/watch?v=short", "platform": "youtube"}, "video_id_missing"),
        (
            {"url": f"https://youtu.be/{YOUTUBE}", "platform": "youtube", "platform_video_id": "aaaaaaaaaaa"},
            "video_id_mismatch",
        ),
        ({"url": "https://vimeo.com/123", "platform": "vimeo", "platform_video_id": "124"}, "video_id_mismatch"),
        ({"url": f"http://youtu.be/{YOUTUBE}", "platform": "youtube"}, "url_scheme"),
        (
            {"url": "https://example.com/v.mp4", "platform": "other", "platform_video_id": "has space"},
            "string_pattern_mismatch",
        ),
        ({"url": "https://example.com/v.mp4", "platform": "twitch"}, "literal_error"),
    ],
)
def test_video_urls_and_ids_must_agree(payload: dict[str, Any], error: str) -> None:
    assert error in {kind for _, kind in errors(payloads.VideoPayload, payload)}


def test_another_platform_keeps_any_https_url_and_an_optional_id() -> None:
    video = payloads.VideoPayload.model_validate(
        {"url": "https://cdn.example.com/v.mp4", "platform": "other"}
    )
    assert video.platform_video_id is None


# --- urls ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://cdn.example.com/a.png",
        "ftp://cdn.example.com/a.png",
        "javascript:alert(1)",
        "/a.png",
        "x" * 3000,
    ],
)
def test_urls_must_be_https(url: str) -> None:
    assert errors(payloads.ImagePayload, {**VALID["image"], "url": url})


@pytest.mark.parametrize(
    "url", ["http://localhost:54321/storage/a.png", "http://127.0.0.1/a.png", "http://[::1]/a.png"]
)
def test_plain_http_is_allowed_only_for_the_local_stack(url: str) -> None:
    assert payloads.ImagePayload.model_validate({**VALID["image"], "url": url}).url.startswith("http://")


# --- files --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mime", ["image/jpeg", "image/png", "image/webp", "image/gif"])
def test_the_four_image_types_are_accepted(mime: str) -> None:
    assert payloads.ImagePayload.model_validate({**VALID["image"], "mime_type": mime}).mime_type == mime


@pytest.mark.parametrize("mime", ["image/svg+xml", "image/bmp", "application/pdf", "IMAGE/PNG"])
def test_other_image_types_are_refused(mime: str) -> None:
    assert errors(payloads.ImagePayload, {**VALID["image"], "mime_type": mime}) == [
        ("mime_type", "literal_error")
    ]


def test_sizes_are_bounded_by_type() -> None:
    ten_mb, fifty_mb = 10 * 1024 * 1024, 50 * 1024 * 1024
    assert payloads.ImagePayload.model_validate({**VALID["image"], "byte_size": ten_mb}).byte_size == ten_mb
    assert errors(payloads.ImagePayload, {**VALID["image"], "byte_size": ten_mb + 1}) == [
        ("byte_size", "less_than_equal")
    ]
    assert payloads.PdfPayload.model_validate({**VALID["pdf"], "byte_size": fifty_mb}).byte_size == fifty_mb
    assert errors(payloads.PdfPayload, {**VALID["pdf"], "byte_size": fifty_mb + 1}) == [
        ("byte_size", "less_than_equal")
    ]
    assert errors(payloads.PdfPayload, {**VALID["pdf"], "byte_size": 0}) == [
        ("byte_size", "greater_than_equal")
    ]


# --- documents ----------------------------------------------------------------------------------------


def test_document_figures_are_derived_and_never_taken_from_the_body() -> None:
    body = {"html_body": "<h1>Title</h1><p>one two three</p>", "word_count": 9999, "reading_minutes": 99}
    assert {loc for loc, _ in errors(payloads.DocumentPayload, body)} == {"word_count", "reading_minutes"}
    document = payloads.DocumentPayload.model_validate({"html_body": body["html_body"]})
    assert payloads.stored(document) | {} == {
        "html_body": body["html_body"],
        "json_body": None,
        "word_count": 4,
        "reading_minutes": 1,
    }


def test_a_json_only_document_is_counted_from_its_text_nodes() -> None:
    doc = {"type": "doc", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a b c"}]}]}
    stored = payloads.stored(payloads.DocumentPayload.model_validate({"json_body": doc}))
    assert (stored["word_count"], stored["reading_minutes"]) == (3, 1)


# --- ai agents ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "error"),
    [
        ({"temperature": 2.01}, "less_than_equal"),
        ({"temperature": -0.1}, "greater_than_equal"),
        ({"max_output_tokens": 0}, "greater_than_equal"),
        ({"max_output_tokens": 32_769}, "less_than_equal"),
        ({"max_output_tokens": 10.5}, "int_type"),
        ({"provider": "acme-llm"}, "literal_error"),
        ({"model": "gpt 4"}, "string_pattern_mismatch"),
    ],
)
def test_model_settings_are_bounded(settings: dict[str, Any], error: str) -> None:
    body = {**AGENT, "model_settings": {**AGENT["model_settings"], **settings}}
    assert [kind for _, kind in errors(payloads.AiAgentPayload, body)] == [error]


def test_agent_names_may_not_start_like_a_formula() -> None:
    assert errors(payloads.AiAgentPayload, {**AGENT, "name": "=HYPERLINK()"}) == [
        ("name", "spreadsheet_formula")
    ]


# --- changes and queries ------------------------------------------------------------------------------


def test_a_change_states_the_type_and_names_something_to_change() -> None:
    assert UpdateItem.model_validate_json('{"type": "prompt", "title": "New"}').root.title == "New"
    assert errors(UpdateItem, {"type": "prompt", "revision": 3}) == [("prompt", "empty_body")]
    assert errors(UpdateItem, {"title": "New"}) == [("", "union_tag_not_found")]
    assert errors(UpdateItem, {"type": "prompt", "title": None}) == [("prompt.title", "not_null")]


def test_labels_are_kept_once_whatever_their_case() -> None:
    item = create(
        {"type": "prompt", "title": "T", "tags": ["AI", "ai", "Sales", "AI "], "payload": VALID["prompt"]}
    )
    assert item.tags == ["AI", "Sales"]


def test_a_list_names_one_owner_at_most() -> None:
    with pytest.raises(ValidationError):
        ItemQuery.model_validate({"community_id": "c0000000-0000-4000-8000-000000000001", "platform": "true"})
