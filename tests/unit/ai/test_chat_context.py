"""Fitting a turn's context into its budget, and the server-sent events of a turn (no I/O)."""

from __future__ import annotations

from shared.ai.chat import context, sse
from shared.ai.chat.context import Stored
from shared.ai.usage import estimate_tokens


def history(turns: int, words: int = 40) -> list[Stored]:
    """`turns` user/assistant pairs of about `words` * 2 tokens each message, seq from 1."""
    stored: list[Stored] = []
    for n in range(turns):
        stored.append(Stored(2 * n + 1, "user", f"question {n} " + "word " * words))
        stored.append(Stored(2 * n + 2, "assistant", f"answer {n} " + "word " * words))
    return stored


def test_everything_fits_in_a_generous_budget() -> None:
    fitted = context.fit("Be kind.", None, history(3), "And now?", 10_000)
    assert [m.role for m in fitted.messages] == ["user", "assistant"] * 3 + ["user"]
    assert fitted.messages[-1].content == "And now?"
    assert (fitted.system, fitted.dropped_through) == ("Be kind.", 0)


def test_the_oldest_whole_turns_are_dropped_first_and_the_history_starts_with_the_learner() -> None:
    turns = history(5)
    per_turn = estimate_tokens(turns[0].content) + estimate_tokens(turns[1].content)
    budget = estimate_tokens("Be kind.", "And now?") + 2 * per_turn + 5
    fitted = context.fit("Be kind.", None, turns, "And now?", budget)
    assert [m.content.split()[1] for m in fitted.messages[:-1]] == ["3", "3", "4", "4"]
    assert fitted.messages[0].role == "user"
    assert fitted.dropped_through == 6
    assert fitted.prompt_tokens <= budget


def test_the_new_message_is_sent_even_when_nothing_else_fits() -> None:
    fitted = context.fit("Be kind.", None, history(2), "And now?", 1)
    assert [m.content for m in fitted.messages] == ["And now?"]
    assert fitted.dropped_through == 4


def test_the_summary_follows_the_agents_prompt() -> None:
    fitted = context.fit("Be kind.", "They want to learn SQL.", [], "Hi", 1000)
    assert fitted.system == f"Be kind.\n\n{context.SUMMARY_HEADING}\nThey want to learn SQL."


def test_summarising_leaves_whole_turns_within_half_the_budget() -> None:
    turns = history(6)
    due = context.to_summarise(turns, "And now?", 400)
    kept = turns[len(due):]
    assert due and kept[0].role == "user"
    assert estimate_tokens(*(m.content for m in kept)) + estimate_tokens("And now?") <= 200


def test_the_budget_is_the_window_less_the_answer_capped() -> None:
    assert context.budget("offline", 1000) == 8_192 - 1000
    assert context.budget("anthropic", 1000) == context.MAX_PROMPT_TOKENS
    assert context.budget("unknown", 100) == 8_192 - 100


def test_events_are_one_json_line_each() -> None:
    assert sse.delta("two\nlines") == b'event: delta\ndata: {"text":"two\\nlines"}\n\n'
    assert sse.event("done", {"seq": 2}) == b'event: done\ndata: {"seq":2}\n\n'
    assert sse.HEARTBEAT.startswith(b":")
