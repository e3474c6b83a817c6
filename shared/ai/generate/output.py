"""The blocks AI may write, the JSON schema each is asked for, and how an answer becomes a block.

The schema is the block's own pydantic schema (editor form: a quiz with its answers) without what the
server decides: the block's and questions' ids (assigned when absent) and its `type` (the editor chose
it), and for rich text the editor's structured JSON (AI writes HTML). `$ref`s are inlined so every
provider can take it. The answer is validated against the block model itself, as a page save would.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter, ValidationError

from shared.authoring.blocks import (
    Block,
    ListBlock,
    QuizBlock,
    QuoteBlock,
    RichTextBlock,
    SectionHeaderBlock,
    UserSubmissionBlock,
)

GenerableType = Literal["section_header", "rich_text", "list", "quote", "user_submission", "quiz"]
"""Blocks made of text. Embeds name real items, which AI cannot choose; a divider has nothing to write."""
MODELS: Mapping[GenerableType, type[BaseModel]] = {
    "section_header": SectionHeaderBlock,
    "rich_text": RichTextBlock,
    "list": ListBlock,
    "quote": QuoteBlock,
    "user_submission": UserSubmissionBlock,
    "quiz": QuizBlock,
}
_LEFT_OUT: Mapping[str, tuple[str, ...]] = {"rich_text": ("json_body",)}
_WRITTEN: Mapping[str, str] = {"rich_text": "html_body"}
"""A field with a default that an answer must still fill (an empty rich text block is no answer)."""
_PROBLEMS_TOLD = 10


class InvalidAnswerError(Exception):
    """The provider's answer is not a valid block; `problems` say why, in a few short lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@functools.cache
def schema_for(kind: GenerableType) -> dict[str, Any]:
    """The self-contained JSON schema of what the provider writes for a block of `kind`."""
    full = MODELS[kind].model_json_schema()
    schema: dict[str, Any] = _inlined(full, full.get("$defs", {}))
    for name in ("type", *_LEFT_OUT.get(kind, ())):
        _drop_property(schema, name)
    if kind in _WRITTEN:
        schema["required"] = [*schema.get("required", []), _WRITTEN[kind]]
    return schema


def _inlined(node: Any, defs: Mapping[str, Any]) -> Any:
    """`node` with its `$ref`s replaced by their definitions; `oneOf` as `anyOf`, no discriminator
    (which names `$ref`s), no server-assigned uuid ids."""
    if isinstance(node, list):
        return [_inlined(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inlined(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    kept = {key: _inlined(value, defs) for key, value in node.items() if key not in ("$defs", "discriminator")}
    if "oneOf" in kept:
        kept["anyOf"] = kept.pop("oneOf")
    if isinstance(kept.get("properties"), dict) and _is_assigned_id(kept["properties"].get("id")):
        _drop_property(kept, "id")
    return kept


def _is_assigned_id(prop: Any) -> bool:
    return isinstance(prop, dict) and prop.get("format") == "uuid"


def _drop_property(schema: dict[str, Any], name: str) -> None:
    schema.get("properties", {}).pop(name, None)
    if name in schema.get("required", []):
        schema["required"] = [field for field in schema["required"] if field != name]


@functools.cache
def _editor_block() -> TypeAdapter[Block]:
    return TypeAdapter(Block)


def block_from(kind: GenerableType, text: str) -> Block:
    """The block an answer describes, its ids assigned here; InvalidAnswerError when it is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        raise InvalidAnswerError(["the answer is not JSON"]) from None
    if not isinstance(data, dict):
        raise InvalidAnswerError(["the answer is not a JSON object"])
    data.pop("id", None)  # the server assigns ids: one the model invents could clash on the page
    for question in data.get("questions") or [] if kind == "quiz" else []:
        if isinstance(question, dict):
            question.pop("id", None)
    raw = json.dumps({**data, "type": kind})
    if "\\u0000" in raw:
        raise InvalidAnswerError(["the answer contains a NUL character"])
    try:
        block = _editor_block().validate_json(raw)
    except ValidationError as exc:
        raise InvalidAnswerError(_problems(exc)) from None
    if kind in _WRITTEN and not getattr(block, _WRITTEN[kind]):
        raise InvalidAnswerError([f"{_WRITTEN[kind]}: must not be empty"])
    return block


def _problems(exc: ValidationError) -> list[str]:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    told = [f"{'.'.join(str(part) for part in err['loc'][1:]) or 'the block'}: {err['msg']}" for err in errors]
    return told[:_PROBLEMS_TOLD]
