"""Every function the API roles can execute, in every schema, against a reviewed allow-list.

A function `anon` or `authenticated` can execute is an API: PostgREST lets a user call it with any
arguments. Each one must answer only about its caller or check the caller inside. A new one makes this
test fail until it is reviewed and listed here with its reason.
"""

from __future__ import annotations

from tests.helpers import Sql

EXECUTABLE_SQL = """
select r.rolname as role, p.oid::regprocedure::text as function
from pg_catalog.pg_proc p
join pg_catalog.pg_namespace n on n.oid = p.pronamespace
cross join (values ('anon'), ('authenticated')) as r(rolname)
where n.nspname not in ('pg_catalog', 'information_schema')
  and has_schema_privilege(r.rolname, n.oid, 'USAGE')
  and has_function_privilege(r.rolname, p.oid, 'EXECUTE')
order by 1, 2
"""

CLAIM_READERS = {
    "auth.jwt()": "Supabase's own: the caller's verified claims",
    "auth.uid()": "Supabase's own: the caller's user id, which every policy compares with",
    "auth.role()": "Supabase's own: the caller's role claim",
}

ALLOWED: dict[str, dict[str, str]] = {
    "anon": CLAIM_READERS,
    "authenticated": {
        **CLAIM_READERS,
        "app.staff_role()": "policy helper: the caller's own staff role",
        "app.is_staff()": "policy helper: whether the caller is staff",
        "app.has_staff_role(text[])": "policy helper: whether the caller holds one of these staff roles",
        "app.is_member_of(uuid)": "policy helper: whether the caller is a member of the community",
        "app.is_admin_of(uuid)": "policy helper: whether the caller administers the community",
        "app.administered_communities()": "policy helper: the communities the caller administers",
        "app.is_managed_user(uuid)": "policy helper: whether the user is in a community the caller administers",
        "app.redeem_signup_link(bytea)": "joins the caller (never anyone else) through a link they hold",
        "app.audit_actor_email(bigint)": "an entry's actor e-mail, only for an entry the caller may read",
        "app.my_invitations(timestamp with time zone,uuid,integer)": "the caller's own pending invitations only",
        "app.accept_invitation(uuid,jsonb)": "accepts only an invitation addressed to the caller (app.is_invitee)",
        "app.decline_invitation(uuid,jsonb)": "declines only an invitation addressed to the caller (app.is_invitee)",
        "app.set_community_provider_key(uuid,text,bytea)": "refuses all but a super admin or the community's admin",
        "app.clear_community_provider_key(uuid)": "refuses all but a super admin or the community's admin",
        "app.granted_content_ids(uuid)": "policy helper: the items granted to the caller now (optionally via one community), with what they use of the same owner",
        "app.directly_granted_content_ids(uuid)": "catalogue: the items granted to the caller now (optionally via one community)",
        "app.administered_granted_content_ids()": "policy helper: the items granted to communities the caller administers",
        "app.administers_content_item(uuid)": "policy helper: whether the caller administers the item's owner community",
        "app.local_day(text,timestamp with time zone)": "pure: the date of a moment in a time zone (reads no table)",
        "app.community_leaderboard(uuid,timestamp with time zone,integer)": "no rows unless the caller is a member of the (active) community or staff",
        "app.item_progress(uuid,uuid)": "security invoker: counts only the pages and stamps row level security shows the caller",
        "app.program_progress(uuid,uuid)": "security invoker: counts only the items and stamps row level security shows the caller",
        "app.completion_percent(uuid,uuid)": "security invoker: from the pages, items and stamps row level security shows the caller",
        "app.prerequisites_of(uuid,uuid)": "security invoker: the prerequisites and stamps row level security shows the caller",
        "app.unmet_prerequisites(uuid,uuid)": "security invoker: the prerequisites and stamps row level security shows the caller",
        "app.enroll(uuid,uuid,uuid[],text)": "enrols the caller in a program granted to them, or (community admin, staff writer) members it is granted to",
        "app.ai_agent_for_turn(uuid,uuid)": "security invoker: the agent and the caller's communities' AI settings row level security shows the caller",
        "app.milestone_score(uuid,uuid)": "security invoker: the milestone, program, stamps and quiz scores row level security shows the caller",
        "app.decide_milestone_review(uuid,boolean,text)": "decides only a pending review of a community the caller administers (staff writers any)",
        "app.drop_enrollment(uuid)": "drops only the caller's own enrollment, or one of a community the caller administers (staff writers any)",
        "app.record_completion(uuid,text,uuid,uuid,numeric,integer)": "stamps the caller's own completion of an item granted to them",
        "app.start_quiz_attempt(uuid,uuid,uuid)": "starts the caller's own attempt at a quiz granted to them",
        "app.submit_quiz_attempt(uuid,jsonb)": "submits only the caller's own open attempt; scored in the database, answers never returned",
        "app.open_forums()": "policy helper: the communities whose forum is open to the caller as a member",
        "app.moderates_forum(uuid)": "policy helper: whether the caller administers the community or is a staff writer",
        "app.forum_create_post(uuid,text,text,uuid[],uuid)": "posts as the caller, only in a forum open to them, referencing only items granted to them",
        "app.forum_create_reply(uuid,uuid,text)": "replies as the caller in an unlocked thread they can see (app.forum_thread)",
        "app.forum_edit(uuid,uuid,text,text,uuid[])": "edits only the caller's own post or reply, in a thread they can see, within the window",
        "app.forum_delete(uuid,uuid)": "deletes only the caller's own post or reply, in a thread they can see",
        "app.forum_react(uuid,uuid,text,boolean)": "adds or removes the caller's own reaction, in a thread they can see",
        "app.forum_report(uuid,uuid,text)": "files the caller's own report (once), in a thread they can see",
        "app.forum_moderate(uuid,uuid,text,text,text,text)": "refuses all but the community's admins and staff writers; audited with auth.uid() as actor",
        "app.forum_dismiss_report(uuid,text,text,text)": "refuses all but the community's admins and staff writers; audited with auth.uid() as actor",
    },
}


def test_api_roles_execute_exactly_the_reviewed_functions(sql: Sql) -> None:
    found: dict[str, set[str]] = {"anon": set(), "authenticated": set()}
    for row in sql(EXECUTABLE_SQL):
        found[row["role"]].add(row["function"])
    for role, allowed in ALLOWED.items():
        unreviewed = sorted(found[role] - set(allowed))
        assert not unreviewed, f"{role} can execute functions nobody reviewed: {unreviewed}"
        gone = sorted(set(allowed) - found[role])
        assert not gone, f"{role} lost functions the allow-list still names (update the list): {gone}"


def test_functions_created_later_are_not_executable_by_default(sql: Sql) -> None:
    # The migration role's default privileges: a new function is executable by nobody until granted.
    sql("create function app.test_new_helper() returns int language sql as 'select 1'")
    sql("create function public.test_new_rpc() returns int language sql as 'select 1'")
    rows = sql(
        "select has_function_privilege(r, 'app.test_new_helper()', 'execute') as helper,"
        " has_function_privilege(r, 'public.test_new_rpc()', 'execute') as rpc"
        " from unnest(array['anon', 'authenticated']) r"
    )
    assert rows == [{"helper": False, "rpc": False}] * 2
