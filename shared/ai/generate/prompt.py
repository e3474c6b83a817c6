"""What the provider is told: how to write a block of each type, the editor's request and the page around it.

The page's other blocks go in as compact JSON, in order, up to a budget of characters (the nearest
ones first would need a position; the page's start says most about it). The offline provider's answer
is written here too: a valid block of the type asked for that says it was written offline.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from shared.ai.generate import output
from shared.ai.generate.output import GenerableType, InvalidAnswerError
from shared.ai.generate.schemas import GenerateBlock
from shared.ai.providers import offline
from shared.ai.providers.base import ChatMessage, ChatRequest, JsonOutput, Timeouts

CONTEXT_BUDGET = 16_000
"""Characters of the page's other blocks sent as context."""
ANSWER_QUOTED = 4_000
"""Characters of an invalid answer sent back with the request to correct it."""
MAX_OUTPUT_TOKENS: Mapping[GenerableType, int] = {"quiz": 4096, "rich_text": 3072}
DEFAULT_OUTPUT_TOKENS = 1024
TEMPERATURE = 0.4
TIMEOUTS = Timeouts(connect_s=3.0, read_s=30.0, total_s=60.0)

SYSTEM = (
    "You write one block of a page in AI GYM, where people train their skills with AI. Write the block the "
    "editor asks for, in the language of their request, so that it fits the page it goes on. Answer with "
    "one JSON object that matches the given schema, and nothing else."
)
GUIDANCE: Mapping[GenerableType, str] = {
    "section_header": "A section header: a short title (at most 200 characters), an optional subtitle, level 1 to 3.",
    "rich_text": (
        "Rich text: `html_body` is HTML using only <p>, <h3>, <h4>, <strong>, <em>, <ul>, <ol>, <li>, <a>, "
        "<code> and <blockquote>; no scripts, styles or images."
    ),
    "list": "A list: `items` are its lines (1 to 100, each at most 1000 characters); `style` bulleted, numbered or checklist.",
    "quote": "A quote: `text` is the quotation and `attribution` whom it is from (leave it empty when unsure).",
    "user_submission": "A task the learner answers: clear `instructions`; `kind` text, url or file.",
    "quiz": (
        "A quiz: `questions` (1 to 50) of kind single_choice, multiple_choice, true_false or short_answer. "
        "Choice questions have 2 to 20 `options`, each with a short `id` (a, b, c…) unique in its question; "
        "`answer` lists the ids of the right options (exactly one for single_choice). true_false answers "
        "true or false; short_answer lists the accepted answers. Explain each answer in `explanation`."
    ),
}
_NAME = "page_block"


def request_for(body: GenerateBlock, model: str) -> ChatRequest:
    """The provider request for `body`: guidance, the request and its context, the block's schema."""
    kind = body.type
    chat = ChatRequest(
        system=f"{SYSTEM}\n\n{GUIDANCE[kind]}",
        messages=[ChatMessage("user", _asked(body))],
        model=model,
        temperature=TEMPERATURE,
        max_output_tokens=MAX_OUTPUT_TOKENS.get(kind, DEFAULT_OUTPUT_TOKENS),
        timeouts=TIMEOUTS,
    )
    schema = output.schema_for(kind)
    answer = offline_answer(kind, body.prompt)
    return replace(chat, output=JsonOutput(_NAME, schema, f"A {kind} block of a page", answer))


def corrected(request: ChatRequest, answer: str, invalid: InvalidAnswerError) -> ChatRequest:
    """`request` again, with the invalid answer and what is wrong with it, asking for a valid one."""
    problems = "\n".join(f"- {problem}" for problem in invalid.problems)
    retry = (
        f"That answer is not a valid block:\n{problems}\n"
        "Answer again with only the corrected JSON object, matching the schema."
    )
    quoted = answer[:ANSWER_QUOTED] or "(empty)"
    messages = [*request.messages, ChatMessage("assistant", quoted), ChatMessage("user", retry)]
    return replace(request, messages=messages)


def _asked(body: GenerateBlock) -> str:
    context = body.context
    parts = [f"Block to write: {body.type}", f"Request: {body.prompt}"]
    if context.item_title:
        parts.append(f"Item title: {context.item_title}")
    if context.page_title:
        parts.append(f"Page title: {context.page_title}")
    if context.blocks:
        parts.append("The page's blocks, in order (JSON):\n" + _blocks(context.blocks))
    return "\n".join(parts)


def _blocks(blocks: list[Any]) -> str:
    lines: list[str] = []
    used = 0
    for index, block in enumerate(blocks):
        line = json.dumps(block.model_dump(mode="json", exclude={"id"}, exclude_defaults=True), ensure_ascii=False)
        if used + len(line) > CONTEXT_BUDGET:
            lines.append(f"(… {len(blocks) - index} more blocks left out)")
            break
        lines.append(line)
        used += len(line)
    return "\n".join(lines)


def offline_answer(kind: GenerableType, prompt: str) -> dict[str, Any]:
    """A valid block of `kind` that says it was written offline, quoting the request (deterministic)."""
    quoted = " ".join(prompt.split())[:150]
    note = f"{offline.PREFIX}No AI provider is configured, so this block was written offline, not by a model."
    asked = f"You asked for: {quoted}"
    answers: dict[GenerableType, dict[str, Any]] = {
        "section_header": {"title": f"{offline.PREFIX}{quoted}", "subtitle": note},
        "rich_text": {"html_body": f"<p>{html.escape(note)}</p><p>{html.escape(asked)}</p>"},
        "list": {"style": "bulleted", "items": [note, asked]},
        "quote": {"text": f"{note} {asked}", "attribution": "AI GYM (offline)"},
        "user_submission": {"instructions": f"{note} {asked}", "kind": "text"},
        "quiz": {
            "title": f"{offline.PREFIX}{quoted}",
            "instructions": note,
            "questions": [
                {
                    "kind": "true_false",
                    "prompt": f"{offline.PREFIX}This quiz was written offline, not by a model.",
                    "answer": True,
                    "explanation": note,
                },
                {
                    "kind": "single_choice",
                    "prompt": f"{offline.PREFIX}What wrote this quiz?",
                    "options": [{"id": "a", "text": "The offline provider"}, {"id": "b", "text": "A model"}],
                    "answer": ["a"],
                    "explanation": asked,
                },
            ],
        },
    }
    return answers[kind]
