-- Content repository: folders, typed items, their versions, and the grants that decide who sees what.
--
-- The visibility rule (DOMAIN "Assignment") lives here, in row level security: a learner sees an item iff
-- it is published, now is inside a grant's window [starts_at, ends_at), and the grant names an ACTIVE
-- community they belong to, a tag they hold there, or them as a member there.
--
-- The learner's rule is computed from the grants side: app.granted_content_ids() starts from the
-- caller's memberships, tags and own grants (all indexed) and returns the few item ids granted to them,
-- so `status = 'published' and id = any((select app.granted_content_ids()))` is answered by primary key
-- probes whose number does not depend on the size of content_items. Under row level security Postgres only turns a query's own
-- conditions into index conditions when their operators are leakproof (uuid `=` is, tsvector `@@` and
-- array `@>` are not), so a learner-facing query that must not scan the table repeats that condition
-- itself; the policy remains the guard for every caller (see docs/decisions.md).
--
-- Platform content has community_id NULL. Rows that name a parent (a folder's parent, an item's folder,
-- a grant's tag or member) carry the parent's tenant in a composite key, so no row points across
-- tenants; `tenant_key` is community_id with the nil uuid standing for the platform, because a foreign
-- key with a NULL column is not checked at all.

-- ---------------------------------------------------------------------------------------------------
-- Folders: one tree per owner and repository.
-- ---------------------------------------------------------------------------------------------------

create table public.content_folders (
  id uuid primary key default gen_random_uuid(),
  community_id uuid references public.communities (id) on delete cascade,
  tenant_key uuid not null generated always as
    (coalesce(community_id, '00000000-0000-0000-0000-000000000000'::uuid)) stored,
  repository text not null check (repository in ('wods', 'blocks', 'content')),
  parent_id uuid,
  name text not null check (char_length(name) between 1 and 120 and name !~ '^[-=+@\t\r]'),
  created_at timestamptz not null default now(),
  unique (id, tenant_key, repository),
  -- A parent is in the same owner's tree of the same repository (deleting a parent with children is
  -- refused, below; a community's deletion removes its whole tree in one statement).
  foreign key (parent_id, tenant_key, repository)
    references public.content_folders (id, tenant_key, repository)
);
create index content_folders_tree_idx on public.content_folders (tenant_key, repository, parent_id);
create index content_folders_parent_idx on public.content_folders (parent_id) where parent_id is not null;
create index content_folders_community_idx on public.content_folders (community_id) where community_id is not null;

-- No cycles: the new parent may not be the folder itself or one of its descendants. Moves in one tree
-- are serialised (two concurrent moves could otherwise each pass and together close a loop).
create or replace function app.guard_folder_tree() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.parent_id is null or (tg_op = 'UPDATE' and new.parent_id is not distinct from old.parent_id) then
    return new;
  end if;
  perform pg_advisory_xact_lock(hashtextextended('content_folders:' || new.tenant_key || ':' || new.repository, 0));
  if new.parent_id = new.id or exists (
    with recursive ancestors (id) as (
      select f.parent_id from public.content_folders f where f.id = new.parent_id
      union
      select f.parent_id from public.content_folders f join ancestors a on f.id = a.id
    )
    select 1 from ancestors where id = new.id
  ) then
    raise exception 'folder_cycle: a folder cannot be moved into itself or one of its subfolders'
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
create trigger content_folders_tree before insert or update of parent_id on public.content_folders
  for each row execute function app.guard_folder_tree();

-- ---------------------------------------------------------------------------------------------------
-- Items
-- ---------------------------------------------------------------------------------------------------

create table public.content_items (
  id uuid primary key default gen_random_uuid(),
  community_id uuid references public.communities (id) on delete cascade,
  tenant_key uuid not null generated always as
    (coalesce(community_id, '00000000-0000-0000-0000-000000000000'::uuid)) stored,
  type text not null check (type in ('ai_agent', 'video', 'document', 'prompt', 'automation', 'image', 'pdf')),
  title text not null check (char_length(title) between 1 and 200),
  description text not null default '' check (char_length(description) <= 5000),
  thumbnail_url text check (thumbnail_url is null or (char_length(thumbnail_url) <= 2048 and thumbnail_url ~ '^https?://')),
  tags text[] not null default '{}'
    check (cardinality(tags) <= 50 and array_position(tags, null) is null),
  folder_id uuid,
  folder_repository text not null generated always as ('content') stored,
  status text not null default 'draft' check (status in ('draft', 'published', 'archived')),
  payload jsonb not null check (jsonb_typeof(payload) = 'object' and octet_length(payload::text) <= 1000000),
  revision integer not null default 1 check (revision >= 1),
  latest_version integer not null default 0 check (latest_version >= 0),
  -- What full-text search matches: title (A), description (B) and the payload's text (C), without the
  -- values that are identifiers rather than words. Queries use the same configuration: 'english'.
  search tsvector not null generated always as (
    setweight(to_tsvector('english'::regconfig, title), 'A')
    || setweight(to_tsvector('english'::regconfig, description), 'B')
    || setweight(jsonb_to_tsvector('english'::regconfig,
         payload - array['url', 'avatar_url', 'platform', 'platform_video_id', 'mime_type', 'model_settings',
                         'object_key', 'upload_id'],
         '["string"]'), 'C')
  ) stored,
  published_at timestamptz,
  created_by uuid references public.profiles (id) on delete set null,
  updated_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- An item's folder is a folder of the content repository of the same owner.
  foreign key (folder_id, tenant_key, folder_repository)
    references public.content_folders (id, tenant_key, repository)
);
create index content_items_community_status_idx on public.content_items (community_id, status);
create index content_items_folder_idx on public.content_items (folder_id) where folder_id is not null;
create index content_items_search_idx on public.content_items using gin (search);
create index content_items_tags_idx on public.content_items using gin (tags);
-- Video items are found by the provider's id when a transcript arrives.
create index content_items_video_idx on public.content_items ((payload ->> 'platform'), (payload ->> 'platform_video_id'))
  where type = 'video';

-- The database keeps the bookkeeping honest: `revision` (the ETag) moves with every change of content,
-- and only then; `published_at` is the time of the latest move into `published`; the owner and the
-- type never change (grants and payloads were checked against them).
create or replace function app.maintain_content_item() returns trigger
language plpgsql set search_path = '' as $$
begin
  if tg_op = 'INSERT' then
    new.revision := 1;
    new.latest_version := 0;
    new.published_at := case when new.status = 'published' then coalesce(new.published_at, now()) end;
    return new;
  end if;
  if new.community_id is distinct from old.community_id or new.type is distinct from old.type then
    raise exception 'content_owner_fixed: an item''s owner and type never change' using errcode = 'P0001';
  end if;
  if (new.title, new.description, new.thumbnail_url, new.tags, new.folder_id, new.status, new.payload)
     is distinct from (old.title, old.description, old.thumbnail_url, old.tags, old.folder_id, old.status, old.payload)
  then
    new.revision := old.revision + 1;
    new.updated_at := now();
  else
    new.revision := old.revision;
    new.updated_at := old.updated_at;
  end if;
  if new.status = 'published' and old.status <> 'published' then
    new.published_at := now();
  elsif new.status <> 'published' then
    new.published_at := old.published_at;
  end if;
  return new;
end
$$;
create trigger content_items_maintain before insert or update on public.content_items
  for each row execute function app.maintain_content_item();

-- A folder holding folders or items cannot be deleted. (A cascade from the community's own deletion
-- runs inside the foreign key's trigger, at depth > 1, and takes the whole tree.)
create or replace function app.guard_folder_delete() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if pg_trigger_depth() = 1 and (
       exists (select 1 from public.content_folders f where f.parent_id = old.id)
       or exists (select 1 from public.content_items i where i.folder_id = old.id)) then
    raise exception 'folder_not_empty: move or delete its folders and items first' using errcode = 'P0001';
  end if;
  return old;
end
$$;
create trigger content_folders_delete before delete on public.content_folders
  for each row execute function app.guard_folder_delete();

-- ---------------------------------------------------------------------------------------------------
-- Video transcripts arrive by webhook, keyed by the provider's video id (app.video_transcripts, written
-- by the worker). A video item naming the same platform and platform video id carries the transcript in
-- its payload: written into every such item when it arrives (the newest delivery wins), and filled in
-- when an item without one is created or pointed at that video. A transcript longer than an item's
-- transcript may be (100,000 characters) stays in app.video_transcripts only.
-- ---------------------------------------------------------------------------------------------------

create or replace function app.attach_video_transcript() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if char_length(new.transcript) <= 100000 then
    update public.content_items i
       set payload = jsonb_set(i.payload, '{transcript}', to_jsonb(new.transcript))
     where i.type = 'video'
       and i.payload ->> 'platform' = new.platform
       and i.payload ->> 'platform_video_id' = new.provider_video_id
       and i.payload ->> 'transcript' is distinct from new.transcript;
  end if;
  return null;
end
$$;
create trigger video_transcripts_attach after insert or update of transcript on app.video_transcripts
  for each row execute function app.attach_video_transcript();

create or replace function app.fill_video_transcript() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  found text;
begin
  if new.type <> 'video' or coalesce(new.payload ->> 'transcript', '') <> ''
     or (tg_op = 'UPDATE'
         and (new.payload ->> 'platform', new.payload ->> 'platform_video_id')
             is not distinct from (old.payload ->> 'platform', old.payload ->> 'platform_video_id')) then
    return new;
  end if;
  select t.transcript into found from app.video_transcripts t
   where t.platform = new.payload ->> 'platform' and t.provider_video_id = new.payload ->> 'platform_video_id'
     and char_length(t.transcript) <= 100000;
  if found is not null then
    new.payload := jsonb_set(new.payload, '{transcript}', to_jsonb(found));
  end if;
  return new;
end
$$;
-- Fires before content_items_maintain (triggers fire by name), so the revision sees the filled payload.
create trigger content_items_fill_transcript before insert or update of payload on public.content_items
  for each row execute function app.fill_video_transcript();

-- ---------------------------------------------------------------------------------------------------
-- Versions: gapless per item. The number is the item's next `latest_version`, taken under the item's
-- row lock by the database itself (a caller's number is ignored), so two saves cannot share or skip one.
-- ---------------------------------------------------------------------------------------------------

create table public.content_versions (
  item_id uuid not null references public.content_items (id) on delete cascade,
  number integer not null check (number >= 1),
  kind text not null check (kind in ('save', 'publish', 'restore')),
  snapshot jsonb not null check (jsonb_typeof(snapshot) = 'object'),
  change_summary text not null default '' check (char_length(change_summary) <= 500),
  author_id uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  primary key (item_id, number)
);

create or replace function app.number_content_version() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  update public.content_items i set latest_version = i.latest_version + 1
   where i.id = new.item_id
  returning i.latest_version into new.number;
  if new.number is null then
    raise exception 'content_item_not_found: no such item' using errcode = 'P0001';
  end if;
  return new;
end
$$;
create trigger content_versions_number before insert on public.content_versions
  for each row execute function app.number_content_version();

-- ---------------------------------------------------------------------------------------------------
-- Grants: an item to a whole community, to one of its user tags, or to one of its members.
-- ---------------------------------------------------------------------------------------------------

create table public.content_grants (
  id uuid primary key default gen_random_uuid(),
  item_id uuid not null references public.content_items (id) on delete cascade,
  community_id uuid not null references public.communities (id) on delete cascade,
  tag_id uuid,
  user_id uuid,
  starts_at timestamptz,
  ends_at timestamptz,
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  constraint content_grants_one_target check (tag_id is null or user_id is null),
  constraint content_grants_window check (starts_at is null or ends_at is null or ends_at > starts_at),
  -- One grant per item and target (its window is edited in place).
  constraint content_grants_target_key unique nulls not distinct (item_id, community_id, tag_id, user_id),
  -- A tag grant names a tag of the grant's community; a user grant a member of it (leaving the
  -- community, or deleting the tag, removes the grant).
  foreign key (tag_id, community_id) references public.user_tags (id, community_id) on delete cascade,
  foreign key (community_id, user_id) references public.memberships (community_id, user_id) on delete cascade
);
create index content_grants_community_idx on public.content_grants (community_id, created_at desc, id desc);
-- The learner's three paths (app.granted_content_ids), each answered from the index alone: the item and
-- the window ride along, so finding a caller's grants reads no grant rows.
create index content_grants_community_wide_idx on public.content_grants (community_id)
  include (item_id, starts_at, ends_at) where tag_id is null and user_id is null;
create index content_grants_tag_idx on public.content_grants (tag_id, community_id)
  include (item_id, starts_at, ends_at) where tag_id is not null;
create index content_grants_user_idx on public.content_grants (user_id, community_id)
  include (item_id, starts_at, ends_at) where user_id is not null;

-- A community's own item is granted only within that community (platform content to any community).
create or replace function app.guard_content_grant() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  owner uuid;
begin
  select i.community_id into owner from public.content_items i where i.id = new.item_id for key share;
  if owner is not null and owner <> new.community_id then
    raise exception 'grant_outside_owner: a community''s item can only be granted within that community'
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
create trigger content_grants_guard before insert or update of item_id, community_id on public.content_grants
  for each row execute function app.guard_content_grant();

-- ---------------------------------------------------------------------------------------------------
-- Policy helpers (STABLE SECURITY DEFINER, about the caller only).
-- ---------------------------------------------------------------------------------------------------

-- The items granted to the caller now, optionally only through one community's grants: the window holds,
-- and the grant names an active community they belong to, a tag they hold there, or them. Three indexed
-- paths from the caller's side, never a scan of content_items; whether the item is published is the
-- policy's (or the query's) own condition on the row.
create or replace function app.granted_content_ids(p_community uuid default null) returns uuid[]
language sql stable security definer set search_path = '' as $$
  with mine as (
    select m.community_id from public.memberships m join public.communities c on c.id = m.community_id
     where m.user_id = auth.uid() and c.status = 'active'
       and (p_community is null or m.community_id = p_community)
  ), granted as (
    select g.item_id, g.starts_at, g.ends_at from public.content_grants g join mine using (community_id)
     where g.tag_id is null and g.user_id is null
    union all
    select g.item_id, g.starts_at, g.ends_at from public.user_tag_assignments a
      join mine using (community_id)
      join public.content_grants g on g.tag_id = a.tag_id and g.community_id = a.community_id
     where a.user_id = auth.uid()
    union all
    select g.item_id, g.starts_at, g.ends_at from public.content_grants g join mine using (community_id)
     where g.user_id = auth.uid()
  )
  select coalesce(array_agg(distinct g.item_id), '{}')
    from granted g
   where (g.starts_at is null or g.starts_at <= now())
     and (g.ends_at is null or now() < g.ends_at)
$$;

-- The items granted to a community the caller administers, whatever the window or target: what an
-- admin reads (once published) to manage their community's assignments.
create or replace function app.administered_granted_content_ids() returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(distinct g.item_id), '{}')
    from public.content_grants g
   where g.community_id = any (app.administered_communities())
$$;

-- Whether the caller administers the (active) community that owns this item.
create or replace function app.administers_content_item(p_item uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (
    select 1 from public.content_items i
     where i.id = p_item and i.community_id = any (app.administered_communities()))
$$;

revoke all on function app.granted_content_ids(uuid), app.administered_granted_content_ids(),
  app.administers_content_item(uuid) from public;
grant execute on function app.granted_content_ids(uuid), app.administered_granted_content_ids(),
  app.administers_content_item(uuid) to authenticated, service_role;

-- Trigger functions need no EXECUTE grant to fire; nobody calls them.
revoke all on function app.guard_folder_tree(), app.maintain_content_item(), app.guard_folder_delete(),
  app.number_content_version(), app.guard_content_grant(), app.attach_video_transcript(),
  app.fill_video_transcript() from public, anon, authenticated;

-- Who did it: the columns naming the actor name the caller when an API role writes the row itself.
create trigger content_items_created_by before insert or update on public.content_items
  for each row execute function app.require_actor_is_caller('created_by');
create trigger content_items_updated_by before insert or update on public.content_items
  for each row execute function app.require_actor_is_caller('updated_by');
create trigger content_versions_author before insert on public.content_versions
  for each row execute function app.require_actor_is_caller('author_id');
create trigger content_grants_created_by before insert or update on public.content_grants
  for each row execute function app.require_actor_is_caller('created_by');

-- ---------------------------------------------------------------------------------------------------
-- Row level security and grants
-- ---------------------------------------------------------------------------------------------------

alter table public.content_folders enable row level security;
alter table public.content_items enable row level security;
alter table public.content_versions enable row level security;
alter table public.content_grants enable row level security;

revoke all on public.content_folders, public.content_items, public.content_versions, public.content_grants
  from anon, authenticated, public;
grant all on public.content_folders, public.content_items, public.content_versions, public.content_grants
  to service_role;

grant select, delete on public.content_folders to authenticated;
grant insert (id, community_id, repository, parent_id, name) on public.content_folders to authenticated;
grant update (parent_id, name) on public.content_folders to authenticated;

grant select, delete on public.content_items to authenticated;
grant insert (id, community_id, type, title, description, thumbnail_url, tags, folder_id, status, payload,
              created_by, updated_by) on public.content_items to authenticated;
grant update (title, description, thumbnail_url, tags, folder_id, status, payload, revision, latest_version,
              updated_by) on public.content_items to authenticated;

-- Versions are append-only: a restore is a new version.
grant select on public.content_versions to authenticated;
grant insert (item_id, number, kind, snapshot, change_summary, author_id) on public.content_versions to authenticated;

grant select, delete on public.content_grants to authenticated;
grant insert (id, item_id, community_id, tag_id, user_id, starts_at, ends_at, created_by)
  on public.content_grants to authenticated;
grant update (starts_at, ends_at) on public.content_grants to authenticated;

-- Folders: staff read all; a community's admins their community's. Writers: staff who may write, and a
-- community's admins within it.
create policy content_folders_read on public.content_folders for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.administered_communities())::uuid[]));
create policy content_folders_write on public.content_folders for all to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager']))
         or community_id = any ((select app.administered_communities())::uuid[]))
  with check ((select app.has_staff_role(array['super_admin', 'manager']))
              or community_id = any ((select app.administered_communities())::uuid[]));

-- Items: staff read all; admins their community's own items and what is granted to their community;
-- learners what the visibility rule lets them see. Each is an indexable condition on an initplan.
create policy content_items_read_staff on public.content_items for select to authenticated
  using ((select app.is_staff()));
create policy content_items_read_own_community on public.content_items for select to authenticated
  using (community_id = any ((select app.administered_communities())::uuid[]));
create policy content_items_read_granted_to_community on public.content_items for select to authenticated
  using (status = 'published' and id = any ((select app.administered_granted_content_ids())::uuid[]));
create policy content_items_read_visible on public.content_items for select to authenticated
  using (status = 'published' and id = any ((select app.granted_content_ids())::uuid[]));
-- Writes by command, so that no write condition joins the read policies above.
create policy content_items_insert on public.content_items for insert to authenticated
  with check ((select app.has_staff_role(array['super_admin', 'manager']))
              or community_id = any ((select app.administered_communities())::uuid[]));
create policy content_items_update on public.content_items for update to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager']))
         or community_id = any ((select app.administered_communities())::uuid[]))
  with check ((select app.has_staff_role(array['super_admin', 'manager']))
              or community_id = any ((select app.administered_communities())::uuid[]));
create policy content_items_delete on public.content_items for delete to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager']))
         or community_id = any ((select app.administered_communities())::uuid[]));

-- Versions: who may read or write the item's content (learners read the published item, not its history).
create policy content_versions_read on public.content_versions for select to authenticated
  using ((select app.is_staff()) or app.administers_content_item(item_id));
create policy content_versions_insert on public.content_versions for insert to authenticated
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.administers_content_item(item_id));

-- Grants: staff read all; a community's admins their community's. Staff who may write grant anything;
-- a community's admins grant their community's own items within it (the trigger above keeps owned
-- items inside their community for every caller).
create policy content_grants_read on public.content_grants for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.administered_communities())::uuid[]));
create policy content_grants_write on public.content_grants for all to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager']))
         or (community_id = any ((select app.administered_communities())::uuid[])
             and app.administers_content_item(item_id)))
  with check ((select app.has_staff_role(array['super_admin', 'manager']))
              or (community_id = any ((select app.administered_communities())::uuid[])
                  and app.administers_content_item(item_id)));
