-- Pages of WODs and BLOCKs: what every writer of a page payload is held to, PostgREST callers included.
--
-- The payload's shape is checked by the functions (shared/authoring/blocks.py); two rules must hold
-- whoever writes, so they are the database's:
-- - a quiz's answers and explanations never sit in the payload: learners read published payloads, also
--   through PostgREST, so answers live in public.content_item_keys, which only the item's editors read;
-- - an embedding block names an item of its own type (an image block an image, …): the frontend renders
--   the block by its type. That the item exists and the owner may use it is content_references' rule
--   (20261202000100_authoring.sql).

create or replace function app.check_page_blocks() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_refused text;
begin
  if jsonb_path_exists(new.payload,
       'lax $.pages[*].blocks[*] ? (@.type == "quiz").questions[*] ? (exists(@.answer) || exists(@.explanation))')
  then
    raise exception 'answers_in_payload: a quiz''s answers and explanations belong in content_item_keys'
      using errcode = 'P0001';
  end if;
  -- Security definer: the embedded item may be one the writer cannot see; the answer is only "no".
  select b ->> 'content_id' into v_refused
    from jsonb_path_query(new.payload, 'lax $.pages[*].blocks[*] ? (@.content_id.type() == "string")') as b
   where not exists (
     select 1 from public.content_items c
      where c.id = (b ->> 'content_id')::uuid and c.type = b ->> 'type')
   limit 1;
  if v_refused is not null then
    raise exception 'embed_type_mismatch: a block embedding % names no item of its own type', v_refused
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
revoke all on function app.check_page_blocks() from public, anon, authenticated;

create trigger content_items_page_blocks before insert or update of payload on public.content_items
  for each row when (new.type in ('wod', 'block'))
  execute function app.check_page_blocks();

-- A quiz's answers are content: changing only them is a change of the item, so its revision moves (an
-- editor who read the old revision gets 409 stale_version instead of silently writing back the old
-- answers). A write that also changed the item's row in this transaction has moved it already: the row's
-- updated_at is then this transaction's now().
create or replace function app.bump_revision_for_keys() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if tg_op = 'UPDATE' and new.keys is not distinct from old.keys then
    return null;
  end if;
  update public.content_items i set revision = i.revision + 1
   where i.id = coalesce(new.item_id, old.item_id) and i.updated_at <> now();
  return null;
end
$$;
revoke all on function app.bump_revision_for_keys() from public, anon, authenticated;
create trigger content_item_keys_revision after insert or update or delete on public.content_item_keys
  for each row execute function app.bump_revision_for_keys();

-- app.maintain_content_item (20261201000100_content.sql) as it was, but for one case: a revision moved by
-- the trigger above (an update issued by a trigger, pg_trigger_depth() > 1) is kept, with updated_at.
-- A writer's own update (depth 1) still cannot set the revision.
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
     or (pg_trigger_depth() > 1 and new.revision = old.revision + 1)
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
