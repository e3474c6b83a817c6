"""An agent for a turn: a published `ai_agent` content item the caller can see.

The turn reads the item as the caller (`app.ai_agent_for_turn`), so row level security decides
visibility (the content repository's rule: staff and the owning community's admins, and learners an
item is granted to once published); a draft or archived agent, another community's agent and an
unknown id are all one 404. The system prompt and model settings come from the server's copy: a client
never supplies them. They are kept in public.content_item_keys, which only the agent's editors may read
(migration 20261203000200), so they are read as the platform role, beside the caller's own read of the
agent, and used only when that read found it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID

from shared.platform.errors import NotFoundError

if TYPE_CHECKING:
    from shared.ai.providers.base import ProviderName

SECRETS_SQL = "select item_id, keys from public.content_item_keys where item_id = {agent}"
"""An agent's secrets, read as the platform role; `{agent}` is the id's SQL (a parameter or a subquery)."""


@dataclass(frozen=True, slots=True)
class Agent:
    """What a turn needs of an agent."""

    id: UUID
    community_id: UUID | None
    """The owning community; None for a platform agent."""
    name: str
    system_prompt: str
    provider: ProviderName
    model: str
    temperature: float
    max_output_tokens: int


class NoSuchAgentError(NotFoundError):
    code, title = "no_such_agent", "No such agent"


def agent_from(found: dict[str, Any] | None, secrets: list[dict[str, Any]]) -> Agent:
    """The agent the caller's read found, with its secrets (rows of SECRETS_SQL); 404 when it found none.

    Only the secrets of the agent found are used: the platform's read ran whatever the caller's found.
    """
    if found is None:
        raise NoSuchAgentError("No published agent with this id is available to you.")
    keys: dict[str, Any] = next((row["keys"] for row in secrets if row["item_id"] == found["id"]), {})
    return _agent_of(found, keys)


def _agent_of(row: dict[str, Any], secrets: dict[str, Any]) -> Agent:
    """An Agent from its content item row and its secrets (both validated when the item was saved)."""
    payload = row["payload"]
    if "system_prompt" not in secrets:  # saved before its secrets were kept apart: not usable
        raise NoSuchAgentError("This agent has no system prompt; its editors must save it again.")
    settings = secrets["model_settings"]
    return Agent(
        id=row["id"],
        community_id=row["community_id"],
        name=payload.get("name") or row["title"],
        system_prompt=secrets["system_prompt"],
        provider=settings["provider"],
        model=settings["model"],
        temperature=float(settings.get("temperature", 0.7)),
        max_output_tokens=int(settings.get("max_output_tokens", 1024)),
    )
