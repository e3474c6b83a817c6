"""Structured answers as each provider streams them (their documented formats), for the generation tests."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.ai_streams import ANTHROPIC, GEMINI, OPENAI, Wire, sse

USAGE = (412, 57)
"""Input and output tokens every sample answer reports."""


def _events(*payloads: Any, named: bool = False) -> str:
    lines = []
    for payload in payloads:
        data = payload if isinstance(payload, str) else json.dumps(payload)
        event = f"event: {payload['type']}\n" if named and isinstance(payload, dict) else ""
        lines.append(f"{event}data: {data}\n\n")
    return "".join(lines)


def _halves(text: str) -> list[str]:
    middle = len(text) // 2
    return [text[:middle], text[middle:]]


def openai_json(text: str) -> str:
    """Chat Completions with `response_format`: the JSON arrives as content deltas, then usage and [DONE]."""
    chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "gpt-4.1-mini-2025-04-14"}
    pieces = [{**chunk, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
              for piece in _halves(text)]
    return _events(
        *pieces,
        {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**chunk, "choices": [], "usage": {"prompt_tokens": USAGE[0], "completion_tokens": USAGE[1]}},
        "[DONE]",
    )


def anthropic_tool(text: str) -> str:
    """Messages with a forced tool: the tool's input arrives as `input_json_delta`s, stopping with tool_use."""
    message = {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-haiku-4-5-20251001",
               "stop_reason": None, "usage": {"input_tokens": USAGE[0], "output_tokens": 1}}
    deltas = [{"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": piece}}
              for piece in ["", *_halves(text)]]
    return _events(
        {"type": "message_start", "message": message},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "toolu_1", "name": "page_block", "input": {}}},
        {"type": "ping"},
        *deltas,
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {"output_tokens": USAGE[1]}},
        {"type": "message_stop"},
        named=True,
    )


def gemini_json(text: str) -> str:
    """generateContent with `responseMimeType: application/json`: the JSON arrives as text parts."""
    first, second = _halves(text)
    return _events(
        {"candidates": [{"content": {"parts": [{"text": first}], "role": "model"}, "index": 0}],
         "usageMetadata": {"promptTokenCount": USAGE[0]}, "modelVersion": "gemini-2.5-flash"},
        {"candidates": [{"content": {"parts": [{"text": second}], "role": "model"}, "index": 0, "finishReason": "STOP"}],
         "usageMetadata": {"promptTokenCount": USAGE[0], "candidatesTokenCount": USAGE[1]},
         "modelVersion": "gemini-2.5-flash"},
    )


STREAMS = {"openai": openai_json, "anthropic": anthropic_tool, "gemini": gemini_json}
WIRES: dict[str, Wire] = {"openai": OPENAI, "anthropic": ANTHROPIC, "gemini": GEMINI}


def answer(provider: str, value: Any) -> httpx.Response:
    """`value` (a JSON value, or a str sent as it is) as `provider` streams a structured answer."""
    text = value if isinstance(value, str) else json.dumps(value)
    return sse(STREAMS[provider](text))
