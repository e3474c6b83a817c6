-- Tenancy hardening: every function an API role may execute is an API that checks its caller; a row that
-- names a parent and a community cannot point across tenants; the rules every caller must obey are here.
--
-- The frontend may speak SQL through PostgREST with a user's token, so none of this may depend on our
-- functions being the caller. tests/integration/test_function_allowlist.py lists every function anon and
-- authenticated can execute, in every schema, against a reviewed allow-list.

-- ---------------------------------------------------------------------------------------------------
-- 1. Functions: denied by default, granted one by one.
-- ---------------------------------------------------------------------------------------------------

-- Postgres grants EXECUTE on every new function to PUBLIC. A per-schema `alter default privileges … in
-- schema app revoke … from public` cannot take that back (per-schema defaults only add to the global
-- ones), so the default is revoked globally for the role that runs migrations: a function the team
-- creates anywhere is executable only by the roles its migration grants it to. On Supabase, the
-- postgres role's per-schema defaults also grant functions in `public` to the API roles: revoked too.
alter default privileges revoke execute on functions from public;
alter default privileges in schema public revoke execute on functions from anon, authenticated;

revoke execute on all functions in schema app from public, anon, authenticated;
-- anon is granted nothing in `app`; it needs no way in.
revoke usage on schema app from anon;

-- What a user may execute in `app`. Each answers only about the caller (auth.uid()) or checks it inside.
--   Policy helpers: about the caller's own staff role and memberships.
grant execute on function app.staff_role(), app.is_staff(), app.has_staff_role(text[]), app.is_member_of(uuid),
  app.is_admin_of(uuid), app.administered_communities(), app.is_managed_user(uuid) to authenticated;
--   Redeeming a signup link joins the caller, never anyone else.
grant execute on function app.redeem_signup_link(bytea) to authenticated;
--   A community's provider key: refused unless the caller is a super admin or that community's admin.
grant execute on function app.set_community_provider_key(uuid, text, bytea), app.clear_community_provider_key(uuid)
  to authenticated;

-- The platform's bookkeeping (events, audit entries, stored idempotent responses) runs as service_role,
-- inside the user's transaction (shared/platform/db.py: Tx.as_platform, Tx.as_platform_at_commit).
grant execute on function app.staff_role(), app.is_staff(), app.has_staff_role(text[]), app.is_member_of(uuid),
  app.is_admin_of(uuid), app.administered_communities(), app.is_managed_user(uuid),
  app.enqueue_event(jsonb), app.write_audit(text, text, text, uuid, jsonb, jsonb, text, text, text),
  app.finish_idempotent_request(text, text, integer, bytea, jsonb), app.onboarding_account(uuid, text)
  to service_role;

-- The queue belongs to the platform: only service_role reaches pgmq (where Supabase owns the extension
-- these revokes change nothing and say so with a warning).
revoke all on schema pgmq from public, anon, authenticated;
revoke execute on all functions in schema pgmq from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------------
-- 2. Keys: a child names its parent together with the parent's community.
-- ---------------------------------------------------------------------------------------------------

-- An import row belongs to a job of its own community (a row naming another community's job would make
-- its e-mail a member there when the worker runs the job).
alter table public.import_jobs add constraint import_jobs_id_community_key unique (id, community_id);
alter table public.import_rows drop constraint import_rows_job_id_fkey;
alter table public.import_rows add constraint import_rows_job_community_fkey
  foreign key (job_id, community_id) references public.import_jobs (id, community_id) on delete cascade;

-- invitations.tag_ids is an array, which no foreign key can check: every tag it adds must be one of the
-- invitation's own community. The tags are locked (key share), so a concurrent deletion waits for this
-- transaction and then takes its id out again (below).
create or replace function app.check_invitation_tags() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  added uuid[] := array(
    select distinct t from unnest(new.tag_ids) t
     where tg_op = 'INSERT' or new.community_id is distinct from old.community_id or t is null
        or not (t = any (old.tag_ids)));
  own integer;
begin
  if cardinality(added) = 0 then
    return new;
  end if;
  select count(*) into own from (
    select 1 from public.user_tags u
     where u.community_id = new.community_id and u.id = any (added)
       for key share) held;
  if own <> cardinality(added) then
    raise exception 'tag_not_in_community: every tag of an invitation must be a tag of its community'
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
create trigger invitations_check_tags before insert or update of tag_ids, community_id on public.invitations
  for each row execute function app.check_invitation_tags();

-- What `on delete cascade` would do for an array: deleted tags leave no invitation naming them.
create or replace function app.forget_deleted_tags() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  update public.invitations i
     set tag_ids = array(select t from unnest(i.tag_ids) t where not (t = any (gone.ids)))
    from (select array_agg(g.id) as ids from deleted_tags g) gone
   where i.tag_ids && gone.ids;
  return null;
end
$$;
create trigger user_tags_forget_in_invitations after delete on public.user_tags
  referencing old table as deleted_tags
  for each statement execute function app.forget_deleted_tags();

-- ---------------------------------------------------------------------------------------------------
-- 3. Rules every caller must obey.
-- ---------------------------------------------------------------------------------------------------

-- Account status: staff who may write change it; a staff member's only a super admin; nobody their own.
-- (Refusals of authority are insufficient_privilege, a 403 like the functions' own checks.)
create or replace function app.guard_profile_status() returns trigger
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := auth.uid();
begin
  if me is null or new.status is not distinct from old.status then
    return new;  -- no status change, or the service role (the worker, named admin operations)
  end if;
  if not app.has_staff_role(array['super_admin', 'manager']) then
    raise exception 'only platform staff may change an account''s status' using errcode = 'insufficient_privilege';
  end if;
  if new.id = me then
    raise exception 'own_account: nobody can change the status of their own account' using errcode = 'P0001';
  end if;
  if not app.has_staff_role(array['super_admin'])
     and exists (select 1 from public.platform_staff s where s.user_id = new.id) then
    raise exception 'only a super admin may change the status of a staff member''s account'
      using errcode = 'insufficient_privilege';
  end if;
  return new;
end
$$;

-- A membership is one person in one community: only its role changes. Re-pointing the row at another
-- account would make that person a member without their consent, or move them to another community.
revoke update on public.memberships from authenticated;
grant update (role) on public.memberships to authenticated;

-- Who did it: a column naming the acting user (created_by, invited_by, assigned_by, granted_by) names
-- the caller or nobody, as the audit log's actor does, when an API role writes the row itself. The
-- service role (the import worker acting for the job's creator) and our checked SECURITY DEFINER
-- functions (accepting an invitation records who invited) run as other roles and may name someone else.
create or replace function app.require_actor_is_caller() returns trigger
language plpgsql set search_path = '' as $$
declare
  named text := to_jsonb(new) ->> tg_argv[0];
begin
  if named is null or current_user not in ('anon', 'authenticated') or named::uuid = auth.uid()
     or (tg_op = 'UPDATE' and named is not distinct from to_jsonb(old) ->> tg_argv[0]) then
    return new;
  end if;
  raise exception '% must name the caller', tg_argv[0] using errcode = 'insufficient_privilege';
end
$$;
create trigger memberships_actor before insert or update on public.memberships
  for each row execute function app.require_actor_is_caller('invited_by');
create trigger user_tag_assignments_actor before insert or update on public.user_tag_assignments
  for each row execute function app.require_actor_is_caller('assigned_by');
create trigger signup_links_actor before insert or update on public.signup_links
  for each row execute function app.require_actor_is_caller('created_by');
create trigger invitations_actor before insert or update on public.invitations
  for each row execute function app.require_actor_is_caller('invited_by');
create trigger import_jobs_actor before insert or update on public.import_jobs
  for each row execute function app.require_actor_is_caller('created_by');
create trigger platform_staff_actor before insert or update on public.platform_staff
  for each row execute function app.require_actor_is_caller('granted_by');

-- Trigger functions need no EXECUTE grant to fire; nobody calls them.
revoke all on function app.check_invitation_tags(), app.forget_deleted_tags(), app.guard_profile_status(),
  app.require_actor_is_caller() from public, anon, authenticated;
