"""What a turn sends: the agent's system prompt, the running summary and as much recent history as fits.

The budget is the model's context window less the answer's own tokens, capped at MAX_PROMPT_TOKENS so
that a long conversation cannot make every turn expensive. Turns are dropped oldest first, a turn being
a user message and the answers that follow it, so the history sent always starts with the user. Once a
turn has to drop history that no summary covers yet, the conversation is due a summary: the oldest
messages are folded into `ai_conversations.summary` until what is left takes at most half the budget,
so that a summary is made again only after many more turns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shared.ai.providers.base import ChatMessage, Role
from shared.ai.usage import estimate_tokens

CONTEXT_WINDOWS = {"openai": 128_000, "anthropic": 200_000, "gemini": 1_000_000, "offline": 8_192}
"""Input tokens each provider's chat models accept at least (the smallest window of the models we list)."""
MAX_PROMPT_TOKENS = 16_000
"""Most input tokens a turn sends, whatever the model accepts: the cost of a turn stays bounded."""
SUMMARY_HEADING = "Summary of the earlier conversation:"
SUMMARY_INSTRUCTION = (
    "You maintain the running summary of a conversation between a learner and an AI agent. Write a "
    "concise summary, in the conversation's language, of everything said so far: the learner's goals, "
    "facts they shared, what was explained or decided, and open questions. Plain prose, no preamble."
)
SUMMARY_OUTPUT_TOKENS = 600


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored message of the conversation's history."""

    seq: int
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class Fitted:
    """The context of one turn, and what it left out."""

    system: str
    messages: list[ChatMessage]
    prompt_tokens: int
    """The estimate of what is sent (system prompt, summary, history and the new message)."""
    dropped_through: int
    """The newest seq left out of the history (0: nothing was dropped)."""


def budget(provider: str, max_output_tokens: int) -> int:
    """Input tokens a turn may send to `provider` when its answer may take `max_output_tokens`."""
    window = CONTEXT_WINDOWS.get(provider, min(CONTEXT_WINDOWS.values()))
    return max(1, min(window - max_output_tokens, MAX_PROMPT_TOKENS))


def system_prompt(agent_prompt: str, summary: str | None) -> str:
    """The agent's system prompt, followed by the conversation's summary when it has one."""
    return f"{agent_prompt}\n\n{SUMMARY_HEADING}\n{summary}" if summary else agent_prompt


def fit(agent_prompt: str, summary: str | None, history: Sequence[Stored], message: str, tokens: int) -> Fitted:
    """The newest whole turns of `history` (oldest first) that fit in `tokens` with the rest; never the new message."""
    system = system_prompt(agent_prompt, summary)
    used = estimate_tokens(system, message)
    kept: list[Stored] = []
    pending: list[Stored] = []  # the turn being read, newest first: kept whole or not at all
    for stored in reversed(history):
        pending.append(stored)
        if stored.role != "user":
            continue
        cost = sum(estimate_tokens(m.content) for m in pending)
        if used + cost > tokens:
            break
        used += cost
        kept.extend(pending)
        pending = []
    kept.reverse()
    first_kept = kept[0].seq if kept else None
    dropped_through = max((m.seq for m in history if first_kept is None or m.seq < first_kept), default=0)
    messages = [ChatMessage(m.role, m.content) for m in kept]
    messages.append(ChatMessage("user", message))
    return Fitted(system, messages, used, dropped_through)


def to_summarise(history: Sequence[Stored], message: str, tokens: int) -> list[Stored]:
    """The oldest whole turns of `history` to fold into the summary, so the rest takes at most half of `tokens`."""
    keep_tokens = tokens // 2 - estimate_tokens(message)
    used, cut = 0, len(history)
    for index in range(len(history) - 1, -1, -1):
        used += estimate_tokens(history[index].content)
        if used > keep_tokens:
            break
        if history[index].role == "user":
            cut = index
    return list(history[:cut])


def summary_request_text(summary: str | None, messages: Sequence[Stored]) -> str:
    """What the summariser is asked: the summary so far and the messages to fold into it."""
    lines = [f"Summary so far:\n{summary}\n"] if summary else []
    lines.append("Messages to add to it:")
    lines.extend(f"{'Learner' if m.role == 'user' else 'Agent'}: {m.content}" for m in messages)
    return "\n".join(lines)
