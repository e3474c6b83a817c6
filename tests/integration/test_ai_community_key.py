"""A community's own provider key, read for a chat turn: decrypted for that community only, never exposed."""

from __future__ import annotations

import io
import uuid

import pytest

from shared.ai.keys import community_key
from shared.platform import logging as log
from shared.platform.crypto import encrypt
from shared.platform.db import as_user
from shared.platform.errors import ForbiddenError
from tests.factories import ACME, ACME_LENA, GLOBEX, GLOBEX_GINA, claims
from tests.helpers import Sql

OWN_KEY = "sk-ant-community-own-key-5566778899"


def store_key(sql: Sql, community: str, provider: str, *, bound_to: str | None = None) -> None:
    ciphertext = encrypt(OWN_KEY, bound_to=bound_to or community)
    sql(
        "insert into app.community_secrets (community_id, provider, ciphertext) values (%s, %s, %s)",
        (community, provider, ciphertext),
    )


async def test_a_members_turn_reads_its_communitys_key_decrypted(sql: Sql) -> None:
    store_key(sql, ACME, "anthropic")
    async with as_user(claims(ACME_LENA)) as tx:
        credential = await community_key(tx, uuid.UUID(ACME))
        role = await tx.fetch_val("select current_user")
    assert credential is not None
    assert (credential.provider, credential.source, credential.key.reveal()) == ("anthropic", "community", OWN_KEY)
    assert OWN_KEY not in repr(credential)
    assert role == "authenticated", "the platform role is given back after the read"


async def test_a_community_without_its_own_key_has_none(sql: Sql) -> None:
    store_key(sql, ACME, "openai")
    async with as_user(claims(GLOBEX_GINA)) as tx:
        assert await community_key(tx, uuid.UUID(GLOBEX)) is None


async def test_a_ciphertext_copied_from_another_community_is_not_used_and_the_log_shows_no_key(
    sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    buffer = io.StringIO()
    monkeypatch.setattr(log, "stream", buffer)
    store_key(sql, GLOBEX, "openai", bound_to=ACME)
    async with as_user(claims(GLOBEX_GINA)) as tx:
        assert await community_key(tx, uuid.UUID(GLOBEX)) is None
    assert "community provider key not usable" in buffer.getvalue()
    assert OWN_KEY not in buffer.getvalue()


async def test_the_member_still_cannot_read_the_secrets_table_themselves(sql: Sql) -> None:
    store_key(sql, ACME, "openai")
    with pytest.raises(ForbiddenError):  # permission denied, as the database answers
        async with as_user(claims(ACME_LENA)) as tx:
            await community_key(tx, uuid.UUID(ACME))
            await tx.fetch_all("select ciphertext from app.community_secrets")
