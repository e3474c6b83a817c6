-- Authoring: WODs, BLOCKs and programs are content items.
--
-- A WOD, a BLOCK and a program are rows of public.content_items of types 'wod', 'block' and 'program'.
-- Their structure (a WOD's pages of blocks, a program's sections of items) is the item's typed payload,
-- so the lifecycle, the revision that If-Match names, versions, grants, the visibility rule, folders and
-- the catalogue are the content repository's, unchanged: one mechanism, not a second one.
--
-- What the payload cannot hold lives beside it:
-- - public.content_references: every item a payload names (an embedded video, a program's WOD), kept
--   by the database from the payload itself, so a referenced item cannot be deleted from under it and a
--   payload cannot name an item its owner may not use, whoever writes it;
-- - public.content_item_keys: a quiz's answers and explanations. Learners read published payloads (also
--   through PostgREST), so the answers are never in one; only the item's editors read this table.

-- ---------------------------------------------------------------------------------------------------
-- Three more item types; WODs and BLOCKs are filed in folders of their own repository, programs in none.
-- ---------------------------------------------------------------------------------------------------

alter table public.content_items drop constraint content_items_type_check;
alter table public.content_items add constraint content_items_type_check check (type in
  ('ai_agent', 'video', 'document', 'prompt', 'automation', 'image', 'pdf', 'wod', 'block', 'program'));

-- Dropping the generated column drops the folder's foreign key built on it; both come back by type.
alter table public.content_items drop column folder_repository cascade;
alter table public.content_items add column folder_repository text not null generated always as
  (case type when 'wod' then 'wods' when 'block' then 'blocks' else 'content' end) stored;
alter table public.content_items add constraint content_items_folder_fkey
  foreign key (folder_id, tenant_key, folder_repository)
  references public.content_folders (id, tenant_key, repository);
alter table public.content_items add constraint content_items_program_unfiled
  check (type <> 'program' or folder_id is null);

-- ---------------------------------------------------------------------------------------------------
-- References: what a WOD's, BLOCK's or program's payload names, kept by the database.
-- ---------------------------------------------------------------------------------------------------

create table public.content_references (
  item_id uuid not null references public.content_items (id) on delete cascade,
  -- Checked at commit: app.guard_referenced_items() refuses a used item's deletion with its own code.
  target_id uuid not null references public.content_items (id) deferrable initially deferred,
  primary key (item_id, target_id)
);
create index content_references_target_idx on public.content_references (target_id);

-- The ids a payload names: embedded content of a page's blocks, the items of a program's sections.
create or replace function app.referenced_ids(p_payload jsonb) returns uuid[]
language sql immutable set search_path = '' as $$
  select array(
    select (ref #>> '{}')::uuid
      from jsonb_path_query(p_payload, 'lax $.pages[*].blocks[*].content_id ? (@.type() == "string")') as ref
    union
    select (ref #>> '{}')::uuid
      from jsonb_path_query(p_payload, 'lax $.sections[*].items[*].item_id ? (@.type() == "string")') as ref)
$$;

-- Keep the payload's references, refusing one the item's owner may not use: an item of the same owner,
-- or a platform item granted to the owning community (a platform item names platform items only).
-- Security definer: the check reads items and grants the caller may not see, and says only "no".
create or replace function app.keep_content_references() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_targets uuid[];
  v_refused uuid;
begin
  v_targets := app.referenced_ids(new.payload);
  select t into v_refused
    from unnest(v_targets) as t
   where not exists (
     select 1 from public.content_items c
      where c.id = t and c.id <> new.id
        and (c.community_id is not distinct from new.community_id
             or (c.community_id is null and exists (
                   select 1 from public.content_grants g
                    where g.item_id = c.id and g.community_id = new.community_id))))
   limit 1;
  if v_refused is not null then
    raise exception 'unknown_reference: % is not an item this item''s owner may use', v_refused
      using errcode = 'P0001';
  end if;
  delete from public.content_references r where r.item_id = new.id and r.target_id <> all (v_targets);
  insert into public.content_references (item_id, target_id)
  select new.id, t from unnest(v_targets) as t
  on conflict do nothing;
  return null;
end
$$;
create trigger content_items_references after insert or update of payload on public.content_items
  for each row when (new.type in ('wod', 'block', 'program'))
  execute function app.keep_content_references();

-- A used item cannot be deleted (archive it, or remove it where it is used, first). Checked once the
-- statement is done, so one statement may delete a WOD with what only it used (a community's deletion
-- takes all of its items together); the foreign key, deferred, is the backstop at commit.
create or replace function app.guard_referenced_items() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if exists (select 1 from public.content_references r join gone g on g.id = r.target_id) then
    raise exception 'item_in_use: a WOD, BLOCK or program uses this item; remove it there first'
      using errcode = 'P0001';
  end if;
  return null;
end
$$;
create trigger content_items_in_use after delete on public.content_items
  referencing old table as gone for each statement execute function app.guard_referenced_items();

-- ---------------------------------------------------------------------------------------------------
-- Answer keys: a quiz's answers and explanations, by block and question, for the item's editors only.
-- ---------------------------------------------------------------------------------------------------

create table public.content_item_keys (
  item_id uuid primary key references public.content_items (id) on delete cascade,
  keys jsonb not null check (jsonb_typeof(keys) = 'object' and octet_length(keys::text) <= 1000000)
);

revoke all on function app.referenced_ids(jsonb), app.keep_content_references(),
  app.guard_referenced_items() from public, anon, authenticated;

alter table public.content_references enable row level security;
alter table public.content_item_keys enable row level security;
revoke all on public.content_references, public.content_item_keys from anon, authenticated, public;
grant all on public.content_references, public.content_item_keys to service_role;

-- References are the trigger's to write; whoever sees the referencing item sees what it names.
grant select on public.content_references to authenticated;
create policy content_references_read on public.content_references for select to authenticated
  using (exists (select 1 from public.content_items i where i.id = item_id));

-- Keys: read by who reads the item's history (staff, the owner's admins), written by its writers.
grant select, insert, update, delete on public.content_item_keys to authenticated;
create policy content_item_keys_read on public.content_item_keys for select to authenticated
  using ((select app.is_staff()) or app.administers_content_item(item_id));
create policy content_item_keys_write on public.content_item_keys for all to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager'])) or app.administers_content_item(item_id))
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.administers_content_item(item_id));
