-- Platform core: profiles, platform staff, communities, memberships, rate limits.
--
-- Tenancy is enforced here as well as in the application: row level security is on for every table,
-- and policies never query the table they protect. They call small STABLE SECURITY DEFINER helpers in
-- the `app` schema, wrapped as `(select app.helper())` so Postgres evaluates them once per statement,
-- and every column a policy filters by is indexed.

create schema if not exists app;
revoke all on schema app from public;
grant usage on schema app to anon, authenticated, service_role;

-- Keep updated_at honest without trusting callers.
create or replace function app.touch_updated_at() returns trigger
language plpgsql set search_path = '' as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- ---------------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------------

create table public.profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  email text not null default '',
  first_name text not null default '' check (char_length(first_name) <= 100),
  last_name text not null default '' check (char_length(last_name) <= 100),
  avatar_url text check (avatar_url is null or (char_length(avatar_url) <= 2048 and avatar_url ~ '^https?://')),
  timezone text not null default 'UTC' check (char_length(timezone) between 1 and 64),
  status text not null default 'active' check (status in ('active', 'deactivated')),
  last_active_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index profiles_email_idx on public.profiles (lower(email));
create trigger profiles_touch before update on public.profiles
  for each row execute function app.touch_updated_at();

create table public.platform_staff (
  user_id uuid primary key references public.profiles (id) on delete cascade,
  role text not null check (role in ('super_admin', 'manager', 'specialist')),
  granted_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index platform_staff_role_idx on public.platform_staff (role);
create trigger platform_staff_touch before update on public.platform_staff
  for each row execute function app.touch_updated_at();

create table public.communities (
  id uuid primary key default gen_random_uuid(),
  name text not null check (char_length(name) between 1 and 120),
  slug text not null check (slug ~ '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$'),
  project_name text check (project_name is null or char_length(project_name) <= 120),
  logo_url text check (logo_url is null or (char_length(logo_url) <= 2048 and logo_url ~ '^https?://')),
  brand_color text check (brand_color is null or brand_color ~ '^#[0-9a-fA-F]{6}$'),
  forum_enabled boolean not null default false,
  status text not null default 'active' check (status in ('active', 'archived')),
  is_template boolean not null default false,
  template_source_id uuid references public.communities (id) on delete set null,
  features jsonb not null default '{}'::jsonb check (jsonb_typeof(features) = 'object'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index communities_name_key on public.communities (lower(name));
create unique index communities_slug_key on public.communities (slug);
create index communities_status_idx on public.communities (status);
create trigger communities_touch before update on public.communities
  for each row execute function app.touch_updated_at();

create table public.memberships (
  community_id uuid not null references public.communities (id) on delete cascade,
  user_id uuid not null references public.profiles (id) on delete cascade,
  role text not null default 'member' check (role in ('admin', 'member')),
  source text not null default 'admin' check (source in ('signup_link', 'invitation', 'import', 'admin')),
  invited_by uuid references public.profiles (id) on delete set null,
  joined_at timestamptz not null default now(),
  primary key (community_id, user_id)
);
create index memberships_user_idx on public.memberships (user_id);
create index memberships_admins_idx on public.memberships (community_id, user_id) where role = 'admin';

-- Rate limits: written only by the login role in its own statement, never through an API role.
create table app.rate_limits (
  key text not null,
  limit_class text not null,
  window_start timestamptz not null,
  hits integer not null,
  primary key (key, limit_class, window_start)
);
create index rate_limits_window_idx on app.rate_limits (window_start);

-- A profile for every auth user, created by the database so no code path can forget it.
create or replace function app.create_profile_for_user() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  insert into public.profiles (id, email, first_name, last_name)
  values (
    new.id,
    coalesce(new.email, ''),
    left(coalesce(new.raw_user_meta_data ->> 'first_name', ''), 100),
    left(coalesce(new.raw_user_meta_data ->> 'last_name', ''), 100)
  )
  on conflict (id) do nothing;
  return new;
end
$$;
create trigger on_auth_user_created after insert on auth.users
  for each row execute function app.create_profile_for_user();

-- ---------------------------------------------------------------------------------------------------
-- Policy helpers: SECURITY DEFINER so they read what the caller cannot, STABLE so they are cached.
-- ---------------------------------------------------------------------------------------------------

create or replace function app.staff_role() returns text
language sql stable security definer set search_path = '' as $$
  select s.role from public.platform_staff s where s.user_id = auth.uid()
$$;

create or replace function app.is_staff() returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.platform_staff s where s.user_id = auth.uid())
$$;

create or replace function app.has_staff_role(roles text[]) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (select 1 from public.platform_staff s where s.user_id = auth.uid() and s.role = any (roles))
$$;

create or replace function app.is_member_of(community uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (
    select 1 from public.memberships m join public.communities c on c.id = m.community_id
    where m.community_id = community and m.user_id = auth.uid() and c.status = 'active')
$$;

create or replace function app.is_admin_of(community uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (
    select 1 from public.memberships m join public.communities c on c.id = m.community_id
    where m.community_id = community and m.user_id = auth.uid() and m.role = 'admin' and c.status = 'active')
$$;

-- The communities the caller administers, for "is this user in one of my communities" checks.
create or replace function app.administered_communities() returns uuid[]
language sql stable security definer set search_path = '' as $$
  select coalesce(array_agg(m.community_id), '{}')
  from public.memberships m join public.communities c on c.id = m.community_id
  where m.user_id = auth.uid() and m.role = 'admin' and c.status = 'active'
$$;

create or replace function app.is_managed_user(target uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  select exists (
    select 1 from public.memberships m
    where m.user_id = target and m.community_id = any (app.administered_communities()))
$$;

revoke all on function app.staff_role(), app.is_staff(), app.has_staff_role(text[]), app.is_member_of(uuid),
  app.is_admin_of(uuid), app.administered_communities(), app.is_managed_user(uuid) from public;
grant execute on function app.staff_role(), app.is_staff(), app.has_staff_role(text[]), app.is_member_of(uuid),
  app.is_admin_of(uuid), app.administered_communities(), app.is_managed_user(uuid)
  to anon, authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------
-- Row level security and grants. Supabase's default privileges grant everything to the API roles,
-- so each table first loses them and then gets exactly what its policies are written for.
-- ---------------------------------------------------------------------------------------------------

alter table public.profiles enable row level security;
alter table public.platform_staff enable row level security;
alter table public.communities enable row level security;
alter table public.memberships enable row level security;
alter table app.rate_limits enable row level security;

revoke all on public.profiles, public.platform_staff, public.communities, public.memberships
  from anon, authenticated, public;
revoke all on app.rate_limits from anon, authenticated, service_role, public;
grant all on public.profiles, public.platform_staff, public.communities, public.memberships to service_role;

grant select on public.profiles to authenticated;
grant update (first_name, last_name, avatar_url, timezone) on public.profiles to authenticated;
grant select on public.platform_staff to authenticated;
grant select on public.communities to authenticated;
grant select on public.memberships to authenticated;

create policy profiles_read on public.profiles for select to authenticated
  using (id = (select auth.uid()) or (select app.is_staff()) or app.is_managed_user(id));
create policy profiles_update_own on public.profiles for update to authenticated
  using (id = (select auth.uid())) with check (id = (select auth.uid()));

create policy platform_staff_read on public.platform_staff for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff()));

create policy communities_read on public.communities for select to authenticated
  using ((select app.is_staff()) or app.is_member_of(id));

create policy memberships_read on public.memberships for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff())
         or community_id = any ((select app.administered_communities())::uuid[]));
