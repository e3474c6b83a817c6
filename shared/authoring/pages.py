"""The pages of a WOD or a BLOCK, and what editors do to them, as pure functions of the page list.

Editors work on `Page`s, whose quizzes carry their answers. What is stored in the item's payload (and
what learners read) is `LearnerPage`s; the answers and explanations are the item's keys, stored apart
(`content_item_keys`) as `{"<block_id>": {"<question_id>": {"answer": …, "explanation": …}}}`.
`split_keys` turns editor pages into both, `join_keys` puts them back together.

Every operation returns a new list and leaves its input as it was. Its errors name the fields of the
page routes' bodies (`body.position`, `body.blocks.2.id`): 404 for a page or block the item does not
have, 422 for a position out of range, a full page or item, or an id the item already uses.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any, TypeVar
from uuid import UUID, uuid4

from pydantic import AfterValidator, BaseModel, Field, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from shared.authoring import blocks
from shared.authoring.blocks import (
    ASSIGNED,
    KEY_FIELDS,
    Block,
    Blocks,
    LearnerBlocks,
    LearnerQuizBlock,
    QuizBlock,
)
from shared.authoring.errors import (
    BlockNotFoundError,
    IdTakenError,
    ItemFullError,
    PageFullError,
    PageNotFoundError,
    PositionOutOfRangeError,
    QuizKeysError,
)
from shared.authoring.model import MAX_BLOCKS
from shared.content.model import ContentType
from shared.platform.validation import Body, PlainText

MAX_PAGES = 100
"""Pages in one WOD or BLOCK."""

Keys = dict[str, dict[str, dict[str, Any]]]
"""Quiz answers and explanations: block id → question id → {"answer", "explanation"}."""

PageTitle = Annotated[PlainText, Field(max_length=200)]


class PageBase(Body):
    """What every page has: its id, unique within the item, and its title."""

    id: UUID = Field(default_factory=uuid4, description=ASSIGNED)
    title: PageTitle = ""


class Page(PageBase):
    """A page as its editors see it: its blocks, quizzes with their answers."""

    blocks: Blocks = Field(default_factory=list)


class LearnerPage(PageBase):
    """A page as stored and as learners see it: quizzes without their answers."""

    blocks: LearnerBlocks = Field(default_factory=list)


P = TypeVar("P", Page, LearnerPage)
"""Operations work on either form: the editor's pages, or stored pages whose keys are kept beside them."""


def _distinct_item_ids(pages: list[Any]) -> list[Any]:
    blocks.distinct_ids(pages)
    seen: set[UUID] = set()
    for page in pages:
        for block in page.blocks:
            if block.id in seen:
                raise PydanticCustomError(
                    "duplicate_id", "the block id {id} appears twice", {"id": str(block.id)}
                )
            seen.add(block.id)
    return pages


Pages = Annotated[list[Page], Field(max_length=MAX_PAGES), AfterValidator(_distinct_item_ids)]
"""An item's pages as its editors see them; page ids and block ids are each unique in the item."""
LearnerPages = Annotated[list[LearnerPage], Field(max_length=MAX_PAGES), AfterValidator(_distinct_item_ids)]
"""An item's pages as stored and as learners see them."""



# Built on first use, not at import: a function's cold start pays for no validator it does not call.
@functools.cache
def _stored() -> TypeAdapter[list[LearnerPage]]:
    return TypeAdapter(LearnerPages)


@functools.cache
def _editor() -> TypeAdapter[list[Page]]:
    return TypeAdapter(Pages)



def load(stored: Any) -> list[LearnerPage]:
    """Stored pages (JSON from a payload) as models; they were checked on the way in."""
    return _stored().validate_python(stored, strict=False)


def dump(pages: Sequence[BaseModel]) -> list[dict[str, Any]]:
    """Pages as JSON values, for a payload or a response."""
    return [page.model_dump(mode="json") for page in pages]


# --- keys ---------------------------------------------------------------------------------------------


def split_keys(pages: Sequence[Page]) -> tuple[list[LearnerPage], Keys]:
    """Editor pages as stored pages without answers, and the answers and explanations as keys."""
    keys: Keys = {}
    stored = []
    for page in pages:
        kept: list[Any] = []
        for block in page.blocks:
            if isinstance(block, QuizBlock):
                keys[str(block.id)] = {
                    str(question.id): question.model_dump(mode="json", include=set(KEY_FIELDS))
                    for question in block.questions
                }
                exclude = {"questions": {"__all__": set(KEY_FIELDS)}}
                kept.append(LearnerQuizBlock.model_validate(block.model_dump(exclude=exclude)))
            else:
                kept.append(block)
        stored.append(LearnerPage.model_validate({"id": page.id, "title": page.title, "blocks": kept}))
    return stored, keys


def _answered(block: Mapping[str, Any], keys: Mapping[str, Any]) -> dict[str, Any] | None:
    """A stored quiz block (JSON) with each question's answer and explanation put back; None when a
    question has no answer among `keys`."""
    answers = keys.get(str(block.get("id")))
    if not isinstance(answers, Mapping):
        return None
    questions = []
    for question in block.get("questions", []):
        key = answers.get(str(question.get("id")))
        if not isinstance(key, Mapping) or "answer" not in key:
            return None
        questions.append({**question, **{name: key[name] for name in KEY_FIELDS if name in key}})
    return {**block, "questions": questions}


def with_answers(
    stored: Sequence[Mapping[str, Any]], keys: Mapping[str, Any] | None
) -> list[Mapping[str, Any]]:
    """Stored pages (JSON) with their quizzes' answers put back, for a read: as they are when the keys are
    not the caller's to read (None) or do not answer every question (the learner's form, then)."""
    if keys is None:
        return list(stored)
    joined: list[Mapping[str, Any]] = []
    for page in stored:
        kept = []
        for block in page.get("blocks", []):
            if block.get("type") == "quiz":
                block = _answered(block, keys)
                if block is None:
                    return list(stored)
            kept.append(block)
        joined.append({**page, "blocks": kept})
    return joined


def join_keys(stored: Sequence[Mapping[str, Any]], keys: Mapping[str, Any] | None) -> list[Page]:
    """The editor's pages: stored pages (JSON) with every quiz's answers put back from `keys`; 409
    `quiz_keys_invalid` when a quiz's answers are missing or do not fit its questions."""
    joined = []
    for page in stored:
        kept: list[Any] = []
        for block in page.get("blocks", []):
            if block.get("type") == "quiz":
                answered = _answered(block, keys or {})
                try:
                    block = QuizBlock.model_validate(answered, strict=False)
                except ValidationError:
                    raise QuizKeysError(block.get("id")) from None
            kept.append(block)
        joined.append({**page, "blocks": kept})
    return _editor().validate_python(joined, strict=False)


def kept_keys(stored: Sequence[LearnerPage], keys: Mapping[str, Any]) -> Keys | None:
    """The keys of the quizzes and questions `stored` still holds (None: it holds no quiz)."""
    kept: Keys = {}
    for page in stored:
        for block in page.blocks:
            answers = keys.get(str(block.id))
            if isinstance(block, LearnerQuizBlock) and isinstance(answers, Mapping):
                asked = {str(question.id) for question in block.questions}
                kept[str(block.id)] = {q: dict(key) for q, key in answers.items() if q in asked}
    return kept or None


# --- reading ------------------------------------------------------------------------------------------


def embeds(pages: Sequence[Page | LearnerPage]) -> Iterator[tuple[int, int, blocks.EmbedBlock]]:
    """Every embedding block, with its page's position and its own on the page."""
    for page_index, page in enumerate(pages):
        for block_index, block in enumerate(page.blocks):
            if isinstance(block, blocks.EmbedBlock):
                yield page_index, block_index, block


def references(pages: Sequence[Page | LearnerPage]) -> list[tuple[UUID, ContentType]]:
    """Every content item the pages embed, once each in order of appearance, with the type it must have."""
    found: dict[UUID, ContentType] = {}
    for _, _, block in embeds(pages):
        found.setdefault(block.content_id, block.type)
    return list(found.items())


def _page_index(pages: Sequence[Page | LearnerPage], page_id: UUID) -> int:
    for index, page in enumerate(pages):
        if page.id == page_id:
            return index
    raise PageNotFoundError()


def _block_place(pages: Sequence[Page | LearnerPage], block_id: UUID) -> tuple[int, int]:
    for page_index, page in enumerate(pages):
        for block_index, block in enumerate(page.blocks):
            if block.id == block_id:
                return page_index, block_index
    raise BlockNotFoundError()


def _check_position(position: int, highest: int) -> None:
    if not 0 <= position <= highest:
        raise PositionOutOfRangeError(highest)


def _ids_in_use(pages: Sequence[Page | LearnerPage]) -> Iterator[UUID]:
    for page in pages:
        yield page.id
        for block in page.blocks:
            yield block.id


def _refuse_taken(taken: set[UUID], candidates: Sequence[tuple[str, UUID]]) -> None:
    clashes = [loc for loc, candidate in candidates if candidate in taken]
    if clashes:
        raise IdTakenError(clashes)


def _with_blocks(page: P, new_blocks: list[Any]) -> P:
    return page.model_copy(update={"blocks": new_blocks})


# --- editing ------------------------------------------------------------------------------------------


def add_page(pages: Sequence[P], page: P, position: int | None = None) -> list[P]:
    """Insert `page` at `position` (0 … number of pages; None: at the end)."""
    if len(pages) >= MAX_PAGES:
        raise ItemFullError(MAX_PAGES)
    at = len(pages) if position is None else position
    _check_position(at, len(pages))
    candidates = [("body.id", page.id)] + [(f"body.blocks.{i}.id", b.id) for i, b in enumerate(page.blocks)]
    _refuse_taken(set(_ids_in_use(pages)), candidates)
    result = list(pages)
    result.insert(at, page)
    return result


def save_page(pages: Sequence[P], page_id: UUID, title: str, new_blocks: Sequence[Any]) -> list[P]:
    """Replace a page's title and blocks; a block id another page holds is refused (move it instead)."""
    index = _page_index(pages, page_id)
    result = list(pages)
    saved = result.pop(index).model_copy(update={"title": title, "blocks": list(new_blocks)})
    _refuse_taken(set(_ids_in_use(result)), [(f"body.blocks.{i}.id", b.id) for i, b in enumerate(new_blocks)])
    result.insert(index, saved)
    return result


def move_page(pages: Sequence[P], page_id: UUID, position: int) -> list[P]:
    """Move a page to `position` in the resulting order (0 … number of pages - 1)."""
    index = _page_index(pages, page_id)
    _check_position(position, len(pages) - 1)
    result = list(pages)
    result.insert(position, result.pop(index))
    return result


def remove_page(pages: Sequence[P], page_id: UUID) -> list[P]:
    """The pages without `page_id` (and its blocks)."""
    index = _page_index(pages, page_id)
    result = list(pages)
    del result[index]
    return result


def move_block(
    pages: Sequence[P], block_id: UUID, position: int, page_id: UUID | None = None
) -> list[P]:
    """Move a block to `position` on page `page_id` (None: its own page), in the target's resulting order."""
    source, index = _block_place(pages, block_id)
    target = source if page_id is None else _page_index(pages, page_id)
    moved = pages[source].blocks[index]
    result = list(pages)
    result[source] = _with_blocks(pages[source], [b for b in pages[source].blocks if b.id != block_id])
    kept: list[Any] = list(result[target].blocks)
    if target != source and len(kept) >= MAX_BLOCKS:
        raise PageFullError(MAX_BLOCKS)
    _check_position(position, len(kept))
    kept.insert(position, moved)
    result[target] = _with_blocks(result[target], kept)
    return result


def remove_block(pages: Sequence[P], block_id: UUID) -> list[P]:
    """The pages without block `block_id`."""
    source, _ = _block_place(pages, block_id)
    result = list(pages)
    result[source] = _with_blocks(pages[source], [b for b in pages[source].blocks if b.id != block_id])
    return result


def _fresh_block(block: Block) -> Block:
    if isinstance(block, QuizBlock):
        questions = [question.model_copy(update={"id": uuid4()}) for question in block.questions]
        return block.model_copy(update={"id": uuid4(), "questions": questions})
    return block.model_copy(update={"id": uuid4()})


def fresh_page(page: Page) -> Page:
    """A copy of `page` with new ids for it, its blocks and its questions (option ids stay: they are labels)."""
    return page.model_copy(update={"id": uuid4(), "blocks": [_fresh_block(b) for b in page.blocks]})


def fresh_ids(pages: Sequence[Page]) -> list[Page]:
    """A copy of the pages with new ids throughout, as a duplicated item holds: its keys follow its quizzes."""
    return [fresh_page(page) for page in pages]


def duplicate_page(pages: Sequence[Page], page_id: UUID) -> list[Page]:
    """The pages with a copy of page `page_id` (new ids throughout) right after it."""
    index = _page_index(pages, page_id)
    return add_page(pages, fresh_page(pages[index]), index + 1)
