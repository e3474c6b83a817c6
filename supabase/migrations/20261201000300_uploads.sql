-- Uploads: images and PDFs that go from the browser straight to object storage through short-lived signed
-- URLs (shared/content/uploads). A row is written when a URL is issued (pending) and settled by the
-- confirmation, which reads the stored object (confirmed or rejected). community_id NULL = the platform's.
--
-- What a caller could forge is out of their reach: the object key and the kind are generated from the
-- row's own id, owner and declared type (nobody, not even the platform role, names a path); the declared
-- type and size are checked here as in the API; only the platform role settles a row (no API role may
-- update or delete one), so a user speaking SQL cannot mark an unchecked object as confirmed.

create table public.uploads (
  id uuid primary key default gen_random_uuid(),
  community_id uuid references public.communities (id) on delete cascade,
  declared_mime text not null
    check (declared_mime in ('image/jpeg', 'image/png', 'image/webp', 'image/gif', 'application/pdf')),
  declared_size bigint not null,
  kind text not null
    generated always as (case when declared_mime = 'application/pdf' then 'pdf' else 'image' end) stored,
  object_key text not null generated always as (
    coalesce(community_id::text, 'platform') || '/' || id::text
    || case declared_mime
         when 'image/jpeg' then '.jpg'
         when 'image/png' then '.png'
         when 'image/webp' then '.webp'
         when 'image/gif' then '.gif'
         else '.pdf'
       end) stored,
  status text not null default 'pending' check (status in ('pending', 'confirmed', 'rejected')),
  byte_size bigint check (byte_size >= 0),
  detected_mime text,
  rejection_code text,
  created_by uuid default auth.uid() references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  confirmed_at timestamptz,
  expires_at timestamptz not null,
  constraint uploads_declared_size check (
    declared_size >= 1
    and declared_size <= case when declared_mime = 'application/pdf' then 52428800 else 10485760 end),
  constraint uploads_short_lived check (expires_at > created_at and expires_at <= created_at + interval '1 hour'),
  -- A confirmed upload is exactly what was declared; a rejected one says why.
  constraint uploads_confirmed check (
    (status = 'confirmed') = (confirmed_at is not null)
    and (status <> 'confirmed' or (byte_size = declared_size and detected_mime = declared_mime))),
  constraint uploads_rejected check ((status = 'rejected') = (rejection_code is not null))
);

create unique index uploads_object_key_key on public.uploads (object_key);
create index uploads_community_idx on public.uploads (community_id, created_at desc);
create index uploads_pending_idx on public.uploads (expires_at) where status = 'pending';

alter table public.uploads enable row level security;
revoke all on public.uploads from anon, authenticated, public;
grant select, insert, update, delete on public.uploads to service_role;

-- Staff read every upload, a community's admins their community's. Writers ask for a URL by inserting
-- through four columns; everything else is a default, generated, or the platform's to settle.
grant select on public.uploads to authenticated;
grant insert (community_id, declared_mime, declared_size, expires_at) on public.uploads to authenticated;

create policy uploads_read on public.uploads for select to authenticated
  using ((select app.is_staff()) or app.is_admin_of(community_id));
create policy uploads_insert on public.uploads for insert to authenticated
  with check (
    (select app.has_staff_role(array['super_admin', 'manager']))
    or (community_id is not null and app.is_admin_of(community_id)));
