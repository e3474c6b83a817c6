-- Content files: an image or PDF item records a confirmed upload (PUT /content/{id}/file), and whoever may
-- read the item gets a short-lived signed URL of that object (GET /content/{id}/file).
--
-- The download signs whatever object key the item's payload names, so the payload must not be able to
-- name an object it was not given: an admin may write content_items.payload directly through PostgREST,
-- and a restored version carries the file fields its snapshot held (snapshots, too, may be written
-- directly). So for every caller, a payload that names a file (`upload_id` or `object_key`) must name a
-- confirmed upload of the item's own owner and kind, with the key, size and type that upload recorded.

create or replace function app.guard_content_file() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  p jsonb := new.payload;
begin
  if not (p ? 'upload_id' or p ? 'object_key') then
    return new;
  end if;
  if new.type not in ('image', 'pdf')
     or jsonb_typeof(p -> 'upload_id') is distinct from 'string'
     or (p ->> 'upload_id') !~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'
     or not exists (
       select 1 from public.uploads u
        where u.id = (p ->> 'upload_id')::uuid
          and u.status = 'confirmed'
          and u.kind = new.type
          and u.community_id is not distinct from new.community_id
          and u.object_key = p ->> 'object_key'
          and u.byte_size::text = p ->> 'byte_size'
          and (new.type = 'pdf' or u.detected_mime = p ->> 'mime_type'))
  then
    raise exception 'file_not_attachable: the payload names no confirmed upload of this item''s owner and kind'
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
create trigger content_items_file before insert or update of payload, type, community_id on public.content_items
  for each row execute function app.guard_content_file();

revoke all on function app.guard_content_file() from public, anon, authenticated;
