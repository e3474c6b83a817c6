-- Programs: what a program's sections name is a WOD or a BLOCK, for every writer.
--
-- The programs function checks this before it writes (a 422 naming each item); a PostgREST caller who
-- writes a program's payload directly meets this trigger instead. Whether the program's owner may use
-- the item is content_references' rule (app.keep_content_references), which holds for every type.

create or replace function app.guard_program_items() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  v_refused uuid;
begin
  select t into v_refused
    from unnest(app.referenced_ids(new.payload)) as t
   where not exists (select 1 from public.content_items c where c.id = t and c.type in ('wod', 'block'))
   limit 1;
  if v_refused is not null then
    raise exception 'unknown_item: % is not a WOD or BLOCK', v_refused using errcode = 'P0001';
  end if;
  return null;
end
$$;
create trigger content_items_program_items after insert or update of payload on public.content_items
  for each row when (new.type = 'program')
  execute function app.guard_program_items();

-- A trigger function needs no EXECUTE grant to fire; nobody calls it.
revoke all on function app.guard_program_items() from public, anon, authenticated;
