"""The tenancy matrix: for every table and view the API roles can reach, what each kind of caller may do.

Every caller runs, through the transaction the functions open (`shared.platform.db.transaction`: claims
and role set transaction-locally, as PostgREST does), an unfiltered select, an insert into each community
(and, where a row names a parent row, one whose parent belongs to the other community), an update and a
delete, plus a truncate; each attempt in a savepoint that is rolled back. `MATRIX` is the spec of tenancy:
a relation missing from it fails the suite, and the second test proves the matrix catches a loosened
policy or a widened grant on every table. The machinery is in tests/tenancy.py.

Outcomes: `denied` (the role holds no privilege), `refused` (a policy, key or trigger said no), `allowed`,
or exactly which rows were seen or touched. anon holds no privilege on any table. The pgmq schema is not
reachable by an API role at all (events are enqueued by the code that owns the change), so its queue
tables are not listed; if that ever changes, they appear here as unlisted relations.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from shared.platform.db import Statement
from tests.factories import (
    ACME,
    ACME_ADMIN,
    ACME_LENA,
    ACME_LIAM,
    GLOBEX,
    GLOBEX_ADMIN,
    GLOBEX_GINA,
    MANAGER,
    SPECIALIST,
    SUPER,
)
from tests.helpers import Sql, owner_sql
from tests.tenancy import (
    ADMINS,
    DENIED,
    IN_EACH_COMMUNITY,
    IN_EACH_COMMUNITY_AND_ACROSS,
    IN_NO_COMMUNITY,
    MEMBERS,
    OWN,
    STAFF,
    STAFF_WRITERS,
    SUPER_ADMIN,
    Caller,
    Delete,
    Insert,
    Rule,
    Table,
    Target,
    Update,
    grant_mutations,
    policy_mutations,
    run_matrix,
    statement,
    unlisted_relations,
)

# ---------------------------------------------------------------------------------------------------
# The callers and the rows they meet: the seed (supabase/seed.sql) plus one row of every kind per
# community, so that each table holds something of Acme's and something of Globex's.
# ---------------------------------------------------------------------------------------------------

OUTSIDER = "b0000000-0000-4000-8000-0000000000e1"  # signed in, member of nothing
ORPHAN = "b0000000-0000-4000-8000-0000000000e2"  # an account without a profile, to try inserting one
SHORT = {ACME: "acme", GLOBEX: "globex"}
TAG = {ACME: "d0000000-0000-4000-8000-000000000a01", GLOBEX: "d0000000-0000-4000-8000-000000000b01"}
SPARE_TAG = {ACME: "d0000000-0000-4000-8000-000000000a02", GLOBEX: "d0000000-0000-4000-8000-000000000b02"}
LINK = {ACME: "d0000000-0000-4000-8000-000000000a03", GLOBEX: "d0000000-0000-4000-8000-000000000b03"}
INVITE = {ACME: "d0000000-0000-4000-8000-000000000a04", GLOBEX: "d0000000-0000-4000-8000-000000000b04"}
JOB = {ACME: "d0000000-0000-4000-8000-000000000a05", GLOBEX: "d0000000-0000-4000-8000-000000000b05"}
UPLOAD = {ACME: "d0000000-0000-4000-8000-000000000a06", GLOBEX: "d0000000-0000-4000-8000-000000000b06"}
PLATFORM_UPLOAD = "d0000000-0000-4000-8000-0000000000f6"
ACHIEVEMENT = {ACME: "d0000000-0000-4000-8000-000000000a07", GLOBEX: "d0000000-0000-4000-8000-000000000b07"}
TAG_HOLDER = {ACME: ACME_LENA, GLOBEX: GLOBEX_GINA}
SPARE_TAG_TAKER = {ACME: ACME_LIAM, GLOBEX: GLOBEX_GINA}  # members who do not hold the spare tag yet
CONVERSATION = {ACME: "d0000000-0000-4000-8000-000000000a07", GLOBEX: "d0000000-0000-4000-8000-000000000b07"}
RESERVATION = {ACME: "d0000000-0000-4000-8000-000000000a08", GLOBEX: "d0000000-0000-4000-8000-000000000b08"}
FORUM_POST = {ACME: "d0000000-0000-4000-8000-000000000a10", GLOBEX: "d0000000-0000-4000-8000-000000000b10"}
HIDDEN_POST = {ACME: "d0000000-0000-4000-8000-000000000a11", GLOBEX: "d0000000-0000-4000-8000-000000000b11"}
FORUM_REPLY = {ACME: "d0000000-0000-4000-8000-000000000a12", GLOBEX: "d0000000-0000-4000-8000-000000000b12"}

# Content: per community a folder, a draft of its own and a published item granted to itself; on the
# platform a folder and published items granted in every way, plus a draft and an expired grant.
FOLDER = {ACME: "f0000000-0000-4000-8000-000000000a01", GLOBEX: "f0000000-0000-4000-8000-000000000b01"}
PLATFORM_FOLDER = "f0000000-0000-4000-8000-000000000001"
OWN_DRAFT = {ACME: "e0000000-0000-4000-8000-000000000a11", GLOBEX: "e0000000-0000-4000-8000-000000000b11"}
OWN_SHARED = {ACME: "e0000000-0000-4000-8000-000000000a12", GLOBEX: "e0000000-0000-4000-8000-000000000b12"}
OWN_WOD = {ACME: "e0000000-0000-4000-8000-000000000a13", GLOBEX: "e0000000-0000-4000-8000-000000000b13"}
OWN_PROGRAM = {ACME: "e0000000-0000-4000-8000-000000000a14", GLOBEX: "e0000000-0000-4000-8000-000000000b14"}
"""A draft program of the community's WOD, with a milestone (its learner's review pending)."""
PROGRAM_ENTRY = {ACME: "e0000000-0000-4000-8000-000000000a15", GLOBEX: "e0000000-0000-4000-8000-000000000b15"}
PLATFORM_DRAFT = "e0000000-0000-4000-8000-000000000001"  # granted to acme, but not published
PLATFORM_ACME = "e0000000-0000-4000-8000-000000000002"  # granted to acme as a whole
PLATFORM_TAGGED = "e0000000-0000-4000-8000-000000000003"  # granted to the tag of each community
PLATFORM_LIAM = "e0000000-0000-4000-8000-000000000004"  # granted to liam alone
PLATFORM_EXPIRED = "e0000000-0000-4000-8000-000000000005"  # granted to acme until yesterday
PLATFORM_WOD = "e0000000-0000-4000-8000-000000000006"  # a draft, granted to nobody: every WOD may require it
OWN_SHARED_GRANT = {ACME: "90000000-0000-4000-8000-000000000a21", GLOBEX: "90000000-0000-4000-8000-000000000b21"}
VISIBLE_TO = {
    ACME_LENA: {OWN_SHARED[ACME], PLATFORM_ACME, PLATFORM_TAGGED},
    ACME_ADMIN: {OWN_SHARED[ACME], PLATFORM_ACME},
    GLOBEX_ADMIN: {OWN_SHARED[GLOBEX]},
}
"""The items each caller sees as a learner: published, in the window, granted to them."""
GRANTED_PUBLISHED = {
    ACME: {OWN_SHARED[ACME], PLATFORM_ACME, PLATFORM_TAGGED, PLATFORM_LIAM, PLATFORM_EXPIRED},
    GLOBEX: {OWN_SHARED[GLOBEX], PLATFORM_TAGGED},
}
"""The published items granted to each community in any way, with any window."""

CALLERS = (
    Caller("lena (learner of acme)", ACME_LENA, member_of=frozenset({ACME})),
    Caller("acme admin", ACME_ADMIN, member_of=frozenset({ACME}), administers=frozenset({ACME})),
    Caller("globex admin", GLOBEX_ADMIN, member_of=frozenset({GLOBEX}), administers=frozenset({GLOBEX})),
    Caller("outsider (signed in, no membership)", OUTSIDER),
    Caller("anon"),
    Caller("specialist", SPECIALIST, staff="specialist"),
    Caller("manager", MANAGER, staff="manager"),
    Caller("super admin", SUPER, staff="super_admin"),
)

NAMES = {
    **SHORT,
    SUPER: "super",
    MANAGER: "manager",
    SPECIALIST: "specialist",
    ACME_ADMIN: "acme-admin",
    ACME_LENA: "lena",
    ACME_LIAM: "liam",
    GLOBEX_ADMIN: "globex-admin",
    GLOBEX_GINA: "gina",
    OUTSIDER: "outsider",
    ORPHAN: "orphan",
    PLATFORM_UPLOAD: "upload@platform",
    **{
        ids[c]: f"{kind}@{SHORT[c]}"
        for kind, ids in (
            ("tag", TAG),
            ("spare-tag", SPARE_TAG),
            ("link", LINK),
            ("invite", INVITE),
            ("job", JOB),
            ("upload", UPLOAD),
            ("achievement", ACHIEVEMENT),
            ("folder", FOLDER),
            ("draft", OWN_DRAFT),
            ("shared", OWN_SHARED),
            ("shared-grant", OWN_SHARED_GRANT),
            ("wod", OWN_WOD),
            ("conversation", CONVERSATION),
            ("reservation", RESERVATION),
            ("post", FORUM_POST),
            ("hidden-post", HIDDEN_POST),
            ("reply", FORUM_REPLY),
        )
        for c in SHORT
    },
    PLATFORM_FOLDER: "folder@platform",
    PLATFORM_DRAFT: "platform-draft",
    PLATFORM_ACME: "platform-acme",
    PLATFORM_TAGGED: "platform-tagged",
    PLATFORM_LIAM: "platform-liam",
    PLATFORM_EXPIRED: "platform-expired",
    PLATFORM_WOD: "platform-wod",
}
"""How mismatches show the ids they name."""


def _rows_of(c: str) -> str:
    """One row of every community-scoped kind in community `c`."""
    n = SHORT[c]
    return f"""
insert into public.user_tags (id, community_id, name) values ('{TAG[c]}', '{c}', 'tag'), ('{SPARE_TAG[c]}', '{c}', 'spare');
insert into public.user_tag_assignments (tag_id, user_id, community_id) values ('{TAG[c]}', '{TAG_HOLDER[c]}', '{c}');
insert into public.signup_links (id, community_id, token_hash, expires_at)
  values ('{LINK[c]}', '{c}', sha256('{n}'::bytea), now() + interval '7 days');
insert into public.signup_link_tags (link_id, tag_id, community_id) values ('{LINK[c]}', '{TAG[c]}', '{c}');
insert into public.invitations (id, community_id, email) values ('{INVITE[c]}', '{c}', 'invitee@{n}.example.com');
insert into public.import_jobs (id, community_id) values ('{JOB[c]}', '{c}');
insert into public.import_rows (job_id, row_number, community_id, email) values ('{JOB[c]}', 1, '{c}', 'row@{n}.example.com');
insert into public.audit_log (actor_type, action, target_type, community_id) values ('service', 'matrix.{n}', 'community', '{c}');
insert into public.community_subscriptions (community_id, customer_id, subscription_id, plan, seats, status,
                                            provider_event_id, provider_event_created)
  values ('{c}', 'cus_{n}', 'sub_{n}', 'team', 10, 'active', 'evt_{n}', now());
insert into app.community_secrets (community_id, provider, ciphertext) values ('{c}', 'openai', decode('00', 'hex'));
insert into public.uploads (id, community_id, declared_mime, declared_size, expires_at)
  values ('{UPLOAD[c]}', '{c}', 'image/png', 10, now() + interval '10 minutes');
insert into public.content_folders (id, community_id, repository, name) values ('{FOLDER[c]}', '{c}', 'content', 'folder');
insert into public.content_items (id, community_id, type, title, payload, status) values
  ('{OWN_DRAFT[c]}', '{c}', 'prompt', 'draft', '{{"text": "draft"}}', 'draft'),
  ('{OWN_SHARED[c]}', '{c}', 'prompt', 'shared', '{{"text": "shared"}}', 'published');
insert into public.content_versions (item_id, number, kind, snapshot) values ('{OWN_DRAFT[c]}', 1, 'save', '{{}}');
insert into public.content_items (id, community_id, type, title, payload) values ('{OWN_WOD[c]}', '{c}', 'wod', 'wod',
  '{{"pages": [{{"blocks": [{{"type": "prompt", "content_id": "{OWN_SHARED[c]}"}}, {{"type": "quiz"}}]}}]}}');
insert into public.content_item_keys (item_id, keys) values ('{OWN_WOD[c]}', '{{"quiz": {{"q1": {{"answer": true}}}}}}');
insert into public.learning_enrollments (community_id, user_id, program_id, source)
  values ('{c}', '{TAG_HOLDER[c]}', '{OWN_SHARED[c]}', 'self');
insert into public.learning_completions (user_id, community_id, target_type, target_id, item_id)
  values ('{TAG_HOLDER[c]}', '{c}', 'wod', '{OWN_WOD[c]}', '{OWN_WOD[c]}');
insert into public.learning_quiz_attempts (user_id, community_id, item_id, block_id, number)
  values ('{TAG_HOLDER[c]}', '{c}', '{OWN_WOD[c]}', '{OWN_WOD[c]}', 1);
insert into public.content_grants (id, item_id, community_id) values ('{OWN_SHARED_GRANT[c]}', '{OWN_SHARED[c]}', '{c}');
insert into public.content_grants (item_id, community_id, tag_id) values ('{PLATFORM_TAGGED}', '{c}', '{TAG[c]}');
insert into public.achievements (id, community_id, code, name, tier, points, criterion, target_type, threshold)
  values ('{ACHIEVEMENT[c]}', '{c}', 'own', 'own', 'bronze', 5, 'completions', 'page', 1);
insert into public.user_achievements (user_id, achievement_id, community_id, points)
  values ('{TAG_HOLDER[c]}', '{ACHIEVEMENT[c]}', '{c}', 5);
insert into public.learning_streaks (user_id, current_days, longest_days, last_active_day)
  values ('{TAG_HOLDER[c]}', 1, 1, current_date);
insert into app.activity_days (user_id, day) values ('{TAG_HOLDER[c]}', current_date);
insert into app.learning_facts (user_id, kind, subject_id, community_id, happened_at)
  values ('{TAG_HOLDER[c]}', 'page', gen_random_uuid(), '{c}', now());
insert into public.ai_conversations (id, user_id, community_id, agent_id, title, message_count)
  values ('{CONVERSATION[c]}', '{TAG_HOLDER[c]}', '{c}', '{OWN_SHARED[c]}', 'chat', 2);
insert into public.ai_messages (conversation_id, seq, role, content) values
  ('{CONVERSATION[c]}', 1, 'user', 'hello'), ('{CONVERSATION[c]}', 2, 'assistant', 'hi');
insert into public.ai_usage (community_id, user_id, agent_id, conversation_id, feature, provider, model,
                             input_tokens, output_tokens)
  values ('{c}', '{TAG_HOLDER[c]}', '{OWN_SHARED[c]}', '{CONVERSATION[c]}', 'chat', 'offline', 'offline-echo', 3, 4);
insert into public.ai_quota_months (community_id, month, used_tokens)
  values ('{c}', date_trunc('month', now() at time zone 'UTC')::date, 7);
insert into public.content_items (id, community_id, type, title, payload) values ('{OWN_PROGRAM[c]}', '{c}', 'program',
  'program', '{{"sections": [{{"items": [{{"id": "{PROGRAM_ENTRY[c]}", "item_id": "{OWN_WOD[c]}"}}]}}]}}');
insert into public.learning_milestones (program_id, position, title, item_ids, validation)
  values ('{OWN_PROGRAM[c]}', 1, 'milestone', array['{PROGRAM_ENTRY[c]}']::uuid[], 'review');
insert into public.learning_milestone_results (milestone_id, user_id, community_id, score, status)
  select id, '{TAG_HOLDER[c]}', '{c}', 90, 'pending' from public.learning_milestones where program_id = '{OWN_PROGRAM[c]}';
insert into app.ai_reservations (id, community_id, month, tokens, expires_at)
  values ('{RESERVATION[c]}', '{c}', date_trunc('month', now() at time zone 'UTC')::date, 100, now() + interval '1 minute');
insert into public.forum_posts (id, community_id, author_id, title, body, hidden_at) values
  ('{FORUM_POST[c]}', '{c}', '{TAG_HOLDER[c]}', 'post', 'body', null),
  ('{HIDDEN_POST[c]}', '{c}', '{TAG_HOLDER[c]}', 'hidden', 'body', now());
insert into public.forum_replies (id, post_id, community_id, author_id, body)
  values ('{FORUM_REPLY[c]}', '{FORUM_POST[c]}', '{c}', '{TAG_HOLDER[c]}', 'reply');
insert into public.forum_reactions (community_id, post_id, user_id, kind) values ('{c}', '{FORUM_POST[c]}', '{TAG_HOLDER[c]}', 'like');
insert into public.forum_reports (community_id, post_id, reporter_id, reason) values ('{c}', '{FORUM_POST[c]}', '{TAG_HOLDER[c]}', 'spam');
insert into public.forum_edits (community_id, post_id, editor_id, body) values ('{c}', '{FORUM_POST[c]}', '{TAG_HOLDER[c]}', 'old');
insert into public.notifications (user_id, community_id, kind, subject) values ('{TAG_HOLDER[c]}', '{c}', 'forum.replied', 'hi');
insert into public.analytics_daily (community_id, day, active_users, completions, time_spent_s, quiz_attempts,
                                    quiz_score_sum, ai_messages, ai_tokens, ai_cost_usd)
  values ('{c}', current_date, 1, 1, 60, 0, 0, 0, 0, 0);
insert into public.analytics_user_daily (community_id, user_id, day, completions, time_spent_s, quiz_attempts,
                                         quiz_score_sum, ai_messages, ai_tokens, ai_cost_usd)
  values ('{c}', '{TAG_HOLDER[c]}', current_date, 1, 60, 0, 0, 0, 0, 0);
insert into public.analytics_content_daily (community_id, item_id, day, completions, time_spent_s)
  values ('{c}', '{OWN_SHARED[c]}', current_date, 1, 60);
insert into public.analytics_digests (community_id, week_start, body)
  values ('{c}', date_trunc('week', current_date)::date, '{{"completions": 1}}');
"""  # noqa: S608


DATASET = (
    f"""
insert into auth.users (id, email) values ('{OUTSIDER}', 'outsider@example.com'), ('{ORPHAN}', 'orphan@example.com');
delete from public.profiles where id = '{ORPHAN}';
insert into public.audit_log (actor_type, action, target_type) values ('service', 'matrix.platform', 'platform');
insert into app.rate_limits (key, limit_class, window_start, hits) values ('user:lena', 'general', now(), 1);
insert into app.applied_events (event_id, handler) values (gen_random_uuid(), 'matrix');
insert into app.event_failures (msg_id, event_name, last_error) values (1, 'matrix', 'boom');
insert into app.webhook_events (provider, event_id) values ('stripe', 'evt_matrix');
insert into app.idempotency_keys (owner, key, request_hash, state, locked_until, expires_at)
  values ('user:lena', 'k1', 'h', 'running', now(), now() + interval '1 day');
insert into app.video_transcripts (platform, provider_video_id, language, transcript, received_at)
  values ('youtube', 'v1', 'en', 'hello', now());
insert into public.uploads (id, community_id, declared_mime, declared_size, expires_at)
  values ('{PLATFORM_UPLOAD}', null, 'application/pdf', 10, now() + interval '10 minutes');
insert into public.content_folders (id, repository, name) values ('{PLATFORM_FOLDER}', 'content', 'platform');
insert into public.content_items (id, type, title, payload, status) values
  ('{PLATFORM_DRAFT}', 'prompt', 'platform draft', '{{"text": "x"}}', 'draft'),
  ('{PLATFORM_ACME}', 'prompt', 'for acme', '{{"text": "x"}}', 'published'),
  ('{PLATFORM_TAGGED}', 'prompt', 'for tags', '{{"text": "x"}}', 'published'),
  ('{PLATFORM_LIAM}', 'prompt', 'for liam', '{{"text": "x"}}', 'published'),
  ('{PLATFORM_EXPIRED}', 'prompt', 'expired', '{{"text": "x"}}', 'published'),
  ('{PLATFORM_WOD}', 'wod', 'platform wod', '{{"pages": []}}', 'draft');
insert into public.content_versions (item_id, number, kind, snapshot) values ('{PLATFORM_ACME}', 1, 'publish', '{{}}');
"""  # noqa: S608
    + _rows_of(ACME)
    + _rows_of(GLOBEX)
    + f"""
insert into public.content_grants (item_id, community_id, user_id, starts_at, ends_at) values
  ('{PLATFORM_DRAFT}', '{ACME}', null, null, null),
  ('{PLATFORM_ACME}', '{ACME}', null, now() - interval '1 day', null),
  ('{PLATFORM_LIAM}', '{ACME}', '{ACME_LIAM}', null, now() + interval '1 day'),
  ('{PLATFORM_EXPIRED}', '{ACME}', null, now() - interval '7 days', now() - interval '1 day');
insert into public.content_prerequisites (item_id, required_id) values
  ('{OWN_WOD[ACME]}', '{PLATFORM_WOD}'), ('{OWN_WOD[GLOBEX]}', '{PLATFORM_WOD}');
insert into public.content_favourites (user_id, item_id) values
  ('{ACME_LENA}', '{PLATFORM_TAGGED}'), ('{ACME_ADMIN}', '{OWN_SHARED[ACME]}'), ('{ACME_ADMIN}', '{PLATFORM_ACME}'),
  ('{GLOBEX_GINA}', '{PLATFORM_TAGGED}'), ('{GLOBEX_ADMIN}', '{OWN_SHARED[GLOBEX]}'), ('{MANAGER}', '{OWN_DRAFT[GLOBEX]}');
"""  # noqa: S608
)


def arrange(owner: Sql) -> None:
    """Add the matrix's rows (and the outsider) to a fresh copy of the seeded database."""
    owner(DATASET)


# ---------------------------------------------------------------------------------------------------
# Row builders for new rows that name a parent row (the rest are SQL with the community as parameter).
# Each is valid but for tenancy: only a policy, a grant or a tenant-keeping key may refuse it.
# ---------------------------------------------------------------------------------------------------


def _room_in(table: str) -> Callable[[Target], Statement]:
    """Make room for the one row a community may have in `table` (run as the owner before the insert)."""
    return lambda t: statement(f"delete from {table} where community_id = %s", t.community)  # noqa: S608


def _tag_assignment(t: Target) -> Statement:
    return statement(
        "insert into public.user_tag_assignments (tag_id, user_id, community_id) values (%s, %s, %s)",
        SPARE_TAG[t.parent or ACME],
        SPARE_TAG_TAKER[t.community or ACME],
        t.community,
    )


def _link_tag(t: Target) -> Statement:
    return statement(
        "insert into public.signup_link_tags (link_id, tag_id, community_id) values (%s, %s, %s)",
        LINK[t.community or ACME],
        SPARE_TAG[t.parent or ACME],
        t.community,
    )


def _import_row(t: Target) -> Statement:
    return statement(
        "insert into public.import_rows (job_id, row_number, community_id, email) values (%s, 2, %s, 'x@example.com')",
        JOB[t.parent or ACME],
        t.community,
    )


def _folder(t: Target) -> Statement:
    return statement(
        "insert into public.content_folders (community_id, repository, parent_id, name) values (%s, 'content', %s, 'new')",
        t.community,
        FOLDER[t.parent] if t.parent else None,
    )


def _item(t: Target) -> Statement:
    return statement(
        "insert into public.content_items (community_id, type, title, payload) values (%s, 'prompt', 'new', '{}')",
        t.community,
    )


def _version(t: Target) -> Statement:
    return statement(
        "insert into public.content_versions (item_id, number, kind, snapshot) values (%s, 1, 'save', '{}')",
        OWN_DRAFT[t.community] if t.community else PLATFORM_ACME,
    )


def _keys(t: Target) -> Statement:
    """Answer keys for an item that has none: a community's own draft, or a platform item."""
    return statement(
        "insert into public.content_item_keys (item_id, keys) values (%s, '{}')",
        OWN_DRAFT[t.community] if t.community else PLATFORM_ACME,
    )


def _grant(t: Target) -> Statement:
    """A community's own item granted to a tag: of that community, or of the other one."""
    return statement(
        "insert into public.content_grants (item_id, community_id, tag_id) values (%s, %s, %s)",
        OWN_DRAFT[t.community or ACME],
        t.community,
        SPARE_TAG[t.parent or ACME],
    )


def _favourite(t: Target) -> Statement:
    """The caller favourites the published item their community (`t.community`) shares with its members."""
    return statement(
        "insert into public.content_favourites (user_id, item_id) values (auth.uid(), %s)",
        OWN_SHARED[t.community or ACME],
    )


def _prerequisite(t: Target) -> Statement:
    """The community's WOD requires the platform's (the data set's row is taken out first)."""
    return statement(
        "insert into public.content_prerequisites (item_id, required_id) values (%s, %s)",
        OWN_WOD[t.community or ACME],
        PLATFORM_WOD,
    )


def _unrequire(t: Target) -> Statement:
    return statement("delete from public.content_prerequisites where item_id = %s", OWN_WOD[t.community or ACME])


def _milestone(t: Target) -> Statement:
    """A milestone of the community's program (the data set's is taken out first)."""
    return statement(
        "insert into public.learning_milestones (program_id, position, title, item_ids) values (%s, 1, 'm', %s::uuid[])",
        OWN_PROGRAM[t.community or ACME],
        [PROGRAM_ENTRY[t.community or ACME]],
    )


def _unmilestone(t: Target) -> Statement:
    return statement("delete from public.learning_milestones where program_id = %s", OWN_PROGRAM[t.community or ACME])


def _unfavour_shared(t: Target) -> Statement:
    """Make room for a new favourite of the community's shared item (the admin's is in the data set)."""
    return statement(
        "delete from public.content_favourites where item_id = %s", OWN_SHARED[t.community or ACME]
    )


def _closed(
    name: str,
    key: str,
    new_row: str,
    change: str,
    *,
    into: tuple[Target, ...] = IN_NO_COMMUNITY,
    tenant: str = "'{}'::uuid[]",
    make_room: Callable[[Target], Statement] | None = None,
) -> Table:
    """A relation no API role may touch at all: the worker, webhooks and checked functions write it."""
    return Table(
        name,
        key=key,
        tenant=tenant,
        read=DENIED,
        insert=Insert(new_row, DENIED, into=into, make_room=make_room),
        update=Update(change, rows=DENIED),
        delete=Delete(rows=DENIED),
    )


def _achievement(t: Target) -> Statement:
    """A catalogue entry of a community or (no community) a global one."""
    return statement(
        "insert into public.achievements (community_id, code, name, tier, points, criterion, target_type, threshold)"
        " values (%s, 'new', 'New', 'gold', 1, 'streak', null, 3)",
        t.community,
    )


def _award(t: Target) -> Statement:
    """An award of the community's own entry to a member who has not earned it."""
    return statement(
        "insert into public.user_achievements (user_id, achievement_id, community_id, points) values (%s, %s, %s, 1)",
        SPARE_TAG_TAKER[t.community or ACME],
        ACHIEVEMENT[t.community or ACME],
        t.community,
    )


def _upload(t: Target) -> Statement:
    """A pending upload of a community or (no community) of the platform, through the columns a writer has."""
    return statement(
        "insert into public.uploads (community_id, declared_mime, declared_size, expires_at)"
        " values (%s, 'image/png', 10, now() + interval '10 minutes')",
        t.community,
    )


COMMUNITY = "array[community_id]"
OWNER = "array_remove(array[community_id], null)"
ITEM_OWNER = "array(select i.community_id from public.content_items i where i.id = t.item_id and i.community_id is not null)"
OWNED_GRANTS = "array(select g.id::text from public.content_grants g join public.content_items i on i.id = g.item_id where i.community_id is not null)"
IN_EACH_OWNER = (Target(), *IN_EACH_COMMUNITY)
IN_EACH_OWNER_AND_ACROSS = (Target(), *IN_EACH_COMMUNITY_AND_ACROSS)
VISIBLE = Rule(
    "published items granted to the caller (their community, a tag they hold, themselves)",
    lambda c, r: c.user_id is not None and r.key in VISIBLE_TO.get(c.user_id, set()),
)
GRANTED_TO_ADMINISTERED = Rule(
    "published items granted to a community the caller administers",
    lambda c, r: any(r.key in GRANTED_PUBLISHED[a] for a in c.administers),
)
OWN_ITEM_GRANTS = Rule(
    "grants of its own items, for the community's admins",
    lambda c, r: bool(r.communities & c.administers) and r.user_id == "owned",
)
GLOBAL_ENTRIES = Rule("global entries, for everyone signed in", lambda c, r: c.user_id is not None and not r.communities)
FORUM_READERS = Rule(
    "the forum's members while it is on; a hidden post only its admins",
    lambda c, r: bool(r.communities & c.member_of) and (r.user_id != "hidden" or bool(r.communities & c.administers)),
)
MEMBERS_OF_COMMUNITIES = "array(select m.community_id from public.memberships m where m.user_id = t.user_id)"
STAFF_IDS = f"('{MANAGER}', '{SPECIALIST}')"
LEARNER_IDS = f"('{ACME_LENA}', '{GLOBEX_GINA}')"

# ---------------------------------------------------------------------------------------------------
# The spec. `read`: the rows an unfiltered select returns. `Insert(..., allowed)`: who may add a row to a
# community (a row naming another community's parent row is refused for everyone). `Update`/`Delete`:
# the rows an unfiltered statement changes. `DENIED`: no API role holds the privilege at all.
# Rows marked FINAL describe the final design of issue 7 that another branch brings; they fail until
# the lead merges it.
# ---------------------------------------------------------------------------------------------------

MATRIX = (
    Table(
        "public.profiles",
        key="id",
        tenant="array(select m.community_id from public.memberships m where m.user_id = t.id)",
        user="id",
        # Your own, every profile for staff, and the members of a community you administer.
        read=OWN | STAFF | ADMINS,
        # Profiles come from a trigger on auth.users.
        insert=Insert(f"insert into public.profiles (id) values ('{ORPHAN}')", DENIED, into=IN_NO_COMMUNITY),  # noqa: S608
        update=(
            Update("first_name = 'Matrix'", rows=OWN | STAFF_WRITERS, label="update names"),
            # FINAL: only a super admin changes a staff member's status (the manager is refused).
            Update(
                "status = 'deactivated'",
                where=f"id in {STAFF_IDS}",
                rows=OWN | STAFF_WRITERS,
                accepted=SUPER_ADMIN,
                label="deactivate staff members",
            ),
            Update(
                "status = 'deactivated'",
                where=f"id in {LEARNER_IDS}",
                rows=OWN | STAFF_WRITERS,
                accepted=STAFF_WRITERS,
                label="deactivate learners",
            ),
        ),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.platform_staff",
        key="user_id",
        user="user_id",
        read=OWN | STAFF,
        insert=Insert(
            f"insert into public.platform_staff (user_id, role) values ('{OUTSIDER}', 'specialist')",  # noqa: S608
            SUPER_ADMIN,
            into=IN_NO_COMMUNITY,
        ),
        # A super admin's own row is guarded by a trigger (nobody changes their own role): leave it out.
        update=Update(f"granted_by = '{SUPER}'", where="role <> 'super_admin'", rows=SUPER_ADMIN),
        delete=Delete(where="role <> 'super_admin'", rows=SUPER_ADMIN),
    ),
    Table(
        "public.communities",
        key="id",
        tenant="array[id]",
        read=STAFF | MEMBERS,
        insert=Insert(
            "insert into public.communities (name, slug) values ('Matrix', 'matrix')",
            STAFF_WRITERS,
            into=IN_NO_COMMUNITY,
        ),
        update=(
            Update("brand_color = '#123456'", rows=STAFF_WRITERS | ADMINS),
            Update(
                "status = 'archived'", rows=STAFF_WRITERS | ADMINS, accepted=STAFF_WRITERS, label="archive"
            ),
        ),
        delete=Delete(rows=SUPER_ADMIN),
    ),
    Table(
        "public.memberships",
        key="community_id || '/' || user_id",
        tenant=COMMUNITY,
        user="user_id",
        read=OWN | STAFF | ADMINS,
        # FINAL: members join through invitations, signup links and imports (checked functions or the
        # service role); a community admin no longer inserts memberships.
        insert=Insert(
            f"insert into public.memberships (community_id, user_id, role) values (%s, '{OUTSIDER}', 'member')",  # noqa: S608
            STAFF_WRITERS,
        ),
        update=(
            # Changing a role is the one update (never a demotion here: the last admin stays, by a trigger).
            Update("role = 'admin'", rows=STAFF_WRITERS | ADMINS, label="promote everyone"),
            # FINAL, a LEAK today: whose membership it is and where never change (the role is the only
            # column granted). Re-pointing Liam's row at another account joins that person without consent
            # (and opens their profile to the admin).
            Update(
                f"user_id = '{OUTSIDER}'",
                where=f"user_id = '{ACME_LIAM}'",
                rows=DENIED,
                label="hand liam's membership to another account",
            ),
            Update(
                f"community_id = '{GLOBEX}'",
                where=f"user_id = '{ACME_LIAM}'",
                rows=DENIED,
                label="move liam into globex",
            ),
        ),
        # The last admin of a community stays (a trigger): remove members only.
        delete=Delete(where="role = 'member'", rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.community_ai_settings",
        key="community_id",
        tenant=COMMUNITY,
        read=STAFF | MEMBERS,
        # A trigger makes each community's row.
        insert=Insert(
            "insert into public.community_ai_settings (community_id) values (%s)",
            DENIED,
            make_room=_room_in("public.community_ai_settings"),
        ),
        update=(
            Update("default_model = 'matrix-model'", rows=STAFF_WRITERS | ADMINS),
            Update(
                "monthly_token_quota = 7",
                rows=STAFF_WRITERS | ADMINS,
                accepted=STAFF_WRITERS,
                label="change the token quota",
            ),
        ),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.community_subscriptions",
        key="community_id",
        tenant=COMMUNITY,
        read=STAFF | ADMINS,
        # Written by the worker from verified Stripe events.
        insert=Insert(
            "insert into public.community_subscriptions (community_id, customer_id, subscription_id, plan, seats,"
            " status, provider_event_id, provider_event_created)"
            " values (%s, 'cus_x', 'sub_x', 'team', 1, 'active', 'evt_x', now())",
            DENIED,
            make_room=_room_in("public.community_subscriptions"),
        ),
        update=Update("seats = 999", rows=DENIED),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.user_tags",
        key="id",
        tenant=COMMUNITY,
        read=STAFF | MEMBERS,
        insert=Insert(
            "insert into public.user_tags (community_id, name) values (%s, 'new')", STAFF_WRITERS | ADMINS
        ),
        update=Update("color = '#abcdef'", rows=STAFF_WRITERS | ADMINS),
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.user_tag_assignments",
        key="tag_id || '/' || user_id",
        tenant=COMMUNITY,
        user="user_id",
        read=OWN | STAFF | ADMINS,
        insert=Insert(_tag_assignment, STAFF_WRITERS | ADMINS, into=IN_EACH_COMMUNITY_AND_ACROSS),
        update=Update("assigned_at = '2001-01-01'", rows=STAFF_WRITERS | ADMINS),
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.signup_links",
        key="id",
        tenant=COMMUNITY,
        read=STAFF | ADMINS,
        insert=Insert(
            "insert into public.signup_links (community_id, token_hash, expires_at)"
            " values (%s, sha256('new'::bytea), now() + interval '1 day')",
            STAFF_WRITERS | ADMINS,
        ),
        update=Update("label = 'matrix'", rows=STAFF_WRITERS | ADMINS),
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.signup_link_tags",
        key="link_id || '/' || tag_id",
        tenant=COMMUNITY,
        read=STAFF | ADMINS,
        insert=Insert(_link_tag, STAFF_WRITERS | ADMINS, into=IN_EACH_COMMUNITY_AND_ACROSS),
        update=Update("community_id = community_id", rows=STAFF_WRITERS | ADMINS),  # every column is a key
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.invitations",
        key="id",
        tenant=COMMUNITY,
        read=STAFF | ADMINS,
        insert=Insert(
            "insert into public.invitations (community_id, email) values (%s, 'new@example.com')",
            STAFF_WRITERS | ADMINS,
        ),
        update=Update("status = 'revoked'", rows=STAFF_WRITERS | ADMINS),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.import_jobs",
        key="id",
        tenant=COMMUNITY,
        read=STAFF | ADMINS,
        insert=Insert("insert into public.import_jobs (community_id) values (%s)", STAFF_WRITERS | ADMINS),
        update=Update("status = 'failed'", rows=DENIED),  # progress is the worker's
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.import_rows",
        key="job_id || '/' || row_number",
        tenant=COMMUNITY,
        read=STAFF | ADMINS,
        # FINAL: a composite key (job_id, community_id) refuses a row that names another community's job.
        insert=Insert(_import_row, STAFF_WRITERS | ADMINS, into=IN_EACH_COMMUNITY_AND_ACROSS),
        update=Update("status = 'failed'", rows=DENIED),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.audit_log",
        key="id || ':' || action",
        tenant="array_remove(array[community_id], null)",
        # Staff read everything; an admin reads their community's entries, never the platform's.
        read=STAFF | ADMINS,
        # Written by app.write_audit(), which takes the actor from the claims.
        insert=Insert(
            "insert into public.audit_log (actor_type, action, target_type, community_id)"
            " values ('user', 'forged', 'community', %s)",
            DENIED,
        ),
        update=Update("action = 'rewritten'", rows=DENIED),  # append-only
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.uploads",
        key="id",
        tenant="array_remove(array[community_id], null)",
        read=STAFF | ADMINS,
        # A platform upload (no community) is staff writers' only; a community's also its admins'.
        insert=Insert(_upload, STAFF_WRITERS | ADMINS, into=(Target(), *IN_EACH_COMMUNITY)),
        # Only the platform settles an upload (after checking the stored object); nobody deletes one.
        update=(
            Update(
                "status = 'confirmed', byte_size = 10, detected_mime = 'image/png', confirmed_at = now()",
                rows=DENIED,
                label="mark confirmed",
            ),
            Update(f"community_id = '{GLOBEX}'", rows=DENIED, label="move to globex"),
        ),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.content_folders",
        key="id",
        tenant=OWNER,
        read=STAFF | ADMINS,
        # A folder's parent is a folder of the same owner: naming the other community's is refused.
        insert=Insert(_folder, STAFF_WRITERS | ADMINS, into=IN_EACH_OWNER_AND_ACROSS),
        update=Update("name = 'renamed'", rows=STAFF_WRITERS | ADMINS),
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.content_items",
        key="id",
        tenant=OWNER,
        read=STAFF | ADMINS | GRANTED_TO_ADMINISTERED | VISIBLE,
        insert=Insert(_item, STAFF_WRITERS | ADMINS, into=IN_EACH_OWNER),
        update=(
            Update("title = 'renamed'", rows=STAFF_WRITERS | ADMINS),
            # The owner never changes (nor may an API role name it in an update).
            Update(f"community_id = '{GLOBEX}'", rows=DENIED, label="move an item to globex"),
        ),
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.content_versions",
        key="item_id || '/' || number",
        tenant=ITEM_OWNER,
        read=STAFF | ADMINS,
        insert=Insert(_version, STAFF_WRITERS | ADMINS, into=IN_EACH_OWNER),
        update=Update("change_summary = 'rewritten'", rows=DENIED),  # append-only
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.content_item_keys",
        key="item_id",
        tenant=ITEM_OWNER,
        # A quiz's answers: the item's editors only, never its learners (not even of a published item).
        read=STAFF | ADMINS,
        insert=Insert(_keys, STAFF_WRITERS | ADMINS, into=IN_EACH_OWNER),
        update=Update("keys = '{}'", rows=STAFF_WRITERS | ADMINS),
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.content_references",
        key="item_id || '>' || target_id",
        tenant=ITEM_OWNER,
        # Whoever sees the referencing item; only the database writes them, from the item's payload.
        read=STAFF | ADMINS,
        insert=Insert(
            "insert into public.content_references (item_id, target_id) select id, id from public.content_items"
            " where community_id = %s limit 1",
            DENIED,
            into=IN_EACH_COMMUNITY,
        ),
        update=Update("target_id = item_id", rows=DENIED),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.content_grants",
        key="id",
        tenant=COMMUNITY,
        # Marks the grants of community-owned items, which their community's admins manage.
        user=f"case when t.id::text = any ({OWNED_GRANTS}) then 'owned' end",
        read=STAFF | ADMINS,
        # A tag grant names a tag of its own community: naming the other community's tag is refused.
        insert=Insert(_grant, STAFF_WRITERS | ADMINS, into=IN_EACH_COMMUNITY_AND_ACROSS),
        update=Update("ends_at = now() + interval '1 year'", rows=STAFF_WRITERS | OWN_ITEM_GRANTS),
        delete=Delete(rows=STAFF_WRITERS | OWN_ITEM_GRANTS),
    ),
    Table(
        "public.content_prerequisites",
        key="item_id || '>' || required_id",
        tenant=ITEM_OWNER,
        # Whoever sees the item reads what unlocks it; its editors write it (the rows here are of drafts).
        read=STAFF | ADMINS,
        insert=Insert(_prerequisite, STAFF_WRITERS | ADMINS, make_room=_unrequire),
        update=Update("threshold = 50", rows=STAFF_WRITERS | ADMINS),
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.learning_milestones",
        key="program_id || '#' || position",
        tenant="array(select i.community_id from public.content_items i where i.id = t.program_id)",
        # Whoever sees the program reads its milestones; its editors write them (the programs here are drafts).
        read=STAFF | ADMINS,
        insert=Insert(_milestone, STAFF_WRITERS | ADMINS, make_room=_unmilestone),
        update=Update("required_score = 50", rows=STAFF_WRITERS | ADMINS),
        delete=Delete(rows=STAFF_WRITERS | ADMINS),
    ),
    Table(
        "public.content_favourites",
        key="user_id || '/' || item_id",
        tenant=ITEM_OWNER,
        user="user_id",
        # Nobody's favourites but their own, staff included.
        read=OWN,
        # Only an item the caller can see: staff see every item, members their community's shared one.
        insert=Insert(_favourite, STAFF | MEMBERS, make_room=_unfavour_shared),
        update=Update("created_at = '2001-01-01'", rows=DENIED),
        delete=Delete(rows=OWN),
    ),
    *(
        Table(
            name,
            key="user_id || '/' || community_id",
            tenant=COMMUNITY,
            user="user_id",
            # A learner's own, their community's for its admins, every one for staff; nobody writes them
            # but the checked functions (app.enroll, app.record_completion, app.submit_quiz_attempt, …).
            read=OWN | STAFF | ADMINS,
            insert=Insert(row, DENIED),
            update=Update(change, rows=DENIED),
            delete=Delete(rows=DENIED),
        )
        for name, row, change in (
            (
                "public.learning_enrollments",
                "insert into public.learning_enrollments (community_id, user_id, program_id, source)"
                " select %s, auth.uid(), id, 'self' from public.content_items limit 1",
                "status = 'completed', completed_at = now()",
            ),
            (
                "public.learning_completions",
                "insert into public.learning_completions (community_id, user_id, target_type, target_id, item_id)"
                " select %s, auth.uid(), 'wod', id, id from public.content_items limit 1",
                "score = 100",
            ),
            (
                "public.learning_milestone_results",
                "insert into public.learning_milestone_results (community_id, user_id, milestone_id, score, status)"
                " select %s, auth.uid(), id, 100, 'completed' from public.learning_milestones limit 1",
                "status = 'completed'",
            ),
            (
                "public.learning_quiz_attempts",
                "insert into public.learning_quiz_attempts (community_id, user_id, item_id, block_id, number)"
                " select %s, auth.uid(), id, id, 9 from public.content_items limit 1",
                "status = 'expired'",
            ),
        )
    ),
    Table(
        "public.achievements",
        key="coalesce(community_id::text, 'global') || '/' || code",
        tenant=OWNER,
        # The catalogue: global entries for everyone signed in, a community's for its members.
        read=GLOBAL_ENTRIES | STAFF | MEMBERS,
        insert=Insert(_achievement, STAFF_WRITERS | ADMINS, into=IN_EACH_OWNER),
        update=(
            Update("points = 7", rows=STAFF_WRITERS | ADMINS),
            # Awards were judged against the criteria, and an entry never changes community.
            Update("threshold = 99", rows=DENIED, label="change the criteria"),
            Update(f"community_id = '{GLOBEX}'", rows=DENIED, label="move an entry to globex"),
        ),
        delete=Delete(rows=DENIED),  # deactivated, never deleted (awards point at it)
    ),
    Table(
        "public.user_achievements",
        key="user_id || '/' || achievement_id",
        tenant=COMMUNITY,
        user="user_id",
        # Awards are the worker's; the leaderboard is app.community_leaderboard, for members.
        read=OWN | STAFF | ADMINS,
        insert=Insert(_award, DENIED),
        update=Update("points = 999", rows=DENIED),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.learning_streaks",
        key="user_id",
        tenant=MEMBERS_OF_COMMUNITIES,
        user="user_id",
        read=OWN | STAFF | ADMINS,
        insert=Insert(f"insert into public.learning_streaks (user_id) values ('{ACME_LIAM}')", DENIED, into=IN_NO_COMMUNITY),  # noqa: S608
        update=Update("longest_days = 99", rows=DENIED),
        delete=Delete(rows=DENIED),
    ),
    # The forum: read under row level security, written only through the checked app.forum_* functions.
    Table(
        "public.forum_posts",
        key="id",
        tenant=COMMUNITY,
        user="case when t.hidden_at is not null then 'hidden' end",
        read=STAFF | FORUM_READERS,
        insert=Insert(
            "insert into public.forum_posts (community_id, author_id, title, body) values (%s, auth.uid(), 't', 'b')",
            DENIED,
        ),
        update=(
            Update("is_pinned = true", rows=DENIED),
            Update("body = 'rewritten'", rows=DENIED, label="rewrite"),
        ),
        delete=Delete(rows=DENIED),
    ),
    *(
        Table(
            name,
            key=key,
            tenant=COMMUNITY,
            user=user,
            read=read,
            insert=Insert(row, DENIED),
            update=Update(change, rows=DENIED),
            delete=Delete(rows=DENIED),
        )
        for name, key, user, read, row, change in (
            (
                "public.forum_replies",
                "id",
                "null::uuid",
                STAFF | MEMBERS,
                "insert into public.forum_replies (post_id, community_id, author_id, body)"
                " select p.id, %s, auth.uid(), 'b' from public.forum_posts p limit 1",
                "body = 'rewritten'",
            ),
            (
                "public.forum_reactions",
                "post_id || '/' || user_id || '/' || kind",
                "user_id",
                STAFF | MEMBERS,
                "insert into public.forum_reactions (community_id, post_id, user_id, kind)"
                " select %s, p.id, auth.uid(), 'love' from public.forum_posts p limit 1",
                "kind = 'laugh'",
            ),
            (
                "public.forum_reports",
                "id",
                "reporter_id",
                OWN | STAFF | ADMINS,
                "insert into public.forum_reports (community_id, post_id, reporter_id, reason)"
                " select %s, p.id, auth.uid(), 'r' from public.forum_posts p limit 1",
                "resolution = 'dismissed', resolved_at = now()",
            ),
            (
                "public.forum_edits",
                "post_id || '#' || id",
                "editor_id",
                OWN | STAFF | ADMINS,
                "insert into public.forum_edits (community_id, post_id, editor_id, body)"
                " select %s, p.id, auth.uid(), 'forged' from public.forum_posts p limit 1",
                "body = 'rewritten'",
            ),
        )
    ),
    Table(
        "public.notifications",
        key="id",
        tenant=OWNER,
        user="user_id",
        # Their recipient's alone (staff included): read, and marked read, nothing else.
        read=OWN,
        insert=Insert(
            "insert into public.notifications (user_id, community_id, kind, subject) values (auth.uid(), %s, 'x.y', 'forged')",
            DENIED,
        ),
        update=(
            Update("read_at = now()", rows=OWN),
            Update("subject = 'forged'", rows=DENIED, label="rewrite"),
        ),
        delete=Delete(rows=DENIED),
    ),
    _closed(
        "app.activity_days",
        "user_id || '/' || day",
        f"insert into app.activity_days (user_id, day) values ('{ACME_LIAM}', current_date)",  # noqa: S608
        "day = day - 1",
    ),
    _closed(
        "app.learning_facts",
        "user_id || '/' || kind",
        f"insert into app.learning_facts (user_id, kind, subject_id, community_id, happened_at) values ('{ACME_LIAM}', 'wod', gen_random_uuid(), '{ACME}', now())",  # noqa: S608
        "score = 100",
    ),
    Table(
        "public.ai_conversations",
        key="id",
        tenant=COMMUNITY,
        user="user_id",
        # A user's own, and nobody else's: staff read one only through the audited route, admins never.
        read=OWN,
        # Conversations start with a turn, through app.ai_begin_turn (the platform role) only.
        insert=Insert(
            "insert into public.ai_conversations (user_id, community_id) values (auth.uid(), %s)",
            DENIED,
            into=IN_EACH_COMMUNITY,
        ),
        update=(
            Update("title = 'renamed'", rows=OWN),
            Update("input_tokens = 0", rows=DENIED, label="rewrite the metered totals"),
        ),
        delete=Delete(rows=OWN),
    ),
    Table(
        "public.ai_messages",
        key="conversation_id || '/' || seq",
        tenant="array(select c.community_id from public.ai_conversations c where c.id = t.conversation_id)",
        user="(select c.user_id::text from public.ai_conversations c where c.id = t.conversation_id)",
        read=OWN,
        # Nobody writes their own history: the server stores both messages of a turn.
        insert=Insert(
            "insert into public.ai_messages (conversation_id, seq, role, content)"
            " select id, 99, 'assistant', 'forged' from public.ai_conversations where community_id = %s",
            DENIED,
            into=IN_EACH_COMMUNITY,
        ),
        update=Update("content = 'rewritten'", rows=DENIED),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.ai_usage",
        key="community_id || '/' || feature",
        tenant=COMMUNITY,
        user="user_id",
        # The metering ledger: your own, your administered communities', and staff everything.
        read=OWN | STAFF | ADMINS,
        insert=Insert(
            "insert into public.ai_usage (community_id, user_id, feature, provider, model, input_tokens,"
            " output_tokens) values (%s, auth.uid(), 'chat', 'offline', 'x', 0, 0)",
            DENIED,
            into=IN_EACH_COMMUNITY,
        ),
        update=Update("output_tokens = 0", rows=DENIED),
        delete=Delete(rows=DENIED),
    ),
    Table(
        "public.ai_quota_months",
        key="community_id || '/' || month",
        tenant=COMMUNITY,
        read=STAFF | ADMINS,
        insert=Insert(
            "insert into public.ai_quota_months (community_id, month) values (%s, '2001-01-01')",
            DENIED,
            into=IN_EACH_COMMUNITY,
        ),
        update=Update("used_tokens = 0", rows=DENIED),
        delete=Delete(rows=DENIED),
    ),
    *(
        Table(
            f"public.{table}",
            key=key,
            tenant=COMMUNITY,
            # Rollups and digests: a community's admins read their community's, staff all; learners none.
            read=STAFF | ADMINS,
            insert=Insert(f"insert into public.{table} {row}", DENIED, into=IN_EACH_COMMUNITY),
            update=Update(change, rows=DENIED),
            delete=Delete(rows=DENIED),
        )
        for table, key, row, change in (
            (
                "analytics_daily",
                "community_id || '/' || day",
                "(community_id, day, active_users, completions, time_spent_s, quiz_attempts, quiz_score_sum,"
                " ai_messages, ai_tokens, ai_cost_usd) values (%s, '2001-01-01', 0, 0, 0, 0, 0, 0, 0, 0)",
                "completions = 99",
            ),
            (
                "analytics_user_daily",
                "community_id || '/' || user_id || '/' || day",
                "(community_id, user_id, day, completions, time_spent_s, quiz_attempts, quiz_score_sum,"
                " ai_messages, ai_tokens, ai_cost_usd) values (%s, auth.uid(), '2001-01-01', 0, 0, 0, 0, 0, 0, 0)",
                "completions = 99",
            ),
            (
                "analytics_content_daily",
                "community_id || '/' || item_id || '/' || day",
                "(community_id, item_id, day, completions, time_spent_s)"
                " select %s, id, '2001-01-01', 0, 0 from public.content_items limit 1",
                "completions = 99",
            ),
            (
                "analytics_digests",
                "community_id || '/' || week_start",
                "(community_id, week_start, body) values (%s, '2001-01-01', '{}')",
                "body = '{}'",
            ),
        )
    ),
    _closed(
        "app.analytics_cursor",
        "job",
        "insert into app.analytics_cursor (job, next_day) values ('rollup', current_date)",
        "next_day = next_day + 1",
    ),
    _closed(
        "app.ai_reservations",
        "id",
        "insert into app.ai_reservations (community_id, month, tokens, expires_at) values (%s, '2001-01-01', 1, now())",
        "tokens = 0",
        into=IN_EACH_COMMUNITY,
        tenant=COMMUNITY,
    ),
    _closed(
        "app.rate_limits",
        "key || '/' || limit_class",
        "insert into app.rate_limits (key, limit_class, window_start, hits) values ('ip:x', 'general', now(), 1)",
        "hits = 999",
    ),
    _closed(
        "app.applied_events",
        "handler",
        "insert into app.applied_events (event_id, handler) values (gen_random_uuid(), 'forged')",
        "applied_at = '2001-01-01'",
    ),
    _closed(
        "app.event_failures",
        "msg_id::text",
        "insert into app.event_failures (msg_id, event_name, last_error) values (2, 'forged', 'x')",
        "failures = 99",
    ),
    _closed(
        "app.webhook_events",
        "provider || '/' || event_id",
        "insert into app.webhook_events (provider, event_id) values ('stripe', 'evt_forged')",
        "received_at = '2001-01-01'",
    ),
    _closed(
        "app.idempotency_keys",
        "owner || '/' || key",
        "insert into app.idempotency_keys (owner, key, request_hash, state, locked_until, expires_at)"
        " values ('user:x', 'k', 'h', 'done', now(), now())",
        "state = 'done'",
    ),
    _closed(
        "app.video_transcripts",
        "platform || '/' || provider_video_id",
        "insert into app.video_transcripts (platform, provider_video_id, language, transcript, received_at)"
        " values ('vimeo', 'v2', 'en', 'forged', now())",
        "transcript = 'rewritten'",
    ),
    _closed(
        "app.community_secrets",
        "community_id",
        "insert into app.community_secrets (community_id, provider, ciphertext) values (%s, 'openai', decode('01', 'hex'))",
        "provider = 'gemini'",
        into=IN_EACH_COMMUNITY,
        tenant=COMMUNITY,
        make_room=_room_in("app.community_secrets"),
    ),
    _closed(
        "auth.users",
        "id",
        "insert into auth.users (email) values ('forged@example.com')",
        'raw_app_meta_data = \'{"role": "forged"}\'',
    ),
)
TABLES = {table.name: table for table in MATRIX}

async def test_every_table_and_view_the_api_roles_can_reach_is_in_the_matrix(db: str, sql: Sql) -> None:
    unlisted = unlisted_relations(sql, MATRIX)
    assert not unlisted, "\n".join(map(str, unlisted))


async def test_every_caller_sees_and_changes_exactly_what_the_matrix_says(db: str, sql: Sql) -> None:
    arrange(sql)
    mismatches = await run_matrix(sql, MATRIX, CALLERS, NAMES)
    assert not mismatches, "\n".join(map(str, mismatches))


async def test_each_loosened_policy_and_widened_grant_turns_the_matrix_red(
    new_database: Callable[[], AbstractAsyncContextManager[str]],
) -> None:
    async with new_database() as dsn:
        owner = owner_sql(dsn)
        arrange(owner)
        assert await run_matrix(owner, MATRIX, CALLERS, NAMES) == []  # so any mismatch below is the mutation's
        mutations = policy_mutations(owner) + grant_mutations(list(TABLES))
    assert {relation for relation, _ in mutations} == set(TABLES)  # and no policy on an unlisted relation
    still_green = []
    for relation, ddl in mutations:
        async with new_database() as dsn:
            owner = owner_sql(dsn)
            arrange(owner)
            owner(ddl)
            found = await run_matrix(owner, [TABLES[relation]], CALLERS, NAMES)
        if not found:
            still_green.append(ddl)
    assert still_green == []
