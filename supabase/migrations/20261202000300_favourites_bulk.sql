-- Favourites: a user's own bookmarks of content items (WODs, BLOCKs and the seven content types alike).
--
-- A favourite is about its user only: nobody reads or changes another user's, staff included (it is a
-- preference, not an administrative fact). A user may only favourite an item they can see: the check
-- reads content_items as the caller, so the items' own row level security decides (staff, the owner's
-- admins, admins and learners an item is granted to once published). A favourite of an item that later
-- becomes invisible stays the user's row; reads join the items, so it no longer shows.

create table public.content_favourites (
  user_id uuid not null references public.profiles (id) on delete cascade,
  item_id uuid not null references public.content_items (id) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (user_id, item_id)
);
-- Deleting an item removes its favourites (the cascade looks them up by item).
create index content_favourites_item_idx on public.content_favourites (item_id);

alter table public.content_favourites enable row level security;

revoke all on public.content_favourites from anon, authenticated, public;
grant all on public.content_favourites to service_role;
-- Nothing to update: a favourite is there or not.
grant select, delete on public.content_favourites to authenticated;
grant insert (user_id, item_id) on public.content_favourites to authenticated;

create policy content_favourites_read on public.content_favourites for select to authenticated
  using (user_id = (select auth.uid()));
create policy content_favourites_insert on public.content_favourites for insert to authenticated
  with check (user_id = (select auth.uid())
              and exists (select 1 from public.content_items i where i.id = item_id));
create policy content_favourites_delete on public.content_favourites for delete to authenticated
  using (user_id = (select auth.uid()));
