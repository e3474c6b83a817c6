-- Community forum and in-app notifications (issue 15).
--
-- One switch: public.communities.forum_enabled is the forum's only on/off. The `forum` key that some
-- communities carried in `features` (and that disagreed with the column) is folded into the column and
-- refused from now on. A switched-off forum is invisible to its members (admins included), and its
-- content stays; staff still read it.
--
-- Posts, replies, reactions, reports and edit history are read under row level security (the forum's
-- members while it is on; hidden rows only by the community's admins and staff) and written only through
-- the SECURITY DEFINER functions below, which check their caller, keep the rules (locked thread, edit
-- window, one reaction per kind, one report per member) and send their events themselves, so a
-- PostgREST caller meets the same rules as the `forum` function. Moderation is audited in the database.
-- Notifications are the worker's; their owner reads them and marks them read (read_at, nothing else).

-- ---------------------------------------------------------------------------------------------------
-- The switch
-- ---------------------------------------------------------------------------------------------------
update public.communities
   set forum_enabled = (features ->> 'forum')::boolean
 where jsonb_typeof(features -> 'forum') = 'boolean';
update public.communities set features = features - 'forum' where features ? 'forum';
alter table public.communities
  add constraint communities_features_without_forum check (not features ? 'forum');

-- The communities whose forum the caller reads as a member: active, forum on, and theirs.
create or replace function app.open_forums() returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(m.community_id), '{}')
    from public.memberships m join public.communities c on c.id = m.community_id
   where m.user_id = auth.uid() and c.status = 'active' and c.forum_enabled
$$;

-- Whether the caller moderates the community's forum: its admin, or staff who may write.
create or replace function app.moderates_forum(p_community uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select app.is_admin_of(p_community) or app.has_staff_role(array['super_admin', 'manager'])
$$;

-- ---------------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------------
create table public.forum_posts (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null references public.communities (id) on delete cascade,
  author_id uuid references public.profiles (id) on delete set null,
  -- The author's name when they wrote it: members do not read each other's profiles.
  author_name text check (char_length(author_name) <= 250),
  title text not null check (char_length(title) between 1 and 200),
  body text not null check (char_length(body) between 1 and 20000),
  -- Forum tags are the community's user tags (public.user_tags); a deleted tag drops out when read.
  tag_ids uuid[] not null default '{}' check (cardinality(tag_ids) <= 10),
  content_item_id uuid references public.content_items (id) on delete set null,
  is_pinned boolean not null default false,
  is_locked boolean not null default false,
  hidden_at timestamptz,
  hidden_by uuid references public.profiles (id) on delete set null,
  reply_count integer not null default 0 check (reply_count >= 0),
  last_activity_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  edited_at timestamptz,
  search tsvector generated always as (to_tsvector('simple', title || ' ' || body)) stored,
  unique (id, community_id)
);
create index forum_posts_newest_idx on public.forum_posts (community_id, created_at desc, id desc);
create index forum_posts_active_idx on public.forum_posts (community_id, last_activity_at desc, id desc);
create index forum_posts_search_idx on public.forum_posts using gin (search);
create index forum_posts_author_idx on public.forum_posts (author_id, created_at);

create table public.forum_replies (
  id uuid primary key default gen_random_uuid(),
  post_id uuid not null,
  community_id uuid not null,
  parent_id uuid,
  author_id uuid references public.profiles (id) on delete set null,
  author_name text check (char_length(author_name) <= 250),
  body text not null check (char_length(body) <= 20000),
  hidden_at timestamptz,
  hidden_by uuid references public.profiles (id) on delete set null,
  deleted_at timestamptz,
  created_at timestamptz not null default now(),
  edited_at timestamptz,
  unique (id, post_id),
  foreign key (post_id, community_id) references public.forum_posts (id, community_id) on delete cascade,
  foreign key (parent_id, post_id) references public.forum_replies (id, post_id) on delete cascade,
  check ((deleted_at is null) = (char_length(body) > 0))
);
create index forum_replies_post_idx on public.forum_replies (post_id, created_at, id);
create index forum_replies_community_idx on public.forum_replies (community_id);
create index forum_replies_author_idx on public.forum_replies (author_id, created_at);

create table public.forum_edits (
  id bigint generated always as identity primary key,
  community_id uuid not null,
  post_id uuid not null,
  reply_id uuid,
  editor_id uuid references public.profiles (id) on delete set null,
  title text,
  body text not null,
  edited_at timestamptz not null default now(),
  foreign key (post_id, community_id) references public.forum_posts (id, community_id) on delete cascade,
  foreign key (reply_id, post_id) references public.forum_replies (id, post_id) on delete cascade
);
create index forum_edits_post_idx on public.forum_edits (post_id, reply_id, id);
create index forum_edits_community_idx on public.forum_edits (community_id);

create table public.forum_reactions (
  community_id uuid not null,
  post_id uuid not null,
  reply_id uuid,
  user_id uuid not null references public.profiles (id) on delete cascade,
  kind text not null check (kind in ('like', 'love', 'insightful', 'celebrate', 'laugh')),
  created_at timestamptz not null default now(),
  unique nulls not distinct (post_id, reply_id, user_id, kind),
  foreign key (post_id, community_id) references public.forum_posts (id, community_id) on delete cascade,
  foreign key (reply_id, post_id) references public.forum_replies (id, post_id) on delete cascade
);
create index forum_reactions_community_idx on public.forum_reactions (community_id);

create table public.forum_reports (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null,
  post_id uuid not null,
  reply_id uuid,
  reporter_id uuid not null references public.profiles (id) on delete cascade,
  reason text not null check (char_length(reason) between 1 and 1000),
  created_at timestamptz not null default now(),
  resolved_at timestamptz,
  resolved_by uuid references public.profiles (id) on delete set null,
  resolution text check (resolution in ('hidden', 'dismissed')),
  unique nulls not distinct (post_id, reply_id, reporter_id),
  foreign key (post_id, community_id) references public.forum_posts (id, community_id) on delete cascade,
  foreign key (reply_id, post_id) references public.forum_replies (id, post_id) on delete cascade,
  check ((resolved_at is null) = (resolution is null))
);
create index forum_reports_queue_idx on public.forum_reports (community_id, created_at, id) where resolved_at is null;

create table public.notifications (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  community_id uuid references public.communities (id) on delete cascade,
  kind text not null check (kind ~ '^[a-z][a-z0-9_.]{1,49}$'),
  subject text not null check (char_length(subject) between 1 and 300),
  link text check (link is null or char_length(link) <= 500),
  data jsonb not null default '{}' check (jsonb_typeof(data) = 'object'),
  event_id uuid,
  created_at timestamptz not null default now(),
  read_at timestamptz,
  unique (user_id, event_id)
);
create index notifications_user_idx on public.notifications (user_id, created_at desc, id desc);
create index notifications_unread_idx on public.notifications (user_id) where read_at is null;

alter table public.forum_posts enable row level security;
alter table public.forum_replies enable row level security;
alter table public.forum_edits enable row level security;
alter table public.forum_reactions enable row level security;
alter table public.forum_reports enable row level security;
alter table public.notifications enable row level security;
revoke all on public.forum_posts, public.forum_replies, public.forum_edits, public.forum_reactions,
  public.forum_reports, public.notifications from public, anon, authenticated;
grant all on public.forum_posts, public.forum_replies, public.forum_edits, public.forum_reactions,
  public.forum_reports, public.notifications to service_role;
grant select on public.forum_posts, public.forum_replies, public.forum_edits, public.forum_reactions,
  public.forum_reports, public.notifications to authenticated;
grant update (read_at) on public.notifications to authenticated;

-- Posts and replies: the open forum's members (hidden ones only its admins), every row for staff.
create policy forum_posts_read on public.forum_posts for select to authenticated
  using ((select app.is_staff())
         or (community_id = any ((select app.open_forums())::uuid[])
             and (hidden_at is null or community_id = any ((select app.administered_communities())::uuid[]))));
create policy forum_replies_read on public.forum_replies for select to authenticated
  using ((select app.is_staff())
         or (community_id = any ((select app.open_forums())::uuid[])
             and (hidden_at is null or community_id = any ((select app.administered_communities())::uuid[]))
             and exists (select 1 from public.forum_posts p where p.id = post_id)));
create policy forum_reactions_read on public.forum_reactions for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.open_forums())::uuid[]));
-- Edit history: the editor's own, the open forum's admins, staff.
create policy forum_edits_read on public.forum_edits for select to authenticated
  using ((select app.is_staff()) or editor_id = (select auth.uid())
         or (community_id = any ((select app.open_forums())::uuid[])
             and community_id = any ((select app.administered_communities())::uuid[])));
-- Reports: the reporter's own, the community's admins (the queue), staff.
create policy forum_reports_read on public.forum_reports for select to authenticated
  using ((select app.is_staff()) or reporter_id = (select auth.uid())
         or community_id = any ((select app.administered_communities())::uuid[]));
-- Notifications: their recipient only, who may mark them read.
create policy notifications_read on public.notifications for select to authenticated
  using (user_id = (select auth.uid()));
create policy notifications_mark_read on public.notifications for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));

-- Live updates (docs/forum-realtime.md): Supabase Realtime sends a subscriber only the rows their
-- select policy shows them. Supabase creates the publication; plain Postgres (local, tests) gets it here.
do $$
begin
  if not exists (select 1 from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$;
alter publication supabase_realtime add table public.forum_posts, public.forum_replies, public.notifications;

-- ---------------------------------------------------------------------------------------------------
-- Internal helpers (no API role executes them)
-- ---------------------------------------------------------------------------------------------------

-- The post, locked, if the caller may write in its thread: a member of its open forum, the post not
-- hidden (unless they moderate it). Refuses otherwise, with the codes the `forum` function maps.
create or replace function app.forum_thread(p_post uuid) returns public.forum_posts
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts;
begin
  select * into p from public.forum_posts where id = p_post for update;
  if not found or not (p.community_id = any (app.open_forums()))
     or (p.hidden_at is not null and not app.is_admin_of(p.community_id)) then
    raise exception 'forum_post_not_found: no such post in a forum open to you' using errcode = 'P0001';
  end if;
  return p;
end
$$;

-- Refuses unless the reply (when one is named) is in the post's thread and not hidden.
create or replace function app.forum_require_reply(p_post uuid, p_reply uuid) returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if p_reply is not null and not exists (
    select 1 from public.forum_replies x where x.id = p_reply and x.post_id = p_post and x.hidden_at is null) then
    raise exception 'forum_reply_not_found: no such reply in this thread' using errcode = 'P0001';
  end if;
end
$$;

-- A backstop for callers who bypass the functions' `post` rate limit (PostgREST): at most 30 posts and
-- replies a minute per member, counted from the rows themselves.
create or replace function app.forum_check_pace() returns void
language plpgsql stable security definer set search_path = '' as $$
begin
  if (select count(*) from public.forum_posts where author_id = auth.uid() and created_at > now() - interval '1 minute')
   + (select count(*) from public.forum_replies where author_id = auth.uid() and created_at > now() - interval '1 minute')
   >= 30 then
    raise exception 'posting_too_fast: at most 30 posts and replies a minute' using errcode = 'P0001';
  end if;
end
$$;

-- The caller's tags for a post of the community: every id a tag of that community, no repeats.
create or replace function app.forum_tags(p_community uuid, p_tags uuid[]) returns uuid[]
language plpgsql stable security definer set search_path = '' as $$
declare
  v_tags uuid[] := array(select distinct t from unnest(coalesce(p_tags, '{}')) as t order by t);
begin
  if exists (select 1 from unnest(v_tags) as t
              where not exists (select 1 from public.user_tags u where u.id = t and u.community_id = p_community)) then
    raise exception 'unknown_tag: every tag must be one of the community''s tags' using errcode = 'P0001';
  end if;
  return v_tags;
end
$$;

-- The caller's name as the forum shows it (members do not read each other's profiles).
create or replace function app.forum_author_name() returns text
language sql stable security definer set search_path = '' as $$
  select left(nullif(btrim(concat_ws(' ', p.first_name, p.last_name)), ''), 250)
    from public.profiles p where p.id = auth.uid()
$$;

create or replace function app.forum_posted(p_community uuid, p_user uuid, p_post uuid, p_reply uuid, p_at timestamptz)
returns void
language sql security definer set search_path = '' as $$
  select app.send_event('forum.posted', jsonb_build_object(
    'user_id', p_user, 'community_id', p_community, 'post_id', p_post, 'reply_id', p_reply, 'posted_at', p_at))
$$;

-- ---------------------------------------------------------------------------------------------------
-- What the API roles call. Each checks its caller; a refusal is '<code>: <detail>' (P0001).
-- ---------------------------------------------------------------------------------------------------

-- A new post by the caller in a community whose forum is open to them; a referenced item must be one
-- they can see through that community.
create or replace function app.forum_create_post(
  p_community uuid, p_title text, p_body text, p_tags uuid[], p_item uuid) returns public.forum_posts
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts;
begin
  if auth.uid() is null or not (p_community = any (app.open_forums())) then
    raise exception 'forum_unavailable: this community has no forum open to you' using errcode = 'P0001';
  end if;
  perform app.forum_check_pace();
  if p_item is not null and not (p_item = any (app.granted_content_ids(p_community))) then
    raise exception 'unknown_content_item: no such item is visible to you here' using errcode = 'P0001';
  end if;
  insert into public.forum_posts (community_id, author_id, author_name, title, body, tag_ids, content_item_id)
  values (p_community, auth.uid(), app.forum_author_name(), p_title, p_body, app.forum_tags(p_community, p_tags), p_item)
  returning * into p;
  perform app.forum_posted(p.community_id, p.author_id, p.id, null, p.created_at);
  return p;
end
$$;

-- A reply by the caller in an unlocked thread they can see, to the post or to one of its replies.
create or replace function app.forum_create_reply(p_post uuid, p_parent uuid, p_body text) returns public.forum_replies
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts := app.forum_thread(p_post);
  r public.forum_replies;
begin
  if p.is_locked then
    raise exception 'thread_locked: this thread is locked' using errcode = 'P0001';
  end if;
  perform app.forum_require_reply(p.id, p_parent);
  perform app.forum_check_pace();
  insert into public.forum_replies (post_id, community_id, parent_id, author_id, author_name, body)
  values (p.id, p.community_id, p_parent, auth.uid(), app.forum_author_name(), p_body)
  returning * into r;
  update public.forum_posts set reply_count = reply_count + 1, last_activity_at = r.created_at where id = p.id;
  perform app.forum_posted(r.community_id, r.author_id, p.id, r.id, r.created_at);
  perform app.send_event('forum.replied', jsonb_build_object(
    'user_id', r.author_id, 'community_id', r.community_id, 'post_id', p.id, 'reply_id', r.id,
    'post_author_id', p.author_id, 'post_title', p.title, 'author_name', r.author_name,
    'replied_at', r.created_at));
  return r;
end
$$;

-- The caller's own post or reply, changed within an hour of writing it (not in a locked thread); what
-- it said before is kept in public.forum_edits. A reply has no title or tags (pass null).
create or replace function app.forum_edit(p_post uuid, p_reply uuid, p_title text, p_body text, p_tags uuid[])
returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts := app.forum_thread(p_post);
  r public.forum_replies;
  v_written timestamptz;
  v_author uuid;
begin
  if p_reply is null then
    v_written := p.created_at;
    v_author := p.author_id;
  else
    select * into r from public.forum_replies
     where id = p_reply and post_id = p.id and hidden_at is null and deleted_at is null for update;
    if not found then
      raise exception 'forum_reply_not_found: no such reply in this thread' using errcode = 'P0001';
    end if;
    v_written := r.created_at;
    v_author := r.author_id;
  end if;
  if v_author is distinct from auth.uid() then
    raise exception 'not_the_author: only its author edits a post or reply' using errcode = 'P0001';
  end if;
  if p.is_locked then
    raise exception 'thread_locked: this thread is locked' using errcode = 'P0001';
  end if;
  if v_written < now() - interval '1 hour' then
    raise exception 'edit_window_closed: posts and replies can be edited for an hour' using errcode = 'P0001';
  end if;
  if p_reply is null then
    insert into public.forum_edits (community_id, post_id, editor_id, title, body)
    values (p.community_id, p.id, auth.uid(), p.title, p.body);
    update public.forum_posts
       set title = coalesce(p_title, title), body = coalesce(p_body, body),
           tag_ids = case when p_tags is null then tag_ids else app.forum_tags(community_id, p_tags) end,
           edited_at = now()
     where id = p.id returning * into p;
    return to_jsonb(p) - 'search';
  end if;
  insert into public.forum_edits (community_id, post_id, reply_id, editor_id, body)
  values (r.community_id, r.post_id, r.id, auth.uid(), r.body);
  update public.forum_replies set body = coalesce(p_body, body), edited_at = now() where id = r.id returning * into r;
  return to_jsonb(r);
end
$$;

-- The caller deletes their own post (with its thread) or reply (its text goes, its place in the thread
-- stays, so answers to it keep their context).
create or replace function app.forum_delete(p_post uuid, p_reply uuid) returns void
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts := app.forum_thread(p_post);
begin
  if p_reply is null then
    if p.author_id is distinct from auth.uid() then
      raise exception 'not_the_author: only its author deletes a post' using errcode = 'P0001';
    end if;
    delete from public.forum_posts where id = p.id;
    return;
  end if;
  update public.forum_replies set body = '', deleted_at = now()
   where id = p_reply and post_id = p.id and author_id = auth.uid() and deleted_at is null;
  if not found then
    raise exception 'forum_reply_not_found: no reply of yours in this thread' using errcode = 'P0001';
  end if;
end
$$;

-- The caller's reaction of one kind to a post or reply they can see: added (once) or taken back.
create or replace function app.forum_react(p_post uuid, p_reply uuid, p_kind text, p_on boolean) returns void
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts := app.forum_thread(p_post);
begin
  perform app.forum_require_reply(p.id, p_reply);
  if p_on then
    insert into public.forum_reactions (community_id, post_id, reply_id, user_id, kind)
    values (p.community_id, p.id, p_reply, auth.uid(), p_kind)
    on conflict (post_id, reply_id, user_id, kind) do nothing;
  else
    delete from public.forum_reactions
     where post_id = p.id and reply_id is not distinct from p_reply and user_id = auth.uid() and kind = p_kind;
  end if;
end
$$;

-- The caller reports a post or reply they can see, once.
create or replace function app.forum_report(p_post uuid, p_reply uuid, p_reason text) returns public.forum_reports
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts := app.forum_thread(p_post);
  v public.forum_reports;
begin
  perform app.forum_require_reply(p.id, p_reply);
  insert into public.forum_reports (community_id, post_id, reply_id, reporter_id, reason)
  values (p.community_id, p.id, p_reply, auth.uid(), p_reason)
  on conflict (post_id, reply_id, reporter_id) do nothing
  returning * into v;
  if not found then
    raise exception 'already_reported: you have reported this already' using errcode = 'P0001';
  end if;
  return v;
end
$$;

-- A moderator (the community's admin, staff who may write) pins, unpins, locks, unlocks, hides or
-- restores a post, or hides or restores a reply; hiding settles the open reports on it. Audited here,
-- so every caller's moderation is; the request metadata is the caller's word, the actor is auth.uid().
create or replace function app.forum_moderate(
  p_post uuid, p_reply uuid, p_action text, p_request_id text, p_ip text, p_user_agent text) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  p public.forum_posts;
  r public.forum_replies;
  v_before jsonb;
  v_after jsonb;
begin
  select * into p from public.forum_posts where id = p_post for update;
  if not found or not (app.is_staff() or app.is_admin_of(p.community_id)) then
    raise exception 'forum_post_not_found: no such post in a forum you moderate' using errcode = 'P0001';
  end if;
  if not app.moderates_forum(p.community_id) then
    raise exception 'forbidden: only the community''s admins and staff who may write moderate' using errcode = 'P0001';
  end if;
  if p_reply is null then
    if p_action not in ('pin', 'unpin', 'lock', 'unlock', 'hide', 'restore') then
      raise exception 'unknown_action: %', p_action using errcode = 'P0001';
    end if;
    v_before := jsonb_build_object('is_pinned', p.is_pinned, 'is_locked', p.is_locked, 'hidden', p.hidden_at is not null);
    update public.forum_posts set
      is_pinned = case p_action when 'pin' then true when 'unpin' then false else is_pinned end,
      is_locked = case p_action when 'lock' then true when 'unlock' then false else is_locked end,
      hidden_at = case p_action when 'hide' then coalesce(hidden_at, now()) when 'restore' then null else hidden_at end,
      hidden_by = case p_action when 'hide' then coalesce(hidden_by, auth.uid()) when 'restore' then null else hidden_by end
     where id = p.id returning * into p;
    v_after := jsonb_build_object('is_pinned', p.is_pinned, 'is_locked', p.is_locked, 'hidden', p.hidden_at is not null);
  else
    if p_action not in ('hide', 'restore') then
      raise exception 'unknown_action: a reply is only hidden or restored' using errcode = 'P0001';
    end if;
    select * into r from public.forum_replies where id = p_reply and post_id = p.id for update;
    if not found then
      raise exception 'forum_reply_not_found: no such reply in this thread' using errcode = 'P0001';
    end if;
    v_before := jsonb_build_object('hidden', r.hidden_at is not null);
    update public.forum_replies set
      hidden_at = case when p_action = 'hide' then coalesce(hidden_at, now()) end,
      hidden_by = case when p_action = 'hide' then coalesce(hidden_by, auth.uid()) end
     where id = r.id returning * into r;
    v_after := jsonb_build_object('hidden', r.hidden_at is not null);
  end if;
  if p_action = 'hide' then
    update public.forum_reports set resolved_at = now(), resolved_by = auth.uid(), resolution = 'hidden'
     where post_id = p.id and reply_id is not distinct from p_reply and resolved_at is null;
  end if;
  if v_before <> v_after then
    perform app.write_audit('forum.' || p_action, case when p_reply is null then 'forum_post' else 'forum_reply' end,
                            coalesce(p_reply, p.id)::text, p.community_id, v_before, v_after,
                            p_request_id, p_ip, p_user_agent);
  end if;
  return jsonb_build_object('post', to_jsonb(p) - 'search', 'reply', to_jsonb(r), 'changed', v_before <> v_after);
end
$$;

-- A moderator dismisses an open report (hiding the post or reply settles its reports instead). Audited.
create or replace function app.forum_dismiss_report(p_report uuid, p_request_id text, p_ip text, p_user_agent text)
returns public.forum_reports
language plpgsql security definer set search_path = '' as $$
declare
  v public.forum_reports;
begin
  select * into v from public.forum_reports where id = p_report for update;
  if not found or not app.moderates_forum(v.community_id) then
    raise exception 'forum_report_not_found: no such report in a forum you moderate' using errcode = 'P0001';
  end if;
  if v.resolved_at is not null then
    raise exception 'report_resolved: this report is settled already' using errcode = 'P0001';
  end if;
  update public.forum_reports set resolved_at = now(), resolved_by = auth.uid(), resolution = 'dismissed'
   where id = v.id returning * into v;
  perform app.write_audit('forum.report_dismissed', 'forum_report', v.id::text, v.community_id,
                          jsonb_build_object('resolution', null), jsonb_build_object('resolution', 'dismissed'),
                          p_request_id, p_ip, p_user_agent);
  return v;
end
$$;

revoke all on function app.open_forums(), app.moderates_forum(uuid), app.forum_thread(uuid), app.forum_author_name(),
  app.forum_require_reply(uuid, uuid), app.forum_check_pace(),
  app.forum_tags(uuid, uuid[]), app.forum_posted(uuid, uuid, uuid, uuid, timestamptz),
  app.forum_create_post(uuid, text, text, uuid[], uuid), app.forum_create_reply(uuid, uuid, text),
  app.forum_edit(uuid, uuid, text, text, uuid[]), app.forum_delete(uuid, uuid),
  app.forum_react(uuid, uuid, text, boolean), app.forum_report(uuid, uuid, text),
  app.forum_moderate(uuid, uuid, text, text, text, text), app.forum_dismiss_report(uuid, text, text, text)
  from public, anon, authenticated;
grant execute on function app.open_forums(), app.moderates_forum(uuid),
  app.forum_create_post(uuid, text, text, uuid[], uuid), app.forum_create_reply(uuid, uuid, text),
  app.forum_edit(uuid, uuid, text, text, uuid[]), app.forum_delete(uuid, uuid),
  app.forum_react(uuid, uuid, text, boolean), app.forum_report(uuid, uuid, text),
  app.forum_moderate(uuid, uuid, text, text, text, text), app.forum_dismiss_report(uuid, text, text, text)
  to authenticated, service_role;
grant execute on function app.forum_thread(uuid), app.forum_tags(uuid, uuid[]), app.forum_author_name(),
  app.forum_require_reply(uuid, uuid), app.forum_check_pace(),
  app.forum_posted(uuid, uuid, uuid, uuid, timestamptz) to service_role;
