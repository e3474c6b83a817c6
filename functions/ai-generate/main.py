"""`ai-generate`: page-builder blocks written by AI from a prompt and the page around them."""

from __future__ import annotations

from shared.ai.generate import service
from shared.ai.generate.schemas import GenerateBlock, GeneratedBlock
from shared.content import policy
from shared.identity.schemas import NO_SUCH_COMMUNITY
from shared.platform.guards import caller
from shared.platform.http import Context, Function

fn = Function("ai-generate", description="Page-builder blocks written by AI, validated before they are returned.")
WRITERS = caller(policy.require_writer)
PROBLEMS = {
    **NO_SUCH_COMMUNITY,
    429: "quota_exceeded: the community has used its AI tokens for this month (no provider was called)",
    502: "generation_invalid: two answers were not a valid block; ai_request_refused: the provider refused",
    503: "ai_unavailable: no provider answered",
}


# caller_only: the request's transaction ends with its opening; the service opens short ones of its
# own around the provider call, so no transaction or connection is held while a provider answers.
@fn.post("/", body=GenerateBlock, rate_limit="ai", allow=WRITERS, caller_only=True, responses=PROBLEMS)
async def generate_block(ctx: Context, body: GenerateBlock) -> GeneratedBlock:
    """Write a block (section header, rich text, list, quote, submission task, quiz with its answers) from
    `prompt` and `context`, validated as a page save would; nothing is saved. Metered to `community_id`."""
    return await service.generate(body, principal=ctx.user, settings=ctx.settings)


handler = fn.handler
