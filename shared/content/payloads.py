"""The typed payload of each content type: what a client sends, and what is stored and shown.

Payloads are strict (no type coercion, unknown fields refused). What the server derives is never taken
from the body: a document's word count and reading minutes, a video's platform id when its URL names it.
A video's platform id is checked against its URL, since transcripts attach by (platform, id).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

from pydantic import BaseModel, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.content import model
from shared.content.fields import Label, SecureUrl
from shared.content.model import ContentType
from shared.identity.communities.model import PROVIDERS
from shared.platform.validation import Body, Integral, PlainText, View

LongText = Annotated[str, Field(max_length=100_000)]
ByteSize = Annotated[int, Field(ge=1), Integral]


# --- ai_agent -----------------------------------------------------------------------------------------


class ModelSettings(Body):
    """Which model answers for the agent, and how."""

    provider: Literal[PROVIDERS]  # type: ignore[valid-type]
    model: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
    temperature: float = Field(default=0.7, ge=0, le=2)
    max_output_tokens: Annotated[int, Field(ge=1, le=32_768), Integral] = 1024


class AiAgentPayload(Body):
    """An AI agent learners chat with."""

    name: Label
    short_description: str = Field(default="", max_length=300)
    system_prompt: str = Field(min_length=1, max_length=50_000)
    model_settings: ModelSettings
    avatar_url: SecureUrl | None = None


AGENT_SECRETS = ("system_prompt", "model_settings")
"""What of an agent only its editors read: kept in content_item_keys, like a quiz's answers, because
learners may select a published item's payload (and search its words) through PostgREST."""


class AiAgentView(View):
    """An agent as shown: its prompt and model settings only to its editors (staff, the owner's admins)."""

    name: str
    short_description: str = ""
    system_prompt: str | None = None
    model_settings: ModelSettings | None = None
    avatar_url: str | None = None


# --- video --------------------------------------------------------------------------------------------

YOUTUBE_HOSTS = frozenset(
    {
        "youtube.com",
        "www.youtube.com",
        "m.youtube.com",
        "youtu.be",
        "youtube-nocookie.com",
        "www.youtube-nocookie.com",
    }
)
VIMEO_HOSTS = frozenset({"vimeo.com", "www.vimeo.com", "player.vimeo.com"})
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
VIMEO_ID = re.compile(r"^[0-9]{1,12}$")
OTHER_ID = r"^[A-Za-z0-9._:-]{1,200}$"


def youtube_id(url: str) -> str | None:
    """The video id a YouTube URL names (watch, short link, embed, shorts, live), or None."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if parts.hostname == "youtu.be":
        candidate = segments[0] if segments else None
    elif segments[:1] == ["watch"]:
        candidate = next(iter(parse_qs(parts.query).get("v", [])), None)
    elif len(segments) >= 2 and segments[0] in ("embed", "shorts", "live", "v"):
        candidate = segments[1]
    else:
        candidate = None
    return candidate if candidate is not None and YOUTUBE_ID.match(candidate) else None


def vimeo_id(url: str) -> str | None:
    """The video id a Vimeo URL names (vimeo.com/<id>[/<hash>], player.vimeo.com/video/<id>), or None."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    return next((s for s in segments if VIMEO_ID.match(s)), None)


_PLATFORMS = {"youtube": (YOUTUBE_HOSTS, youtube_id), "vimeo": (VIMEO_HOSTS, vimeo_id)}


class VideoPayload(Body):
    """A video hosted on YouTube, Vimeo or elsewhere; the platform id is read from the URL when omitted."""

    url: SecureUrl
    platform: Literal["youtube", "vimeo", "other"]
    platform_video_id: str | None = Field(
        default=None,
        pattern=OTHER_ID,
        description="The platform's id; must match the URL (YouTube: 11 characters, Vimeo: digits)",
    )
    duration_seconds: Annotated[int, Field(ge=0, le=7 * 24 * 3600), Integral] | None = None
    transcript: LongText | None = None

    @model_validator(mode="after")
    def _id_matches_url(self) -> VideoPayload:
        if self.platform == "other":
            return self
        hosts, read_id = _PLATFORMS[self.platform]
        if urlsplit(self.url).hostname not in hosts:
            raise PydanticCustomError(
                "video_url_platform", "the URL is not a {platform} URL", {"platform": self.platform}
            )
        found = read_id(self.url)
        if found is None:
            raise PydanticCustomError(
                "video_id_missing", "the URL names no {platform} video", {"platform": self.platform}
            )
        if self.platform_video_id is not None and self.platform_video_id != found:
            raise PydanticCustomError(
                "video_id_mismatch", "platform_video_id does not match the video the URL names"
            )
        self.platform_video_id = found
        return self


# --- document, prompt, automation ---------------------------------------------------------------------


class DocumentPayload(Body):
    """A written document: an HTML body and/or the editor's structured JSON body."""

    html_body: str = Field(default="", max_length=500_000)
    json_body: dict[str, Any] | None = None


class DocumentView(View):
    """A document with the figures the server derives from it."""

    html_body: str
    json_body: dict[str, Any] | None
    word_count: int = Field(description="Derived from the body, never taken from a request")
    reading_minutes: int = Field(description=f"Derived: words / {model.WORDS_PER_MINUTE}, rounded up")


class PromptPayload(Body):
    """A prompt learners copy and adapt."""

    prompt_text: str = Field(min_length=1, max_length=50_000)
    category: Annotated[PlainText, Field(max_length=60)] | None = None


class AutomationPayload(Body):
    """An automation: where it lives, what it needs and how to set it up."""

    url: SecureUrl
    required_tools: list[Annotated[PlainText, Field(min_length=1, max_length=60)]] = Field(
        default_factory=list, max_length=50
    )
    tool_description: str = Field(default="", max_length=10_000)
    setup_instructions: str = Field(default="", max_length=50_000)


# --- files --------------------------------------------------------------------------------------------


class ImagePayload(Body):
    """An image file: jpeg, png, webp or gif, at most 10 MB."""

    url: SecureUrl
    alt_text: str = Field(default="", max_length=1000)
    byte_size: Annotated[int, Field(ge=1, le=model.MAX_IMAGE_BYTES), Integral]
    mime_type: Literal[model.IMAGE_TYPES]  # type: ignore[valid-type]
    width: Annotated[int, Field(ge=1, le=50_000), Integral] | None = None
    height: Annotated[int, Field(ge=1, le=50_000), Integral] | None = None


class PdfPayload(Body):
    """A PDF file of at most 50 MB."""

    url: SecureUrl
    byte_size: Annotated[int, Field(ge=1, le=model.MAX_PDF_BYTES), Integral]
    page_count: Annotated[int, Field(ge=1, le=100_000), Integral] | None = None


_UPLOAD_ID = Field(
    default=None, description="The confirmed upload attached with PUT /content/{id}/file (set by the server)"
)
_OBJECT_KEY = Field(default=None, description="The attached file's place in storage (set by the server)")


class ImageView(ImagePayload):
    """An image as stored: with an attached upload, `url` is the item's file route and the server filled
    `byte_size` and `mime_type` from the checked object."""

    upload_id: UUID | None = _UPLOAD_ID
    object_key: str | None = _OBJECT_KEY


class PdfView(PdfPayload):
    """A PDF as stored: with an attached upload, `url` is the item's file route and `byte_size` the
    checked object's."""

    upload_id: UUID | None = _UPLOAD_ID
    object_key: str | None = _OBJECT_KEY


PAYLOADS: Mapping[ContentType, type[Body]] = {
    "ai_agent": AiAgentPayload,
    "video": VideoPayload,
    "document": DocumentPayload,
    "prompt": PromptPayload,
    "automation": AutomationPayload,
    "image": ImagePayload,
    "pdf": PdfPayload,
}
"""What a client sends for each type."""

PayloadView = (
    AiAgentView | VideoPayload | DocumentView | PromptPayload | AutomationPayload | ImageView | PdfView
)
"""A stored payload as shown; which one is told by the item's `type`."""



def stored(payload: BaseModel) -> dict[str, Any]:
    """The payload as stored, with what the server derives (a document's word count and reading minutes),
    without an agent's secrets (`keys` has them)."""
    if isinstance(payload, AiAgentPayload):
        return payload.model_dump(mode="json", exclude=set(AGENT_SECRETS))
    values = payload.model_dump(mode="json")
    if isinstance(payload, DocumentPayload):
        words = model.word_count(payload.html_body, payload.json_body)
        values |= {"word_count": words, "reading_minutes": model.reading_minutes(words)}
    return values


def keys(payload: BaseModel) -> dict[str, Any] | None:
    """An agent's prompt and model settings, kept apart for its editors (None: other types have none)."""
    if not isinstance(payload, AiAgentPayload):
        return None
    return payload.model_dump(mode="json", include=set(AGENT_SECRETS))


def joined(payload: Mapping[str, Any], secrets: Mapping[str, Any] | None) -> dict[str, Any]:
    """A stored payload with the agent's secrets the caller may read put back."""
    return {**payload, **(secrets or {})}


VIEWS: Mapping[ContentType, type[BaseModel]] = {
    **PAYLOADS,
    "ai_agent": AiAgentView,
    "document": DocumentView,
    "image": ImageView,
    "pdf": PdfView,
}
"""How each type's stored payload is shown."""

