"""The contract of the `communities` function: request and response models (the dashboard's: `dashboard_schemas`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    Field,
    SecretStr,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from shared.identity.communities.model import (
    COLOR_PATTERN,
    FEATURE_NAME_PATTERN,
    FORUM_FLAG,
    MAX_FEATURES,
    SLUG_PATTERN,
)
from shared.platform.pagination import PageQuery
from shared.platform.validation import Body, Integral, NotNull, Patch, PlainText, Query, View, WebUrl

Status = Literal["active", "archived"]
Provider = Literal["openai", "anthropic", "gemini", "offline"]
KeyProvider = Literal["openai", "anthropic", "gemini"]

Name = Annotated[PlainText, Field(min_length=1, max_length=120)]
Slug = Annotated[str, Field(pattern=SLUG_PATTERN, description="2-64 of a-z, 0-9 and '-'")]
ProjectName = Annotated[PlainText, Field(min_length=1, max_length=120)]
LogoUrl = WebUrl
BrandColor = Annotated[str, Field(pattern=COLOR_PATTERN, description="#rrggbb"), AfterValidator(str.lower)]
FeatureName = Annotated[str, StringConstraints(pattern=FEATURE_NAME_PATTERN)]


def _without_forum(flags: dict[str, bool]) -> dict[str, bool]:
    if FORUM_FLAG in flags:
        raise ValueError("the forum is switched by forum_enabled, not by a feature flag")
    return flags


Features = Annotated[
    dict[FeatureName, StrictBool],
    Field(
        max_length=MAX_FEATURES,
        json_schema_extra={"additionalProperties": False},
        description="Feature flags; `forum` is not one of them (forum_enabled is the forum's switch).",
    ),
    AfterValidator(_without_forum),
]
ModelName = Annotated[str, Field(min_length=1, max_length=100)]
TokenQuota = Annotated[int, Field(ge=0, le=10**12), Integral]
RetentionDays = Annotated[int, Field(ge=1, le=3650), Integral]


class CreateCommunity(Body):
    """A new community; with `template_id` its features, tags and AI settings are cloned from that template."""

    name: Name
    slug: Slug
    project_name: ProjectName | None = None
    logo_url: LogoUrl | None = None
    brand_color: BrandColor | None = None
    forum_enabled: bool = False
    is_template: bool = False
    features: Features = Field(default_factory=dict)
    template_id: UUID | None = None


class UpdateCommunity(Patch):
    """Community settings to change; omitted fields stay, null clears the optional ones. `slug`, `status`, `is_template` are staff-only."""

    name: Annotated[Name | None, *NotNull] = None
    project_name: ProjectName | None = None
    logo_url: LogoUrl | None = None
    brand_color: BrandColor | None = None
    forum_enabled: Annotated[bool | None, *NotNull] = None
    slug: Annotated[Slug | None, *NotNull] = None
    status: Annotated[Status | None, *NotNull] = None
    is_template: Annotated[bool | None, *NotNull] = None

    def requested(self) -> dict[str, Any]:
        """The fields sent, as column values."""
        values = self.model_dump(exclude_unset=True)
        if values.get("logo_url") is not None:
            values["logo_url"] = str(values["logo_url"])
        return values


class ReplaceFeatures(Body):
    """The complete feature-flag map (flags not listed are removed)."""

    features: Features


class UpdateAiSettings(Patch):
    """AI settings to change. `api_key` is write-only: a key to store (encrypted), or null to remove it."""

    default_provider: Annotated[Provider | None, *NotNull] = None
    default_model: Annotated[ModelName | None, *NotNull] = None
    monthly_token_quota: Annotated[TokenQuota | None, *NotNull] = None
    conversation_retention_days: RetentionDays | None = Field(
        default=None, description="Days a conversation is kept after its last message (1-3650); null: forever."
    )
    api_key: SecretStr | None = None
    api_key_provider: KeyProvider | None = Field(
        default=None, description="The key's provider; defaults to the resulting default_provider."
    )

    @field_validator("api_key")
    @classmethod
    def _key_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: it is a secret.
        if value is not None:
            key = value.get_secret_value()
            if not 20 <= len(key) <= 300 or not all("!" <= ch <= "~" for ch in key):
                raise ValueError("must be 20 to 300 printable ASCII characters without spaces")
        return value

    @field_validator("api_key_provider")
    @classmethod
    def _provider_needs_key(cls, value: KeyProvider | None, info: ValidationInfo) -> KeyProvider | None:
        if value is not None and info.data.get("api_key") is None:
            raise ValueError("is only meaningful together with an api_key")
        return value

    def setting_changes(self) -> dict[str, Any]:
        """The plain settings sent (not the key)."""
        return self.model_dump(
            include={"default_provider", "default_model", "monthly_token_quota", "conversation_retention_days"},
            exclude_unset=True,
        )

    @property
    def touches_key(self) -> bool:
        """Whether the request sets or removes the community's own key."""
        return "api_key" in self.model_fields_set


class CommunityListQuery(PageQuery):
    """Filters of the community list."""

    q: str | None = Field(default=None, min_length=1, max_length=100, description="Part of name or slug")
    status: Status | None = Field(default=None, description="active or archived")
    is_template: bool | None = Field(default=None, description="Only templates, or only non-templates")


class DeleteCommunityQuery(Query):
    """Deleting needs the community's slug as confirmation."""

    confirm: str = Field(min_length=1, max_length=64, description="The community's slug")


class AiSettingsView(View):
    """A community's AI settings; the key itself is never shown, only whether there is one."""

    community_id: UUID
    default_provider: str
    default_model: str
    monthly_token_quota: int
    conversation_retention_days: int | None
    has_own_key: bool
    own_key_provider: str | None
    updated_at: datetime


class CommunityBasicView(View):
    """What a community's learners see of it."""

    access: Literal["basic"] = "basic"
    id: UUID
    name: str
    slug: str
    project_name: str | None
    logo_url: str | None
    brand_color: str | None
    forum_enabled: bool
    features: dict[str, bool]


class CommunitySummaryView(View):
    """A community as staff list it."""

    id: UUID
    name: str
    slug: str
    project_name: str | None
    logo_url: str | None
    brand_color: str | None
    forum_enabled: bool
    features: dict[str, bool]
    status: str
    is_template: bool
    template_source_id: UUID | None
    member_count: int
    version: int = Field(description='Also sent as the ETag W/"<version>"; send it back in If-Match')
    created_at: datetime
    updated_at: datetime


class CommunityView(CommunitySummaryView):
    """Every setting of a community, as staff and its admins see it."""

    access: Literal["full"] = "full"
    ai_settings: AiSettingsView


class CommunityPage(View):
    """One page of communities."""

    items: list[CommunitySummaryView]
    next_cursor: str | None
