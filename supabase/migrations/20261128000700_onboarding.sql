-- Onboarding: finding the account behind an invited email address.
--
-- A community admin may not read profiles outside their community (row level security), yet inviting
-- an email that already has an account must add that account instead of inviting it again. This
-- function answers exactly that question (which account, and is it already a member here) for staff who
-- may write and for admins of the community named, and for nobody else.

create or replace function app.onboarding_account(p_community uuid, p_email text)
returns table (user_id uuid, is_member boolean)
language plpgsql stable security definer set search_path = '' as $$
begin
  if auth.uid() is not null
     and not (app.has_staff_role(array['super_admin', 'manager']) or app.is_admin_of(p_community)) then
    raise exception 'not allowed to look up accounts for this community' using errcode = 'insufficient_privilege';
  end if;
  return query
    select p.id,
           exists (select 1 from public.memberships m where m.community_id = p_community and m.user_id = p.id)
      from public.profiles p
     where lower(p.email) = lower(p_email)
     order by p.created_at
     limit 1;
end
$$;
revoke all on function app.onboarding_account(uuid, text) from public;
grant execute on function app.onboarding_account(uuid, text) to authenticated, service_role;

-- The local stack's auth.users (supabase/bootstrap) has no index on the address, so the local identity
-- provider, asked once per invited row of a bulk import, scanned the whole table: imports slowed down as
-- they grew. On Supabase, auth.users belongs to Supabase Auth (it keeps its own indexes, and the local
-- provider is not used there), so the index is only created where this migration's role owns the table.
do $$
begin
  if exists (select 1 from pg_catalog.pg_class c
              where c.oid = to_regclass('auth.users') and c.relowner = (select oid from pg_catalog.pg_roles where rolname = current_user)) then
    create index if not exists users_lower_email_idx on auth.users (lower(email));
  end if;
end
$$;
