-- Identity and tenancy administration: community settings, user tags, signup links, invitations,
-- imports and the audit log. The database guards tenancy and the hard rules (last admin, append-only
-- audit) itself, so they hold for every caller, including the frontend talking to PostgREST directly.

-- ---------------------------------------------------------------------------------------------------
-- Community AI settings. The community's own provider key lives in app.community_secrets, which no
-- API role can read: only whether one is set is visible.
-- ---------------------------------------------------------------------------------------------------

create table public.community_ai_settings (
  community_id uuid primary key references public.communities (id) on delete cascade,
  default_provider text not null default 'offline'
    check (default_provider in ('openai', 'anthropic', 'gemini', 'offline')),
  default_model text not null default 'offline-echo' check (char_length(default_model) between 1 and 100),
  monthly_token_quota bigint not null default 1000000 check (monthly_token_quota >= 0),
  has_own_key boolean not null default false,
  updated_at timestamptz not null default now()
);
create trigger community_ai_settings_touch before update on public.community_ai_settings
  for each row execute function app.touch_updated_at();

create table app.community_secrets (
  community_id uuid primary key references public.communities (id) on delete cascade,
  provider text not null,
  ciphertext bytea not null,
  updated_at timestamptz not null default now()
);

-- ---------------------------------------------------------------------------------------------------
-- User tags
-- ---------------------------------------------------------------------------------------------------

create table public.user_tags (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null references public.communities (id) on delete cascade,
  name text not null check (char_length(name) between 1 and 60),
  color text not null default '#6b7280' check (color ~ '^#[0-9a-fA-F]{6}$'),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (id, community_id)
);
create unique index user_tags_name_key on public.user_tags (community_id, lower(name));
create trigger user_tags_touch before update on public.user_tags
  for each row execute function app.touch_updated_at();

create table public.user_tag_assignments (
  tag_id uuid not null,
  user_id uuid not null,
  community_id uuid not null,
  assigned_by uuid references public.profiles (id) on delete set null,
  assigned_at timestamptz not null default now(),
  primary key (tag_id, user_id),
  -- A tag belongs to one community and can only be held by that community's members; removing the
  -- membership or the tag removes the assignment.
  foreign key (tag_id, community_id) references public.user_tags (id, community_id) on delete cascade,
  foreign key (community_id, user_id) references public.memberships (community_id, user_id) on delete cascade
);
create index user_tag_assignments_user_idx on public.user_tag_assignments (user_id);
create index user_tag_assignments_community_idx on public.user_tag_assignments (community_id, user_id);

-- ---------------------------------------------------------------------------------------------------
-- Signup links: the token is shown once; only its SHA-256 is stored.
-- ---------------------------------------------------------------------------------------------------

create table public.signup_links (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null references public.communities (id) on delete cascade,
  token_hash bytea not null unique,
  label text not null default '' check (char_length(label) <= 120),
  expires_at timestamptz not null,
  max_uses integer check (max_uses is null or max_uses > 0),
  use_count integer not null default 0 check (use_count >= 0 and (max_uses is null or use_count <= max_uses)),
  revoked_at timestamptz,
  created_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  unique (id, community_id)
);
create index signup_links_community_idx on public.signup_links (community_id, created_at desc);
create index signup_links_expires_idx on public.signup_links (expires_at);

create table public.signup_link_tags (
  link_id uuid not null,
  tag_id uuid not null,
  community_id uuid not null,
  primary key (link_id, tag_id),
  foreign key (link_id, community_id) references public.signup_links (id, community_id) on delete cascade,
  foreign key (tag_id, community_id) references public.user_tags (id, community_id) on delete cascade
);
create index signup_link_tags_community_idx on public.signup_link_tags (community_id);

-- ---------------------------------------------------------------------------------------------------
-- Invitations
-- ---------------------------------------------------------------------------------------------------

create table public.invitations (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null references public.communities (id) on delete cascade,
  email text not null check (char_length(email) between 3 and 254),
  role text not null default 'member' check (role in ('admin', 'member')),
  tag_ids uuid[] not null default '{}',
  user_id uuid references public.profiles (id) on delete set null,
  status text not null default 'sent' check (status in ('sent', 'accepted', 'revoked')),
  invited_by uuid references public.profiles (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index invitations_community_idx on public.invitations (community_id, created_at desc);
create index invitations_email_idx on public.invitations (lower(email));
create trigger invitations_touch before update on public.invitations
  for each row execute function app.touch_updated_at();

-- ---------------------------------------------------------------------------------------------------
-- Bulk imports: a job, its rows, progress counters the caller polls.
-- ---------------------------------------------------------------------------------------------------

create table public.import_jobs (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null references public.communities (id) on delete cascade,
  created_by uuid references public.profiles (id) on delete set null,
  filename text not null default 'import.csv' check (char_length(filename) <= 255),
  status text not null default 'queued' check (status in ('queued', 'running', 'completed', 'failed')),
  total integer not null default 0,
  processed integer not null default 0,
  succeeded integer not null default 0,
  failed integer not null default 0,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index import_jobs_community_idx on public.import_jobs (community_id, created_at desc);

create table public.import_rows (
  job_id uuid not null references public.import_jobs (id) on delete cascade,
  row_number integer not null,
  community_id uuid not null references public.communities (id) on delete cascade,
  first_name text not null default '',
  last_name text not null default '',
  email text not null default '',
  tags text not null default '',
  status text not null default 'pending' check (status in ('pending', 'succeeded', 'failed')),
  error text,
  primary key (job_id, row_number)
);
create index import_rows_pending_idx on public.import_rows (job_id, row_number) where status = 'pending';
create index import_rows_community_idx on public.import_rows (community_id);

-- ---------------------------------------------------------------------------------------------------
-- Audit log: append-only. Written through app.write_audit(), which takes the actor from the verified
-- claims, never from the caller; no role may update or delete a row.
-- ---------------------------------------------------------------------------------------------------

create table public.audit_log (
  id bigint generated always as identity primary key,
  occurred_at timestamptz not null default now(),
  actor_id uuid,
  actor_type text not null check (actor_type in ('user', 'service')),
  action text not null check (char_length(action) between 1 and 100),
  target_type text not null check (char_length(target_type) between 1 and 60),
  target_id text,
  community_id uuid,
  before jsonb,
  after jsonb,
  request_id text,
  ip text,
  user_agent text check (user_agent is null or char_length(user_agent) <= 512)
);
create index audit_log_community_idx on public.audit_log (community_id, id desc);
create index audit_log_actor_idx on public.audit_log (actor_id, id desc);
create index audit_log_action_idx on public.audit_log (action, id desc);
create index audit_log_target_idx on public.audit_log (target_type, target_id);

create or replace function app.refuse_audit_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  raise exception 'audit log rows are append-only' using errcode = 'insufficient_privilege';
end
$$;
create trigger audit_log_append_only before update or delete on public.audit_log
  for each row execute function app.refuse_audit_change();
create trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function app.refuse_audit_change();

create or replace function app.write_audit(
  p_action text, p_target_type text, p_target_id text, p_community_id uuid,
  p_before jsonb, p_after jsonb, p_request_id text, p_ip text, p_user_agent text
) returns bigint
language sql security definer set search_path = '' as $$
  insert into public.audit_log (actor_id, actor_type, action, target_type, target_id, community_id,
                                before, after, request_id, ip, user_agent)
  values (auth.uid(), case when auth.uid() is null then 'service' else 'user' end, p_action, p_target_type,
          p_target_id, p_community_id, p_before, p_after, p_request_id, p_ip, left(p_user_agent, 512))
  returning id
$$;
revoke all on function app.write_audit(text, text, text, uuid, jsonb, jsonb, text, text, text) from public;
grant execute on function app.write_audit(text, text, text, uuid, jsonb, jsonb, text, text, text)
  to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------------
-- Rules the database enforces for every caller
-- ---------------------------------------------------------------------------------------------------

-- The last admin of a community cannot be demoted or removed. The community row is locked first, so
-- two admins demoting each other at once are serialised and the second one is refused.
create or replace function app.keep_last_admin() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  other_admins integer;
begin
  if old.role <> 'admin' or (tg_op = 'UPDATE' and new.role = 'admin') then
    return coalesce(new, old);
  end if;
  perform 1 from public.communities c where c.id = old.community_id for update;
  if not found then
    return coalesce(new, old);  -- the community itself is being deleted
  end if;
  select count(*) into other_admins from public.memberships m
   where m.community_id = old.community_id and m.role = 'admin' and m.user_id <> old.user_id;
  if other_admins = 0 then
    raise exception 'last_admin: a community needs at least one admin' using errcode = 'P0001';
  end if;
  return coalesce(new, old);
end
$$;
create trigger memberships_keep_last_admin before update of role or delete on public.memberships
  for each row execute function app.keep_last_admin();

-- Staff roles: nobody changes their own, and the last super admin stays.
create or replace function app.guard_staff_change() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  remaining integer;
begin
  if auth.uid() is not null and not app.has_staff_role(array['super_admin']) then
    return coalesce(new, old);  -- not allowed at all: row level security refuses it with a 403
  end if;
  if auth.uid() is not null and coalesce(old.user_id, new.user_id) = auth.uid() then
    raise exception 'own_staff_role: nobody can change their own staff role' using errcode = 'P0001';
  end if;
  if tg_op in ('UPDATE', 'DELETE') and old.role = 'super_admin'
     and (tg_op = 'DELETE' or new.role <> 'super_admin') then
    perform 1 from public.platform_staff s where s.role = 'super_admin' for update;
    select count(*) into remaining from public.platform_staff s
     where s.role = 'super_admin' and s.user_id <> old.user_id;
    if remaining = 0 then
      raise exception 'last_super_admin: the platform needs at least one super admin' using errcode = 'P0001';
    end if;
  end if;
  return coalesce(new, old);
end
$$;
create trigger platform_staff_guard before insert or update or delete on public.platform_staff
  for each row execute function app.guard_staff_change();

-- Only staff who may write change a profile's status (users update their own names, never their status).
create or replace function app.guard_profile_status() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if new.status is distinct from old.status and auth.uid() is not null
     and not app.has_staff_role(array['super_admin', 'manager']) then
    raise exception 'only platform staff may change an account''s status' using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;
create trigger profiles_guard_status before update of status on public.profiles
  for each row execute function app.guard_profile_status();

-- Platform-only community fields (status, template flags) change only by staff who may write.
create or replace function app.guard_community_platform_fields() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  if auth.uid() is not null and not app.has_staff_role(array['super_admin', 'manager'])
     and (new.status is distinct from old.status or new.is_template is distinct from old.is_template
          or new.template_source_id is distinct from old.template_source_id or new.slug is distinct from old.slug) then
    raise exception 'only platform staff may change these community fields' using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;
create trigger communities_guard_platform_fields before update on public.communities
  for each row execute function app.guard_community_platform_fields();

-- Signup redemption: counting a use and creating the membership happen in one statement-level lock on
-- the link row, so concurrent redemptions can never exceed max_uses.
create or replace function app.redeem_signup_link(p_token_hash bytea) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  link public.signup_links;
  me uuid := auth.uid();
  community_status text;
  already boolean;
begin
  if me is null then
    raise exception 'unauthenticated' using errcode = 'P0001';
  end if;
  select * into link from public.signup_links where token_hash = p_token_hash for update;
  if not found then
    return jsonb_build_object('outcome', 'unknown');
  end if;
  select c.status into community_status from public.communities c where c.id = link.community_id;
  already := exists (select 1 from public.memberships m where m.community_id = link.community_id and m.user_id = me);
  if already then
    return jsonb_build_object('outcome', 'already_member', 'community_id', link.community_id);
  end if;
  if link.revoked_at is not null then
    return jsonb_build_object('outcome', 'revoked');
  elsif link.expires_at <= now() then
    return jsonb_build_object('outcome', 'expired');
  elsif link.max_uses is not null and link.use_count >= link.max_uses then
    return jsonb_build_object('outcome', 'exhausted');
  elsif community_status <> 'active' then
    return jsonb_build_object('outcome', 'community_archived');
  end if;
  insert into public.profiles (id, email)
    select u.id, coalesce(u.email, '') from auth.users u where u.id = me
  on conflict (id) do nothing;
  insert into public.memberships (community_id, user_id, role, source)
    values (link.community_id, me, 'member', 'signup_link');
  insert into public.user_tag_assignments (tag_id, user_id, community_id)
    select t.tag_id, me, link.community_id from public.signup_link_tags t where t.link_id = link.id
  on conflict do nothing;
  update public.signup_links set use_count = use_count + 1 where id = link.id;
  return jsonb_build_object('outcome', 'joined', 'community_id', link.community_id, 'link_id', link.id);
end
$$;
revoke all on function app.redeem_signup_link(bytea) from public;
grant execute on function app.redeem_signup_link(bytea) to authenticated;

-- ---------------------------------------------------------------------------------------------------
-- Row level security and grants
-- ---------------------------------------------------------------------------------------------------

alter table public.community_ai_settings enable row level security;
alter table app.community_secrets enable row level security;
alter table public.user_tags enable row level security;
alter table public.user_tag_assignments enable row level security;
alter table public.signup_links enable row level security;
alter table public.signup_link_tags enable row level security;
alter table public.invitations enable row level security;
alter table public.import_jobs enable row level security;
alter table public.import_rows enable row level security;
alter table public.audit_log enable row level security;

revoke all on public.community_ai_settings, public.user_tags, public.user_tag_assignments, public.signup_links,
  public.signup_link_tags, public.invitations, public.import_jobs, public.import_rows, public.audit_log
  from anon, authenticated, public;
revoke all on app.community_secrets from anon, authenticated, public;
grant all on public.community_ai_settings, public.user_tags, public.user_tag_assignments, public.signup_links,
  public.signup_link_tags, public.invitations, public.import_jobs, public.import_rows to service_role;
grant select, insert on public.audit_log to service_role;
grant all on app.community_secrets to service_role;

grant select, insert, update on public.community_ai_settings to authenticated;
grant select, insert, update, delete on public.user_tags, public.user_tag_assignments to authenticated;
grant select, insert, update, delete on public.signup_links, public.signup_link_tags to authenticated;
grant select, insert, update on public.invitations to authenticated;
grant select, insert on public.import_jobs, public.import_rows to authenticated;
grant select on public.audit_log to authenticated;

-- Communities and memberships: writes for staff who may write and, within their community, its admins.
grant insert, update, delete on public.communities to authenticated;
grant insert, update, delete on public.memberships to authenticated;
grant update (status) on public.profiles to authenticated;
grant insert, update, delete on public.platform_staff to authenticated;

create policy communities_insert_staff on public.communities for insert to authenticated
  with check ((select app.has_staff_role(array['super_admin', 'manager'])));
create policy communities_update on public.communities for update to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(id))
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(id));
create policy communities_delete_super on public.communities for delete to authenticated
  using ((select app.has_staff_role(array['super_admin'])));

create policy memberships_write on public.memberships for insert to authenticated
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id));
create policy memberships_update on public.memberships for update to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id))
  with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id));
create policy memberships_delete on public.memberships for delete to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id));

create policy profiles_update_staff on public.profiles for update to authenticated
  using ((select app.has_staff_role(array['super_admin', 'manager'])))
  with check ((select app.has_staff_role(array['super_admin', 'manager'])));

create policy platform_staff_write on public.platform_staff for all to authenticated
  using ((select app.has_staff_role(array['super_admin'])))
  with check ((select app.has_staff_role(array['super_admin'])));

-- Community-scoped tables share one shape: staff read, staff writers and the community's admins write.
do $$
declare
  t text;
begin
  foreach t in array array['community_ai_settings', 'user_tags', 'user_tag_assignments', 'signup_links',
                           'signup_link_tags', 'invitations', 'import_jobs', 'import_rows']
  loop
    execute format($p$
      create policy %1$s_read on public.%1$s for select to authenticated
        using ((select app.is_staff()) or app.is_admin_of(community_id))$p$, t);
    execute format($p$
      create policy %1$s_write on public.%1$s for all to authenticated
        using ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id))
        with check ((select app.has_staff_role(array['super_admin', 'manager'])) or app.is_admin_of(community_id))$p$, t);
  end loop;
end
$$;

-- Members see the tags they hold and the AI settings of their communities (not the key: it is elsewhere).
create policy user_tag_assignments_own on public.user_tag_assignments for select to authenticated
  using (user_id = (select auth.uid()));
create policy user_tags_member_read on public.user_tags for select to authenticated
  using (app.is_member_of(community_id));
create policy community_ai_settings_member_read on public.community_ai_settings for select to authenticated
  using (app.is_member_of(community_id));

create policy audit_log_read on public.audit_log for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.administered_communities())::uuid[]));
