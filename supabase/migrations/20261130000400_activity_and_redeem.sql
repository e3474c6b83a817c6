-- Signup redemption under concurrency, the audit actor's e-mail for community admins, and
-- profiles.last_active_at.

-- ---------------------------------------------------------------------------------------------------
-- Signup redemption. The link row lock serialises redemptions of one link (so max_uses stays exact);
-- the membership's primary key is the arbiter between redemptions of *different* links by the same
-- user: the second insert waits for the first and then does nothing, so that request answers
-- already_member instead of surfacing a key violation. A use is counted only when this redemption
-- created the membership. A pending invitation of the caller to the same community is accepted in
-- the same transaction, through app.accept_invitation (its invitee rule: app.is_invitee).
-- ---------------------------------------------------------------------------------------------------

create or replace function app.redeem_signup_link(p_token_hash bytea) returns jsonb
language plpgsql security definer set search_path = '' as $$
declare
  link public.signup_links;
  me uuid := auth.uid();
  community_status text;
  is_joined boolean;
begin
  if me is null then
    raise exception 'unauthenticated' using errcode = 'P0001';
  end if;
  select * into link from public.signup_links where token_hash = p_token_hash for update;
  if not found then
    return jsonb_build_object('outcome', 'unknown');
  end if;
  if not exists (select 1 from public.memberships m where m.community_id = link.community_id and m.user_id = me) then
    select c.status into community_status from public.communities c where c.id = link.community_id;
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
      values (link.community_id, me, 'member', 'signup_link')
    on conflict (community_id, user_id) do nothing;
    is_joined := found;
  else
    is_joined := false;
  end if;
  if is_joined then
    insert into public.user_tag_assignments (tag_id, user_id, community_id)
      select t.tag_id, me, link.community_id from public.signup_link_tags t where t.link_id = link.id
    on conflict do nothing;
    update public.signup_links set use_count = use_count + 1 where id = link.id;
  end if;
  -- The caller's pending invitation to this community is accepted exactly as the accept route does it,
  -- so its role and tags apply (an invited admin joining through a member link is still made admin).
  perform app.accept_invitation(i.id)
     from public.invitations i
    where i.community_id = link.community_id and i.status = 'sent' and app.is_invitee(i.email, i.user_id);
  if is_joined then
    return jsonb_build_object('outcome', 'joined', 'community_id', link.community_id, 'link_id', link.id);
  end if;
  return jsonb_build_object('outcome', 'already_member', 'community_id', link.community_id);
end
$$;
revoke all on function app.redeem_signup_link(bytea) from public;
grant execute on function app.redeem_signup_link(bytea) to authenticated;

-- ---------------------------------------------------------------------------------------------------
-- The e-mail of an audit entry's actor, for a caller who may read that entry. Row level security on
-- profiles rightly hides platform staff (and former members) from a community admin, yet the admin
-- reading their community's audit log must see who acted. This exposes the actor's e-mail and nothing
-- else, only for an entry the caller may read under audit_log_read (keep the two conditions equal).
-- ---------------------------------------------------------------------------------------------------

create or replace function app.audit_actor_email(p_entry bigint) returns text
language sql stable security definer set search_path = '' as $$
  select p.email
    from public.audit_log a
    join public.profiles p on p.id = a.actor_id
   where a.id = p_entry
     and auth.uid() is not null
     and (app.is_staff() or a.community_id = any (app.administered_communities()))
$$;
revoke all on function app.audit_actor_email(bigint) from public;
grant execute on function app.audit_actor_email(bigint) to authenticated;

-- ---------------------------------------------------------------------------------------------------
-- last_active_at: written at most once per user per 5 minutes, by the login role in the short
-- transaction that counts a request's rate-limit hit (see shared/platform/activity.py), never through
-- an API role. The row is skipped, not waited for, when another transaction holds it.
-- ---------------------------------------------------------------------------------------------------

create or replace function app.touch_last_active(p_user uuid) returns boolean
language plpgsql security definer set search_path = '' as $$
begin
  if auth.uid() is not null and auth.uid() <> p_user then
    raise exception 'only one''s own activity can be recorded' using errcode = 'insufficient_privilege';
  end if;
  update public.profiles p set last_active_at = now()
   where p.id = (select q.id from public.profiles q
                  where q.id = p_user and q.status = 'active'
                    and (q.last_active_at is null or q.last_active_at < now() - interval '5 minutes')
                    for update skip locked);
  return found;
end
$$;
revoke all on function app.touch_last_active(uuid) from public;

-- Being seen is not an edit of the profile: updated_at moves only when something else changes.
drop trigger profiles_touch on public.profiles;
create trigger profiles_touch before update on public.profiles
  for each row when (old.last_active_at is not distinct from new.last_active_at)
  execute function app.touch_updated_at();
