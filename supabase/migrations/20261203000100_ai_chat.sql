-- AI interactions: conversations with agents, their messages, the usage ledger and the monthly quota.
--
-- Who writes what. A user reads their own conversations and messages, renames and deletes their own
-- conversations; nothing else. Messages, usage and quota counters are written only by the platform
-- role, through the functions below, from the server's side of a turn: a user speaking SQL can never
-- add a message to their history, nor lower what they are metered. Community admins and staff read
-- usage (the ledger), never conversations; staff read a conversation only through the audited route.
--
-- The quota is per community per calendar month (UTC). A turn reserves tokens before the provider is
-- called: the month's row is locked, so two concurrent turns cannot both take the last budget. A
-- reservation expires on its own (a crashed instance never settles it), so it cannot leak quota.

-- ---------------------------------------------------------------------------------------------------
-- Conversation retention: a community setting, kept forever when null.
-- ---------------------------------------------------------------------------------------------------

alter table public.community_ai_settings
  add column conversation_retention_days integer check (conversation_retention_days between 1 and 3650);
grant update (conversation_retention_days) on public.community_ai_settings to authenticated;

-- ---------------------------------------------------------------------------------------------------
-- Conversations and messages
-- ---------------------------------------------------------------------------------------------------

create table public.ai_conversations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references public.profiles (id) on delete cascade,
  community_id uuid not null references public.communities (id) on delete cascade,
  -- Set null when the agent is deleted: the user keeps the conversation, chatting in it is refused.
  agent_id uuid references public.content_items (id) on delete set null,
  title text not null default '' check (char_length(title) <= 200),
  message_count integer not null default 0 check (message_count >= 0),
  input_tokens bigint not null default 0 check (input_tokens >= 0),
  output_tokens bigint not null default 0 check (output_tokens >= 0),
  cost_usd numeric(14, 6) not null default 0 check (cost_usd >= 0),
  -- A running summary of the turns dropped from the context, up to and including this sequence number.
  summary text check (char_length(summary) <= 20000),
  summary_through integer not null default 0 check (summary_through >= 0),
  -- The turn in progress, if any: a second turn is refused until it ends or its lease lapses.
  turn_id uuid,
  turn_expires_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_message_at timestamptz not null default now(),
  constraint ai_conversations_turn_consistent check ((turn_id is null) = (turn_expires_at is null))
);
create index ai_conversations_user_agent_idx
  on public.ai_conversations (user_id, agent_id, last_message_at desc, id desc);
create index ai_conversations_user_idx on public.ai_conversations (user_id, last_message_at desc, id desc);
create index ai_conversations_retention_idx on public.ai_conversations (community_id, last_message_at);
create index ai_conversations_agent_idx on public.ai_conversations (agent_id);
create trigger ai_conversations_touch before update on public.ai_conversations
  for each row execute function app.touch_updated_at();

create table public.ai_messages (
  conversation_id uuid not null references public.ai_conversations (id) on delete cascade,
  seq integer not null check (seq >= 1),
  id uuid not null default gen_random_uuid() unique,
  role text not null check (role in ('user', 'assistant', 'system')),
  content text not null check (char_length(content) <= 200000),
  provider text check (provider in ('openai', 'anthropic', 'gemini', 'offline')),
  model text check (char_length(model) <= 100),
  key_source text check (key_source in ('community', 'platform')),
  input_tokens integer check (input_tokens >= 0),
  output_tokens integer check (output_tokens >= 0),
  latency_ms integer check (latency_ms >= 0),
  first_token_ms integer check (first_token_ms >= 0),
  cost_usd numeric(14, 6) check (cost_usd >= 0),
  -- 'interrupted': the stream broke (provider or client) after the first token; the text so far is kept.
  -- 'error': no provider answered; `error` names why, in our words (never a provider's text or a key).
  finish_reason text check (finish_reason in ('stop', 'length', 'content_filter', 'other', 'interrupted', 'error')),
  error text check (char_length(error) <= 200),
  created_at timestamptz not null default now(),
  primary key (conversation_id, seq)
);

-- ---------------------------------------------------------------------------------------------------
-- Usage: an append-only ledger of every metered provider call (kept when conversations are purged),
-- and per community and month the tokens used, which the quota is checked against.
-- ---------------------------------------------------------------------------------------------------

create table public.ai_usage (
  id bigint generated always as identity primary key,
  -- Null: the platform's own use (staff generating platform content), on the platform's keys, no quota.
  community_id uuid references public.communities (id) on delete cascade,
  user_id uuid references public.profiles (id) on delete set null,
  agent_id uuid references public.content_items (id) on delete set null,
  conversation_id uuid references public.ai_conversations (id) on delete set null,
  feature text not null check (feature in ('chat', 'summary', 'generate')),
  provider text not null check (provider in ('openai', 'anthropic', 'gemini', 'offline')),
  model text not null check (char_length(model) between 1 and 100),
  key_source text check (key_source in ('community', 'platform')),
  input_tokens integer not null check (input_tokens >= 0),
  output_tokens integer not null check (output_tokens >= 0),
  cost_usd numeric(14, 6) check (cost_usd >= 0),
  created_at timestamptz not null default now(),
  month date not null generated always as ((date_trunc('month', created_at at time zone 'UTC'))::date) stored
);
create index ai_usage_community_month_idx on public.ai_usage (community_id, month);
create index ai_usage_user_month_idx on public.ai_usage (user_id, month);
create index ai_usage_agent_idx on public.ai_usage (agent_id);
create index ai_usage_conversation_idx on public.ai_usage (conversation_id);

create table public.ai_quota_months (
  community_id uuid not null references public.communities (id) on delete cascade,
  month date not null check (extract(day from month) = 1),
  used_tokens bigint not null default 0 check (used_tokens >= 0),
  updated_at timestamptz not null default now(),
  primary key (community_id, month)
);

create table app.ai_reservations (
  id uuid primary key default gen_random_uuid(),
  community_id uuid not null references public.communities (id) on delete cascade,
  month date not null,
  tokens bigint not null check (tokens >= 0),
  expires_at timestamptz not null
);
create index ai_reservations_month_idx on app.ai_reservations (community_id, month, expires_at);

-- ---------------------------------------------------------------------------------------------------
-- Privileges and row level security
-- ---------------------------------------------------------------------------------------------------

alter table public.ai_conversations enable row level security;
alter table public.ai_messages enable row level security;
alter table public.ai_usage enable row level security;
alter table public.ai_quota_months enable row level security;
alter table app.ai_reservations enable row level security;

revoke all on public.ai_conversations, public.ai_messages, public.ai_usage, public.ai_quota_months
  from anon, authenticated, public;
revoke all on app.ai_reservations from anon, authenticated, public;
grant all on public.ai_conversations, public.ai_messages, public.ai_usage, public.ai_quota_months,
  app.ai_reservations to service_role;

grant select, delete on public.ai_conversations to authenticated;
grant update (title) on public.ai_conversations to authenticated;
grant select on public.ai_messages, public.ai_usage, public.ai_quota_months to authenticated;

create policy ai_conversations_own_read on public.ai_conversations for select to authenticated
  using (user_id = (select auth.uid()));
create policy ai_conversations_own_rename on public.ai_conversations for update to authenticated
  using (user_id = (select auth.uid())) with check (user_id = (select auth.uid()));
create policy ai_conversations_own_delete on public.ai_conversations for delete to authenticated
  using (user_id = (select auth.uid()));

create policy ai_messages_own_read on public.ai_messages for select to authenticated
  using (exists (select 1 from public.ai_conversations c
                 where c.id = conversation_id and c.user_id = (select auth.uid())));

create policy ai_usage_read on public.ai_usage for select to authenticated
  using (user_id = (select auth.uid()) or (select app.is_staff())
         or community_id = any ((select app.administered_communities())::uuid[]));

create policy ai_quota_months_read on public.ai_quota_months for select to authenticated
  using ((select app.is_staff()) or community_id = any ((select app.administered_communities())::uuid[]));

-- ---------------------------------------------------------------------------------------------------
-- Reserving and settling tokens (platform role only)
-- ---------------------------------------------------------------------------------------------------

-- Reserve up to `p_tokens` of the community's budget for this month. Refused (granted = false, nothing
-- written) when the month's used tokens and live reservations already reach the quota; otherwise the
-- reservation is what is left, at most `p_tokens`. The month's row is locked first, so concurrent
-- reservations of one community queue here and see each other.
create or replace function app.ai_reserve(p_community uuid, p_tokens bigint, p_ttl_s integer)
returns table (granted boolean, reservation_id uuid, reserved bigint, quota bigint, used bigint)
language plpgsql security definer set search_path = '' as $$
declare
  v_month date := (date_trunc('month', now() at time zone 'UTC'))::date;
  v_quota bigint;
  v_used bigint;
  v_held bigint;
  v_take bigint;
  v_id uuid;
begin
  select s.monthly_token_quota into v_quota
    from public.community_ai_settings s where s.community_id = p_community;
  if v_quota is null then
    raise exception 'unknown_community: no AI settings for this community';
  end if;
  insert into public.ai_quota_months (community_id, month) values (p_community, v_month)
    on conflict do nothing;
  select q.used_tokens into v_used from public.ai_quota_months q
   where q.community_id = p_community and q.month = v_month for update;
  select coalesce(sum(r.tokens), 0) into v_held from app.ai_reservations r
   where r.community_id = p_community and r.month = v_month and r.expires_at > now();
  if v_used + v_held >= v_quota then
    return query select false, null::uuid, 0::bigint, v_quota, v_used;
    return;
  end if;
  v_take := least(greatest(p_tokens, 0), v_quota - v_used - v_held);
  insert into app.ai_reservations (community_id, month, tokens, expires_at)
    values (p_community, v_month, v_take, now() + make_interval(secs => p_ttl_s))
    returning id into v_id;
  return query select true, v_id, v_take, v_quota, v_used;
end
$$;

-- Record one metered provider call in the ledger, add it to the month's used tokens and drop the
-- reservation it was made under (if any; settling twice adds twice, so callers settle once). With no
-- community it is the platform's own use: in the ledger, against no quota.
create or replace function app.ai_settle(
  p_reservation uuid, p_community uuid, p_user uuid, p_agent uuid, p_conversation uuid, p_feature text,
  p_provider text, p_model text, p_key_source text, p_input_tokens integer, p_output_tokens integer,
  p_cost_usd numeric
) returns bigint
language plpgsql security definer set search_path = '' as $$
declare
  v_month date := (date_trunc('month', now() at time zone 'UTC'))::date;
  v_id bigint;
begin
  if p_reservation is not null then
    delete from app.ai_reservations where id = p_reservation;
  end if;
  if p_community is not null then
    insert into public.ai_quota_months as q (community_id, month, used_tokens)
      values (p_community, v_month, p_input_tokens + p_output_tokens)
      on conflict (community_id, month) do update
        set used_tokens = q.used_tokens + excluded.used_tokens, updated_at = now();
  end if;
  insert into public.ai_usage (community_id, user_id, agent_id, conversation_id, feature, provider, model,
                               key_source, input_tokens, output_tokens, cost_usd)
    values (p_community, p_user, p_agent, p_conversation, p_feature, p_provider, p_model, p_key_source,
            p_input_tokens, p_output_tokens, p_cost_usd)
    returning id into v_id;
  return v_id;
end
$$;

-- Give a reservation back unused (the call failed before the provider counted anything).
create or replace function app.ai_release(p_reservation uuid) returns void
language sql security definer set search_path = '' as $$
  delete from app.ai_reservations where id = p_reservation;
$$;

-- ---------------------------------------------------------------------------------------------------
-- A chat turn (platform role only; the caller is auth.uid() of the request's claims)
-- ---------------------------------------------------------------------------------------------------

-- Start a turn: take the conversation's turn lease (409 turn_in_progress while another turn holds it),
-- and store the user's message with the next sequence number. With no conversation given, one is
-- created for the caller with this agent in this community (the caller must be a member). The quota is
-- reserved separately (app.ai_reserve), in the same transaction, before this runs.
create or replace function app.ai_begin_turn(
  p_conversation uuid, p_agent uuid, p_community uuid, p_content text, p_lease_s integer
) returns table (conversation_id uuid, turn_id uuid, seq integer, title text)
language plpgsql security definer set search_path = '' as $$
declare
  v_user uuid := auth.uid();
  v_conv public.ai_conversations;
  v_turn uuid := gen_random_uuid();
begin
  if v_user is null then
    raise exception 'not_signed_in: a turn needs a signed-in user' using errcode = 'insufficient_privilege';
  end if;
  if p_conversation is null then
    if not exists (select 1 from public.memberships m where m.community_id = p_community and m.user_id = v_user) then
      raise exception 'not_a_member: the caller is not a member of this community';
    end if;
    insert into public.ai_conversations (user_id, community_id, agent_id, title)
      values (v_user, p_community, p_agent, left(regexp_replace(btrim(p_content), '\s+', ' ', 'g'), 80))
      returning * into v_conv;
  else
    select * into v_conv from public.ai_conversations c where c.id = p_conversation for update;
    if not found or v_conv.user_id <> v_user then
      raise exception 'no_such_conversation: no conversation with this id';
    end if;
    if v_conv.agent_id is distinct from p_agent then
      raise exception 'agent_mismatch: this conversation is with another agent';
    end if;
    if v_conv.turn_id is not null and v_conv.turn_expires_at > now() then
      raise exception 'turn_in_progress: this conversation is still answering the previous message';
    end if;
  end if;
  update public.ai_conversations c
     set message_count = c.message_count + 1, turn_id = v_turn,
         turn_expires_at = now() + make_interval(secs => p_lease_s), last_message_at = now()
   where c.id = v_conv.id;
  insert into public.ai_messages (conversation_id, seq, role, content)
    values (v_conv.id, v_conv.message_count + 1, 'user', p_content);
  return query select v_conv.id, v_turn, v_conv.message_count + 1, v_conv.title;
end
$$;

-- End a turn: store the assistant's message (complete, interrupted or failed) with its usage, add the
-- usage to the conversation's totals and release the lease, if this turn still holds it.
create or replace function app.ai_finish_turn(
  p_conversation uuid, p_turn uuid, p_content text, p_provider text, p_model text, p_key_source text,
  p_input_tokens integer, p_output_tokens integer, p_latency_ms integer, p_first_token_ms integer,
  p_cost_usd numeric, p_finish_reason text, p_error text
) returns table (message_id uuid, seq integer)
language plpgsql security definer set search_path = '' as $$
declare
  v_count integer;
  v_id uuid;
begin
  select c.message_count into v_count from public.ai_conversations c where c.id = p_conversation for update;
  if not found then
    return;  -- deleted by its user while the answer streamed: nothing to keep
  end if;
  insert into public.ai_messages (conversation_id, seq, role, content, provider, model, key_source,
                                  input_tokens, output_tokens, latency_ms, first_token_ms, cost_usd,
                                  finish_reason, error)
    values (p_conversation, v_count + 1, 'assistant', p_content, p_provider, p_model, p_key_source,
            p_input_tokens, p_output_tokens, p_latency_ms, p_first_token_ms, p_cost_usd, p_finish_reason,
            p_error)
    returning id into v_id;
  update public.ai_conversations c
     set message_count = c.message_count + 1,
         input_tokens = c.input_tokens + coalesce(p_input_tokens, 0),
         output_tokens = c.output_tokens + coalesce(p_output_tokens, 0),
         cost_usd = c.cost_usd + coalesce(p_cost_usd, 0),
         last_message_at = now(),
         turn_id = case when c.turn_id = p_turn then null else c.turn_id end,
         turn_expires_at = case when c.turn_id = p_turn then null else c.turn_expires_at end
   where c.id = p_conversation;
  return query select v_id, v_count + 1;
end
$$;

revoke all on function app.ai_reserve(uuid, bigint, integer),
  app.ai_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, integer, integer, numeric),
  app.ai_release(uuid),
  app.ai_begin_turn(uuid, uuid, uuid, text, integer),
  app.ai_finish_turn(uuid, uuid, text, text, text, text, integer, integer, integer, integer, numeric, text, text)
  from public, anon, authenticated;
grant execute on function app.ai_reserve(uuid, bigint, integer),
  app.ai_settle(uuid, uuid, uuid, uuid, uuid, text, text, text, text, integer, integer, numeric),
  app.ai_release(uuid),
  app.ai_begin_turn(uuid, uuid, uuid, text, integer),
  app.ai_finish_turn(uuid, uuid, text, text, text, text, integer, integer, integer, integer, numeric, text, text)
  to service_role;
