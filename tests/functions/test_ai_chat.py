"""`ai-chat`: a turn through the real handler, against real Postgres, with providers stood in by respx."""

from __future__ import annotations

import asyncio
import io
import json
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from scripts.local.tokens import local_token
from shared.ai import fallback
from shared.ai.chat import context, streaming
from shared.ai.keys import ApiKey
from shared.ai.providers.base import ChatEvent, ChatRequest, ProviderName
from shared.ai.providers.offline import OfflineProvider
from shared.platform import logging as log
from shared.platform.config import reset_settings
from shared.platform.crypto import encrypt
from shared.platform.db import as_user
from tests.ai_streams import (
    ANSWER,
    ANTHROPIC,
    GEMINI,
    KEY_VALUE,
    OPENAI,
    WIRES,
    Wire,
    breaking,
    echoing_error,
    sse,
    until_first_text,
)
from tests.content_helpers import grant, make_item
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    ACME_LIAM,
    EMAILS,
    GLOBEX,
    GLOBEX_GINA,
    ISSUER,
    MANAGER,
    auth,
    claims,
)
from tests.helpers import Sql, assert_problem, count, open_transactions

OFFLINE = {"provider": "offline", "model": "offline-echo", "temperature": 0.3, "max_output_tokens": 800}
KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}


def agent_payload(settings: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": "Coach", "system_prompt": "You coach people through their first prompts.",
            "model_settings": settings or OFFLINE}


def agent(sql: Sql, community: str | None = ACME, *, settings: dict[str, Any] | None = None,
          status: str = "published") -> str:
    """A platform agent granted to `community` (None: granted to nobody)."""
    item = make_item(sql, content_type="ai_agent", title="Coach", status=status, payload=agent_payload(settings))
    if community is not None:
        grant(sql, item, community)
    return item


def events(response: httpx.Response) -> list[tuple[str, Any]]:
    """The (name, data) of each server-sent event; heartbeats as ("heartbeat", None)."""
    found: list[tuple[str, Any]] = []
    for block in response.text.split("\n\n"):
        if not block:
            continue
        if block.startswith(":"):
            found.append(("heartbeat", None))
            continue
        lines = dict(line.split(": ", 1) for line in block.split("\n"))
        found.append((lines["event"], json.loads(lines["data"])))
    return found


def messages(sql: Sql) -> list[dict[str, Any]]:
    return sql(
        "select seq, role, content, provider, model, key_source, input_tokens, output_tokens, latency_ms,"
        " first_token_ms, cost_usd, finish_reason, error from ai_messages order by conversation_id, seq"
    )


def use_platform_key(monkeypatch: pytest.MonkeyPatch, wire: Wire) -> None:
    monkeypatch.setenv(KEY_ENV[wire.name], KEY_VALUE)
    reset_settings()


def remote(wire: Wire) -> dict[str, Any]:
    return {"provider": wire.name, "model": wire.model, "temperature": 0.3, "max_output_tokens": 256}


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> Callable[[], str]:
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    return buffer.getvalue


class Recorder:
    """The offline provider, recording what each call was asked; `pace_s` spaces its pieces."""

    name: ProviderName = "offline"

    def __init__(self, pace_s: float = 0.0) -> None:
        self.inner = OfflineProvider(pace_s)
        self.requests: list[ChatRequest] = []

    async def stream(self, request: ChatRequest, key: ApiKey | None = None) -> AsyncGenerator[ChatEvent, None]:
        self.requests.append(request)
        async for event in self.inner.stream(request, key):
            yield event


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recording = Recorder()
    monkeypatch.setattr(fallback, "default_providers", lambda: {"offline": recording})
    yield recording


async def send(client: httpx.AsyncClient, user: str = ACME_LENA, **body: Any) -> httpx.Response:
    return await client.post("/ai-chat", json={"content": "How do I start?", **body}, headers=auth(user))


# --- a turn, streamed and stored -----------------------------------------------------------------------------


async def test_a_learner_chats_with_a_granted_agent_streamed_in_order_and_both_messages_are_stored(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = agent(sql)
    response = await send(client, agent_id=item)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["cache-control"] == "no-cache"
    got = events(response)
    names = [name for name, _ in got]
    assert names[0] == "start" and names[-1] == "done" and set(names[1:-1]) == {"delta"}
    answer = "".join(data["text"] for name, data in got if name == "delta")
    assert answer.startswith("[offline] ")
    start, done = got[0][1], got[-1][1]
    assert start == {"conversation_id": done["conversation_id"], "title": "How do I start?", "user_seq": 1}
    assert (done["seq"], done["finish_reason"], done["provider"], done["model"]) == (2, "stop", "offline", "offline-echo")
    user, assistant = messages(sql)
    assert (user["seq"], user["role"], user["content"], user["model"]) == (1, "user", "How do I start?", None)
    assert assistant["content"] == answer
    assert assistant["input_tokens"] == done["usage"]["input_tokens"] > 0
    assert assistant["output_tokens"] == done["usage"]["output_tokens"] > 0
    assert assistant["latency_ms"] is not None and assistant["first_token_ms"] is not None
    assert (assistant["finish_reason"], assistant["error"], assistant["cost_usd"]) == ("stop", None, 0)
    (conversation,) = sql("select user_id::text, community_id::text, agent_id::text, message_count, turn_id,"
                          " input_tokens from ai_conversations")
    assert conversation == {"user_id": ACME_LENA, "community_id": ACME, "agent_id": item, "message_count": 2,
                            "turn_id": None, "input_tokens": assistant["input_tokens"]}
    (metered,) = sql("select feature, community_id::text, user_id::text, agent_id::text, input_tokens from ai_usage")
    assert metered == {"feature": "chat", "community_id": ACME, "user_id": ACME_LENA, "agent_id": item,
                       "input_tokens": assistant["input_tokens"]}
    assert count(sql, "select count(*) as n from app.ai_reservations") == 0


async def test_a_second_turn_continues_the_conversation_with_its_history(
    client: httpx.AsyncClient, sql: Sql, recorder: Recorder
) -> None:
    item = agent(sql)
    first = events(await send(client, agent_id=item))[-1][1]
    response = await send(client, conversation_id=first["conversation_id"], content="And then?")
    done = events(response)[-1][1]
    assert (done["conversation_id"], done["user_seq"], done["seq"]) == (first["conversation_id"], 3, 4)
    sent = recorder.requests[-1]
    assert [(m.role, m.content[:9]) for m in sent.messages] == [
        ("user", "How do I "), ("assistant", "[offline]"), ("user", "And then?")
    ]
    assert sent.system == "You coach people through their first prompts."
    # The model settings are the server's copy of the agent's (OFFLINE), never the client's.
    assert (sent.model, sent.temperature, sent.max_output_tokens) == ("offline-echo", 0.3, 800)
    assert [m["seq"] for m in messages(sql)] == [1, 2, 3, 4]


async def test_a_turn_begins_in_two_round_trips_new_or_continued(client: httpx.AsyncClient, sql: Sql) -> None:
    # The reads leave with the opening, the reservation and the turn with COMMIT: the response's headers
    # (sent once the turn has begun) count what the request sent before them.
    item = agent(sql)
    first = await send(client, agent_id=item)
    second = await send(client, conversation_id=events(first)[-1][1]["conversation_id"], content="And then?")
    for response in (first, second):
        assert response.status_code == 200
        assert 'desc="2 round trips"' in response.headers["server-timing"]
    assert [m["seq"] for m in messages(sql)] == [1, 2, 3, 4]


async def test_a_user_speaking_sql_sees_through_ai_agent_for_turn_only_what_row_level_security_shows(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item, draft = agent(sql), agent(sql, status="draft")
    query = "select id::text, billed_community::text, reaches from app.ai_agent_for_turn(%s, %s)"
    async with as_user(claims(ACME_LENA)) as tx:
        assert await tx.fetch_all(query, (item, None)) == [{"id": item, "billed_community": ACME, "reaches": True}]
        assert await tx.fetch_all(query, (item, GLOBEX)) == [{"id": item, "billed_community": None, "reaches": False}]
        assert await tx.fetch_all(query, (draft, None)) == []
    async with as_user(claims(GLOBEX_GINA)) as tx:
        assert await tx.fetch_all(query, (item, None)) == []  # granted to Acme only
        assert await tx.fetch_all(query, (item, ACME)) == []


async def test_a_heartbeat_comment_is_sent_while_the_provider_is_silent(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "HEARTBEAT_S", 0.01)
    monkeypatch.setattr(fallback, "default_providers", lambda: {"offline": OfflineProvider(pace_s=0.05)})
    got = events(await send(client, agent_id=agent(sql)))
    names = [name for name, _ in got]
    assert "heartbeat" in names and names[0] == "start" and names[-1] == "done"
    assert "".join(data["text"] for name, data in got if name == "delta") == messages(sql)[1]["content"]


@pytest.mark.parametrize("how", [{"headers": {"Accept": "application/json"}}, {"params": {"stream": "false"}}])
async def test_the_json_mode_answers_with_the_stored_turn(
    client: httpx.AsyncClient, sql: Sql, how: dict[str, Any]
) -> None:
    item = agent(sql)
    headers = {**auth(ACME_LENA), **how.get("headers", {})}
    response = await client.post(
        "/ai-chat", json={"agent_id": item, "content": "Hi"}, headers=headers, params=how.get("params")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["content"].startswith("[offline] ") and body["finish_reason"] == "stop"
    assert (body["user_seq"], body["seq"]) == (1, 2)
    assert messages(sql)[1]["content"] == body["content"]


@pytest.mark.parametrize("wire", WIRES, ids=lambda wire: wire.name)
async def test_each_provider_streams_through_and_its_usage_and_cost_are_stored(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch, wire: Wire, log_lines: Callable[[], str]
) -> None:
    use_platform_key(monkeypatch, wire)
    item = agent(sql, settings=remote(wire))
    with respx.mock(assert_all_called=True) as router:
        router.post(wire.url).mock(return_value=sse(wire.sample()))
        response = await send(client, agent_id=item)
    got = events(response)
    assert "".join(data["text"] for name, data in got if name == "delta") == ANSWER
    done = got[-1][1]
    assert (done["provider"], done["model"], done["finish_reason"]) == (wire.name, wire.answered_model, "stop")
    assert (done["usage"]["input_tokens"], done["usage"]["output_tokens"]) == wire.usage
    assert done["usage"]["cost_usd"] > 0
    assistant = messages(sql)[1]
    assert (assistant["provider"], assistant["key_source"], assistant["content"]) == (wire.name, "platform", ANSWER)
    assert (assistant["input_tokens"], assistant["output_tokens"]) == wire.usage
    assert sql("select provider, key_source, input_tokens from ai_usage") == [
        {"provider": wire.name, "key_source": "platform", "input_tokens": wire.usage[0]}
    ]
    assert KEY_VALUE not in response.text and KEY_VALUE not in log_lines()


async def test_no_transaction_is_open_while_the_provider_answers(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[int] = []

    class Probing(Recorder):
        async def stream(self, request: ChatRequest, key: ApiKey | None = None) -> AsyncGenerator[ChatEvent, None]:
            seen.append(open_transactions(sql))
            async for event in super().stream(request, key):
                yield event

    monkeypatch.setattr(fallback, "default_providers", lambda: {"offline": Probing()})
    response = await send(client, agent_id=agent(sql))
    assert events(response)[-1][0] == "done"
    assert seen == [0]


async def test_the_communitys_own_key_answers_first_and_is_metered_as_the_communitys(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch, log_lines: Callable[[], str]
) -> None:
    own = "sk-community-own-key-0099887766"
    sql("insert into app.community_secrets (community_id, provider, ciphertext) values (%s, 'openai', %s)",
        (ACME, encrypt(own, bound_to=ACME)))
    sql("update community_ai_settings set has_own_key = true, own_key_provider = 'openai' where community_id = %s", (ACME,))
    use_platform_key(monkeypatch, OPENAI)
    item = agent(sql, settings=remote(OPENAI))
    with respx.mock(assert_all_called=True) as router:
        route = router.post(OPENAI.url).mock(return_value=sse(OPENAI.sample()))
        response = await send(client, agent_id=item)
    assert route.calls.last.request.headers["authorization"] == f"Bearer {own}"
    assert messages(sql)[1]["key_source"] == "community"
    assert sql("select key_source from ai_usage") == [{"key_source": "community"}]
    assert own not in response.text and own not in log_lines()


# --- when the provider fails ---------------------------------------------------------------------------------


async def test_a_stream_the_provider_breaks_is_stored_interrupted_and_ends_with_an_error_event(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_platform_key(monkeypatch, OPENAI)
    item = agent(sql, settings=remote(OPENAI))
    with respx.mock(assert_all_called=True) as router:
        router.post(OPENAI.url).mock(return_value=breaking(until_first_text(OPENAI)))
        response = await send(client, agent_id=item)
    got = events(response)
    said = "".join(data["text"] for name, data in got if name == "delta")
    assert said and ANSWER.startswith(said)
    name, problem = got[-1]
    assert name == "error"
    assert (problem["status"], problem["code"]) == (502, "ai_interrupted")
    assert problem["request_id"] == response.headers["x-request-id"]
    assistant = messages(sql)[1]
    assert (assistant["content"], assistant["finish_reason"], assistant["provider"]) == (said, "interrupted", "openai")
    assert assistant["error"] == "the provider's stream broke (unavailable)"
    assert assistant["output_tokens"] > 0  # estimated: the provider never sent its counts
    assert count(sql, "select count(*) as n from ai_usage where feature = 'chat'") == 1
    assert sql("select turn_id from ai_conversations") == [{"turn_id": None}]


async def test_no_provider_answering_is_an_error_event_503_and_the_key_never_shows(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch, log_lines: Callable[[], str]
) -> None:
    use_platform_key(monkeypatch, OPENAI)
    item = agent(sql, settings=remote(OPENAI))
    with respx.mock(assert_all_called=True) as router:
        router.post(OPENAI.url).mock(return_value=echoing_error(401, OPENAI))
        response = await send(client, agent_id=item)
    name, problem = events(response)[-1]
    assert name == "error"
    assert (problem["status"], problem["code"]) == (503, "ai_unavailable")
    assert problem["request_id"] == response.headers["x-request-id"]
    assistant = messages(sql)[1]
    assert (assistant["content"], assistant["finish_reason"], assistant["provider"]) == ("", "error", None)
    assert assistant["error"] == "no provider answered (auth)"
    assert count(sql, "select count(*) as n from ai_usage") == 0
    assert count(sql, "select count(*) as n from app.ai_reservations") == 0
    assert KEY_VALUE not in response.text and KEY_VALUE not in log_lines()
    assert "Incorrect API key" not in response.text + log_lines()


@pytest.mark.parametrize(("status", "code"), [(401, "ai_unavailable"), (400, "ai_request_refused")])
async def test_in_json_mode_provider_failures_are_problems_with_the_request_id(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch, status: int, code: str
) -> None:
    use_platform_key(monkeypatch, ANTHROPIC)
    item = agent(sql, settings=remote(ANTHROPIC))
    with respx.mock(assert_all_called=True) as router:
        router.post(ANTHROPIC.url).mock(return_value=echoing_error(status, ANTHROPIC))
        response = await client.post(
            "/ai-chat?stream=false", json={"agent_id": item, "content": "Hi"}, headers=auth(ACME_LENA)
        )
    body = assert_problem(response, 503 if status == 401 else 502, code)
    assert KEY_VALUE not in response.text and "Incorrect API key" not in response.text
    assert body["conversation_id"] and body["message_id"]
    assert messages(sql)[1]["finish_reason"] == "error"


async def test_past_the_quota_a_turn_is_refused_before_any_provider_call(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_platform_key(monkeypatch, GEMINI)
    item = agent(sql, settings=remote(GEMINI))
    sql("update community_ai_settings set monthly_token_quota = 100 where community_id = %s", (ACME,))
    sql("insert into ai_quota_months (community_id, month, used_tokens)"
        " values (%s, date_trunc('month', now() at time zone 'UTC')::date, 100)", (ACME,))
    with respx.mock(assert_all_called=False) as router:
        route = router.post(GEMINI.url).mock(return_value=sse(GEMINI.sample()))
        response = await send(client, agent_id=item)
    assert_problem(response, 429, "quota_exceeded")
    assert not route.called
    assert count(sql, "select count(*) as n from ai_conversations") == 0
    assert count(sql, "select count(*) as n from ai_messages") == 0


# --- who may chat ------------------------------------------------------------------------------------------


async def test_agents_a_caller_cannot_reach_are_404_and_nothing_is_stored(client: httpx.AsyncClient, sql: Sql) -> None:
    acme_agent = agent(sql, ACME)
    draft = agent(sql, ACME, status="draft")
    archived = agent(sql, ACME, status="archived")
    ungranted = agent(sql, None)
    prompt = make_item(sql, content_type="prompt", status="published")
    grant(sql, prompt, ACME)
    # Its community's admin sees a draft of its own (to edit it): still not an agent to chat with.
    own_draft = make_item(sql, ACME, content_type="ai_agent", status="draft", payload=agent_payload())
    # Staff see every draft (to edit it): not an agent to chat with either, even as a member of its
    # community. An unknown id is the same 404.
    sql("insert into memberships (community_id, user_id, role, source) values (%s, %s, 'member', 'admin')",
        (ACME, MANAGER))
    cases = [(GLOBEX_GINA, acme_agent), (ACME_LENA, draft), (ACME_LENA, archived), (ACME_LENA, ungranted),
             (ACME_LENA, prompt), (ACME_ADMIN, own_draft), (MANAGER, draft), (ACME_LENA, str(uuid.uuid4()))]
    for user, item in cases:
        assert_problem(await send(client, user, agent_id=item), 404, "no_such_agent")
    # A member of Globex naming Acme as the community to bill: not theirs.
    assert_problem(await send(client, GLOBEX_GINA, agent_id=acme_agent, community_id=ACME), 404, "not_found")
    assert count(sql, "select count(*) as n from ai_conversations") == 0


async def test_another_users_conversation_is_404_and_another_agent_is_a_mismatch(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item, other = agent(sql), agent(sql)
    done = events(await send(client, agent_id=item))[-1][1]
    assert_problem(
        await send(client, ACME_LIAM, conversation_id=done["conversation_id"]), 404, "no_such_conversation"
    )
    assert_problem(
        await send(client, conversation_id=done["conversation_id"], agent_id=other), 409, "agent_mismatch"
    )
    assert count(sql, "select count(*) as n from ai_messages") == 2


async def test_a_caller_in_several_communities_must_name_one_where_the_agent_is_granted(
    client: httpx.AsyncClient, sql: Sql
) -> None:
    item = agent(sql, GLOBEX)
    sql("insert into memberships (community_id, user_id, role, source) values (%s, %s, 'member', 'admin')",
        (GLOBEX, ACME_LENA))
    # Granted to her in Globex only: Acme may not be billed for it.
    assert_problem(await send(client, agent_id=item, community_id=ACME), 404, "no_such_agent")
    body = assert_problem(await send(client, agent_id=item), 422, "validation_failed")
    assert body["errors"][0]["loc"] == "body.community_id"
    response = await send(client, agent_id=item, community_id=GLOBEX)
    assert response.status_code == 200
    assert sql("select community_id::text from ai_conversations") == [{"community_id": GLOBEX}]


@pytest.mark.parametrize(
    "token",
    [
        local_token(ACME_LENA, EMAILS[ACME_LENA], issuer=ISSUER, secret="not-the-project-secret-0123456789abcdef"),
        local_token(ACME_LENA, EMAILS[ACME_LENA], issuer=ISSUER, exp=int(time.time()) - 3600),
    ],
    ids=["forged", "expired"],
)
async def test_a_forged_or_expired_token_is_401(client: httpx.AsyncClient, sql: Sql, token: str) -> None:
    item = agent(sql)
    response = await client.post(
        "/ai-chat", json={"agent_id": item, "content": "Hi"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert_problem(response, 401, "unauthenticated")
    assert count(sql, "select count(*) as n from ai_messages") == 0


async def test_a_body_without_agent_or_conversation_is_422(client: httpx.AsyncClient, sql: Sql) -> None:
    body = assert_problem(await send(client), 422, "validation_failed")
    assert body["errors"][0]["loc"] == "body"


# --- concurrency and disconnects -----------------------------------------------------------------------------


async def test_a_second_turn_while_one_streams_is_409_and_never_interleaved(
    client: httpx.AsyncClient, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = agent(sql)
    conversation = events(await send(client, agent_id=item))[-1][1]["conversation_id"]
    monkeypatch.setattr(fallback, "default_providers", lambda: {"offline": OfflineProvider(pace_s=0.03)})

    async def later() -> httpx.Response:
        await asyncio.sleep(0.3)
        return await send(client, conversation_id=conversation, content="Second")

    first, second = await asyncio.gather(send(client, conversation_id=conversation, content="First"), later())
    assert events(first)[-1][0] == "done"
    assert_problem(second, 409, "turn_in_progress")
    rows = messages(sql)
    assert [(m["seq"], m["role"]) for m in rows] == [(1, "user"), (2, "assistant"), (3, "user"), (4, "assistant")]
    assert rows[2]["content"] == "First"


def chat_scope() -> dict[str, Any]:
    """An ASGI request to ai-chat as Lena, for tests that play the server's side of the connection."""
    headers = [(b"content-type", b"application/json"), *((k.lower().encode(), v.encode())
                                                          for k, v in auth(ACME_LENA).items())]
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": "/functions/v1/ai-chat", "raw_path": b"/functions/v1/ai-chat",
            "query_string": b"", "root_path": "", "headers": headers, "client": ("203.0.113.7", 4000),
            "server": ("testserver", 80)}


async def test_a_client_that_disconnects_mid_stream_still_gets_the_answer_so_far_stored(
    gateway: Any, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = agent(sql)
    monkeypatch.setattr(fallback, "default_providers", lambda: {"offline": OfflineProvider(pace_s=0.02)})
    body = json.dumps({"agent_id": item, "content": "Tell me everything"}).encode()
    sent: list[dict[str, Any]] = []
    deltas = asyncio.Event()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await deltas.wait()
        return {"type": "http.disconnect"}

    async def send_message(message: dict[str, Any]) -> None:
        sent.append(message)
        if sum(b"event: delta" in m.get("body", b"") for m in sent) >= 3:
            deltas.set()

    await gateway(chat_scope(), receive, send_message)
    streamed = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert b"event: done" not in streamed
    for _ in range(50):  # the store may still be finishing in its shielded task
        if count(sql, "select count(*) as n from ai_messages") == 2:
            break
        await asyncio.sleep(0.05)
    assistant = messages(sql)[1]
    assert (assistant["finish_reason"], assistant["error"]) == ("interrupted", "the client disconnected")
    assert assistant["content"].startswith("[offline] ")
    assert len(assistant["content"]) < 150  # cut short: the whole answer is longer
    assert sql("select turn_id from ai_conversations") == [{"turn_id": None}]
    assert count(sql, "select count(*) as n from ai_usage where feature = 'chat'") == 1


async def test_a_client_gone_before_the_first_event_still_gets_the_answer_stored(
    gateway: Any, sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The provider is asked when the response starts, before its headers are sent: if sending them
    # fails, the events never run, and what the provider said is stored by the response itself.
    item = agent(sql)
    monkeypatch.setattr(fallback, "default_providers", lambda: {"offline": OfflineProvider(pace_s=0.01)})
    body = json.dumps({"agent_id": item, "content": "Tell me everything"}).encode()
    requested = False

    async def receive() -> dict[str, Any]:
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def gone(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            await asyncio.sleep(0.05)  # the provider has begun meanwhile
            raise OSError("the client is gone")

    with pytest.raises(OSError, match="the client is gone"):
        await gateway(chat_scope(), receive, gone)
    assistant = messages(sql)[1]
    assert (assistant["finish_reason"], assistant["error"]) == ("interrupted", "the client disconnected")
    assert assistant["content"].startswith("[offline] ")
    assert sql("select turn_id from ai_conversations") == [{"turn_id": None}]
    assert count(sql, "select count(*) as n from ai_usage where feature = 'chat'") == 1
    assert count(sql, "select count(*) as n from app.ai_reservations") == 0


# --- the context budget ------------------------------------------------------------------------------------


async def test_a_long_conversation_drops_its_oldest_turns_and_gets_a_running_summary(
    client: httpx.AsyncClient, sql: Sql, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = agent(sql)
    conversation = events(await send(client, agent_id=item, content="Turn one " * 20))[-1][1]["conversation_id"]
    for n in ("two", "three"):
        await send(client, conversation_id=conversation, content=f"Turn {n} " * 20)
    monkeypatch.setattr(context, "MAX_PROMPT_TOKENS", 260)
    response = await send(client, conversation_id=conversation, content="Turn four")
    assert events(response)[-1][0] == "done"
    summarised, answered = recorder.requests[-2:]
    assert summarised.system == context.SUMMARY_INSTRUCTION
    assert "Turn one" in summarised.messages[0].content
    (row,) = sql("select summary, summary_through from ai_conversations")
    assert row["summary"] and row["summary_through"] >= 2
    assert answered.system.endswith(row["summary"]) and context.SUMMARY_HEADING in answered.system
    sent = [m.content for m in answered.messages]
    assert not any(m.startswith("Turn one") for m in sent)
    assert sent[-1] == "Turn four"
    assert count(sql, "select count(*) as n from ai_usage where feature = 'summary'") == 1
