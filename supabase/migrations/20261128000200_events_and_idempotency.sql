-- Events (pgmq), handler bookkeeping, webhook event ids and idempotency keys.
--
-- On Supabase pgmq is an extension ("Queues"); on plain Postgres the migration runner installs the same
-- SQL from the pgmq PyPI package before this file runs, so either way the `pgmq` schema exists here.

do $$
begin
  if to_regnamespace('pgmq') is null then
    create extension if not exists pgmq;
  end if;
end
$$;

select pgmq.create('events') where not exists (select 1 from pgmq.meta where queue_name = 'events');
select pgmq.create('events_dead') where not exists (select 1 from pgmq.meta where queue_name = 'events_dead');

-- Enqueue from any transaction, as any API role: the event exists iff the transaction commits.
create or replace function app.enqueue_event(event jsonb) returns bigint
language sql security definer set search_path = '' as $$
  select pgmq.send('events', event)
$$;
revoke all on function app.enqueue_event(jsonb) from public;
grant execute on function app.enqueue_event(jsonb) to authenticated, service_role;

-- Which handler has applied which event: written in the handler's own transaction, so a redelivered
-- event is applied at most once per handler.
create table app.applied_events (
  event_id uuid not null,
  handler text not null,
  applied_at timestamptz not null default now(),
  primary key (event_id, handler)
);
create index applied_events_applied_at_idx on app.applied_events (applied_at);

-- The last error per queue message, so a message moved to the dead-letter queue carries it.
create table app.event_failures (
  msg_id bigint primary key,
  event_name text not null,
  last_error text not null,
  failures integer not null default 1,
  updated_at timestamptz not null default now()
);

-- Every accepted provider event id: a repeated delivery is acknowledged and not processed again.
create table app.webhook_events (
  provider text not null,
  event_id text not null check (char_length(event_id) between 1 and 255),
  received_at timestamptz not null default now(),
  primary key (provider, event_id)
);
create index webhook_events_received_at_idx on app.webhook_events (received_at);

-- Idempotency keys of creating POSTs: the request's hash and, once done, the stored response.
create table app.idempotency_keys (
  owner text not null,
  key text not null check (char_length(key) between 1 and 255),
  request_hash text not null,
  state text not null check (state in ('running', 'done')),
  locked_until timestamptz not null,
  response_status integer,
  response_body bytea,
  response_headers jsonb,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  primary key (owner, key)
);
create index idempotency_keys_expires_at_idx on app.idempotency_keys (expires_at);

-- Called inside the request's own transaction, so the stored response commits with what it created.
create or replace function app.finish_idempotent_request(
  p_owner text, p_key text, p_status integer, p_body bytea, p_headers jsonb
) returns void
language sql security definer set search_path = '' as $$
  update app.idempotency_keys
     set state = 'done', response_status = p_status, response_body = p_body, response_headers = p_headers
   where owner = p_owner and key = p_key
$$;
revoke all on function app.finish_idempotent_request(text, text, integer, bytea, jsonb) from public;
grant execute on function app.finish_idempotent_request(text, text, integer, bytea, jsonb) to authenticated, service_role;

alter table app.applied_events enable row level security;
alter table app.event_failures enable row level security;
alter table app.webhook_events enable row level security;
alter table app.idempotency_keys enable row level security;
revoke all on app.applied_events, app.event_failures, app.webhook_events, app.idempotency_keys
  from anon, authenticated, public;
grant all on app.applied_events, app.event_failures, app.webhook_events to service_role;

-- The worker and schedules run as service_role; pgmq's functions run with the caller's rights.
grant usage on schema pgmq to service_role;
grant all on all tables in schema pgmq to service_role;
grant all on all sequences in schema pgmq to service_role;
grant execute on all functions in schema pgmq to service_role;
