"""`ai-chat`: a learner talks to a published AI agent; the answer streams back as server-sent events."""

from __future__ import annotations

from starlette.responses import Response

from shared.ai.chat import streaming, turn
from shared.ai.chat.schemas import ChatQuery, SendMessage, TurnView
from shared.platform.http import Context, Function

fn = Function("ai-chat", body_limit=128 * 1024, description="Chat turns with AI agents.")
ANSWERS = {
    404: "No such agent or conversation, or one the caller cannot see",
    409: "turn_in_progress: the conversation is still answering; agent_mismatch",
    429: "rate_limited, or quota_exceeded: the community has used its AI tokens for the month",
    502: "ai_request_refused: the provider refused the request; ai_interrupted: the answer broke off (JSON mode;"
    " an `error` event when streaming)",
    503: "ai_unavailable: no provider answered (JSON mode; an `error` event when streaming)",
}


@fn.post("/", body=SendMessage, query=ChatQuery, rate_limit="ai", responses=ANSWERS, prefetch=turn.prefetch)
async def send_message(ctx: Context, body: SendMessage, query: ChatQuery) -> TurnView | Response:
    """Send a message to an agent (`agent_id`: a new conversation) or in a conversation (`conversation_id`).

    The answer streams as server-sent events (`text/event-stream`): `start` {conversation_id, title,
    user_seq}, `delta` {text}…, then `done` (the stored answer's ids, model, usage and finish reason) or
    `error` (a problem: `ai_unavailable`, `ai_request_refused`, `ai_interrupted`); comment lines
    are heartbeats. With `Accept: application/json` or `?stream=false` the stored answer comes back as
    one JSON object instead. Past the community's monthly quota the turn is refused (429
    `quota_exceeded`) before any provider is called.
    """
    begun = await turn.begin(ctx.db, ctx.user, body, ctx.settings, ctx.request_id, ctx.reads)
    if _wants_json(ctx, query):
        return streaming.json_answer(begun)
    return streaming.event_stream(begun)


def _wants_json(ctx: Context, query: ChatQuery) -> bool:
    if query.stream is not None:
        return not query.stream
    accept = ctx.request.headers.get("accept", "")
    return "application/json" in accept and "text/event-stream" not in accept


handler = fn.handler
