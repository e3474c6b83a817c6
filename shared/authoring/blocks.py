"""The fourteen block types of a page and a quiz's questions: strict models, a union on `type`.

A block has two forms that differ only for a quiz. The editor's (`Block`) carries each question's
answer and explanation; the stored and learner's (`LearnerBlock`) does not, because learners read
stored payloads, even through PostgREST. Answers are kept apart, as the item's keys (`pages.py`).

Block and question ids are uuids the server assigns when absent. Option ids are the client's short
labels (`"a"`, or a uuid), unique within their question: an answer names its options before the server
has seen the question. Rich text is HTML stored as given and bounded, like a document's body
(`shared/content/payloads.py`): the frontend sanitises what it renders.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Protocol, TypeVar
from uuid import UUID, uuid4

from pydantic import AfterValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from shared.authoring.model import MAX_BLOCKS as MAX_BLOCKS  # also importable here, as they were
from shared.authoring.model import MAX_OPTIONS as MAX_OPTIONS
from shared.authoring.model import MAX_QUESTIONS as MAX_QUESTIONS
from shared.authoring.model import OptionId as OptionId
from shared.content.model import ContentType
from shared.platform.validation import Body, Integral


class _HasId(Protocol):
    @property
    def id(self) -> Any: ...


T = TypeVar("T", bound=_HasId)


def distinct_ids(items: list[T]) -> list[T]:
    """Refuse a list in which two members share an id."""
    seen: set[Any] = set()
    for item in items:
        if item.id in seen:
            raise PydanticCustomError("duplicate_id", "the id {id} appears twice", {"id": str(item.id)})
        seen.add(item.id)
    return items


Caption = Annotated[str, Field(max_length=500)]
Intro = Annotated[str, Field(max_length=2000)]
Heading = Annotated[str, Field(max_length=200)]
Paragraph = Annotated[str, Field(max_length=5000)]
Line = Annotated[str, Field(min_length=1, max_length=1000)]
Seconds = Annotated[int, Field(ge=0, le=7 * 24 * 3600), Integral]
ASSIGNED = "Assigned by the server when absent"


class BlockBase(Body):
    """What every block has: its id, unique within the item."""

    id: UUID = Field(default_factory=uuid4, description=ASSIGNED)


# --- text ---------------------------------------------------------------------------------------------


class SectionHeaderBlock(BlockBase):
    """A heading that opens a section of the page."""

    type: Literal["section_header"]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    subtitle: Caption = ""
    level: Annotated[int, Field(ge=1, le=3), Integral] = 2


class RichTextBlock(BlockBase):
    """Formatted text: HTML and/or the editor's structured JSON, stored as given (at most 100,000 characters)."""

    type: Literal["rich_text"]
    html_body: Annotated[str, Field(max_length=100_000)] = ""
    json_body: dict[str, Any] | None = None


class ListBlock(BlockBase):
    """A bulleted, numbered or checklist list."""

    type: Literal["list"]
    style: Literal["bulleted", "numbered", "checklist"] = "bulleted"
    items: list[Line] = Field(min_length=1, max_length=100)


class QuoteBlock(BlockBase):
    """A quotation and whom it is from."""

    type: Literal["quote"]
    text: Annotated[str, Field(min_length=1, max_length=5000)]
    attribution: Heading = ""


class DividerBlock(BlockBase):
    """A line between parts of a page."""

    type: Literal["divider"]


class UserSubmissionBlock(BlockBase):
    """A task the learner answers with text, a link or a file."""

    type: Literal["user_submission"]
    instructions: Annotated[str, Field(min_length=1, max_length=10_000)]
    kind: Literal["text", "url", "file"] = "text"
    is_required: bool = True


# --- embedded content ---------------------------------------------------------------------------------


class EmbedBlock(BlockBase):
    """A block showing a content item; its `type` is the item's type."""

    type: ContentType
    content_id: UUID = Field(description="A content item of the block's type the author may use")
    caption: Caption = ""


class ImageBlock(EmbedBlock):
    """An image item, shown at a chosen width."""

    type: Literal["image"]
    alt_text: Annotated[str, Field(max_length=1000)] | None = Field(
        default=None, description="Replaces the image's own alt text here; null keeps it"
    )
    width: Literal["small", "medium", "full"] = "full"


class VideoBlock(EmbedBlock):
    """A video item, optionally starting part-way."""

    type: Literal["video"]
    start_seconds: Seconds | None = None


class PdfBlock(EmbedBlock):
    """A PDF item, shown inline or offered for download."""

    type: Literal["pdf"]
    display: Literal["inline", "download"] = "inline"


class DocumentBlock(EmbedBlock):
    """A document item, shown inline or as a link."""

    type: Literal["document"]
    display: Literal["inline", "link"] = "inline"


class AiAgentBlock(EmbedBlock):
    """An AI agent item to chat with, and what the learner is asked to do with it."""

    type: Literal["ai_agent"]
    intro: Intro = ""


class PromptBlock(EmbedBlock):
    """A prompt item to copy and adapt."""

    type: Literal["prompt"]
    intro: Intro = ""


class AutomationBlock(EmbedBlock):
    """An automation item to set up."""

    type: Literal["automation"]
    intro: Intro = ""


# --- quiz ---------------------------------------------------------------------------------------------

Explanation = Annotated[str, Field(max_length=5000, description="Shown after answering")]


class Option(Body):
    """One choice of a choice question."""

    id: OptionId
    text: Line


Options = Annotated[list[Option], Field(min_length=2, max_length=MAX_OPTIONS), AfterValidator(distinct_ids)]


class QuestionBase(Body):
    """What every question has: its id (unique within its quiz) and what it asks."""

    id: UUID = Field(default_factory=uuid4, description=ASSIGNED)
    prompt: Annotated[str, Field(min_length=1, max_length=2000)]


class LearnerSingleChoice(QuestionBase):
    kind: Literal["single_choice"]
    options: Options


class LearnerMultipleChoice(QuestionBase):
    kind: Literal["multiple_choice"]
    options: Options


class LearnerTrueFalse(QuestionBase):
    kind: Literal["true_false"]


class LearnerShortAnswer(QuestionBase):
    kind: Literal["short_answer"]
    case_sensitive: bool = False


def _known_options(options: list[Option], answer: list[str]) -> None:
    known = {option.id for option in options}
    unknown = [choice for choice in answer if choice not in known]
    if unknown:
        raise PydanticCustomError(
            "unknown_option", "the answer names options the question does not have: {ids}", {"ids": unknown}
        )
    if len(set(answer)) != len(answer):
        raise PydanticCustomError("duplicate_option", "the answer names an option twice")


class SingleChoice(LearnerSingleChoice):
    """One option is right."""

    answer: list[OptionId] = Field(min_length=1, max_length=1, description="The right option's id")
    explanation: Explanation = ""

    @model_validator(mode="after")
    def _answer_is_an_option(self) -> SingleChoice:
        _known_options(self.options, self.answer)
        return self


class MultipleChoice(LearnerMultipleChoice):
    """One or more options are right; all of them must be chosen."""

    answer: list[OptionId] = Field(min_length=1, max_length=MAX_OPTIONS, description="The right options' ids")
    explanation: Explanation = ""

    @model_validator(mode="after")
    def _answer_is_options(self) -> MultipleChoice:
        _known_options(self.options, self.answer)
        return self


class TrueFalse(LearnerTrueFalse):
    """A statement that is true or false."""

    answer: bool
    explanation: Explanation = ""


class ShortAnswer(LearnerShortAnswer):
    """A typed answer, right when it matches an accepted one (trimmed; in any case unless case-sensitive)."""

    answer: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        min_length=1, max_length=20, description="The accepted answers"
    )
    explanation: Explanation = ""


Question = Annotated[
    SingleChoice | MultipleChoice | TrueFalse | ShortAnswer, Field(discriminator="kind")
]
"""A question as its editors see it: with its answer and explanation."""
LearnerQuestion = Annotated[
    LearnerSingleChoice | LearnerMultipleChoice | LearnerTrueFalse | LearnerShortAnswer,
    Field(discriminator="kind"),
]
"""A question as stored and as learners see it: no answer, no explanation."""
KEY_FIELDS = ("answer", "explanation")
"""What a question's editors see and its learners do not."""


class Retake(Body):
    """Whether a learner may take the quiz again, and how often in all."""

    allowed: bool = True
    max_attempts: Annotated[int, Field(ge=2, le=100), Integral] | None = Field(
        default=None, description="Attempts in all, the first included, when retakes are allowed; null: no limit"
    )

    @model_validator(mode="after")
    def _attempts_need_retakes(self) -> Retake:
        if not self.allowed and self.max_attempts is not None:
            raise PydanticCustomError("retake_rule", "max_attempts applies only when retakes are allowed")
        return self


class QuizBase(BlockBase):
    """A quiz's settings: what passes, how long it may take, whether it may be taken again."""

    type: Literal["quiz"]
    title: Heading = ""
    instructions: Paragraph = ""
    passing_score: Annotated[int, Field(ge=0, le=100), Integral] = Field(
        default=70, description="Percent of questions answered right to pass"
    )
    time_limit_seconds: Annotated[int, Field(ge=10, le=24 * 3600), Integral] | None = None
    retake: Retake = Field(default_factory=Retake)


class QuizBlock(QuizBase):
    """A quiz as its editors see it."""

    questions: Annotated[
        list[Question], Field(min_length=1, max_length=MAX_QUESTIONS), AfterValidator(distinct_ids)
    ]


class LearnerQuizBlock(QuizBase):
    """A quiz as stored and as learners see it: the questions without their answers."""

    questions: Annotated[
        list[LearnerQuestion], Field(min_length=1, max_length=MAX_QUESTIONS), AfterValidator(distinct_ids)
    ]


# --- the unions ---------------------------------------------------------------------------------------

EMBED_TYPES = (ImageBlock, VideoBlock, PdfBlock, DocumentBlock, AiAgentBlock, PromptBlock, AutomationBlock)
_Plain = (
    SectionHeaderBlock
    | RichTextBlock
    | ListBlock
    | QuoteBlock
    | DividerBlock
    | ImageBlock
    | VideoBlock
    | PdfBlock
    | DocumentBlock
    | AiAgentBlock
    | PromptBlock
    | AutomationBlock
    | UserSubmissionBlock
)
Block = Annotated[_Plain | QuizBlock, Field(discriminator="type")]
"""A block as its editors see it (a quiz with its answers)."""
LearnerBlock = Annotated[_Plain | LearnerQuizBlock, Field(discriminator="type")]
"""A block as stored and as learners see it (a quiz without its answers)."""

Blocks = Annotated[list[Block], Field(max_length=MAX_BLOCKS), AfterValidator(distinct_ids)]
LearnerBlocks = Annotated[list[LearnerBlock], Field(max_length=MAX_BLOCKS), AfterValidator(distinct_ids)]
