-- Invitations need consent: an invitation is pending until its invitee accepts it; only then does a
-- membership exist. The invite request commits the invitation (delivery pending); the worker asks the
-- identity provider outside any transaction and records the outcome; a bulk import is many invitations.
--
-- Who may do what:
-- - Community admins create and revoke invitations (column grants: they never set status, delivery or
--   user_id; a trigger allows them only sent -> revoked). They no longer insert memberships at all:
--   that was a way to add anyone without consent through PostgREST.
-- - The invitee (the caller whose auth.users e-mail is the invitation's, or whose id it names) lists,
--   accepts and declines through app.my_invitations / app.accept_invitation / app.decline_invitation.
-- - The worker (service role) delivers and records.

-- ---------------------------------------------------------------------------------------------------
-- Invitations: who is invited, what to send, how the delivery went.
-- ---------------------------------------------------------------------------------------------------

alter table public.invitations
  add column first_name text not null default '' check (char_length(first_name) <= 100),
  add column last_name text not null default '' check (char_length(last_name) <= 100),
  add column redirect_to text check (redirect_to is null or char_length(redirect_to) <= 2048),
  add column source text not null default 'invitation' check (source in ('invitation', 'import')),
  -- sent: the invitee was told (by the provider's e-mail, or in the app when the address already had
  -- an account); failed: the provider refused or the worker gave up, with the reason.
  add column delivery text not null default 'pending' check (delivery in ('pending', 'sent', 'failed')),
  add column delivery_error text check (delivery_error is null or char_length(delivery_error) <= 200),
  add column delivered_at timestamptz,
  -- Set by the worker that is sending it, so two workers never send one invitation; a claim older
  -- than the stale period (a worker that died mid-send) may be taken again.
  add column delivery_claimed_at timestamptz,
  alter column invited_by set default auth.uid(),
  add constraint invitations_id_community_key unique (id, community_id);

update public.invitations set delivery = 'sent', delivered_at = updated_at;

alter table public.invitations drop constraint invitations_status_check;
alter table public.invitations
  add constraint invitations_status_check check (status in ('sent', 'accepted', 'declined', 'revoked'));

-- One pending invitation per address and community: inviting again is a 409, importing again skips it.
create unique index invitations_pending_key on public.invitations (community_id, lower(email))
  where status = 'sent';
create index invitations_user_idx on public.invitations (user_id) where user_id is not null;

-- Admins write invitations through these columns only; the invited_by default is the caller.
revoke insert, update on public.invitations from authenticated;
grant insert (community_id, email, role, tag_ids, first_name, last_name, redirect_to)
  on public.invitations to authenticated;
grant update (status) on public.invitations to authenticated;

-- An API role (not a security definer function of ours, not the worker) may only revoke a pending one.
create or replace function app.guard_invitation_change() returns trigger
language plpgsql set search_path = '' as $$
begin
  if current_user in ('authenticated', 'anon') and new.status is distinct from old.status
     and not (old.status = 'sent' and new.status = 'revoked') then
    raise exception 'invitation_status: only a pending invitation can be revoked; its invitee accepts or declines it'
      using errcode = 'P0001';
  end if;
  return new;
end
$$;
revoke all on function app.guard_invitation_change() from public;
create trigger invitations_guard before update on public.invitations
  for each row execute function app.guard_invitation_change();

-- ---------------------------------------------------------------------------------------------------
-- Bulk imports: a row becomes an invitation (status invited) and is settled when its delivery is.
-- ---------------------------------------------------------------------------------------------------

alter table public.import_rows drop constraint import_rows_status_check;
alter table public.import_rows
  add constraint import_rows_status_check check (status in ('pending', 'invited', 'succeeded', 'failed')),
  add column invitation_id uuid,
  add constraint import_rows_invitation_fkey foreign key (invitation_id, community_id)
    references public.invitations (id, community_id) on delete set null (invitation_id);
create index import_rows_invitation_idx on public.import_rows (invitation_id) where invitation_id is not null;

alter table public.import_jobs
  add column failure_reason text check (failure_reason is null or char_length(failure_reason) <= 500);

-- ---------------------------------------------------------------------------------------------------
-- Memberships: only staff who may write insert them directly. Everyone else joins through a checked
-- function (accepting an invitation, redeeming a signup link).
-- ---------------------------------------------------------------------------------------------------

drop policy memberships_write on public.memberships;
create policy memberships_insert_staff on public.memberships for insert to authenticated
  with check ((select app.has_staff_role(array['super_admin', 'manager'])));

-- Answered "which account has this e-mail" to community admins; invitations no longer need to know.
drop function if exists app.onboarding_account(uuid, text);

-- ---------------------------------------------------------------------------------------------------
-- Events from the database: the code that owns the change enqueues them, never a caller's choice.
-- ---------------------------------------------------------------------------------------------------

create or replace function app.send_event(p_name text, p_payload jsonb) returns bigint
language sql security definer set search_path = '' as $$
  select pgmq.send('events', jsonb_build_object('name', p_name, 'version', 1, 'payload', p_payload,
                                                'id', gen_random_uuid(), 'occurred_at', now()))
$$;
revoke all on function app.send_event(text, jsonb) from public;

-- Every statement that creates pending invitations asks the worker to deliver them, 50 per event so
-- that one delivery stays well inside the worker's visibility timeout.
create or replace function app.request_invitation_deliveries() returns trigger
language plpgsql security definer set search_path = '' as $$
begin
  perform app.send_event('invitations.delivery_requested', jsonb_build_object('invitation_ids', b.ids))
     from (select jsonb_agg(n.id order by n.id) as ids
             from (select i.id, (row_number() over (order by i.id) - 1) / 50 as batch
                     from new_invitations i where i.delivery = 'pending') n
            group by n.batch) b;
  return null;
end
$$;
revoke all on function app.request_invitation_deliveries() from public;
create trigger invitations_request_delivery after insert on public.invitations
  referencing new table as new_invitations
  for each statement execute function app.request_invitation_deliveries();

-- ---------------------------------------------------------------------------------------------------
-- The invitee's side: list, accept, decline. Each checks its caller: the invitation's e-mail is the
-- caller's auth.users e-mail (any case), or the invitation names the caller's id. Anybody else is told
-- it does not exist.
-- ---------------------------------------------------------------------------------------------------

-- Never null (a null would read as "not refused" in the callers' `if not …`).
create or replace function app.is_invitee(p_email text, p_user uuid) returns boolean
language sql stable security definer set search_path = '' as $$
  -- By account when the invitation names one (the provider created it, or it was accepted); by the
  -- caller's auth e-mail only when it names none: an address that moved to another account is not enough.
  select coalesce(p_user = auth.uid(), false)
      or (p_user is null
          and coalesce(lower(p_email) = (select lower(u.email) from auth.users u where u.id = auth.uid()), false))
$$;
revoke all on function app.is_invitee(text, uuid) from public;

create or replace function app.invitee_view(p_invitation uuid) returns jsonb
language sql stable security definer set search_path = '' as $$
  select jsonb_build_object('id', i.id, 'community_id', i.community_id, 'community_name', c.name,
                            'role', i.role, 'status', i.status, 'invited_at', i.created_at)
    from public.invitations i join public.communities c on c.id = i.community_id
   where i.id = p_invitation
$$;
revoke all on function app.invitee_view(uuid) from public;

create or replace function app.my_invitations(p_after_ts timestamptz, p_after_id uuid, p_limit integer)
returns table (id uuid, community_id uuid, community_name text, role text, status text, invited_at timestamptz)
language sql stable security definer set search_path = '' as $$
  select i.id, i.community_id, c.name, i.role, i.status, i.created_at
    from public.invitations i join public.communities c on c.id = i.community_id
   where i.status = 'sent' and c.status = 'active'
     and app.is_invitee(i.email, i.user_id)
     and (p_after_ts is null or (i.created_at, i.id) < (p_after_ts, p_after_id))
   order by i.created_at desc, i.id desc
   limit least(greatest(coalesce(p_limit, 50), 1), 101)
$$;
revoke all on function app.my_invitations(timestamptz, uuid, integer) from public;
grant execute on function app.my_invitations(timestamptz, uuid, integer) to authenticated;

-- The audit entry of an invitee's action: the actor is the caller, never a parameter.
create or replace function app.audit_invitee_action(
  p_action text, p_target_type text, p_target_id text, p_community uuid, p_before jsonb, p_after jsonb,
  p_meta jsonb
) returns void
language sql security definer set search_path = '' as $$
  insert into public.audit_log (actor_id, actor_type, action, target_type, target_id, community_id, before, after,
                                request_id, ip, user_agent)
  values (auth.uid(), 'user', p_action, p_target_type, p_target_id, p_community, p_before, p_after,
          left(p_meta ->> 'request_id', 200), left(p_meta ->> 'ip', 100), left(p_meta ->> 'user_agent', 512))
$$;
revoke all on function app.audit_invitee_action(text, text, text, uuid, jsonb, jsonb, jsonb) from public;

-- Accept: in one transaction, under the invitation's row lock, the membership with the invited role and
-- tags, the invitation accepted, the audit entries and member.joined. Accepting again answers the same.
-- Outcomes: accepted (with the invitation), not_found, revoked, declined, community_archived.
create or replace function app.accept_invitation(p_invitation uuid, p_meta jsonb default '{}') returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  me uuid := auth.uid();
  inv public.invitations;
  joined uuid;
begin
  select * into inv from public.invitations i where i.id = p_invitation for update;
  if not found or not app.is_invitee(inv.email, inv.user_id) then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if inv.status in ('revoked', 'declined') then
    return jsonb_build_object('outcome', inv.status);
  end if;
  if inv.status = 'sent' then
    if (select c.status from public.communities c where c.id = inv.community_id) <> 'active' then
      return jsonb_build_object('outcome', 'community_archived');
    end if;
    insert into public.profiles (id, email)
      select u.id, coalesce(u.email, '') from auth.users u where u.id = me
    on conflict (id) do nothing;
    insert into public.memberships (community_id, user_id, role, source, invited_by)
      values (inv.community_id, me, inv.role, inv.source, inv.invited_by)
    on conflict (community_id, user_id) do nothing
    returning user_id into joined;
    if joined is null and inv.role = 'admin' then  -- a member already (a signup link): the invited role
      update public.memberships m set role = 'admin'
       where m.community_id = inv.community_id and m.user_id = me and m.role <> 'admin';
    end if;
    insert into public.user_tag_assignments (tag_id, user_id, community_id, assigned_by)
      select t.id, me, inv.community_id, inv.invited_by
        from public.user_tags t where t.community_id = inv.community_id and t.id = any (inv.tag_ids)
    on conflict do nothing;
    update public.invitations set status = 'accepted', user_id = me where id = inv.id;
    perform app.audit_invitee_action('invitation.accepted', 'invitation', inv.id::text, inv.community_id,
                                     jsonb_build_object('status', 'sent'),
                                     jsonb_build_object('status', 'accepted', 'user_id', me), p_meta);
    if joined is not null then
      perform app.audit_invitee_action(
        'member.joined_via_invitation', 'membership', me::text, inv.community_id, null,
        jsonb_build_object('user_id', me, 'invitation_id', inv.id, 'role', inv.role, 'source', inv.source,
                           'tag_ids', to_jsonb(inv.tag_ids)),
        p_meta);
      perform app.send_event('member.joined', jsonb_build_object(
        'community_id', inv.community_id, 'user_id', me, 'source', inv.source, 'invitation_id', inv.id));
    end if;
  end if;
  return jsonb_build_object('outcome', 'accepted', 'invitation', app.invitee_view(inv.id));
end
$$;
revoke all on function app.accept_invitation(uuid, jsonb) from public;
grant execute on function app.accept_invitation(uuid, jsonb) to authenticated;

-- Decline: the invitation is closed and nobody joins. Outcomes: declined, not_found, accepted, revoked.
create or replace function app.decline_invitation(p_invitation uuid, p_meta jsonb default '{}') returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  inv public.invitations;
begin
  select * into inv from public.invitations i where i.id = p_invitation for update;
  if not found or not app.is_invitee(inv.email, inv.user_id) then
    return jsonb_build_object('outcome', 'not_found');
  end if;
  if inv.status in ('accepted', 'revoked') then
    return jsonb_build_object('outcome', inv.status);
  end if;
  if inv.status = 'sent' then
    update public.invitations set status = 'declined' where id = inv.id;
    perform app.audit_invitee_action('invitation.declined', 'invitation', inv.id::text, inv.community_id,
                                     jsonb_build_object('status', 'sent'), jsonb_build_object('status', 'declined'),
                                     p_meta);
  end if;
  return jsonb_build_object('outcome', 'declined', 'invitation', app.invitee_view(inv.id));
end
$$;
revoke all on function app.decline_invitation(uuid, jsonb) from public;
grant execute on function app.decline_invitation(uuid, jsonb) to authenticated;

-- ---------------------------------------------------------------------------------------------------
-- The worker's record of delivery outcomes: one call per provider outcome, so its plan is cached in
-- the backend (plpgsql, always the generic plan: planning it again for each one-element call cost four
-- times its execution). Only deliveries still pending change; the import rows they came from are
-- settled with them. Returns the import jobs touched.
-- ---------------------------------------------------------------------------------------------------

create or replace function app.record_invitation_deliveries(
  p_ids uuid[], p_deliveries text[], p_errors text[], p_user_ids uuid[]
) returns setof uuid
language plpgsql set search_path = '' as $$
begin
  return query
  with x as (
    select * from unnest(p_ids, p_deliveries, p_errors, p_user_ids) as x(id, delivery, error, user_id)),
  inv as (
    update public.invitations i
       set delivery = x.delivery, delivery_error = x.error, delivered_at = now(), delivery_claimed_at = null,
           user_id = case when x.delivery <> 'sent' then i.user_id
                          else coalesce((select p.id from public.profiles p where p.id = x.user_id),
                                        (select p.id from public.profiles p where lower(p.email) = lower(i.email)
                                          order by p.created_at limit 1),
                                        i.user_id) end
      from x
     where i.id = x.id and i.delivery = 'pending'
    returning i.id, x.delivery, x.error)
  update public.import_rows r
     set status = case when inv.delivery = 'sent' then 'succeeded' else 'failed' end,
         error = case when inv.delivery = 'sent' then null else 'invitation_not_sent:' || inv.error end
    from inv
   where r.invitation_id = inv.id and r.status = 'invited'
  returning r.job_id;
end
$$;
revoke all on function app.record_invitation_deliveries(uuid[], text[], text[], uuid[]) from public;
grant execute on function app.record_invitation_deliveries(uuid[], text[], text[], uuid[]) to service_role;
