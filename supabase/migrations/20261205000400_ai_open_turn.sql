-- A chat turn's quota reservation and the turn itself in one call, so that both can leave with the request's
-- COMMIT (one round trip, `Tx.commit_after_platform`). The turn is taken only when the reservation is
-- granted: a turn past the quota writes nothing (the month's usage row aside), and the caller answers 429.
create or replace function app.ai_open_turn(
  p_conversation uuid, p_agent uuid, p_community uuid, p_content text, p_lease_s integer,
  p_tokens bigint, p_ttl_s integer
) returns table (granted boolean, reservation_id uuid, reserved bigint, quota bigint, used bigint,
                 conversation_id uuid, turn_id uuid, seq integer, title text)
language plpgsql security definer set search_path = '' as $$
declare
  v_grant record;
  v_turn record;
begin
  select * into v_grant from app.ai_reserve(p_community, p_tokens, p_ttl_s);
  if not v_grant.granted then
    return query select false, null::uuid, 0::bigint, v_grant.quota, v_grant.used,
                        null::uuid, null::uuid, null::integer, null::text;
    return;
  end if;
  select * into v_turn from app.ai_begin_turn(p_conversation, p_agent, p_community, p_content, p_lease_s);
  return query select true, v_grant.reservation_id, v_grant.reserved, v_grant.quota, v_grant.used,
                      v_turn.conversation_id, v_turn.turn_id, v_turn.seq, v_turn.title;
end
$$;

revoke all on function app.ai_open_turn(uuid, uuid, uuid, text, integer, bigint, integer)
  from public, anon, authenticated;
grant execute on function app.ai_open_turn(uuid, uuid, uuid, text, integer, bigint, integer) to service_role;

-- The agent of a turn as the caller sees it, once per community of the caller's the turn could be billed
-- to (`p_community`, or each of theirs when null): whether the agent reaches that community (its own agent,
-- or one granted to the caller in it; computed only for another community's or the platform's agent) and
-- whether the community has its own provider key. Security invoker: row level security decides which
-- agents and which communities' settings the caller sees. A plpgsql function so that each backend keeps
-- its plan: planning this read with the content policies cost about as much as running it.
create or replace function app.ai_agent_for_turn(p_agent uuid, p_community uuid)
returns table (id uuid, community_id uuid, title text, payload jsonb, billed_community uuid,
               has_own_key boolean, reaches boolean)
language plpgsql stable security invoker set search_path = '' as $$
begin
  return query
  select i.id, i.community_id, i.title, i.payload, s.community_id,
         coalesce(s.has_own_key, false),
         s.community_id is not null
           and coalesce(i.community_id = s.community_id
                        or i.id = any ((select app.granted_content_ids(s.community_id))::uuid[]), false)
    from public.content_items i
    left join public.community_ai_settings s
      on s.community_id = any (array(select m.community_id from public.memberships m
                                      where m.user_id = (select auth.uid())
                                        and (p_community is null or m.community_id = p_community)))
   where i.id = p_agent and i.type = 'ai_agent' and i.status = 'published';
end
$$;

revoke all on function app.ai_agent_for_turn(uuid, uuid) from public, anon;
grant execute on function app.ai_agent_for_turn(uuid, uuid) to authenticated, service_role;
