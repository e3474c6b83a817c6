"""What Supabase Realtime needs from the database for the forum's live updates (docs/forum-realtime.md):
the tables in the `supabase_realtime` publication, and row level security that lets each subscriber see
exactly the changed rows their select policy shows them (Realtime asks as the subscriber, as here)."""

from __future__ import annotations

from shared.platform.db import as_user
from tests.factories import ACME, ACME_ADMIN, ACME_LENA, GLOBEX, GLOBEX_GINA, claims
from tests.helpers import Sql


def test_the_forum_and_notifications_are_published_to_realtime(sql: Sql) -> None:
    published = sql("select tablename from pg_publication_tables where pubname = 'supabase_realtime' order by 1")
    assert {"forum_posts", "forum_replies", "notifications"} <= {r["tablename"] for r in published}


async def test_a_subscriber_sees_only_the_changes_their_policies_show_them(sql: Sql) -> None:
    [acme, globex, hidden] = sql(
        "insert into forum_posts (community_id, author_id, title, body, hidden_at) values"
        " (%s, %s, 'acme', 'b', null), (%s, %s, 'globex', 'b', null), (%s, %s, 'hidden', 'b', now())"
        " returning id::text",
        (ACME, ACME_LENA, GLOBEX, GLOBEX_GINA, ACME, ACME_LENA),
    )
    sql("insert into notifications (user_id, kind, subject) values (%s, 'forum.replied', 'hi')", (GLOBEX_GINA,))
    changed = [acme["id"], globex["id"], hidden["id"]]

    async def visible(user: str) -> set[str]:
        async with as_user(claims(user)) as tx:
            rows = await tx.fetch_all("select id::text from public.forum_posts where id = any (%s::uuid[])", (changed,))
            assert await tx.fetch_all("select id from public.notifications where user_id <> auth.uid()") == []
        return {r["id"] for r in rows}

    assert await visible(ACME_LENA) == {acme["id"]}
    assert await visible(ACME_ADMIN) == {acme["id"], hidden["id"]}
    assert await visible(GLOBEX_GINA) == {globex["id"]}
    sql("update communities set forum_enabled = false where id = %s", (ACME,))
    assert await visible(ACME_LENA) == set()
