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
