"""The contract of `ai-generate`: what to write and in what context, and the block written."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from shared.ai.generate.output import GenerableType
from shared.authoring.blocks import Block, Blocks
from shared.platform.validation import Body, NotNull, View


class GenerationContext(Body):
    """Where the block goes: the item's and the page's titles and the page's other blocks, as the editor has them."""

    item_title: Annotated[str, Field(max_length=200)] = ""
    page_title: Annotated[str, Field(max_length=200)] = ""
    blocks: Blocks = Field(default_factory=list, description="The page's blocks, in order (a quiz with its answers)")


class GenerateBlock(Body):
    """A block to write: its type, what it should say, and for which community (which is billed)."""

    type: GenerableType
    prompt: Annotated[str, Field(min_length=1, max_length=4000, description="What the block should say")]
    community_id: Annotated[UUID | None, *NotNull] = Field(
        default=None,
        description="The community you write for, whose AI settings and quota are used; absent: your only "
        "administered community, or for staff who may write, platform content (metered to the platform, against no quota)",
    )
    context: GenerationContext = Field(default_factory=GenerationContext)


class GeneratedBlock(View):
    """A written block, validated as a page save validates it (a quiz with its answers, ready to save), and what
    it cost. Nothing is saved: the editor puts it on a page."""

    block: Block
    provider: Literal["openai", "anthropic", "gemini", "offline"]
    model: str
    is_offline: bool = Field(description="Written by the offline provider (no AI provider is configured), not a model")
    attempts: int = Field(description="Answers asked for: 2 when the first was not a valid block")
    input_tokens: int
    output_tokens: int
    community_id: UUID | None = Field(description="The community metered; null: platform content, metered to the platform")
